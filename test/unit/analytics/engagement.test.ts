import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type AnalyticsEvent,
  type AnalyticsOutputs,
  applyEvents,
  canonicalState,
  DEFAULT_LAYOUT,
  decodeState,
  emptyAnalyticsState,
  emptyOutputs,
  encodeState,
  engagementScore,
  toAnalyticsEvent,
} from '../../../lambdas/consumer/analytics';
import { decodeRecord } from '../../../lambdas/consumer/decode';
import { encodeParquet } from '../../../lambdas/consumer/sinks/parquet';
import { encodeParquetRows } from '../../../lambdas/consumer/sinks/parquetRows';
import { toRow } from '../../../lambdas/consumer/transform';
import { generateRecords } from '../../../lambdas/producer/generate';
import { DEFAULT_ANALYTICS_CONFIG } from '../../../lambdas/shared/analyticsConfig';
import { ENGAGEMENT_COLUMNS, type EngagementRow } from '../../../lambdas/shared/analyticsRows';
import type { EventRow } from '../../../lambdas/shared/rows';
import { type DuckDbScratch, openDuckDb } from '../../helpers/duckdb';
import { kinesisRecord } from '../../helpers/kinesisEvents';
import { config, event, MINUTE, T0 } from './fixtures';

const HOUR = 60 * MINUTE;
const settings = config({
  engagement: { windowMs: HOUR, completionRatio: 0.9, bingeWatches: 3 },
  merchantDiversity: { merchants: 3, withinMs: HOUR },
});
const watch = (
  offsetMs: number,
  durationMs: number,
  lengthMs: number,
  overrides: Partial<AnalyticsEvent> = {},
) => event(offsetMs, { eventType: 'content_watched', watch: { durationMs, lengthMs }, ...overrides });
/** An event far enough ahead to close every window before it. */
const flush = (offsetMs: number) => event(offsetMs, { userId: 'u-clock' });

describe('engagement windows', () => {
  it('emit one row per user and window once the watermark closes it, with completion and binge sessions', () => {
    const events = [
      watch(1 * MINUTE, 40 * MINUTE, 42 * MINUTE, { sessionId: 's-1' }),
      watch(5 * MINUTE, 10 * MINUTE, 42 * MINUTE, { sessionId: 's-1' }),
      watch(9 * MINUTE, 45 * MINUTE, 45 * MINUTE, { sessionId: 's-1' }),
      watch(20 * MINUTE, 1 * MINUTE, 20 * MINUTE, { sessionId: 's-2' }),
      watch(30 * MINUTE, 20 * MINUTE, 20 * MINUTE),
    ];
    const before = applyEvents(emptyAnalyticsState(), events, settings);
    expect(before.outputs.engagement).toEqual([]);
    const { outputs } = applyEvents(before.state, [flush(HOUR + 2 * MINUTE)], settings);
    expect(outputs.engagement).toHaveLength(1);
    const row = outputs.engagement[0] as EngagementRow;
    expect(row).toMatchObject({
      tenant_id: 'acme',
      user_id: 'u-1',
      window_start: T0,
      window_end: T0 + HOUR,
      watches: 5,
      completed_watches: 3,
      completion_rate: 0.6,
      watch_ms: 116 * MINUTE,
      sessions: 2,
      binge_sessions: 1,
      first_watch_at: T0 + MINUTE,
      last_watch_at: T0 + 30 * MINUTE,
    });
    expect(row.engagement_score).toBe(
      engagementScore({ completionRate: 0.6, watchMs: 116 * MINUTE, bingeSessions: 1 }),
    );
    expect(row.engagement_score).toBe(80);
  });

  it('ignore events other than content_watched', () => {
    const { state } = applyEvents(
      emptyAnalyticsState(),
      [event(0), event(MINUTE, { sessionId: 's-1' })],
      settings,
    );
    expect([...state.users.values()].every((u) => u.engagement.length === 0)).toBe(true);
  });

  it('score from 0 to 100 as documented', () => {
    expect(engagementScore({ completionRate: 0, watchMs: 0, bingeSessions: 0 })).toBe(0);
    expect(engagementScore({ completionRate: 1, watchMs: 2 * HOUR, bingeSessions: 3 })).toBe(100);
    expect(engagementScore({ completionRate: 0.5, watchMs: 30 * MINUTE, bingeSessions: 0 })).toBe(40);
  });

  it('give the same rows and state whatever the batch boundaries, through the state codec', () => {
    const events: AnalyticsEvent[] = Array.from({ length: 90 }, (_, i) =>
      i % 3 === 0
        ? event(i * 2 * MINUTE, {
            userId: `u-${i % 4}`,
            eventType: 'payment_processed',
            merchantId: `m-${i}`,
            location:
              Math.floor(i / 12) % 2 === 0
                ? { latitude: 52.5, longitude: 13.4 }
                : { latitude: 40.7, longitude: -74 },
          })
        : watch(i * 2 * MINUTE, (i % 5) * 10 * MINUTE, 40 * MINUTE, {
            userId: `u-${i % 4}`,
            sessionId: `s-${i % 7}`,
          }),
    );
    events.push(flush(events.length * 2 * MINUTE + 2 * HOUR));
    const whole = applyEvents(emptyAnalyticsState(), events, settings);
    let state = emptyAnalyticsState();
    const outputs = emptyOutputs();
    for (let i = 0; i < events.length; i += 11) {
      const part = applyEvents(state, events.slice(i, i + 11), settings);
      state = decodeState(encodeState(part.state, DEFAULT_LAYOUT).items);
      for (const name of Object.keys(outputs) as (keyof AnalyticsOutputs)[])
        (outputs[name] as unknown[]).push(...part.outputs[name]);
    }
    expect(canonicalState(state)).toBe(canonicalState(whole.state));
    expect(outputs).toEqual(whole.outputs);
    expect(whole.outputs.engagement.length).toBeGreaterThan(4);
    expect(new Set(whole.outputs.alerts.map((a) => a.pattern))).toEqual(
      new Set(['impossible_travel', 'merchant_diversity']),
    );
  });
});

