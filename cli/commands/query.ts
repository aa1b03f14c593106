import { join } from 'node:path';
import { readRuntime } from '../../local/runtimeState';
import { CliError } from '../errors';
import { formatResult, type OutputFormat } from '../format';
import { mirrorBucket } from '../lake/mirror';
import { openLake, QueryError } from '../lake/views';
import { localClients } from '../localClients';
import type { GlobalOptions } from '../main';

export interface QueryOptions extends GlobalOptions {
  format: OutputFormat;
}

export const LAKE_PREFIXES = ['events/'];

/** Mirrors the lake from the running local stack into `<dataDir>/mirror` and opens DuckDB on it. */
export async function openLocalLake(dataDir: string) {
  const runtime = readRuntime(dataDir);
  const { s3 } = localClients(runtime);
  const mirrorDir = join(dataDir, 'mirror');
  const mirrored = await mirrorBucket(
    s3,
    runtime.resources.bucketName,
    LAKE_PREFIXES,
    mirrorDir,
    (done, total) => {
      if (process.stderr.isTTY && total > 200) process.stderr.write(`\rmirroring ${done}/${total} objects`);
    },
  );
  if (process.stderr.isTTY && mirrored.downloaded > 200) process.stderr.write('\n');
  return { lake: await openLake(mirrorDir), mirrored };
}

export async function query(sql: string, options: QueryOptions): Promise<void> {
  const { lake } = await openLocalLake(options.dataDir);
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
