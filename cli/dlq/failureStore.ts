import { GetObjectCommand, paginateListObjectsV2, type S3Client } from '@aws-sdk/client-s3';
import { ShardlineError } from '../../lambdas/shared/errors';
import { type KinesisS3OnFailureObject, S3_ON_FAILURE_PREFIX } from '../../local/esm/onFailureDestination';
import { onFailureId } from '../deadLetters';

/**
 * The failure store: the bucket where the event source mapping writes each failed batch, records included
 * (an S3 on-failure destination, `aws/lambda/<mapping>/<shard>/YYYY/MM/DD/…`). Unlike the stream, it keeps
 * a batch as long as the bucket's lifecycle does, so a redrive works long after the stream dropped it.
 */

/** One failed batch as stored. */
export interface FailedBatch {
  /** Shard and sequence range, as for an SQS on-failure message: the redrive ledger's key. */
  id: string;
  key: string;
  /** When the mapping gave up on it (the object's `timestamp`). */
  failedAt: string;
  condition: string;
  shardId: string;
  records: KinesisS3OnFailureObject['payload']['Records'];
  object: KinesisS3OnFailureObject;
}

/** The size of the store, for `status` and the dashboard, without reading every object. */
export interface FailureStoreSummary {
  batches: number;
  bytes: number;
  /** Age of the oldest failed batch in ms (by object time); null when the store is empty. */
  oldestAgeMs: number | null;
}

/**
 * Counts the failed batches and their bytes, and finds the oldest, from the listing alone.
 *
 * @example
 * ```ts
 * const { batches, oldestAgeMs } = await summarizeFailureStore(s3, failuresBucketName);
 * ```
 */
export async function summarizeFailureStore(
  s3: S3Client,
  bucket: string,
  nowMs = Date.now(),
): Promise<FailureStoreSummary> {
  let batches = 0;
  let bytes = 0;
  let oldest: number | undefined;
  for await (const page of paginateListObjectsV2(
    { client: s3 },
    { Bucket: bucket, Prefix: `${S3_ON_FAILURE_PREFIX}/` },
  )) {
    for (const object of page.Contents ?? []) {
      batches += 1;
      bytes += object.Size ?? 0;
      const at = object.LastModified?.getTime();
      if (at !== undefined && (oldest === undefined || at < oldest)) oldest = at;
    }
  }
  return { batches, bytes, oldestAgeMs: oldest === undefined ? null : Math.max(0, nowMs - oldest) };
}

/**
 * Reads every failed batch (failed at or after `since`, when given), oldest first.
 *
 * @example
 * ```ts
 * const batches = await readFailedBatches(s3, failuresBucketName, { since: new Date(Date.now() - 86_400_000) });
 * ```
 */
export async function readFailedBatches(
  s3: S3Client,
  bucket: string,
  options: { since?: Date } = {},
): Promise<FailedBatch[]> {
  const keys: string[] = [];
  for await (const page of paginateListObjectsV2(
    { client: s3 },
    { Bucket: bucket, Prefix: `${S3_ON_FAILURE_PREFIX}/` },
  )) {
    for (const object of page.Contents ?? []) if (object.Key) keys.push(object.Key);
  }
  const batches: FailedBatch[] = [];
  for (let i = 0; i < keys.length; i += 16) {
    const read = await Promise.all(
      keys.slice(i, i + 16).map(async (key) => {
        const response = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        return toFailedBatch(key, JSON.parse((await response.Body?.transformToString()) ?? '{}'));
      }),
    );
    batches.push(...read);
  }
  return batches
    .filter((batch) => options.since === undefined || Date.parse(batch.failedAt) >= options.since.getTime())
    .sort((a, b) => a.failedAt.localeCompare(b.failedAt) || a.id.localeCompare(b.id));
}

function toFailedBatch(key: string, object: KinesisS3OnFailureObject): FailedBatch {
  return {
    id: onFailureId(object),
    key,
    failedAt: object.timestamp,
    condition: object.requestContext?.condition ?? 'unknown',
    shardId: object.KinesisBatchInfo.shardId,
    records: object.payload?.Records ?? [],
    object,
  };
}

export class InvalidSinceError extends ShardlineError {
  constructor(value: string) {
    super(`--since ${value} is neither a duration (30m, 6h, 7d) nor an ISO date (2026-12-01T00:00:00Z)`);
    this.name = 'InvalidSinceError';
  }
}

/**
 * Parses `--since`: a duration back from now (`90s`, `30m`, `6h`, `7d`) or an ISO date.
 *
 * @example
 * ```ts
 * parseSince('6h', Date.parse('2026-12-02T12:00:00Z')).toISOString(); // '2026-12-02T06:00:00.000Z'
 * ```
 */
export function parseSince(value: string, nowMs = Date.now()): Date {
  const duration = /^(\d+)(s|m|h|d)$/.exec(value);
  if (duration) {
    const unitMs = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[duration[2] as 's' | 'm' | 'h' | 'd'];
    return new Date(nowMs - Number(duration[1]) * unitMs);
  }
  const at = Date.parse(value);
  if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(at)) throw new InvalidSinceError(value);
  return new Date(at);
}

/**
 * An age in the largest unit that fits: `45s`, `12m`, `5h`, `3d`.
 *
 * @example
 * ```ts
 * formatAge(90 * 60_000); // '1h'
 * ```
 */
export function formatAge(ms: number): string {
  if (ms < 60_000) return `${Math.floor(ms / 1_000)}s`;
  if (ms < 3_600_000) return `${Math.floor(ms / 60_000)}m`;
  if (ms < 86_400_000) return `${Math.floor(ms / 3_600_000)}h`;
  return `${Math.floor(ms / 86_400_000)}d`;
}
