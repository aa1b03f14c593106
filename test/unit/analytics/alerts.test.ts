import { describe, expect, it } from 'vitest';
import {
  type AnalyticsEvent,
  alertRow,
  checkAmount,
  checkPaymentFailures,
  checkRapidFire,
  checkVelocity,
  evaluateAlerts,
  expireUserState,
  newUserAlertState,
  type RaisedAlert,
} from '../../../lambdas/consumer/analytics';
import { config, event, MINUTE, SECOND, T0 } from './fixtures';

const settings = config({
  velocity: { maxEventsPerWindow: 5, windowMs: MINUTE },
  amount: { sigmas: 3, minSamples: 5 },
  rapidFire: { events: 4, withinMs: 10 * SECOND },
  paymentFailures: { failures: 3, withinMs: 10 * MINUTE },
});
const user = () => newUserAlertState('acme', 'u-1', T0);
const run = (
  check: (u: ReturnType<typeof user>, e: AnalyticsEvent) => RaisedAlert | null,
  events: AnalyticsEvent[],
) => {
  const state = user();
  return events.map((e) => check(state, e));
};

describe('the velocity spike rule', () => {
  const velocity = (u: ReturnType<typeof user>, e: AnalyticsEvent) =>
    checkVelocity(u, e, settings, -Infinity);

  it('fires when one user has more than N events in one window, with every event id', () => {
    const events = Array.from({ length: 6 }, (_, i) => event(i * 5 * SECOND));
    const results = run(velocity, events);
    expect(results.slice(0, 5)).toEqual([null, null, null, null, null]);
    expect(results[5]).toMatchObject({ pattern: 'velocity_spike', eventIds: events.map((e) => e.eventId) });
    expect(results[5]?.evidence).toMatchObject({ events: 6, threshold: 5 });
  });

  it('fires once per window, however many more events come', () => {
    const results = run(
      velocity,
      Array.from({ length: 20 }, (_, i) => event(i * SECOND)),
    );
    expect(results.filter(Boolean)).toHaveLength(1);
  });

  it('does not fire for N events spread over two windows', () => {
    const results = run(
      velocity,
      Array.from({ length: 8 }, (_, i) => event(30 * SECOND + i * 10 * SECOND)),
    );
    expect(results.filter(Boolean)).toEqual([]);
  });

  it('does not count an event whose window the watermark has closed', () => {
    const state = user();
    expect(checkVelocity(state, event(0), settings, T0 + 5 * MINUTE)).toBeNull();
    expect(state.velocity).toEqual([]);
  });
});

describe('the amount anomaly rule', () => {
  const amount = (u: ReturnType<typeof user>, e: AnalyticsEvent) => checkAmount(u, e, settings);
  const paid = (amountUsd: number, offset = 0) =>
    event(offset, { eventType: 'payment_processed', amountUsd });

  it('fires for an amount more than 3 standard deviations from the user mean (Welford)', () => {
    const results = run(amount, [...[100, 102, 98, 101, 99].map((a) => paid(a)), paid(500)]);
    expect(results.slice(0, 5)).toEqual([null, null, null, null, null]);
    expect(results[5]).toMatchObject({ pattern: 'amount_anomaly', severity: 'critical' });
    expect(results[5]?.evidence).toMatchObject({ amount_usd: 500, mean_usd: 100, samples: 5 });
  });

  it('does not fire within 3 standard deviations', () => {
    const results = run(amount, [...[100, 110, 90, 105, 95].map((a) => paid(a)), paid(120)]);
    expect(results.filter(Boolean)).toEqual([]);
  });

  it('does not fire before the user has the minimum number of amounts', () => {
    const results = run(amount, [paid(100), paid(101), paid(99), paid(10_000)]);
    expect(results.filter(Boolean)).toEqual([]);
  });

  it('grades severity by how far the amount is: medium, high, critical', () => {
    const severityFor = (amountUsd: number) => {
      const state = user();
      state.amounts = { n: 10, mean: 100, m2: 9 * 100 };
      return checkAmount(state, paid(amountUsd), settings)?.severity;
    };
    expect([severityFor(135), severityFor(165), severityFor(205)]).toEqual(['medium', 'high', 'critical']);
  });

  it('ignores events without an amount', () => {
    const state = user();
    expect(checkAmount(state, event(0), settings)).toBeNull();
    expect(state.amounts.n).toBe(0);
  });
});

describe('the rapid-fire rule', () => {
  const rapid = (u: ReturnType<typeof user>, e: AnalyticsEvent) => checkRapidFire(u, e, settings);

  it('fires when N events of one user fall within 10 seconds', () => {
    const events = [0, 2, 4, 6].map((s) => event(s * SECOND));
    const results = run(rapid, events);
    expect(results[3]).toMatchObject({ pattern: 'rapid_fire', eventIds: events.map((e) => e.eventId) });
    expect(results[3]?.evidence).toMatchObject({ events: 4, span_ms: 6 * SECOND });
  });

  it('does not fire when the N events span 10 seconds or more', () => {
    const results = run(
      rapid,
      [0, 4, 8, 10].map((s) => event(s * SECOND)),
    );
    expect(results.filter(Boolean)).toEqual([]);
  });

  it('fires at most once per 10 seconds during a long burst', () => {
    const results = run(
      rapid,
      Array.from({ length: 40 }, (_, i) => event(i * 500)),
    );
    expect(results.filter(Boolean)).toHaveLength(2);
  });
});

describe('the payment failures rule', () => {
  const failures = (u: ReturnType<typeof user>, e: AnalyticsEvent) => checkPaymentFailures(u, e, settings);
  const payment = (minutes: number, paymentStatus: string) =>
    event(minutes * MINUTE, { eventType: 'payment_processed', paymentStatus, amountUsd: 10 });

  it('fires when one user has N failed payments within 10 minutes', () => {
    const results = run(failures, [payment(0, 'failed'), payment(3, 'failed'), payment(6, 'failed')]);
    expect(results[2]).toMatchObject({ pattern: 'payment_failures', severity: 'high' });
    expect(results[2]?.eventIds).toHaveLength(3);
  });

  it('ignores successful payments and other events', () => {
    const results = run(failures, [
      payment(0, 'failed'),
      payment(1, 'succeeded'),
      event(2 * MINUTE, { paymentStatus: 'failed' }),
      payment(3, 'failed'),
    ]);
    expect(results.filter(Boolean)).toEqual([]);
  });

  it('does not fire for N failures spread over more than 10 minutes', () => {
    const results = run(failures, [payment(0, 'failed'), payment(6, 'failed'), payment(12, 'failed')]);
    expect(results.filter(Boolean)).toEqual([]);
  });
});

describe('user alert state', () => {
  it('runs every rule on one event and gives each alert a stable id', () => {
    const state = user();
    const events = [0, 1, 2, 3].map((s) => event(s * SECOND));
    const raised = events.flatMap((e) =>
      evaluateAlerts(state, e, settings, -Infinity).map((a) => alertRow(a, e)),
    );
    expect(raised.map((r) => r.alert_id)).toEqual([
      `rapid_fire:shardId-000000000000:${events[3]?.sequenceNumber}`,
    ]);
  });

  it('is forgotten after the idle period without events', () => {
    const state = user();
    state.lastSeen = T0;
    expect(expireUserState(state, T0 + settings.userIdleMs - 1, settings).evict).toBe(false);
    expect(expireUserState(state, T0 + settings.userIdleMs, settings).evict).toBe(true);
  });
});