describe('the engagement dataset against a recount from the events in SQL', () => {
  let duckdb: DuckDbScratch;
  let rows: EventRow[];
  let engagement: EngagementRow[];

  beforeAll(async () => {
    duckdb = await openDuckDb();
    const records = generateRecords({
      count: 6_000,
      seed: 11,
      invalidRatio: 0.01,
      tenants: ['acme', 'globex'],
      startTime: T0,
      spanMinutes: 240,
      usersPerTenant: 15,
    });
    rows = records.flatMap((record, i) => {
      const decoded = decodeRecord(
        kinesisRecord('shardId-000000000000', String(i + 1), record.data, record.partitionKey),
      );
      if (!decoded.ok) return [];
      const origin = {
        shardId: 'shardId-000000000000',
        sequenceNumber: String(i + 1),
        partitionKey: record.partitionKey,
        arrivalTime: 0,
      };
      return [toRow(decoded.event, origin, 0)];
    });
    const events = rows.map(toAnalyticsEvent);
    events.push({
      ...(events[events.length - 1] as AnalyticsEvent),
      eventId: 'flush',
      userId: 'u-clock',
      eventType: 'page_view',
      watch: null,
      occurredAt: T0 + 3 * 24 * HOUR,
      sequenceNumber: String(rows.length + 1),
    });
    engagement = applyEvents(emptyAnalyticsState(), events, DEFAULT_ANALYTICS_CONFIG).outputs.engagement;
  });
  afterAll(() => duckdb.close());

  it('has one row per user and hour with viewings, each matching the recount', async () => {
    const eventsFile = duckdb.writeFile('events.parquet', encodeParquet(rows));
    const engagementFile = duckdb.writeFile(
      'engagement.parquet',
      encodeParquetRows(ENGAGEMENT_COLUMNS, engagement),
    );
    const recount = `
      WITH watches AS (
        SELECT tenant_id, user_id, session_id,
          (epoch_ms(occurred_at) // 3600000) * 3600000 AS window_ms,
          (payload->>'watch_duration_ms')::BIGINT AS watch_ms,
          (payload->>'content_length_ms')::BIGINT AS length_ms
        FROM read_parquet(${eventsFile}) WHERE event_type = 'content_watched'),
      per_session AS (
        SELECT tenant_id, user_id, window_ms, session_id, count(*) AS n FROM watches
        WHERE session_id IS NOT NULL GROUP BY ALL),
      sessions AS (
        SELECT tenant_id, user_id, window_ms, count(*) AS sessions, count(*) FILTER (WHERE n >= 3) AS binge_sessions
        FROM per_session GROUP BY ALL),
      totals AS (
        SELECT tenant_id, user_id, window_ms, count(*) AS watches,
          count(*) FILTER (WHERE watch_ms >= 0.9 * length_ms) AS completed_watches, sum(watch_ms) AS watch_ms
        FROM watches GROUP BY ALL)
      SELECT t.tenant_id, t.user_id, t.window_ms, t.watches, t.completed_watches, t.watch_ms,
        coalesce(s.sessions, 0) AS sessions, coalesce(s.binge_sessions, 0) AS binge_sessions,
        round(100 * (0.5 * t.completed_watches / t.watches + 0.3 * least(1, t.watch_ms / 3600000)
          + 0.2 * least(1, coalesce(s.binge_sessions, 0))), 1) AS engagement_score
      FROM totals t LEFT JOIN sessions s USING (tenant_id, user_id, window_ms)`;
    const dataset = `
      SELECT tenant_id, user_id, epoch_ms(window_start) AS window_ms, watches, completed_watches, watch_ms,
        sessions, binge_sessions, engagement_score
      FROM read_parquet(${engagementFile})`;
    const [diff] = await duckdb.query(`
      SELECT (SELECT count(*) FROM (${recount})) AS recounted,
        (SELECT count(*) FROM (${dataset})) AS written,
        (SELECT count(*) FROM ((${recount}) EXCEPT (${dataset}))) AS missing,
        (SELECT count(*) FROM ((${dataset}) EXCEPT (${recount}))) AS extra,
        (SELECT count(*) FROM (${dataset}) WHERE binge_sessions > 0) AS with_binge`);
    expect(diff).toMatchObject({ missing: 0n, extra: 0n });
    expect(Number(diff?.written)).toBeGreaterThan(50);
    expect(diff?.written).toBe(diff?.recounted);
    expect(Number(diff?.with_binge)).toBeGreaterThan(0);
  });
});
