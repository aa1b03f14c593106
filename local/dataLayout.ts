import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ShardlineError } from '../lambdas/shared/errors';

/**
 * The layout version of a local data directory. Version 2 is the staged-bundle commit protocol
 * (docs/EXACTLY_ONCE.md); a directory written by an older Shardline holds intents, rollbacks and analytics
 * items that this one does not read, and nothing was ever deployed in that layout, so it is refused
 * rather than migrated.
 */
export const DATA_LAYOUT_VERSION = 2;
const MARKER = 'layout.json';
const EMULATOR_DIRS = ['dynamodb', 'kinesis', 's3', 'sqs'];

export class OldDataLayoutError extends ShardlineError {
  constructor(dataDir: string, found: number | null) {
    super(
      `${dataDir} was written by an older Shardline (data layout ${found ?? 1}, this one needs ${DATA_LAYOUT_VERSION}): delete it (rm -rf ${dataDir}) or pass another --data-dir`,
    );
    this.name = 'OldDataLayoutError';
  }
}

/**
 * Refuses a data directory of an older layout, and marks a new or empty one with the current layout.
 *
 * @example
 * ```ts
 * await requireDataLayout('.shardline');
 * ```
 */
export async function requireDataLayout(dataDir: string): Promise<void> {
  let found: number | null = null;
  try {
    found = Number(
      (JSON.parse(await readFile(join(dataDir, MARKER), 'utf8')) as { version: number }).version,
    );
  } catch {
    found = null;
  }
  if (found === DATA_LAYOUT_VERSION) return;
  const entries = await readdir(dataDir).catch(() => [] as string[]);
  if (found !== null || entries.some((entry) => EMULATOR_DIRS.includes(entry)))
    throw new OldDataLayoutError(dataDir, found);
  await writeFile(join(dataDir, MARKER), JSON.stringify({ version: DATA_LAYOUT_VERSION }));
}
