import { describe, expect, it } from 'vitest';
import {
  analyticsConfig,
  analyticsConfigFromEnv,
  DEFAULT_ANALYTICS_CONFIG,
  InvalidAnalyticsConfigError,
} from '../../../lambdas/shared/analyticsConfig';

describe('analytics settings', () => {
  it('default to 1-minute tumbling and 10-minute hopping windows, a 30-minute session gap and the four rules', () => {
    expect(DEFAULT_ANALYTICS_CONFIG).toMatchObject({
      tumblingWindowMs: 60_000,
      hoppingWindowMs: 600_000,
      hoppingStepMs: 60_000,
      sessionGapMs: 1_800_000,
      velocity: { maxEventsPerWindow: 20 },
      amount: { sigmas: 3, minSamples: 20 },
      rapidFire: { events: 8, withinMs: 10_000 },
      paymentFailures: { failures: 3, withinMs: 600_000 },
    });
  });

  it('read overrides from the environment, in seconds and minutes', () => {
    const config = analyticsConfigFromEnv({
      SHARDLINE_TUMBLING_WINDOW_SECONDS: '30',
      SHARDLINE_SESSION_GAP_MINUTES: '15',
      SHARDLINE_ALERT_VELOCITY_MAX_EVENTS: '50',
      SHARDLINE_ALERT_AMOUNT_SIGMAS: '4.5',
    });
    expect(config).toMatchObject({
      tumblingWindowMs: 30_000,
      sessionGapMs: 900_000,
      velocity: { maxEventsPerWindow: 50, windowMs: 60_000 },
      amount: { sigmas: 4.5, minSamples: 20 },
    });
  });

  it('are off when SHARDLINE_ANALYTICS=off', () => {
    expect(analyticsConfigFromEnv({ SHARDLINE_ANALYTICS: 'off' })).toBeNull();
  });

  it('reject a value that is not a number, naming the variable', () => {
    expect(() => analyticsConfigFromEnv({ SHARDLINE_ALERT_RAPID_FIRE_EVENTS: 'many' })).toThrowError(
      /SHARDLINE_ALERT_RAPID_FIRE_EVENTS/,
    );
  });

  it('reject a hopping step longer than the hopping window', () => {
    expect(() => analyticsConfig({ hoppingWindowMs: 60_000, hoppingStepMs: 120_000 })).toThrowError(
      InvalidAnalyticsConfigError,
    );
  });
});
