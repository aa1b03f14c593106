/**
 * Tumbling windows for a Kinesis event source mapping (Lambda developer guide, "Implementing stateful
 * Kinesis Data Streams processing in Lambda"):
 * - windows are distinct, fixed intervals that open and close at regular intervals; Lambda determines the
 *   boundaries from the time records were inserted into the stream (ApproximateArrivalTimestamp);
 * - each invocation receives the window, the `state` the previous invocation of the same window returned
 *   (`{}` at first), `shardId` and `eventSourceARN`; the response must contain a `state` property, or
 *   Lambda considers the invocation failed;
 * - at the end of the window a last invocation has `isFinalInvokeForWindow: true`; then the state is
 *   dropped;
 * - the state can be at most 1 MB per shard; beyond that Lambda terminates the window early
 *   (`isWindowTerminatedEarly`), and the window continues with a fresh state.
 * All pure: the lane (lane.ts) carries the window through invocations.
 */
import type { EventRecord } from './eventShape';
import { kinesisStreamEvent } from './eventShape';
import type { KinesisTimeWindowEvent } from './types';

/** "Your state can be a maximum of 1 MB per shard": measured as UTF-8 bytes of the serialized state. */
export const MAX_WINDOW_STATE_BYTES = 1024 * 1024;

export type WindowState = Record<string, unknown>;

/** One tumbling window: `[startMs, endMs)`, aligned on multiples of the window length since the epoch. */
export interface WindowBounds {
  startMs: number;
  endMs: number;
}

/** Everything an invocation for a window carries besides the records. */
export interface WindowInvocation {
  bounds: WindowBounds;
  state: WindowState;
  shardId: string;
  streamArn: string;
  isFinalInvokeForWindow: boolean;
  isWindowTerminatedEarly: boolean;
}

/**
 * The window a record belongs to, from its arrival time.
 *
 * @example
 * ```ts
 * windowFor(Date.parse('2020-12-09T07:05:12.345Z'), 120);
 * // { startMs: Date.parse('2020-12-09T07:04:00Z'), endMs: Date.parse('2020-12-09T07:06:00Z') }
 * ```
 */
export function windowFor(arrivalMs: number, tumblingWindowInSeconds: number): WindowBounds {
  const lengthMs = tumblingWindowInSeconds * 1000;
  const startMs = Math.floor(arrivalMs / lengthMs) * lengthMs;
  return { startMs, endMs: startMs + lengthMs };
}

/**
 * A window boundary as the event shows it: ISO 8601 in UTC, to the second (`2020-12-09T07:04:00Z`).
 *
 * @example
 * ```ts
 * formatWindowTime(Date.parse('2020-12-09T07:04:00Z')); // '2020-12-09T07:04:00Z'
 * ```
 */
export function formatWindowTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * Serialized size of a window state, to compare with MAX_WINDOW_STATE_BYTES.
 *
 * @example
 * ```ts
 * stateBytes({ sum: 42 }); // 10
 * ```
 */
export function stateBytes(state: WindowState): number {
  return Buffer.byteLength(JSON.stringify(state));
}

/**
 * The event of a tumbling-window invocation, field for field like the AWS example `KinesisTimeWindowEvent`.
 *
 * @example
 * ```ts
 * const event = tumblingWindowEvent(batch, { bounds, state: {}, shardId, streamArn,
 *   isFinalInvokeForWindow: false, isWindowTerminatedEarly: false });
 * event.window; // { start: '2020-12-09T07:04:00Z', end: '2020-12-09T07:06:00Z' }
 * ```
 */
export function tumblingWindowEvent(
  records: readonly EventRecord[],
  invocation: WindowInvocation,
): KinesisTimeWindowEvent {
  return { ...kinesisStreamEvent(records), ...windowFields(invocation) };
}

/**
 * Bytes the window fields add to the serialized event (an upper bound), so that the batcher keeps the
 * whole event under the 6 MB payload limit.
 *
 * @example
 * ```ts
 * planBatch(queue, { batchSize, maxPayloadBytes: MAX_INVOCATION_PAYLOAD_BYTES - windowEnvelopeBytes(invocation) });
 * ```
 */
export function windowEnvelopeBytes(invocation: WindowInvocation): number {
  const widest = { ...invocation, isFinalInvokeForWindow: false, isWindowTerminatedEarly: false };
  // The fields' own braces go; one comma joins them to `"Records":[…]`.
  return Buffer.byteLength(JSON.stringify(windowFields(widest))) - 1;
}

/**
 * Reads the `state` of a tumbling-window response. Lambda considers a response without a `state`
 * property a failed invocation; we also refuse a state that is not a JSON object.
 *
 * @example
 * ```ts
 * readWindowState({ state: { sum: 3 }, batchItemFailures: [] }); // { ok: true, state: { sum: 3 } }
 * readWindowState(null); // { ok: false, reason: 'the response has no state property …' }
 * ```
 */
export function readWindowState(
  response: unknown,
): { ok: true; state: WindowState } | { ok: false; reason: string } {
  if (typeof response !== 'object' || response === null || !('state' in response)) {
    return {
      ok: false,
      reason: 'the response has no state property (with tumbling windows every response must return one)',
    };
  }
  const { state } = response as { state: unknown };
  if (typeof state !== 'object' || state === null || Array.isArray(state)) {
    return { ok: false, reason: `the response's state is ${JSON.stringify(state)}, not a JSON object` };
  }
  return { ok: true, state: state as WindowState };
}

function windowFields(invocation: WindowInvocation): Omit<KinesisTimeWindowEvent, 'Records'> {
  return {
    window: {
      start: formatWindowTime(invocation.bounds.startMs),
      end: formatWindowTime(invocation.bounds.endMs),
    },
    state: invocation.state,
    shardId: invocation.shardId,
    eventSourceARN: invocation.streamArn,
    isFinalInvokeForWindow: invocation.isFinalInvokeForWindow,
    isWindowTerminatedEarly: invocation.isWindowTerminatedEarly,
  };
}

/**
 * How far behind a caught-up poll's start time the window watermark stays: a record whose arrival time
 * Kinesis fixed just before the poll may become readable just after it. Lambda itself waits "up to 2
 * minutes" for a quiet window; locally a window closes within a poll interval and this margin.
 */
export const WINDOW_CLOSE_GRACE_MS = 1_000;
