import { describe, expect, it } from 'vitest';
import {
  type AnalyticsEvent,
  type AnalyticsOutputs,
  applyEvents,
  canonicalState,
  emptyAnalyticsState,
  emptyOutputs,
  step,
} from '../../../lambdas/consumer/analytics';
import { config, event, MINUTE, SECOND, T0 } from './fixtures';

const settings = config({ watermarkDelayMs: 5 * SECOND, allowedLatenessMs: 30 * SECOND });

describe('the analytics engine', () => {
  it('emits nothing for a window until the watermark passes its end plus the lateness', () => {
    const first = applyEvents(emptyAnalyticsState(), [event(10 * SECOND)], settings);
    expect(first.outputs.windows).toEqual([]);
    // max event time 1:34 → watermark 1:29, still before 1:00 + 0:30 lateness.
    const early = applyEvents(first.state, [event(94 * SECOND, { userId: 'u-2' })], settings);
    expect(early.outputs.windows).toEqual([]);
    const closing = applyEvents(early.state, [event(95 * SECOND, { userId: 'u-3' })], settings);
    // The tumbling window [0:00, 1:00) and the hopping window [-9:00, 1:00) close together.
    expect(closing.outputs.windows.map((w) => [w.window_kind, w.window_start, w.event_count])).toEqual([
      ['hopping', T0 - 9 * MINUTE, 1],
      ['tumbling', T0, 1],
    ]);
  });

  it('sends an event for a closed window to the late events, counted and never dropped', () => {
    const { outputs, state } = applyEvents(
      emptyAnalyticsState(),
      [event(0), event(5 * MINUTE), event(30 * SECOND, { eventId: 'late-one' })],
      settings,
    );
    expect(outputs.lateEvents).toHaveLength(1);
    expect(outputs.lateEvents[0]).toMatchObject({
      event_id: 'late-one',
      watermark: T0 + 5 * MINUTE - 5 * SECOND,
      behind_watermark_ms: 5 * MINUTE - 35 * SECOND,
      missed_tumbling_windows: 1,
    });
    expect(state.counters.lateEvents).toBe(1);
    expect(state.tenants.get('acme')?.lateEvents).toBe(1);
    // The late event still counts in the hopping windows that are open.
    expect(outputs.lateEvents[0]?.missed_hopping_windows).toBeLessThan(10);
  });

  it('counts an event in ten hopping windows with the default 10-minute length and 1-minute step', () => {
    const { state } = applyEvents(emptyAnalyticsState(), [event(90 * SECOND)], config());
    const hopping = [...state.windows.values()].filter((w) => w.kind === 'hopping');
    expect(hopping).toHaveLength(10);
  });

  it('keeps windows per tenant and event type', () => {
    const events = [
      event(1, { tenantId: 'acme', eventType: 'page_view' }),
      event(2, { tenantId: 'acme', eventType: 'add_to_cart' }),
      event(3, { tenantId: 'globex', eventType: 'page_view' }),
      event(10 * MINUTE + 2 * MINUTE),
    ];
    const { outputs } = applyEvents(emptyAnalyticsState(), events, settings);
    const tumbling = outputs.windows.filter((w) => w.window_kind === 'tumbling' && w.window_start === T0);
    expect(tumbling.map((w) => `${w.tenant_id}/${w.event_type}`).sort()).toEqual([
      'acme/add_to_cart',
      'acme/page_view',
      'globex/page_view',
    ]);
  });

  it('closes a session that never ends once the watermark passes its last event plus the gap', () => {
    const events = [
      event(0, { sessionId: 's-1', eventType: 'session_start' }),
      event(MINUTE, { sessionId: 's-1' }),
      event(40 * MINUTE, { userId: 'u-2' }),
    ];
    const { outputs, state } = applyEvents(emptyAnalyticsState(), events, config());
    expect(outputs.sessions).toEqual([
      expect.objectContaining({
        session_id: 's-1',
        closed_by: 'inactivity',
        duration_ms: MINUTE,
        event_count: 2,
      }),
    ]);
    expect(state.tenants.get('acme')).toMatchObject({ sessions: 1, lastDurationMs: MINUTE });
  });

  it('raises alerts with the record that triggered them', () => {
    const burst = Array.from({ length: 8 }, (_, i) => event(i * SECOND));
    const { outputs } = applyEvents(emptyAnalyticsState(), burst, config());
    expect(outputs.alerts.map((a) => [a.pattern, a.sequence_number])).toEqual([
      ['rapid_fire', burst[7]?.sequenceNumber],
    ]);
  });

  it('forgets a user after a day of event time without events', () => {
    const { state } = applyEvents(
      emptyAnalyticsState(),
      [event(0), event(25 * 60 * MINUTE, { userId: 'u-2' })],
      config(),
    );
    expect([...state.users.keys()]).toEqual(['acme#u-2']);
    expect(state.counters.usersEvicted).toBe(1);
  });

  it('is pure: the input state is left as it was', () => {
    const start = applyEvents(emptyAnalyticsState(), [event(0)], settings).state;
    const before = canonicalState(start);
    step(start, event(5 * MINUTE), settings);
    expect(canonicalState(start)).toBe(before);
  });

  it('gives the same state and outputs however the events are split into batches', () => {
    const events: AnalyticsEvent[] = Array.from({ length: 60 }, (_, i) =>
      event(i * 20 * SECOND - (i % 7) * 9 * SECOND, {
        userId: `u-${i % 4}`,
        sessionId: `s-${i % 3}`,
        eventType: i % 5 === 0 ? 'payment_processed' : 'page_view',
        amountUsd: i % 5 === 0 ? 10 + i : null,
        paymentStatus: i % 5 === 0 ? 'failed' : null,
      }),
    );
    const whole = applyEvents(emptyAnalyticsState(), events, settings);
    let state = emptyAnalyticsState();
    const outputs = emptyOutputs();
    for (let i = 0; i < events.length; i += 7) {
      const part = applyEvents(state, events.slice(i, i + 7), settings);
      state = part.state;
      for (const name of Object.keys(outputs) as (keyof AnalyticsOutputs)[])
        (outputs[name] as unknown[]).push(...part.outputs[name]);
    }
    expect(canonicalState(state)).toBe(canonicalState(whole.state));
    expect(outputs).toEqual(whole.outputs);
    expect(whole.outputs.windows.length).toBeGreaterThan(0);
  });
});
