import type { EventRow } from '../../shared/rows';

/**
 * What the analytics engine needs of one valid event: the lake row's fields plus the one payload field a
 * rule reads (a payment's status), and the record's stream coordinates, which make every output
 * traceable and every alert id stable across replays.
 */
export interface AnalyticsEvent {
  eventId: string;
  tenantId: string;
  eventType: string;
  /** Event time, UTC epoch milliseconds. */
  occurredAt: number;
  userId: string;
  sessionId: string | null;
  amountUsd: number | null;
  /** `succeeded`, `failed` or `pending` for payment_processed; null otherwise. */
  paymentStatus: string | null;
  shardId: string;
  sequenceNumber: string;
}

function paymentStatusOf(row: EventRow): string | null {
  if (row.event_type !== 'payment_processed') return null;
  const payload = JSON.parse(row.payload) as { status?: unknown };
  return typeof payload.status === 'string' ? payload.status : null;
}

/**
 * Projects a lake row onto the analytics input.
 *
 * @example
 * ```ts
 * const events = rows.map(toAnalyticsEvent);
 * ```
 */
export function toAnalyticsEvent(row: EventRow): AnalyticsEvent {
  return {
    eventId: row.event_id,
    tenantId: row.tenant_id,
    eventType: row.event_type,
    occurredAt: row.occurred_at,
    userId: row.user_id,
    sessionId: row.session_id,
    amountUsd: row.amount_usd,
    paymentStatus: paymentStatusOf(row),
    shardId: row.shard_id,
    sequenceNumber: row.sequence_number,
  };
}
