import type { AnalyticsEvent } from '../../../lambdas/consumer/analytics';
import { type AnalyticsConfigInput, analyticsConfig } from '../../../lambdas/shared/analyticsConfig';

/** Test builders for the analytics engine: events at readable times, configs with small thresholds. */

export const T0 = Date.parse('2026-11-01T00:00:00.000Z');
export const SECOND = 1_000;
export const MINUTE = 60_000;

let sequence = 0;

/** An event `offsetMs` after T0; every field can be overridden. Sequence numbers count up. */
export function event(offsetMs: number, overrides: Partial<AnalyticsEvent> = {}): AnalyticsEvent {
  sequence++;
  return {
    eventId: `e-${sequence}`,
    tenantId: 'acme',
    eventType: 'page_view',
    occurredAt: T0 + offsetMs,
    userId: 'u-1',
    sessionId: null,
    amountUsd: null,
    paymentStatus: null,
    merchantId: null,
    location: null,
    watch: null,
    shardId: 'shardId-000000000000',
    sequenceNumber: String(1000 + sequence),
    ...overrides,
  };
}

/** Defaults, with a zero watermark delay and lateness unless a test sets them. */
export function config(overrides: AnalyticsConfigInput = {}) {
  return analyticsConfig({ watermarkDelayMs: 0, allowedLatenessMs: 0, ...overrides });
}
