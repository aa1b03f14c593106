import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  analyticsObjectKey,
  applyEvents,
  emptyAnalyticsState,
  planAnalyticsObjects,
} from '../../../lambdas/consumer/analytics';
import type { BatchIdentity } from '../../../lambdas/consumer/objects';
import { encodeParquetRows, InvalidColumnValueError } from '../../../lambdas/consumer/sinks/parquetRows';
import { ALERT_COLUMNS, type AlertRow, WINDOW_COLUMNS } from '../../../lambdas/shared/analyticsRows';
import { type DuckDbScratch, openDuckDb } from '../../helpers/duckdb';
import { config, event, MINUTE, SECOND, T0 } from './fixtures';

const batch: BatchIdentity = {
  shardId: 'shardId-000000000001',
  firstSequenceNumber: '10',
  lastSequenceNumber: '20',
};
let duckdb: DuckDbScratch;
beforeAll(async () => {
  duckdb = await openDuckDb();
  await duckdb.query("SET TimeZone = 'UTC'");
});
afterAll(() => duckdb.close());

const alert: AlertRow = {
  alert_id: 'rapid_fire:shardId-000000000001:15',
  pattern: 'rapid_fire',
  severity: 'high',
  tenant_id: 'acme',
  user_id: 'u-1',
  alert_time: T0 + 90 * SECOND,
  event_ids: ['e-1', 'e-2', 'e-3'],
  evidence: '{"events":3}',
  shard_id: 'shardId-000000000001',
  sequence_number: '15',
};

describe('analytics outputs', () => {
  it('keys an object by dataset, dt/hour partition, shard, and committed sequence range', () => {
    expect(analyticsObjectKey('late_events', { date: '2026-11-01', hour: 3 }, batch)).toBe(
      'late_events/dt=2026-11-01/hour=03/shardId-000000000001-10-20.parquet',
    );
  });

  it('writes one Parquet object per dataset and partition of the row time, none for an empty dataset', () => {
    const events = [
      event(0),
      ...Array.from({ length: 8 }, (_, i) => event(59 * MINUTE + i * SECOND)),
      event(2 * 60 * MINUTE, { userId: 'u-2' }),
    ];
    const { outputs } = applyEvents(emptyAnalyticsState(), events, config());
    const objects = planAnalyticsObjects(outputs, batch);
    const keys = objects.map((o) => o.key);
    expect(keys).toContain('alerts/dt=2026-11-01/hour=00/shardId-000000000001-10-20.parquet');
    expect(keys.filter((k) => k.startsWith('windows/')).length).toBeGreaterThanOrEqual(2);
    expect(keys.some((k) => k.startsWith('sessions/') || k.startsWith('late_events/'))).toBe(false);
    expect(objects.reduce((sum, o) => sum + (o.dataset === 'windows' ? o.rows : 0), 0)).toBe(
      outputs.windows.length,
    );
  });

  it('round-trips through DuckDB with TIMESTAMPTZ, BIGINT, BOOLEAN and VARCHAR[] columns', async () => {
    const file = duckdb.writeFile('alerts.parquet', encodeParquetRows(ALERT_COLUMNS, [alert]));
    const [row] = await duckdb.query(
      `SELECT alert_id, epoch_ms(alert_time) AS t, event_ids, len(event_ids) AS n, typeof(alert_time) AS tt FROM read_parquet(${file})`,
    );
    expect(row).toEqual({
      alert_id: alert.alert_id,
      t: BigInt(alert.alert_time),
      event_ids: expect.anything(),
      n: 3n,
      tt: 'TIMESTAMP WITH TIME ZONE',
    });
    const { outputs } = applyEvents(
      emptyAnalyticsState(),
      [event(0, { amountUsd: 1.5 }), event(11 * MINUTE)],
      config(),
    );
    const windows = duckdb.writeFile('windows.parquet', encodeParquetRows(WINDOW_COLUMNS, outputs.windows));
    const types = await duckdb.query(
      `SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet(${windows}))`,
    );
    expect(Object.fromEntries(types.map((t) => [t.column_name, t.column_type]))).toMatchObject({
      window_start: 'TIMESTAMP WITH TIME ZONE',
      event_count: 'BIGINT',
      amount_usd_sum: 'DOUBLE',
      distinct_users_exact: 'BOOLEAN',
    });
    const [tumbling] = await duckdb.query(
      `SELECT event_count, amount_usd_sum, amount_usd_min, distinct_users_exact FROM read_parquet(${windows}) WHERE window_kind = 'tumbling' AND window_start = epoch_ms(${T0})`,
    );
    expect(tumbling).toEqual({
      event_count: 1n,
      amount_usd_sum: 1.5,
      amount_usd_min: 1.5,
      distinct_users_exact: true,
    });
  });

  it('writes a valid empty file with the full schema when there are no rows', async () => {
    const file = duckdb.writeFile('empty.parquet', encodeParquetRows(ALERT_COLUMNS, []));
    const [row] = await duckdb.query(`SELECT count(*)::INTEGER AS n FROM read_parquet(${file})`);
    expect(row?.n).toBe(0);
  });

  it('refuses a null in a column that does not allow one', () => {
    expect(() => encodeParquetRows(ALERT_COLUMNS, [{ ...alert, severity: null as never }])).toThrowError(
      InvalidColumnValueError,
    );
  });
});
