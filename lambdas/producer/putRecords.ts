import {
  type KinesisClient,
  PutRecordsCommand,
  type PutRecordsRequestEntry,
  type PutRecordsResultEntry,
} from '@aws-sdk/client-kinesis';
import { chunkBySize } from '../shared/chunkBySize';

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
  /**
   * Entries retried after a partial failure (ProvisionedThroughputExceeded, InternalFailure), or after a
   * retryable failure of the whole call, which counts every entry it carried.
   */
  retried: number;
  /** PutRecords calls that failed as a whole with a retryable error; absent when none did. */
  wholeCallFailures?: number;
  /** The last of those errors, as `name: message`, so that a chunk given up on says why. */
  lastWholeCallError?: string;
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
  yield* chunkBySize(
    records,
    { maxItems: Math.min(maxRecords, PUT_RECORDS_MAX_RECORDS), maxBytes: PUT_RECORDS_MAX_BYTES },
    recordBytes,
  );
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

/** Errors that mean "slow down" rather than "this request is wrong". */
const THROTTLING_ERROR_NAMES = new Set([
  'ProvisionedThroughputExceededException',
  'KMSThrottlingException',
  'LimitExceededException',
  'ThrottlingException',
  'Throttling',
  'RequestThrottled',
  'RequestThrottledException',
  'TooManyRequestsException',
  'SlowDown',
]);
/** Errors that mean the service or the connection failed, not the request. */
const TRANSIENT_ERROR_NAMES = new Set([
  'InternalFailure',
  'InternalFailureException',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
]);
/** Node socket and DNS errors that a later attempt can get past. ENOTFOUND is left out: a wrong host stays wrong. */
const TRANSIENT_NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'EAI_AGAIN',
]);

interface SdkErrorShape {
  name?: unknown;
  code?: unknown;
  $retryable?: unknown;
  $metadata?: { httpStatusCode?: unknown };
}

/**
 * Whether a PutRecords call that failed as a whole is worth trying again: throttling (by name or HTTP
 * 429), a 5xx, an error the SDK marks `$retryable`, or a transient network error. Anything else (a
 * ValidationException, ResourceNotFoundException, AccessDeniedException, a KMS access error, any other
 * 4xx) means the request itself is wrong, and retrying it would only hide that.
 *
 * @example
 * ```ts
 * isRetryablePutError(new ProvisionedThroughputExceededException({ message: 'Rate exceeded', $metadata: {} })); // true
 * isRetryablePutError(new ResourceNotFoundException({ message: 'no such stream', $metadata: {} })); // false
 * ```
 */
export function isRetryablePutError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { name, code, $retryable, $metadata } = error as SdkErrorShape;
  if (name === 'AbortError') return false;
  const status = $metadata?.httpStatusCode;
  return (
    (typeof name === 'string' && (THROTTLING_ERROR_NAMES.has(name) || TRANSIENT_ERROR_NAMES.has(name))) ||
    status === 429 ||
    (typeof status === 'number' && status >= 500) ||
    $retryable !== undefined ||
    (typeof code === 'string' && TRANSIENT_NETWORK_CODES.has(code))
  );
}

const describeError = (error: unknown) =>
  error instanceof Error ? `${error.name}: ${error.message}` : String(error);

/** Hears of each record Kinesis accepts: its index in the chunk and the sequence number it was given. */
export type OnAccepted = (index: number, sequenceNumber: string) => void;

/** A record still to put, with its index in the chunk. */
interface PendingRecord {
  record: StreamRecord;
  index: number;
}

/**
 * Sends one PutRecords call for `pending` and tallies what it accepted into `outcome`; returns the
 * records still to put. A retryable failure of the whole call leaves all of them pending.
 */
async function putAttempt(
  kinesis: KinesisClient,
  streamName: string,
  pending: readonly PendingRecord[],
  outcome: PutOutcome,
  onAccepted: OnAccepted,
): Promise<readonly PendingRecord[]> {
  const entries: PutRecordsRequestEntry[] = pending.map(({ record }) => ({
    Data: record.data,
    PartitionKey: record.partitionKey,
  }));
  let results: PutRecordsResultEntry[];
  try {
    const response = await kinesis.send(new PutRecordsCommand({ StreamName: streamName, Records: entries }));
    results = response.Records ?? [];
  } catch (error) {
    if (!isRetryablePutError(error)) throw error;
    outcome.wholeCallFailures = (outcome.wholeCallFailures ?? 0) + 1;
    outcome.lastWholeCallError = describeError(error);
    return pending;
  }
  const stillFailing: PendingRecord[] = [];
  pending.forEach((entry, position) => {
    const result = results[position];
    if (result?.SequenceNumber && !result.ErrorCode && result.ShardId) {
      outcome.sent++;
      outcome.shards[result.ShardId] = (outcome.shards[result.ShardId] ?? 0) + 1;
      onAccepted(entry.index, result.SequenceNumber);
    } else {
      stillFailing.push(entry);
    }
  });
  return stillFailing;
}

/**
 * Puts one chunk, retrying with bounded exponential backoff and jitter: after a partial failure only the
 * entries that failed, after a retryable failure of the whole call (throttling, 5xx, network) all of
 * them, within the same `policy.maxAttempts`. What is still unsent then is counted in `failed`. A
 * non-retryable error (ValidationException, ResourceNotFoundException, AccessDenied) is thrown at once.
 * Kinesis answers entry by entry, in request order, so a failed entry's index maps back to its record.
 * `onAccepted` hears of each record as Kinesis accepts it, with its index in `chunk`, so a caller that
 * needs the sequence numbers has them in the chunk's order, even for a chunk that ends in an error.
 *
 * @example
 * ```ts
 * const sequenceNumbers: string[] = [];
 * const outcome = await putChunk(kinesis, 'shardline-dev-events', chunk, DEFAULT_RETRY_POLICY, (i, seq) => {
 *   sequenceNumbers[i] = seq;
 * });
 * ```
 */
export async function putChunk(
  kinesis: KinesisClient,
  streamName: string,
  chunk: readonly StreamRecord[],
  policy: RetryPolicy = DEFAULT_RETRY_POLICY,
  onAccepted: OnAccepted = () => {},
): Promise<PutOutcome> {
  const outcome: PutOutcome = { sent: 0, failed: 0, shards: {}, retried: 0 };
  let pending: readonly PendingRecord[] = chunk.map((record, index) => ({ record, index }));
  for (let attempt = 0; pending.length > 0; attempt++) {
    if (attempt > 0) {
      outcome.retried += pending.length;
      await sleep(backoffDelayMs(attempt, policy));
    }
    pending = await putAttempt(kinesis, streamName, pending, outcome, onAccepted);
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
  if (part.wholeCallFailures)
    total.wholeCallFailures = (total.wholeCallFailures ?? 0) + part.wholeCallFailures;
  if (part.lastWholeCallError) total.lastWholeCallError = part.lastWholeCallError;
  for (const [shard, count] of Object.entries(part.shards))
    total.shards[shard] = (total.shards[shard] ?? 0) + count;
  return total;
}
