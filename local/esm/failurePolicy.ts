/**
 * The failure policy of a stream event source mapping, as the Lambda developer guide defines it
 * ("Error handling" for Kinesis, and "Retain discarded batch records"):
 * - a function error (including a timeout or a runtime crash) is retried until it succeeds, the records
 *   exceed MaximumRecordAgeInSeconds, or MaximumRetryAttempts is reached (-1: no limit);
 * - with BisectBatchOnFunctionError a failed batch is split in two before retrying, and splitting does
 *   not count against the retry quota;
 * - with a partial batch response, records before the lowest failed sequence number are done and the
 *   retry starts at that record ("the batch is bisected at the returned sequence number and Lambda
 *   retries only the remaining records");
 * - if Lambda could not invoke the function at all, it retries until the records expire, without
 *   consuming retries;
 * - when the measures fail, the records are discarded (sent on-failure) and the shard moves on.
 * All pure: the lane (lane.ts) carries the decisions out.
 */
import type { RetryBackoff } from './types';

/** What one invocation of a batch came to, from the failure policy's point of view. */
export type InvocationResult =
  | { kind: 'success' }
  | { kind: 'partial'; firstFailedIndex: number }
  /** Error, timeout, crash, or a malformed partial batch response: the whole batch failed. */
  | { kind: 'function-error' }
  /** Lambda never reached the function (a throttle or service error). */
  | { kind: 'not-invoked' };

export interface FailurePolicySettings {
  bisectBatchOnFunctionError: boolean;
  /** -1: retry until the records expire. */
  maximumRetryAttempts: number;
}

export interface BatchAttempt {
  size: number;
  /** Retries already consumed by these records (inherited by the halves of a bisected batch). */
  retriesUsed: number;
}

export type FailureDecision =
  /** Every record of the batch is done. */
  | { action: 'checkpoint' }
  /** Split and process the first `firstHalfSize` records, then the rest, each as its own batch. */
  | { action: 'bisect'; firstHalfSize: number }
  /** The first `doneCount` records are done; retry the rest with `retriesUsed` retries consumed. */
  | { action: 'retry'; doneCount: number; retriesUsed: number; countsAsRetry: boolean }
  /** The first `doneCount` records are done; the rest go on-failure. */
  | { action: 'discard'; doneCount: number; condition: 'RetryAttemptsExhausted' };

/**
 * Whether a batch that has consumed `retriesUsed` retries may be retried again.
 *
 * @example
 * ```ts
 * retriesExhausted(2, 2); // true: two retries allowed, two used
 * retriesExhausted(10_000, -1); // false: -1 retries until the records expire
 * ```
 */
export function retriesExhausted(retriesUsed: number, maximumRetryAttempts: number): boolean {
  return maximumRetryAttempts !== -1 && retriesUsed >= maximumRetryAttempts;
}

/**
 * What to do after an invocation of a batch.
 *
 * @example
 * ```ts
 * decideAfterInvocation({ kind: 'function-error' }, { size: 8, retriesUsed: 0 },
 *   { bisectBatchOnFunctionError: true, maximumRetryAttempts: 2 });
 * // { action: 'bisect', firstHalfSize: 4 }
 * ```
 */
export function decideAfterInvocation(
  result: InvocationResult,
  attempt: BatchAttempt,
  settings: FailurePolicySettings,
): FailureDecision {
  switch (result.kind) {
    case 'success':
      return { action: 'checkpoint' };
    case 'not-invoked':
      return { action: 'retry', doneCount: 0, retriesUsed: attempt.retriesUsed, countsAsRetry: false };
    case 'partial':
      return retryOrDiscard(result.firstFailedIndex, attempt.retriesUsed, settings);
    case 'function-error':
      if (settings.bisectBatchOnFunctionError && attempt.size > 1) {
        return { action: 'bisect', firstHalfSize: Math.ceil(attempt.size / 2) };
      }
      return retryOrDiscard(0, attempt.retriesUsed, settings);
  }
}

function retryOrDiscard(
  doneCount: number,
  retriesUsed: number,
  settings: FailurePolicySettings,
): FailureDecision {
  if (retriesExhausted(retriesUsed, settings.maximumRetryAttempts)) {
    return { action: 'discard', doneCount, condition: 'RetryAttemptsExhausted' };
  }
  return { action: 'retry', doneCount, retriesUsed: retriesUsed + 1, countsAsRetry: true };
}

/**
 * How many records at the head of a batch are older than MaximumRecordAgeInSeconds and must be discarded
 * before the next invocation. Arrival times rise along a shard, so the expired records are a prefix; we
 * take everything up to the last expired record so the discarded range stays contiguous.
 *
 * @example
 * ```ts
 * expiredRecordCount([0, 1_000, 120_000], 130_000, 60); // 2: the first two are older than 60 s
 * expiredRecordCount([0], 10_000_000, -1); // 0: -1 means no age limit
 * ```
 */
export function expiredRecordCount(
  arrivalTimesMs: readonly number[],
  nowMs: number,
  maximumRecordAgeInSeconds: number,
): number {
  if (maximumRecordAgeInSeconds === -1) return 0;
  const oldestAllowed = nowMs - maximumRecordAgeInSeconds * 1000;
  let count = 0;
  arrivalTimesMs.forEach((arrival, index) => {
    if (arrival < oldestAllowed) count = index + 1;
  });
  return count;
}

/**
 * The wait before retry number `retry` (1-based): exponential, capped.
 *
 * @example
 * ```ts
 * retryDelayMs(3, { initialMs: 1_000, maxMs: 30_000 }); // 4000
 * ```
 */
export function retryDelayMs(retry: number, backoff: RetryBackoff): number {
  return Math.min(backoff.maxMs, backoff.initialMs * 2 ** Math.max(0, retry - 1));
}
