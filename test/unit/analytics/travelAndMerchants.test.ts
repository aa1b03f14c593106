import { describe, expect, it } from 'vitest';
import {
  type AnalyticsEvent,
  checkImpossibleTravel,
  checkMerchantDiversity,
  distanceKm,
  newUserAlertState,
  type RaisedAlert,
  toAnalyticsEvent,
} from '../../../lambdas/consumer/analytics';
import type { EventRow } from '../../../lambdas/shared/rows';
import { config, event, MINUTE, SECOND } from './fixtures';

const settings = config({
  impossibleTravel: { maxSpeedKmh: 900, minDistanceKm: 100 },
  merchantDiversity: { merchants: 4, withinMs: 10 * MINUTE },
});
const run = (
  check: (u: ReturnType<typeof newUserAlertState>, e: AnalyticsEvent) => RaisedAlert | null,
  events: AnalyticsEvent[],
) => {
  const state = newUserAlertState('acme', 'u-1', 0);
  return events.map((e) => check(state, e));
};

const BERLIN = { latitude: 52.52, longitude: 13.405 };
const PARIS = { latitude: 48.8566, longitude: 2.3522 };
const NEW_YORK = { latitude: 40.7128, longitude: -74.006 };
const POTSDAM = { latitude: 52.3906, longitude: 13.0645 };

describe('the impossible travel rule', () => {
  const travel = (u: ReturnType<typeof newUserAlertState>, e: AnalyticsEvent) =>
    checkImpossibleTravel(u, e, settings);

  it('measures great-circle distances', () => {
    expect(Math.round(distanceKm(BERLIN, NEW_YORK))).toBe(6385);
    expect(Math.round(distanceKm(BERLIN, PARIS))).toBe(877);
  });

  it('fires when consecutive located events imply more than 900 km/h, naming both events', () => {
    const events = [event(0, { location: BERLIN }), event(30 * MINUTE, { location: NEW_YORK })];
    const [first, second] = run(travel, events);
    expect(first).toBeNull();
    expect(second).toMatchObject({
      pattern: 'impossible_travel',
      severity: 'high',
      eventIds: [events[0]?.eventId, events[1]?.eventId],
      evidence: { distance_km: 6385, elapsed_s: 1800, speed_kmh: 12770, max_speed_kmh: 900 },
    });
  });

  it('stays quiet for a flight at airliner speed, and for short hops however fast', () => {
    const flight = [event(0, { location: BERLIN }), event(2 * 60 * MINUTE, { location: PARIS })];
    expect(run(travel, flight)).toEqual([null, null]);
    const hop = [event(0, { location: BERLIN }), event(SECOND, { location: POTSDAM })];
    expect(run(travel, hop)).toEqual([null, null]);
  });

  it('ignores events without a location, comparing across them', () => {
    const events = [event(0, { location: BERLIN }), event(MINUTE), event(2 * MINUTE, { location: NEW_YORK })];
    expect(run(travel, events).map((a) => a?.pattern ?? null)).toEqual([null, null, 'impossible_travel']);
  });

  it('treats two distant places at the same instant as infinitely fast', () => {
    const events = [event(0, { location: BERLIN }), event(0, { location: PARIS })];
    const alert = run(travel, events)[1];
    expect(alert?.pattern).toBe('impossible_travel');
    expect(alert?.evidence).not.toHaveProperty('speed_kmh');
  });
});

describe('the merchant diversity rule', () => {
  const diversity = (u: ReturnType<typeof newUserAlertState>, e: AnalyticsEvent) =>
    checkMerchantDiversity(u, e, settings);
  const at = (minute: number, merchantId: string | null) =>
    event(minute * MINUTE, { eventType: 'payment_processed', merchantId });

  it('fires on the Nth distinct merchant within the span, once per span', () => {
    const events = [at(0, 'm-1'), at(1, 'm-2'), at(2, 'm-2'), at(3, 'm-3'), at(4, 'm-4'), at(5, 'm-5')];
    const results = run(diversity, events);
    expect(results.map((a) => a?.pattern ?? null)).toEqual([
      null,
      null,
      null,
      null,
      'merchant_diversity',
      null,
    ]);
    expect(results[4]?.evidence).toMatchObject({
      merchants: 4,
      threshold: 4,
      merchant_ids: 'm-1,m-2,m-3,m-4',
    });
    expect(results[4]?.eventIds).toEqual([events[0], events[2], events[3], events[4]].map((e) => e?.eventId));
  });

  it('stays quiet for many payments at few merchants, and for merchants spread beyond the span', () => {
    const loyal = Array.from({ length: 30 }, (_, i) => at(i, i % 2 === 0 ? 'm-1' : 'm-2'));
    expect(run(diversity, loyal).every((a) => a === null)).toBe(true);
    const spread = Array.from({ length: 8 }, (_, i) => at(i * 4, `m-${i}`));
    expect(run(diversity, spread).every((a) => a === null)).toBe(true);
  });

  it('keeps only the latest visit of the last N merchants', () => {
    const state = newUserAlertState('acme', 'u-1', 0);
    for (let i = 0; i < 50; i++) checkMerchantDiversity(state, at(i * 4, `m-${i}`), settings);
    expect(state.merchants.length).toBeLessThanOrEqual(4);
  });
});

describe('the analytics input', () => {
  const row = (eventType: string, payload: Record<string, unknown>) =>
    ({
      event_id: 'e-1',
      tenant_id: 'acme',
      event_type: eventType,
      occurred_at: 0,
      user_id: 'u-1',
      session_id: null,
      amount_usd: null,
      payload: JSON.stringify(payload),
      shard_id: 'shardId-000000000000',
      sequence_number: '1',
    }) as unknown as EventRow;

  it('reads the location of any event type, and the merchant of orders and payments', () => {
    const located = toAnalyticsEvent(
      row('page_view', { url: '/', location: { ...BERLIN, precision: 'point' } }),
    );
    expect(located.location).toEqual(BERLIN);
    expect(toAnalyticsEvent(row('page_view', { url: '/' })).location).toBeNull();
    expect(toAnalyticsEvent(row('order_created', { merchant_id: 'm-9' })).merchantId).toBe('m-9');
    expect(
      toAnalyticsEvent(row('content_watched', { watch_duration_ms: 5, content_length_ms: 9 })).watch,
    ).toEqual({
      durationMs: 5,
      lengthMs: 9,
    });
  });
});
