import type { EventRow } from '../../shared/rows';

/** A place in degrees, as the event model normalised it (lambdas/shared/events.ts, `Location`). */
export interface Place {
  latitude: number;
  longitude: number;
}

/** One viewing of content_watched. */
export interface Watch {
  durationMs: number;
  lengthMs: number;
}

/**
 * What the analytics engine needs of one valid event: the lake row's fields plus the payload fields a
 * rule reads (a payment's status, a merchant, a location, a viewing), and the record's stream
 * coordinates, which make every output traceable and every alert id stable across replays.
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
  /** merchant_id of an order or a payment, when given. */
  merchantId: string | null;
  /** The event's location, when given. */
  location: Place | null;
  /** The viewing of a content_watched event; null otherwise. */
  watch: Watch | null;
  shardId: string;
  sequenceNumber: string;
}

interface PayloadFields {
  status?: unknown;
  merchant_id?: unknown;
  location?: { latitude?: unknown; longitude?: unknown };
  watch_duration_ms?: unknown;
  content_length_ms?: unknown;
}

/**
 * Whether a payload may hold a field a rule reads. Parsing every payload would cost the fold more than
 * the rules do; a substring test rules most of them out (a false positive only costs one parse).
 */
const mayHoldRuleFields = (row: EventRow) =>
  row.event_type === 'payment_processed' ||
  row.event_type === 'content_watched' ||
  row.payload.includes('"location"') ||
  row.payload.includes('"merchant_id"');

const stringOrNull = (value: unknown) => (typeof value === 'string' ? value : null);

function payloadFieldsOf(row: EventRow) {
  const payload = mayHoldRuleFields(row) ? (JSON.parse(row.payload) as PayloadFields) : {};
  const { latitude, longitude } = payload.location ?? {};
  const place =
    typeof latitude === 'number' && typeof longitude === 'number' ? { latitude, longitude } : null;
  const watch =
    row.event_type === 'content_watched' &&
    typeof payload.watch_duration_ms === 'number' &&
    typeof payload.content_length_ms === 'number'
      ? { durationMs: payload.watch_duration_ms, lengthMs: payload.content_length_ms }
      : null;
  return {
    paymentStatus: row.event_type === 'payment_processed' ? stringOrNull(payload.status) : null,
    merchantId: stringOrNull(payload.merchant_id),
    location: place,
    watch,
  };
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
    ...payloadFieldsOf(row),
    shardId: row.shard_id,
    sequenceNumber: row.sequence_number,
  };
}
