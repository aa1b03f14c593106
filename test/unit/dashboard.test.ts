import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  notRunningState,
  type PipelineObservations,
  runningState,
  startCommand,
} from '../../cli/dashboard/dashboardState';
import {
  type CatalogColumn,
  lakeQueries,
  MAX_TABLE_COLUMNS,
  readLakeSnapshot,
  recencyColumn,
  toCounts,
} from '../../cli/dashboard/lakeSnapshot';
import { countArrivals, dropArrivalsBefore, latestRate, ratePoints } from '../../cli/dashboard/rateSeries';
import { openLake } from '../../cli/lake/views';
import { statusReport } from '../helpers/statusReport';

const T0 = 1_800_000_000; // an epoch second
const at = (second: number, ms = 0) => (T0 + second) * 1000 + ms;

describe('events per second in: arrivals counted per second', () => {
  it('counts each record in the second of its arrival timestamp', () => {
    const bins = new Map<number, number>();
    countArrivals(bins, [at(0, 1), at(0, 999), at(1, 0)]);
    countArrivals(bins, [at(1, 500)]);
    expect([...bins]).toEqual([
      [T0, 2],
      [T0 + 1, 2],
    ]);
  });

  it('forgets seconds before the one asked for', () => {
    const bins = new Map([
      [T0, 1],
      [T0 + 1, 2],
      [T0 + 2, 3],
    ]);
    dropArrivalsBefore(bins, T0 + 1);
    expect([...bins.keys()]).toEqual([T0 + 1, T0 + 2]);
  });
});

describe('rate points', () => {
  const base = {
    arrivalsBySecond: new Map<number, number>(),
    arrivalsCountedFromSecond: null,
    commitSamples: [],
  };

  it('covers the window of complete seconds, leaving out the second in progress', () => {
    const points = ratePoints({ ...base, nowMs: at(10, 400), windowSeconds: 5 });
    expect(points.map((p) => p.t - T0)).toEqual([5, 6, 7, 8, 9]);
  });

  it('reports arrivals as in, with 0 for quiet seconds and null before the stream was read', () => {
    const points = ratePoints({
      ...base,
      nowMs: at(5),
      windowSeconds: 5,
      arrivalsBySecond: new Map([[T0 + 3, 250]]),
      arrivalsCountedFromSecond: T0 + 2,
    });
    expect(points.map((p) => p.in)).toEqual([null, null, 0, 250, 0]);
  });

  it('spreads the committed records between two samples over the seconds between them', () => {
    const points = ratePoints({
      ...base,
      nowMs: at(6),
      windowSeconds: 6,
      commitSamples: [
        { atMs: at(0, 200), committedRecords: 0 },
        { atMs: at(2, 200), committedRecords: 1000 },
        { atMs: at(3, 200), committedRecords: 1000 },
      ],
    });
    // Seconds 0 and 1 lie between the first two samples (500/s), second 2 between the last two.
    expect(points.map((p) => p.out)).toEqual([500, 500, 0, null, null, null]);
  });

  it('never reports a negative rate when a counter goes back', () => {
    const points = ratePoints({
      ...base,
      nowMs: at(2),
      windowSeconds: 1,
      commitSamples: [
        { atMs: at(0), committedRecords: 10 },
        { atMs: at(2), committedRecords: 4 },
      ],
    });
    expect(points[0]?.out).toBe(0);
  });

  it('takes the latest rate from the newest point that has one', () => {
    const points = [
      { t: 1, in: 5, out: 3 },
      { t: 2, in: 7, out: null },
    ];
    expect(latestRate(points, 'in')).toBe(7);
    expect(latestRate(points, 'out')).toBe(3);
    expect(latestRate([], 'in')).toBeNull();
  });
});

describe('the empty state', () => {
  it('tells the short start command for the default data directory', () => {
    expect(startCommand('/app/.shardline', '/app/.shardline')).toBe('npx shardline up');
  });

  it('tells the --data-dir to use for any other data directory', () => {
    expect(startCommand('/tmp/run', '/app/.shardline')).toBe('npx shardline up --data-dir /tmp/run');
  });

  it('is a not-running state naming the data directory', () => {
    expect(notRunningState({ dataDir: '/tmp/run', defaultDataDir: '/app/.shardline', nowMs: at(0) })).toEqual(
      {
        status: 'not-running',
        generatedAt: new Date(at(0)).toISOString(),
        dataDir: '/tmp/run',
        startCommand: 'npx shardline up --data-dir /tmp/run',
      },
    );
  });
});

const report = statusReport();

