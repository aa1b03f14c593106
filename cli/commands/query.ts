import { join } from 'node:path';
import { CliError } from '../errors';
import { formatResult, type OutputFormat } from '../format';
import { mirrorBucket } from '../lake/mirror';
import { openLake, QueryError } from '../lake/views';
import type { TargetOptions } from '../main';
import { type ResolvedTarget, resolveTarget, targetClients } from '../targets';

export interface QueryOptions extends TargetOptions {
  format: OutputFormat;
}

export const LAKE_PREFIXES = ['events/'];

/**
 * Mirrors the target's lake into `<dataDir>/mirror/<target>-<stage>` (only what changed) and opens DuckDB
 * on it.
 *
 * @example
 * ```ts
 * const { lake } = await openTargetLake(target, '.shardline');
 * ```
 */
export async function openTargetLake(target: ResolvedTarget, dataDir: string) {
  const { s3 } = targetClients(target);
  const mirrorDir = join(dataDir, 'mirror', `${target.name}-${target.resources.stage}`);
  const showProgress = process.stderr.isTTY;
  const mirrored = await mirrorBucket(
    s3,
    target.resources.bucketName,
    LAKE_PREFIXES,
    mirrorDir,
    (done, total) => {
      if (showProgress && total > 100) {
        const width = 30;
        const filled = Math.round((done / total) * width);
        process.stderr.write(
          `\r  mirroring [${'█'.repeat(filled)}${' '.repeat(width - filled)}] ${done}/${total} objects`,
        );
      }
    },
  );
  if (showProgress && mirrored.downloaded > 100) process.stderr.write('\n');
  return { lake: await openLake(mirrorDir), mirrored };
}

export async function query(sql: string, options: QueryOptions): Promise<void> {
  const target = await resolveTarget(options);
  const { lake } = await openTargetLake(target, options.dataDir);
  try {
    const result = await lake.query(sql);
    console.log(formatResult(result, options.json ? 'json' : options.format));
  } catch (error) {
    if (error instanceof QueryError) throw new CliError(`query failed: ${error.message}`);
    throw error;
  } finally {
    lake.close();
  }
}
