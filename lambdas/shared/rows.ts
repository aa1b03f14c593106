/**
 * The row written to the lake, one per valid event. The Parquet and CSV sinks both write exactly
 * these columns, in this order. Timestamps are UTC epoch milliseconds; absent values are null.
 */
export interface EventRow {
  event_id: string;
  schema_version: number;
  tenant_id: string;
  event_type: string;
  occurred_at: number;
  user_id: string;
  session_id: string | null;
  amount: number | null;
  currency: string | null;
  amount_usd: number | null;
  /** The type-specific payload, normalised, as JSON text. */
  payload: string;
  /** Event-time date (YYYY-MM-DD, UTC); also the `dt` partition. */
  event_date: string;
  /** Event-time hour 0-23 (UTC); also the `hour` partition. */
  event_hour: number;
  shard_id: string;
  /** Kinesis sequence numbers are decimal strings of up to 129 digits: never a number. */
  sequence_number: string;
  partition_key: string;
  arrival_time: number;
  processed_at: number;
}

export type ColumnType = 'string' | 'int32' | 'double' | 'timestamptz' | 'date';

/** Column order and logical types, shared by every sink and by the query views. */
export const EVENT_COLUMNS: ReadonlyArray<{ name: keyof EventRow; type: ColumnType; nullable: boolean }> = [
  { name: 'event_id', type: 'string', nullable: false },
  { name: 'schema_version', type: 'int32', nullable: false },
  { name: 'tenant_id', type: 'string', nullable: false },
  { name: 'event_type', type: 'string', nullable: false },
  { name: 'occurred_at', type: 'timestamptz', nullable: false },
  { name: 'user_id', type: 'string', nullable: false },
  { name: 'session_id', type: 'string', nullable: true },
  { name: 'amount', type: 'double', nullable: true },
  { name: 'currency', type: 'string', nullable: true },
  { name: 'amount_usd', type: 'double', nullable: true },
  { name: 'payload', type: 'string', nullable: false },
  { name: 'event_date', type: 'date', nullable: false },
  { name: 'event_hour', type: 'int32', nullable: false },
  { name: 'shard_id', type: 'string', nullable: false },
  { name: 'sequence_number', type: 'string', nullable: false },
  { name: 'partition_key', type: 'string', nullable: false },
  { name: 'arrival_time', type: 'timestamptz', nullable: false },
  { name: 'processed_at', type: 'timestamptz', nullable: false },
];
