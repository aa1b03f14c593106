import type { WindowKind, WindowRow } from '../../shared/analyticsRows';
import { addUser, type DistinctUsers, emptyDistinctUsers, estimateDistinct } from './distinctUsers';
import type { AnalyticsEvent } from './input';

/**
 * Event-time windows per tenant × event type. Windows are aligned to the epoch: a tumbling window of
 * length L covers [k·L, (k+1)·L); a hopping window of length L and step S covers [k·S, k·S + L), so an
 * event belongs to ⌈L/S⌉ hopping windows (10 with the defaults).
 */

export interface WindowSpec {
  kind: WindowKind;
  sizeMs: number;
  stepMs: number;
}

/** The running aggregate of one open window. */
export interface WindowAggregate {
  kind: WindowKind;
  tenantId: string;
  eventType: string;
  start: number;
  end: number;
  count: number;
  amountCount: number;
  amountSum: number;
  amountMin: number | null;
  amountMax: number | null;
  users: DistinctUsers;
  firstEventAt: number;
  lastEventAt: number;
}

/**
 * The start of every window of `spec` that contains `time`, latest first.
 *
 * @example
 * ```ts
 * windowStartsFor(125_000, { kind: 'tumbling', sizeMs: 60_000, stepMs: 60_000 }); // [120000]
 * windowStartsFor(125_000, { kind: 'hopping', sizeMs: 180_000, stepMs: 60_000 }); // [120000, 60000, 0]
 * ```
 */
export function windowStartsFor(time: number, spec: WindowSpec): number[] {
  const starts: number[] = [];
  for (
    let start = Math.floor(time / spec.stepMs) * spec.stepMs;
    start + spec.sizeMs > time;
    start -= spec.stepMs
  )
    starts.push(start);
  return starts;
}

/**
 * The state key of a window: kind, length, tenant, type and start. The length is part of it so that a
 * configuration change never mixes two window lengths in one aggregate.
 *
 * @example
 * ```ts
 * windowKey({ kind: 'tumbling', sizeMs: 60_000, stepMs: 60_000 }, 'acme', 'page_view', 120_000);
 * // 'tumbling|60000|acme|page_view|120000'
 * ```
 */
export function windowKey(spec: WindowSpec, tenantId: string, eventType: string, start: number): string {
  return `${spec.kind}|${spec.sizeMs}|${tenantId}|${eventType}|${start}`;
}

/**
 * A new, empty window.
 *
 * @example
 * ```ts
 * const window = openWindow(spec, 'acme', 'page_view', 120_000);
 * ```
 */
export function openWindow(
  spec: WindowSpec,
  tenantId: string,
  eventType: string,
  start: number,
): WindowAggregate {
  return {
    kind: spec.kind,
    tenantId,
    eventType,
    start,
    end: start + spec.sizeMs,
    count: 0,
    amountCount: 0,
    amountSum: 0,
    amountMin: null,
    amountMax: null,
    users: emptyDistinctUsers(),
    firstEventAt: Number.POSITIVE_INFINITY,
    lastEventAt: Number.NEGATIVE_INFINITY,
  };
}

/**
 * Adds one event to a window (mutates it): count, amount statistics, distinct users, event-time range.
 *
 * @example
 * ```ts
 * addToWindow(window, event, hash64(`${event.tenantId}#${event.userId}`), 256);
 * ```
 */
export function addToWindow(
  window: WindowAggregate,
  event: AnalyticsEvent,
  userHash: string,
  distinctExactLimit: number,
): void {
  window.count++;
  if (event.amountUsd !== null) {
    window.amountCount++;
    window.amountSum += event.amountUsd;
    window.amountMin =
      window.amountMin === null ? event.amountUsd : Math.min(window.amountMin, event.amountUsd);
    window.amountMax =
      window.amountMax === null ? event.amountUsd : Math.max(window.amountMax, event.amountUsd);
  }
  window.users = addUser(window.users, userHash, distinctExactLimit);
  if (event.occurredAt < window.firstEventAt) window.firstEventAt = event.occurredAt;
  if (event.occurredAt > window.lastEventAt) window.lastEventAt = event.occurredAt;
}

/**
 * The lake row of a closed window.
 *
 * @example
 * ```ts
 * const row = windowRow(window, 'shardId-000000000000', { watermark, sequenceNumber });
 * ```
 */
export function windowRow(
  window: WindowAggregate,
  shardId: string,
  closedAt: { watermark: number; sequenceNumber: string },
): WindowRow {
  const distinct = estimateDistinct(window.users);
  const hasAmounts = window.amountCount > 0;
  return {
    window_kind: window.kind,
    tenant_id: window.tenantId,
    event_type: window.eventType,
    window_start: window.start,
    window_end: window.end,
    event_count: window.count,
    amount_count: window.amountCount,
    amount_usd_sum: hasAmounts ? Math.round(window.amountSum * 100) / 100 : null,
    amount_usd_min: window.amountMin,
    amount_usd_max: window.amountMax,
    distinct_users: distinct.count,
    distinct_users_exact: distinct.exact,
    first_event_at: window.firstEventAt,
    last_event_at: window.lastEventAt,
    shard_id: shardId,
    closed_at_watermark: closedAt.watermark,
    closed_at_sequence_number: closedAt.sequenceNumber,
  };
}
