import { ANALYTICS_DATASETS, type AnalyticsColumn, type AnalyticsDataset } from '../../shared/analyticsRows';
import { type BatchIdentity, batchObjectName } from '../objects';
import { encodeParquetRows } from '../sinks/parquetRows';
import { eventTimePartition } from '../transform';
import type { AnalyticsOutputs } from './engine';

/**
 * The analytics outputs of a batch as lake objects: one Parquet file per dataset and dt/hour partition
 * (of the window start, session start, alert time or late event's time), keyed like the event objects by
 * shard and committed sequence range. They are staged and published in the same bundle as the event
 * objects, so they become visible with the same commit.
 */

export interface PlannedAnalyticsObject {
  dataset: AnalyticsDataset;
  key: string;
  body: Uint8Array;
  contentType: string;
  rows: number;
}

const pad2 = (n: number) => (n < 10 ? `0${n}` : `${n}`);

/**
 * The S3 key of one analytics object.
 *
 * @example
 * ```ts
 * analyticsObjectKey('windows', { date: '2026-11-01', hour: 3 }, batch);
 * // 'windows/dt=2026-11-01/hour=03/shardId-000000000000-4955…-4955….parquet'
 * ```
 */
export function analyticsObjectKey(
  dataset: AnalyticsDataset,
  partition: { date: string; hour: number },
  batch: BatchIdentity,
): string {
  const name = batchObjectName(batch);
  return `${ANALYTICS_DATASETS[dataset].prefix}/dt=${partition.date}/hour=${pad2(partition.hour)}/${name}.parquet`;
}

const OUTPUT_OF: Record<AnalyticsDataset, keyof AnalyticsOutputs> = {
  windows: 'windows',
  sessions: 'sessions',
  alerts: 'alerts',
  late_events: 'lateEvents',
  engagement: 'engagement',
};

/**
 * Encodes a batch's outputs as Parquet objects; datasets without rows produce no object.
 *
 * @example
 * ```ts
 * const objects = planAnalyticsObjects(outputs, batch);
 * bundle.objects.push(...objects);
 * ```
 */
export function planAnalyticsObjects(
  outputs: AnalyticsOutputs,
  batch: BatchIdentity,
): PlannedAnalyticsObject[] {
  const objects: PlannedAnalyticsObject[] = [];
  for (const dataset of Object.keys(OUTPUT_OF) as AnalyticsDataset[]) {
    const { columns, partitionBy } = ANALYTICS_DATASETS[dataset];
    const rows = outputs[OUTPUT_OF[dataset]] as unknown as Record<string, unknown>[];
    const groups = new Map<string, { date: string; hour: number; rows: Record<string, unknown>[] }>();
    for (const row of rows) {
      const partition = eventTimePartition(row[partitionBy] as number);
      const id = `${partition.date}/${partition.hour}`;
      let group = groups.get(id);
      if (!group) {
        group = { ...partition, rows: [] };
        groups.set(id, group);
      }
      group.rows.push(row);
    }
    for (const group of groups.values()) {
      objects.push({
        dataset,
        key: analyticsObjectKey(dataset, group, batch),
        body: encodeParquetRows(
          columns as unknown as ReadonlyArray<AnalyticsColumn<Record<string, unknown>>>,
          group.rows,
        ),
        contentType: 'application/vnd.apache.parquet',
        rows: group.rows.length,
      });
    }
  }
  return objects;
}
