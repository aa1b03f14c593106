import type { EventRow } from '../shared/rows';

/** The lake's layout: Hive partitions on event time, one object per format, partition and batch. */
export const EVENTS_PREFIX = 'events';
export type OutputFormat = 'parquet' | 'csv';

export interface PartitionGroup {
  date: string;
  hour: number;
  rows: EventRow[];
}

/** Groups rows by their event-time partition, keeping stream order inside each group. */
export function groupByPartition(rows: readonly EventRow[]): PartitionGroup[] {
  const groups = new Map<string, PartitionGroup>();
  for (const row of rows) {
    const id = `${row.event_date}/${row.event_hour}`;
    let group = groups.get(id);
    if (!group) {
      group = { date: row.event_date, hour: row.event_hour, rows: [] };
      groups.set(id, group);
    }
    group.rows.push(row);
  }
  return [...groups.values()];
}

export interface BatchIdentity {
  shardId: string;
  firstSequenceNumber: string;
  lastSequenceNumber: string;
}

/**
 * The final S3 key of one output object. Fixed by the shard and the committed sequence range alone, so a
 * publication repeated by anyone writes the same bytes to the same key, and two commits (whose ranges
 * never overlap) never share one.
 *
 * @example
 * ```ts
 * objectKey('parquet', { date: '2026-11-01', hour: 3 }, batch);
 * // 'events/parquet/dt=2026-11-01/hour=03/shardId-000000000000-4955…-4955….parquet'
 * ```
 */
export function objectKey(
  format: OutputFormat,
  partition: { date: string; hour: number },
  batch: BatchIdentity,
) {
  const hour = partition.hour < 10 ? `0${partition.hour}` : `${partition.hour}`;
  const name = batchObjectName(batch);
  return `${EVENTS_PREFIX}/${format}/dt=${partition.date}/hour=${hour}/${name}.${format}`;
}

/**
 * The file name every final object of a batch shares: shard, first and last sequence number.
 *
 * @example
 * ```ts
 * batchObjectName(batch); // 'shardId-000000000000-4955…-4955…'
 * ```
 */
export const batchObjectName = (batch: BatchIdentity) =>
  `${batch.shardId}-${batch.firstSequenceNumber}-${batch.lastSequenceNumber}`;