const observations = (overrides: Partial<PipelineObservations> = {}): PipelineObservations => ({
  runtime: { pid: 42, stage: 'dev', startedAt: '2026-11-01T00:00:00.000Z' },
  report,
  reportError: null,
  arrivalsBySecond: new Map(),
  arrivalsCountedFromSecond: T0,
  commitSamples: [],
  dlqSamples: [],
  lake: null,
  lakeError: null,
  ...overrides,
});

describe('the running state', () => {
  it('shows the numbers of the status report: per-shard committed records, lag, DLQ depth', () => {
    const state = runningState({
      dataDir: '/tmp/run',
      observations: observations(),
      nowMs: at(10),
      windowSeconds: 5,
    });
    expect(state.shards.map((s) => [s.shardId, s.committedRecords, s.millisBehindLatest, s.errors])).toEqual([
      ['shardId-000000000000', 1000, 0, 0],
      ['shardId-000000000001', 1001, 100, 1],
    ]);
    expect(state.committedRecords).toBe(2001);
    expect(state.dlq.depth).toBe(17);
    expect(state.failureStore).toEqual({ batches: 2, bytes: 4096, oldestAgeMs: 5 * 3_600_000 });
    expect(state.idle).toBe(true);
    expect(state.objects).toEqual({ parquet: 4, csv: 4, bytes: 2048 });
  });

  it('shows records behind next to ms behind per shard, and whether the count stopped at its cap', () => {
    const capped = {
      ...report,
      shards: report.shards.map((s, n) =>
        n === 1 ? { ...s, recordsBehind: 100_000, recordsBehindComplete: false } : s,
      ),
    };
    const state = runningState({
      dataDir: '/tmp/run',
      observations: observations({ report: capped }),
      nowMs: at(10),
      windowSeconds: 5,
    });
    expect(
      state.shards.map((s) => [s.shardId, s.recordsBehind, s.recordsBehindComplete, s.millisBehindLatest]),
    ).toEqual([
      ['shardId-000000000000', 0, true, 0],
      ['shardId-000000000001', 100_000, false, 100],
    ]);
  });

  it('passes on a shard whose records behind could not be counted as null, not 0', () => {
    const uncounted = {
      ...report,
      shards: report.shards.map((s) => ({ ...s, recordsBehind: null, recordsBehindComplete: false })),
    };
    const state = runningState({
      dataDir: '/tmp/run',
      observations: observations({ report: uncounted }),
      nowMs: at(10),
      windowSeconds: 5,
    });
    expect(state.shards.map((s) => s.recordsBehind)).toEqual([null, null]);
  });

  it('shows the rows committed per dataset, the newest window end and the last commit', () => {
    const state = runningState({
      dataDir: '/tmp/run',
      observations: observations(),
      nowMs: at(10),
      windowSeconds: 5,
    });
    expect(state.committed).toEqual({
      rows: { events: 1990, invalid: 11, windows: 40, sessions: 6, alerts: 1, lateEvents: 0, engagement: 0 },
      latestWindowEnd: '2026-11-01T00:05:00.000Z',
      lastCommitAt: '2026-11-01T00:06:00.000Z',
    });
  });

  it('keeps only the DLQ depths of the window for the sparkline', () => {
    const state = runningState({
      dataDir: '/tmp/run',
      observations: observations({
        dlqSamples: [
          { atMs: at(1), depth: 1 },
          { atMs: at(6), depth: 2 },
          { atMs: at(9), depth: 3 },
        ],
      }),
      nowMs: at(10),
      windowSeconds: 5,
    });
    expect(state.dlq.history).toEqual([2, 3]);
  });

  it('has no numbers yet, rather than zeros, before the first status read', () => {
    const state = runningState({
      dataDir: '/tmp/run',
      observations: observations({ report: null }),
      nowMs: at(10),
      windowSeconds: 5,
    });
    expect(state.shards).toEqual([]);
    expect(state.committedRecords).toBeNull();
    expect(state.committed).toBeNull();
    expect(state.dlq.depth).toBeNull();
    expect(state.idle).toBeNull();
  });

  it('passes a failed read on as a warning', () => {
    const state = runningState({
      dataDir: '/tmp/run',
      observations: observations({ reportError: 'could not read the pipeline: ECONNREFUSED' }),
      nowMs: at(10),
      windowSeconds: 5,
    });
    expect(state.warning).toBe('could not read the pipeline: ECONNREFUSED');
  });
});

