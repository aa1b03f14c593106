/**
 * Event-time progress of one shard. The watermark trails the largest event time seen by a fixed delay
 * (bounded out-of-orderness); it only moves forward, record by record. Anything that ends at time `end`
 * (a window, a user's velocity window) is closed once the watermark reaches `end + allowedLateness`, and
 * an event for something already closed is late.
 */

/** No event seen yet: nothing is closed. */
export const NO_WATERMARK = Number.NEGATIVE_INFINITY;

/**
 * The largest event time after seeing one more event.
 *
 * @example
 * ```ts
 * advanceMaxEventTime(null, 1000); // 1000
 * advanceMaxEventTime(5000, 1000); // 5000: an older event never moves time back
 * ```
 */
export function advanceMaxEventTime(maxEventTime: number | null, occurredAt: number): number {
  return maxEventTime === null || occurredAt > maxEventTime ? occurredAt : maxEventTime;
}

/**
 * The watermark for a largest event time: everything at or before it is assumed to have arrived.
 *
 * @example
 * ```ts
 * watermarkOf(60_000, 5_000); // 55000
 * watermarkOf(null, 5_000); // -Infinity
 * ```
 */
export function watermarkOf(maxEventTime: number | null, watermarkDelayMs: number): number {
  return maxEventTime === null ? NO_WATERMARK : maxEventTime - watermarkDelayMs;
}

/**
 * When something that ends at `end` closes: the watermark must reach its end plus the allowed lateness.
 *
 * @example
 * ```ts
 * closesAt(60_000, 30_000); // 90000
 * ```
 */
export function closesAt(end: number, allowedLatenessMs: number): number {
  return end + allowedLatenessMs;
}

/**
 * Whether something that ends at `end` is closed at this watermark.
 *
 * @example
 * ```ts
 * isClosed(60_000, 89_999, 30_000); // false
 * isClosed(60_000, 90_000, 30_000); // true
 * ```
 */
export function isClosed(end: number, watermark: number, allowedLatenessMs: number): boolean {
  return watermark >= closesAt(end, allowedLatenessMs);
}
