import { type Currency, toUsd } from '../shared/currency';
import type { Event } from '../shared/events';
import type { EventRow } from '../shared/rows';

/** Where a record came from on the stream. */
export interface RecordOrigin {
  shardId: string;
  sequenceNumber: string;
  partitionKey: string;
  /** ApproximateArrivalTimestamp in epoch milliseconds. */
  arrivalTime: number;
}

/** The monetary amount an event carries, if any. */
function amountOf(event: Event): { amount: number; currency: Currency } | null {
  switch (event.event_type) {
    case 'add_to_cart':
      return {
        amount: Math.round(event.payload.quantity * event.payload.unit_price * 100) / 100,
        currency: event.payload.currency,
      };
    case 'order_created':
      return { amount: event.payload.total_amount, currency: event.payload.currency };
    case 'payment_processed':
      return { amount: event.payload.amount, currency: event.payload.currency };
    default:
      return null;
  }
}

const pad2 = (n: number) => (n < 10 ? `0${n}` : `${n}`);

/** The UTC date (YYYY-MM-DD) and hour of an epoch-millisecond instant. */
export function eventTimePartition(epochMs: number): { date: string; hour: number } {
  const d = new Date(epochMs);
  return {
    date: `${d.getUTCFullYear()}-${pad2(d.getUTCMonth() + 1)}-${pad2(d.getUTCDate())}`,
    hour: d.getUTCHours(),
  };
}

/**
 * Turns a validated event into its lake row: enrichment (event date and hour, amount in USD, stream
 * coordinates, processing time) on top of the normalisation the schema already did.
 *
 * @example
 * ```ts
 * const row = toRow(event, { shardId, sequenceNumber, partitionKey, arrivalTime }, Date.now());
 * ```
 */
export function toRow(event: Event, origin: RecordOrigin, processedAt: number): EventRow {
  const money = amountOf(event);
  const { date, hour } = eventTimePartition(event.occurred_at);
  return {
    event_id: event.event_id,
    schema_version: event.schema_version,
    tenant_id: event.tenant_id,
    event_type: event.event_type,
    occurred_at: event.occurred_at,
    user_id: event.user_id,
    session_id: event.session_id ?? null,
    amount: money?.amount ?? null,
    currency: money?.currency ?? null,
    amount_usd: money ? toUsd(money.amount, money.currency) : null,
    payload: JSON.stringify(event.payload),
    event_date: date,
    event_hour: hour,
    shard_id: origin.shardId,
    sequence_number: origin.sequenceNumber,
    partition_key: origin.partitionKey,
    arrival_time: origin.arrivalTime,
    processed_at: processedAt,
  };
}
