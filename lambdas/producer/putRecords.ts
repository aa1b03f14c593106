import {
  type KinesisClient,
  PutRecordsCommand,
  type PutRecordsRequestEntry,
  type PutRecordsResultEntry,
} from '@aws-sdk/client-kinesis';

/** Kinesis PutRecords limits: 500 records and 5 MiB (data plus partition keys) per call. */
export const PUT_RECORDS_MAX_RECORDS = 500;
export const PUT_RECORDS_MAX_BYTES = 5 * 1024 * 1024;

export interface StreamRecord {
  data: Uint8Array;
  partitionKey: string;
}

export interface RetryPolicy {
  /** Attempts per chunk, the first included. */
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { maxAttempts: 8, baseDelayMs: 50, maxDelayMs: 2_000 };

export interface PutOutcome {
  sent: number;
  failed: number;
  /** Records accepted per shard id. */
  shards: Record<string, number>;
  /** Entries retried after a partial failure (ProvisionedThroughputExceeded, InternalFailure). */
  retried: number;
}

const recordBytes = (record: StreamRecord) => record.data.byteLength + Buffer.byteLength(record.partitionKey);

/**
 * Splits records into PutRecords-sized chunks (at most 500 records and 5 MiB, or `maxRecords`), keeping
 * their order, lazily so that millions of records stream through in constant memory.
 *
 * @example
 * ```ts
 * [...chunkRecords(records)].every((chunk) => chunk.length <= 500); // true
 * ```
 */
export function* chunkRecords<T extends StreamRecord>(
  records: Iterable<T>,
  maxRecords: number = PUT_RECORDS_MAX_RECORDS,
): Generator<T[]> {
  const limit = Math.min(maxRecords, PUT_RECORDS_MAX_RECORDS);
  let current: T[] = [];
  let currentBytes = 0;
  for (const record of records) {
    const size = recordBytes(record);
    if (current.length >= limit || (current.length > 0 && currentBytes + size > PUT_RECORDS_MAX_BYTES)) {
      yield current;
      current = [];
      currentBytes = 0;
    }
    current.push(record);
    currentBytes += size;
  }
  if (current.length > 0) yield current;
}

/** Full-jitter exponential backoff: a random delay in [0, min(max, base * 2^attempt)). */
export function backoffDelayMs(
  attempt: number,
  policy: RetryPolicy,
  random: () => number = Math.random,
): number {
  return Math.floor(random() * Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** attempt));
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Puts one chunk, retrying only the entries that failed in a partial failure, with bounded exponential
 * backoff and jitter. Kinesis answers entry by entry, in request order, so a failed entry's index maps
 * back to its record.
 *
 * @example
 * ```ts
 * const outcome = await putChunk(kinesis, 'shardline-dev-events', chunk);
 * ```
 */
export async function putChunk(
  kinesis: KinesisClient,
  streamName: string,
  chunk: readonly StreamRecord[],
  policy: RetryPolicy = DEFAULT_RETRY_POLICY,
): Promise<PutOutcome> {
  const outcome: PutOutcome = { sent: 0, failed: 0, shards: {}, retried: 0 };
  let pending = chunk;
  for (let attempt = 0; pending.length > 0; attempt++) {
    if (attempt > 0) {
      outcome.retried += pending.length;
      await sleep(backoffDelayMs(attempt, policy));
    }
    const entries: PutRecordsRequestEntry[] = pending.map((r) => ({
      Data: r.data,
      PartitionKey: r.partitionKey,
    }));
    const response = await kinesis.send(new PutRecordsCommand({ StreamName: streamName, Records: entries }));
    const results: PutRecordsResultEntry[] = response.Records ?? [];
    const stillFailing: StreamRecord[] = [];
    pending.forEach((record, index) => {
      const result = results[index];
      if (result?.SequenceNumber && !result.ErrorCode && result.ShardId) {
        outcome.sent++;
        outcome.shards[result.ShardId] = (outcome.shards[result.ShardId] ?? 0) + 1;
      } else {
        stillFailing.push(record);
      }
    });
    pending = stillFailing;
    if (attempt + 1 >= policy.maxAttempts) break;
  }
  outcome.failed = pending.length;
  return outcome;
}

/** Adds one outcome into a running total. */
export function addOutcome(total: PutOutcome, part: PutOutcome): PutOutcome {
  total.sent += part.sent;
  total.failed += part.failed;
  total.retried += part.retried;
  for (const [shard, count] of Object.entries(part.shards))
    total.shards[shard] = (total.shards[shard] ?? 0) + count;
  return total;
}