describe('lake queries', () => {
  const column = (table: string, name: string, type = 'VARCHAR'): CatalogColumn => ({
    table,
    column: name,
    type,
  });

  it('counts events per type always, and nothing else when the optional views are absent', () => {
    const queries = lakeQueries([]);
    expect(queries.eventsByType).toMatch(/FROM events GROUP BY ALL/);
    expect(queries.windowsByType).toBeNull();
    expect(queries.recentAlerts).toBeNull();
    expect(queries.recentSessions).toBeNull();
  });

  it('counts windows per event type when the windows view has an event_type column', () => {
    expect(lakeQueries([column('windows', 'event_type')]).windowsByType).toMatch(
      /SELECT event_type AS key, count\(\*\) AS count FROM "windows" GROUP BY ALL/,
    );
    expect(lakeQueries([column('windows', 'tenant_id')]).windowsByType).toBeNull();
  });

  it('orders recent rows by the timestamp that marks an end, then one named *_at or *_time', () => {
    expect(
      recencyColumn([
        column('sessions', 'session_start', 'TIMESTAMP WITH TIME ZONE'),
        column('sessions', 'session_end', 'TIMESTAMP WITH TIME ZONE'),
      ]),
    ).toBe('session_end');
    expect(
      recencyColumn([
        column('alerts', 'alert_id'),
        column('alerts', 'alert_time', 'TIMESTAMP WITH TIME ZONE'),
      ]),
    ).toBe('alert_time');
    expect(recencyColumn([column('alerts', 'alert_id')])).toBeNull();
  });

  it('shows the first columns of a wide view, newest rows first, ten at most', () => {
    const columns = Array.from({ length: 12 }, (_, i) => column('alerts', `c${i}`));
    columns.push(column('alerts', 'raised_at', 'TIMESTAMP'));
    const sql = lakeQueries(columns).recentAlerts ?? '';
    expect(sql).toContain(`"c${MAX_TABLE_COLUMNS - 1}" FROM "alerts"`);
    expect(sql).not.toContain(`"c${MAX_TABLE_COLUMNS}"`);
    expect(sql).toMatch(/ORDER BY "raised_at" DESC NULLS LAST LIMIT 10$/);
  });

  it('reads (key, count) rows as counts, with NULL as "(none)"', () => {
    expect(
      toCounts({
        columns: ['key', 'count'],
        rows: [
          ['page_view', 3],
          [null, '2'],
        ],
      }),
    ).toEqual([
      { key: 'page_view', count: 3 },
      { key: '(none)', count: 2 },
    ]);
  });
});

describe('the lake snapshot on DuckDB', () => {
  const mirrorDir = mkdtempSync(join(tmpdir(), 'shardline-dashboard-lake-'));
  afterAll(() => rmSync(mirrorDir, { recursive: true, force: true }));

  it('has empty counts and empty analytics panels on an empty lake', async () => {
    const lake = await openLake(mirrorDir);
    try {
      const snapshot = await readLakeSnapshot(lake, new Date(at(0)));
      // The lake defines the analytics views even before any object exists (typed and empty).
      expect(snapshot).toEqual({
        refreshedAt: new Date(at(0)).toISOString(),
        eventsByType: [],
        windowsByType: [],
        recentAlerts: expect.objectContaining({ rows: [] }),
        recentSessions: expect.objectContaining({ rows: [] }),
      });
    } finally {
      lake.close();
    }
  });

  it('finds the windows, alerts and sessions views when the lake defines them', async () => {
    const lake = await openLake(mirrorDir);
    try {
      await lake.query(
        "CREATE OR REPLACE VIEW windows AS SELECT * FROM (VALUES ('page_view'), ('page_view'), ('add_to_cart')) t(event_type)",
      );
      await lake.query(
        "CREATE OR REPLACE VIEW alerts AS SELECT * FROM (VALUES ('a1', TIMESTAMPTZ '2026-11-01 00:00:00+00'), ('a2', TIMESTAMPTZ '2026-11-01 00:05:00+00')) t(alert_id, alert_time)",
      );
      await lake.query("CREATE OR REPLACE VIEW sessions AS SELECT 's1' AS session_id WHERE false");
      const snapshot = await readLakeSnapshot(lake);
      expect(snapshot.windowsByType).toEqual([
        { key: 'page_view', count: 2 },
        { key: 'add_to_cart', count: 1 },
      ]);
      expect(snapshot.recentAlerts?.columns).toEqual(['alert_id', 'alert_time']);
      expect(snapshot.recentAlerts?.rows.map((row) => row[0])).toEqual(['a2', 'a1']);
      expect(snapshot.recentSessions).toEqual({ columns: ['session_id'], rows: [] });
    } finally {
      lake.close();
    }
  });
});
