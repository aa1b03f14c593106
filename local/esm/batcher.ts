/**
 * The batcher decides when a batch is ready and how many records it takes. Lambda invokes when one of
 * three things happens (Lambda developer guide, "Batching behavior"): the batch reaches BatchSize, the
 * batching window (MaximumBatchingWindowInSeconds, starting when the previous invocation completed)
 * expires, or the payload reaches the 6 MB invocation limit.
 */

/** Lambda's synchronous invocation payload limit: 6 MB, measured on the serialized event. */
export const MAX_INVOCATION_PAYLOAD_BYTES = 6 * 1024 * 1024;

/** `{"Records":[` and `]}` around the comma-separated records. */
const ENVELOPE_BYTES = Buffer.byteLength('{"Records":[]}');

export interface BatchLimits {
  batchSize: number;
  maxPayloadBytes: number;
}

export interface BatchPlan {
  /** Records the next batch takes from the head of the queue. */
  count: number;
  /** Serialized size of the event those records make. */
  payloadBytes: number;
  /** Why the batch cannot grow: it is full, or the next record would push it over the payload limit. */
  limitReached: 'BatchSize' | 'PayloadLimit' | undefined;
}

/**
 * Serialized size of `{"Records":[…]}` for records of the given sizes: equal to
 * `Buffer.byteLength(JSON.stringify(event))`.
 *
 * @example
 * ```ts
 * eventPayloadBytes([{ bytes: 10 }, { bytes: 20 }]); // 14 + 10 + 1 + 20 = 45
 * ```
 */
export function eventPayloadBytes(records: ReadonlyArray<{ bytes: number }>): number {
  const recordBytes = records.reduce((sum, record) => sum + record.bytes, 0);
  return ENVELOPE_BYTES + recordBytes + Math.max(0, records.length - 1);
}

/**
 * Takes as many records from the head of the queue as BatchSize and the payload limit allow. A single
 * record larger than the limit still goes alone (Kinesis records are at most 1 MiB, so this cannot happen
 * with the default limit; it keeps the shard moving if a test lowers the limit).
 *
 * @example
 * ```ts
 * planBatch(queue, { batchSize: 100, maxPayloadBytes: MAX_INVOCATION_PAYLOAD_BYTES });
 * // { count: 100, payloadBytes: 51234, limitReached: 'BatchSize' }
 * ```
 */
export function planBatch(queue: ReadonlyArray<{ bytes: number }>, limits: BatchLimits): BatchPlan {
  let count = 0;
  let payloadBytes = ENVELOPE_BYTES;
  for (const record of queue) {
    if (count === limits.batchSize) return { count, payloadBytes, limitReached: 'BatchSize' };
    const next = payloadBytes + record.bytes + (count === 0 ? 0 : 1);
    if (next > limits.maxPayloadBytes) {
      if (count === 0) return { count: 1, payloadBytes: next, limitReached: 'PayloadLimit' };
      return { count, payloadBytes, limitReached: 'PayloadLimit' };
    }
    count += 1;
    payloadBytes = next;
  }
  return { count, payloadBytes, limitReached: count === limits.batchSize ? 'BatchSize' : undefined };
}

export interface BatchTiming {
  nowMs: number;
  /** When the batching window closes: the previous invocation's end plus the window. */
  windowEndsAtMs: number;
  /** The shard has ended (or the mapping stops): no more records will join this batch. */
  sourceExhausted: boolean;
}

/**
 * Whether to invoke now with the planned batch: never with no records; at once when a limit is reached,
 * the window has closed, or no more records can come.
 *
 * @example
 * ```ts
 * shouldInvoke(planBatch(queue, limits), { nowMs: Date.now(), windowEndsAtMs, sourceExhausted: false });
 * ```
 */
export function shouldInvoke(plan: BatchPlan, timing: BatchTiming): boolean {
  if (plan.count === 0) return false;
  return plan.limitReached !== undefined || timing.nowMs >= timing.windowEndsAtMs || timing.sourceExhausted;
}
