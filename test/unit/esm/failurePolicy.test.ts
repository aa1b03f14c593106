import { describe, expect, test } from 'vitest';
import {
  decideAfterInvocation,
  expiredRecordCount,
  retriesExhausted,
  retryDelayMs,
} from '../../../local/esm/failurePolicy';

// Lambda developer guide, "Using Lambda with Kinesis" > "Error handling", and CreateEventSourceMapping
// (BisectBatchOnFunctionError, MaximumRetryAttempts, MaximumRecordAgeInSeconds).
const bisecting = { bisectBatchOnFunctionError: true, maximumRetryAttempts: 2 };
const plain = { bisectBatchOnFunctionError: false, maximumRetryAttempts: 2 };

describe('failure policy', () => {
  test('a successful invocation checkpoints the whole batch', () => {
    expect(decideAfterInvocation({ kind: 'success' }, { size: 5, retriesUsed: 0 }, plain)).toEqual({
      action: 'checkpoint',
    });
  });

  test('with BisectBatchOnFunctionError a failed batch is split in two halves', () => {
    expect(decideAfterInvocation({ kind: 'function-error' }, { size: 8, retriesUsed: 0 }, bisecting)).toEqual(
      {
        action: 'bisect',
        firstHalfSize: 4,
      },
    );
    expect(decideAfterInvocation({ kind: 'function-error' }, { size: 5, retriesUsed: 0 }, bisecting)).toEqual(
      {
        action: 'bisect',
        firstHalfSize: 3,
      },
    );
  });

  test('splitting a batch does not count towards the retry quota, even when the quota is used up', () => {
    expect(decideAfterInvocation({ kind: 'function-error' }, { size: 2, retriesUsed: 2 }, bisecting)).toEqual(
      {
        action: 'bisect',
        firstHalfSize: 1,
      },
    );
  });

  test('a single failing record cannot be split: it consumes a retry', () => {
    expect(decideAfterInvocation({ kind: 'function-error' }, { size: 1, retriesUsed: 0 }, bisecting)).toEqual(
      {
        action: 'retry',
        doneCount: 0,
        retriesUsed: 1,
        countsAsRetry: true,
      },
    );
  });

  test('without bisecting, a failed batch is retried whole until MaximumRetryAttempts, then discarded', () => {
    expect(
      decideAfterInvocation({ kind: 'function-error' }, { size: 5, retriesUsed: 1 }, plain),
    ).toMatchObject({
      action: 'retry',
      retriesUsed: 2,
    });
    expect(decideAfterInvocation({ kind: 'function-error' }, { size: 5, retriesUsed: 2 }, plain)).toEqual({
      action: 'discard',
      doneCount: 0,
      condition: 'RetryAttemptsExhausted',
    });
  });

  test('MaximumRetryAttempts 0 discards at the first failure', () => {
    const none = { bisectBatchOnFunctionError: false, maximumRetryAttempts: 0 };
    expect(
      decideAfterInvocation({ kind: 'function-error' }, { size: 1, retriesUsed: 0 }, none),
    ).toMatchObject({
      action: 'discard',
    });
  });

  test('MaximumRetryAttempts -1 retries forever (until the records expire)', () => {
    const infinite = { bisectBatchOnFunctionError: false, maximumRetryAttempts: -1 };
    expect(retriesExhausted(1_000_000, -1)).toBe(false);
    expect(
      decideAfterInvocation({ kind: 'function-error' }, { size: 1, retriesUsed: 10_000 }, infinite),
    ).toMatchObject({ action: 'retry', retriesUsed: 10_001 });
  });

  test('a partial batch response marks the records before the failure done and retries from it, bisect or not', () => {
    for (const settings of [plain, bisecting]) {
      expect(
        decideAfterInvocation(
          { kind: 'partial', firstFailedIndex: 3 },
          { size: 8, retriesUsed: 0 },
          settings,
        ),
      ).toEqual({
        action: 'retry',
        doneCount: 3,
        retriesUsed: 1,
        countsAsRetry: true,
      });
    }
  });

  test('a partial failure with its retries exhausted discards only the records from the failure on', () => {
    expect(
      decideAfterInvocation({ kind: 'partial', firstFailedIndex: 3 }, { size: 8, retriesUsed: 2 }, plain),
    ).toEqual({
      action: 'discard',
      doneCount: 3,
      condition: 'RetryAttemptsExhausted',
    });
  });

  test('when the function was never reached (throttle, service error), Lambda retries without consuming retries', () => {
    expect(decideAfterInvocation({ kind: 'not-invoked' }, { size: 4, retriesUsed: 2 }, plain)).toEqual({
      action: 'retry',
      doneCount: 0,
      retriesUsed: 2,
      countsAsRetry: false,
    });
  });
});

describe('MaximumRecordAgeInSeconds', () => {
  const now = 1_000_000;

  test('records older than the maximum age are discarded from the head of the batch', () => {
    expect(expiredRecordCount([now - 120_000, now - 61_000, now - 10_000], now, 60)).toBe(2);
  });

  test('a record exactly at the maximum age is still delivered (only older ones are discarded)', () => {
    expect(expiredRecordCount([now - 60_000], now, 60)).toBe(0);
  });

  test('-1 means records never expire', () => {
    expect(expiredRecordCount([0, 1], now, -1)).toBe(0);
  });

  test('the discarded range stays contiguous even if arrival times are not monotonic', () => {
    expect(expiredRecordCount([now - 70_000, now - 1_000, now - 80_000, now], now, 60)).toBe(3);
  });
});

describe('retry backoff', () => {
  test('doubles from the initial delay and stops at the maximum', () => {
    const backoff = { initialMs: 10, maxMs: 50 };
    expect([1, 2, 3, 4, 5].map((retry) => retryDelayMs(retry, backoff))).toEqual([10, 20, 40, 50, 50]);
  });
});
