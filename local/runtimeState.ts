import { existsSync, readFileSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ShardlineError } from '../lambdas/shared/errors';
import type { Service } from './emulators';
import { isProcessAlive } from './processes';

export type { Service };

/**
 * What a running `shardline up` publishes in its data directory so that other commands (produce, status,
 * query, verify) can find the emulators and resources: `runtime.json` once at start, `stats.json` every
 * second while it runs.
 */

export interface LocalFunction {
  logicalId: string;
  name: string;
  assetPath: string;
  handler: string;
  timeoutSeconds: number;
  memoryMb: number;
  /** Environment from the template, resolved, plus what reaches the emulators. */
  environment: Record<string, string>;
}

export interface RuntimeInfo {
  pid: number;
  startedAt: string;
  dataDir: string;
  stage: string;
  region: string;
  accountId: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  endpoints: Record<Service, string>;
  resources: {
    streamName: string;
    streamArn: string;
    tableName: string;
    bucketName: string;
    dlqUrl: string;
    /** The event source mapping's S3 on-failure destination, when it is a bucket. */
    failuresBucketName?: string;
  };
  /** The publisher runs on the template's schedule; absent from a template without it. */
  functions: { producer: LocalFunction; consumer: LocalFunction; publisher?: LocalFunction };
}

export const runtimeFile = (dataDir: string) => join(dataDir, 'runtime.json');
export const statsFile = (dataDir: string) => join(dataDir, 'stats.json');

export class NotRunningError extends ShardlineError {
  constructor(dataDir: string) {
    super(`shardline up is not running in ${dataDir} (start it with \`npx shardline up\`)`);
    this.name = 'NotRunningError';
  }
}

/**
 * The runtime info of a live `up` on this data directory, or a {@link NotRunningError}.
 *
 * @example
 * ```ts
 * const runtime = readRuntime('.shardline');
 * ```
 */
export function readRuntime(dataDir: string): RuntimeInfo {
  const file = runtimeFile(dataDir);
  if (!existsSync(file)) throw new NotRunningError(dataDir);
  const info = JSON.parse(readFileSync(file, 'utf8')) as RuntimeInfo;
  if (!isProcessAlive(info.pid)) throw new NotRunningError(dataDir);
  return info;
}

export async function writeRuntime(info: RuntimeInfo): Promise<void> {
  await mkdir(info.dataDir, { recursive: true });
  await writeFile(runtimeFile(info.dataDir), JSON.stringify(info, null, 2));
}

export async function clearRuntime(dataDir: string): Promise<void> {
  await rm(runtimeFile(dataDir), { force: true });
}

export function readStats<T>(dataDir: string): T | null {
  try {
    return JSON.parse(readFileSync(statsFile(dataDir), 'utf8')) as T;
  } catch {
    return null;
  }
}
