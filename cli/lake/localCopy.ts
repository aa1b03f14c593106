import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { NotRunningError } from '../../local/runtimeState';
import { CliError } from '../errors';
import { type ResolvedTarget, type ResolveTargetOptions, resolveTarget } from '../targets';
import { errorsView, type Lake, openLake } from './views';

/**
 * The local copy of a lake: the mirror that `query`, `verify` and the demo keep under the data directory
 * (`<dataDir>/mirror/<target>-<stage>`), with the DLQ snapshot beside it. Once `up` has stopped it is
 * still there, so SQL can run on the last copy without starting the emulators again.
 */

const MIRROR_INDEX = '.mirror-index.json';

/**
 * Where the lake of a target and stage is mirrored.
 *
 * @example
 * ```ts
 * lakeMirrorDir('.shardline/demo', 'local', 'dev'); // '.shardline/demo/mirror/local-dev'
 * ```
 */
export const lakeMirrorDir = (dataDir: string, target: string, stage: string) =>
  join(dataDir, 'mirror', `${target}-${stage}`);

/**
 * The DLQ's invalid records as last read, one JSON object per line, next to the mirror.
 *
 * @example
 * ```ts
 * errorsSnapshotFile('.shardline/mirror/local-dev'); // '.shardline/mirror/local-dev/errors.ndjson'
 * ```
 */
export const errorsSnapshotFile = (mirrorDir: string) => join(mirrorDir, 'errors.ndjson');

export class NoLakeCopyError extends CliError {
  constructor(reason: string) {
    super(`${reason}; nor is there a local copy of its lake to read instead`);
    this.name = 'NoLakeCopyError';
  }
}

export interface StoppedLakeCopy {
  lake: Lake;
  mirrorDir: string;
  /** When the copy was last brought up to date with the bucket. */
  mirroredAt: Date;
}

/**
 * Opens DuckDB on the local copy of a stopped local pipeline's lake, as it was when last mirrored.
 * `reason` says why the live lake cannot be read; it starts the error when there is no copy either.
 *
 * @example
 * ```ts
 * const { lake, mirroredAt } = await openStoppedLakeCopy('.shardline/demo', 'dev', 'shardline up is not running');
 * ```
 */
export async function openStoppedLakeCopy(
  dataDir: string,
  stage: string,
  reason: string,
): Promise<StoppedLakeCopy> {
  const mirrorDir = lakeMirrorDir(dataDir, 'local', stage);
  const index = join(mirrorDir, MIRROR_INDEX);
  if (!existsSync(index)) throw new NoLakeCopyError(reason);
  const mirroredAt = (await stat(index)).mtime;
  const lake = await openLake(mirrorDir);
  const snapshot = await readFile(errorsSnapshotFile(mirrorDir), 'utf8').catch(() => '');
  const rows = snapshot.split('\n').filter((line) => line.trim() !== '').length;
  await lake.query(errorsView(errorsSnapshotFile(mirrorDir), rows));
  return { lake, mirrorDir, mirroredAt };
}

/**
 * The line that tells the user they are reading a stopped copy, not the live lake.
 *
 * @example
 * ```ts
 * process.stderr.write(`${stoppedCopyNotice(copy, '.shardline/demo')}\n`);
 * ```
 */
export const stoppedCopyNotice = (copy: Pick<StoppedLakeCopy, 'mirrorDir' | 'mirroredAt'>, dataDir: string) =>
  `shardline: up is not running in ${dataDir}: reading the stopped copy of its lake in ${copy.mirrorDir} (mirrored ${copy.mirroredAt.toISOString()})`;

/**
 * Resolves the target; when it is a local pipeline that is not running, opens the local copy of its lake
 * instead (and says so on stderr), for the commands that can work from that copy.
 *
 * @example
 * ```ts
 * const resolved = await resolveTargetOrStoppedCopy({ target: 'local', stage: 'dev', dataDir: '.shardline/demo' });
 * if ('copy' in resolved) await resolved.copy.lake.query('SELECT count(*) FROM events');
 * ```
 */
export async function resolveTargetOrStoppedCopy(
  options: ResolveTargetOptions,
): Promise<{ target: ResolvedTarget } | { copy: StoppedLakeCopy }> {
  try {
    return { target: await resolveTarget(options) };
  } catch (error) {
    if (options.target !== 'local' || !(error instanceof NotRunningError)) throw error;
    const copy = await openStoppedLakeCopy(options.dataDir, options.stage, error.message);
    process.stderr.write(`${stoppedCopyNotice(copy, options.dataDir)}\n`);
    return { copy };
  }
}
