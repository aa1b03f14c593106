import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type Lake, openLake } from '../../../cli/lake/views';
import {
  type AnalyticsEvent,
  applyEvents,
  emptyAnalyticsState,
  planAnalyticsObjects,
} from '../../../lambdas/consumer/analytics';
import { config, event, MINUTE, SECOND, T0 } from './fixtures';

const dirs: string[] = [];
const lakes: Lake[] = [];
afterAll(() => {
  for (const lake of lakes) lake.close();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

async function lakeWith(shards: Record<string, AnalyticsEvent[]>) {
  const dir = mkdtempSync(join(tmpdir(), 'shardline-views-'));
  dirs.push(dir);
  for (const [shardId, events] of Object.entries(shards)) {
    const { outputs } = applyEvents(emptyAnalyticsState(), events, config());
    const batch = { shardId, firstSequenceNumber: '1', lastSequenceNumber: '9', token: 1 };
    for (const object of planAnalyticsObjects(outputs, batch)) {
      mkdirSync(dirname(join(dir, object.key)), { recursive: true });
      writeFileSync(join(dir, object.key), object.body);
    }
  }
  const lake = await openLake(dir);
  lakes.push(lake);
  return lake;
}

const onShard = (shardId: string, events: AnalyticsEvent[]) => events.map((e) => ({ ...e, shardId }));

describe('the analytics query views', () => {
  it('exist with their columns and no rows before any analytics object is written', async () => {
    const lake = await lakeWith({});
    for (const view of [
      'windows',
      'sessions',
      'alerts',
      'late_events',
      'windows_merged',
      'window_totals',
      'session_stats',
      'alert_summary',
      'engagement',
      'user_engagement',
    ]) {
      expect((await lake.query(`SELECT count(*) FROM ${view}`)).rows).toEqual([[0]]);
    }
    const columns = await lake.query(
      "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'alerts'",
    );
    expect(Object.fromEntries(columns.rows)).toMatchObject({
      alert_time: 'TIMESTAMP WITH TIME ZONE',
      event_ids: 'VARCHAR[]',
    });
  });

  it('add up one window across shards in windows_merged and window_totals', async () => {
    const closeAll = (userId: string) =>
      event(20 * MINUTE, { userId, tenantId: 'acme', eventType: 'session_end' });
    const lake = await lakeWith({
      'shardId-000000000000': onShard('shardId-000000000000', [
        event(SECOND, { userId: 'u-1', amountUsd: 10, eventType: 'add_to_cart' }),
        event(2 * SECOND, { userId: 'u-2', amountUsd: 5, eventType: 'add_to_cart' }),
        closeAll('u-9'),
      ]),
      'shardId-000000000001': onShard('shardId-000000000001', [
        event(3 * SECOND, { userId: 'u-3', amountUsd: 20, eventType: 'add_to_cart' }),
        event(4 * SECOND, { userId: 'u-3', eventType: 'page_view' }),
        closeAll('u-8'),
      ]),
    });
    const merged = await lake.query(
      `SELECT shards, event_count, amount_usd_sum, amount_usd_min, amount_usd_max, distinct_users FROM windows_merged
       WHERE window_kind = 'tumbling' AND event_type = 'add_to_cart' AND window_start = epoch_ms(${T0})`,
    );
    expect(merged.rows).toEqual([[2, 3, 35, 5, 20, 3]]);
    const totals = await lake.query(
      `SELECT events, amount_usd, event_types, shards FROM window_totals WHERE window_kind = 'tumbling' AND window_start = epoch_ms(${T0})`,
    );
    expect(totals.rows).toEqual([[4, 35, 2, 2]]);
  });

  it('summarise sessions per tenant: count, average and last duration', async () => {
    const session = (id: string, start: number, end: number) => [
      event(start, { sessionId: id, eventType: 'session_start', userId: id }),
      event(end, { sessionId: id, eventType: 'session_end', userId: id }),
    ];
    const lake = await lakeWith({
      'shardId-000000000000': onShard('shardId-000000000000', [
        ...session('s-1', 0, 2 * MINUTE),
        ...session('s-2', 3 * MINUTE, 7 * MINUTE),
      ]),
    });
    const stats = await lake.query(
      'SELECT sessions, avg_duration_s, last_duration_s, ended_by_session_end FROM session_stats',
    );
    expect(stats.rows).toEqual([[2, 180, 240, 2]]);
  });

  it("sum up a user's engagement windows in user_engagement", async () => {
    const watch = (offsetMs: number, durationMs: number) =>
      event(offsetMs, {
        eventType: 'content_watched',
        sessionId: 's-1',
        watch: { durationMs, lengthMs: 40 * MINUTE },
      });
    const lake = await lakeWith({
      'shardId-000000000000': [
        watch(0, 40 * MINUTE),
        watch(MINUTE, 40 * MINUTE),
        watch(2 * MINUTE, 40 * MINUTE),
        watch(70 * MINUTE, 4 * MINUTE),
        event(200 * MINUTE, { userId: 'u-clock' }),
      ],
    });
    const rows = await lake.query(
      "SELECT windows, watches, completed_watches, completion_rate, watch_minutes, binge_sessions FROM user_engagement WHERE user_id = 'u-1'",
    );
    expect(rows.rows).toEqual([[2, 4, 3, 0.75, 124, 1]]);
  });
});
