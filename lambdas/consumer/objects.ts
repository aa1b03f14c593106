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
  /** The fencing token of the invocation that writes the object: two attempts never share a key. */
  token: number;
}

/**
 * The S3 key of one output object. Deterministic from the shard, the batch's sequence range and the
 * writer's fencing token, so a rollback knows exactly what to delete.
 *
 * @example
 * ```ts
 * objectKey('parquet', { date: '2026-11-01', hour: 3 }, batch);
 * // 'events/parquet/dt=2026-11-01/hour=03/shardId-000000000000-4955…-4955…-v7.parquet'
 * ```
 */
export function objectKey(
  format: OutputFormat,
  partition: { date: string; hour: number },
  batch: BatchIdentity,
) {
  const hour = partition.hour < 10 ? `0${partition.hour}` : `${partition.hour}`;
  const name = `${batch.shardId}-${batch.firstSequenceNumber}-${batch.lastSequenceNumber}-v${batch.token}`;
  return `${EVENTS_PREFIX}/${format}/dt=${partition.date}/hour=${hour}/${name}.${format}`;
}
