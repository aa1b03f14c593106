import { z } from 'zod';
import { ShardlineError } from './errors';

/**
 * The stream analytics settings (docs/ANALYTICS.md): window lengths, watermark, session gap and alert
 * thresholds. Defaults live here; the consumer's handler reads overrides from the environment so the
 * stack can tune them without a code change. Every duration is in event time.
 */

const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

const positiveMs = z
  .number()
  .int()
  .positive()
  .max(30 * DAY);
const count = z.number().int().min(1).max(100_000);

export const AnalyticsConfigSchema = z
  .object({
    /** Tumbling windows per tenant × event type. */
    tumblingWindowMs: positiveMs.default(MINUTE),
    /** Hopping windows per tenant × event type: length and step. */
    hoppingWindowMs: positiveMs.default(10 * MINUTE),
    hoppingStepMs: positiveMs.default(MINUTE),
    /** Bounded out-of-orderness: the watermark trails the largest event time seen by this much. */
    watermarkDelayMs: z
      .number()
      .int()
      .min(0)
      .max(DAY)
      .default(5 * SECOND),
    /** A window closes once the watermark passes its end plus this; later events are late events. */
    allowedLatenessMs: z.number().int().min(0).max(DAY).default(MINUTE),
    /** A session with no event for this long (watermark past its last event + gap) is closed. */
    sessionGapMs: positiveMs.default(30 * MINUTE),
    /** Distinct users are counted exactly up to this many per window, then with a HyperLogLog sketch. */
    distinctExactLimit: z.number().int().min(1).max(4_096).default(256),
    /** A user's alert state (running mean, recent events) is dropped after this long without events. */
    userIdleMs: positiveMs.default(DAY),
    velocity: z
      .object({
        /** Alert when one user has more than this many events in one window. */
        maxEventsPerWindow: count.default(20),
        windowMs: positiveMs.default(MINUTE),
      })
      .prefault({}),
    amount: z
      .object({
        /** Alert when an amount is more than this many standard deviations from the user's mean. */
        sigmas: z.number().positive().max(100).default(3),
        /** …once the user has at least this many amounts (a mean of two is no norm). */
        minSamples: z.number().int().min(2).max(100_000).default(20),
      })
      .prefault({}),
    rapidFire: z
      .object({
        /** Alert when one user has this many events within `withinMs`. */
        events: z.number().int().min(2).max(10_000).default(8),
        withinMs: positiveMs.default(10 * SECOND),
      })
      .prefault({}),
    paymentFailures: z
      .object({
        /** Alert when one user has this many failed payments within `withinMs` (card testing). */
        failures: z.number().int().min(2).max(10_000).default(3),
        withinMs: positiveMs.default(10 * MINUTE),
      })
      .prefault({}),
    impossibleTravel: z
      .object({
        /** Alert when two consecutive located events of one user imply a speed above this. */
        maxSpeedKmh: z.number().positive().max(1_000_000).default(900),
        /** …and lie at least this far apart (GPS jitter and neighbouring centroids are not travel). */
        minDistanceKm: z.number().min(0).max(20_000).default(100),
      })
      .prefault({}),
    merchantDiversity: z
      .object({
        /** Alert when one user pays or orders at this many distinct merchants within `withinMs`. */
        merchants: z.number().int().min(2).max(1_000).default(5),
        withinMs: positiveMs.default(10 * MINUTE),
      })
      .prefault({}),
    engagement: z
      .object({
        /** Engagement rows are per user and event-time window of this length. */
        windowMs: positiveMs.default(HOUR),
        /** A viewing counts as completed when it covers at least this share of the content. */
        completionRatio: z.number().positive().max(1).default(0.9),
        /** A session with at least this many viewings in the window is a binge session. */
        bingeWatches: z.number().int().min(2).max(1_000).default(3),
      })
      .prefault({}),
  })
  .strict()
  .refine((c) => c.hoppingStepMs <= c.hoppingWindowMs, {
    message: 'hoppingStepMs must not exceed hoppingWindowMs',
  });

export type AnalyticsConfig = z.output<typeof AnalyticsConfigSchema>;
export type AnalyticsConfigInput = z.input<typeof AnalyticsConfigSchema>;

export class InvalidAnalyticsConfigError extends ShardlineError {
  constructor(issues: string) {
    super(`invalid analytics configuration: ${issues} (see docs/ANALYTICS.md for the settings)`);
    this.name = 'InvalidAnalyticsConfigError';
  }
}

/**
 * Validates analytics settings and fills in every default.
 *
 * @example
 * ```ts
 * const config = analyticsConfig({ tumblingWindowMs: 30_000 });
 * config.hoppingWindowMs; // 600000
 * ```
 */
export function analyticsConfig(input: AnalyticsConfigInput = {}): AnalyticsConfig {
  const parsed = AnalyticsConfigSchema.safeParse(input);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new InvalidAnalyticsConfigError(issues);
  }
  return parsed.data;
}

export const DEFAULT_ANALYTICS_CONFIG: AnalyticsConfig = analyticsConfig();

/** The environment variables the consumer reads; each overrides one default. */
export const ANALYTICS_ENV = {
  /** `off` disables analytics (the events still land in the lake). */
  enabled: 'SHARDLINE_ANALYTICS',
  tumblingWindowSeconds: 'SHARDLINE_TUMBLING_WINDOW_SECONDS',
  hoppingWindowSeconds: 'SHARDLINE_HOPPING_WINDOW_SECONDS',
  hoppingStepSeconds: 'SHARDLINE_HOPPING_STEP_SECONDS',
  watermarkDelaySeconds: 'SHARDLINE_WATERMARK_DELAY_SECONDS',
  allowedLatenessSeconds: 'SHARDLINE_ALLOWED_LATENESS_SECONDS',
  sessionGapMinutes: 'SHARDLINE_SESSION_GAP_MINUTES',
  velocityMaxEvents: 'SHARDLINE_ALERT_VELOCITY_MAX_EVENTS',
  amountSigmas: 'SHARDLINE_ALERT_AMOUNT_SIGMAS',
  amountMinSamples: 'SHARDLINE_ALERT_AMOUNT_MIN_SAMPLES',
  rapidFireEvents: 'SHARDLINE_ALERT_RAPID_FIRE_EVENTS',
  rapidFireSeconds: 'SHARDLINE_ALERT_RAPID_FIRE_SECONDS',
  paymentFailures: 'SHARDLINE_ALERT_PAYMENT_FAILURES',
  paymentFailuresMinutes: 'SHARDLINE_ALERT_PAYMENT_FAILURES_MINUTES',
  travelMaxKmh: 'SHARDLINE_ALERT_TRAVEL_MAX_KMH',
  travelMinKm: 'SHARDLINE_ALERT_TRAVEL_MIN_KM',
  merchants: 'SHARDLINE_ALERT_MERCHANTS',
  merchantsMinutes: 'SHARDLINE_ALERT_MERCHANTS_MINUTES',
  engagementWindowMinutes: 'SHARDLINE_ENGAGEMENT_WINDOW_MINUTES',
  bingeWatches: 'SHARDLINE_ENGAGEMENT_BINGE_WATCHES',
} as const;

function numberFrom(env: NodeJS.ProcessEnv, variable: string, scale: number): number | undefined {
  const text = env[variable];
  if (text === undefined || text.trim() === '') return undefined;
  const value = Number(text);
  if (!Number.isFinite(value)) throw new InvalidAnalyticsConfigError(`${variable}="${text}" is not a number`);
  return Math.round(value * scale * 1e6) / 1e6;
}

/**
 * The analytics settings from the consumer's environment, or `null` when `SHARDLINE_ANALYTICS=off`.
 *
 * @example
 * ```ts
 * const config = analyticsConfigFromEnv({ SHARDLINE_ALERT_VELOCITY_MAX_EVENTS: '50' });
 * config?.velocity.maxEventsPerWindow; // 50
 * ```
 */
export function analyticsConfigFromEnv(env: NodeJS.ProcessEnv = process.env): AnalyticsConfig | null {
  const enabled = (env[ANALYTICS_ENV.enabled] ?? 'on').trim().toLowerCase();
  if (enabled === 'off' || enabled === 'false' || enabled === '0') return null;
  const read = (variable: string, scale = 1) => numberFrom(env, variable, scale);
  const drop = <T extends Record<string, unknown>>(o: T) =>
    Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
  return analyticsConfig({
    ...drop({
      tumblingWindowMs: read(ANALYTICS_ENV.tumblingWindowSeconds, SECOND),
      hoppingWindowMs: read(ANALYTICS_ENV.hoppingWindowSeconds, SECOND),
      hoppingStepMs: read(ANALYTICS_ENV.hoppingStepSeconds, SECOND),
      watermarkDelayMs: read(ANALYTICS_ENV.watermarkDelaySeconds, SECOND),
      allowedLatenessMs: read(ANALYTICS_ENV.allowedLatenessSeconds, SECOND),
      sessionGapMs: read(ANALYTICS_ENV.sessionGapMinutes, MINUTE),
    }),
    velocity: drop({ maxEventsPerWindow: read(ANALYTICS_ENV.velocityMaxEvents) }),
    amount: drop({
      sigmas: read(ANALYTICS_ENV.amountSigmas),
      minSamples: read(ANALYTICS_ENV.amountMinSamples),
    }),
    rapidFire: drop({
      events: read(ANALYTICS_ENV.rapidFireEvents),
      withinMs: read(ANALYTICS_ENV.rapidFireSeconds, SECOND),
    }),
    paymentFailures: drop({
      failures: read(ANALYTICS_ENV.paymentFailures),
      withinMs: read(ANALYTICS_ENV.paymentFailuresMinutes, MINUTE),
    }),
    impossibleTravel: drop({
      maxSpeedKmh: read(ANALYTICS_ENV.travelMaxKmh),
      minDistanceKm: read(ANALYTICS_ENV.travelMinKm),
    }),
    merchantDiversity: drop({
      merchants: read(ANALYTICS_ENV.merchants),
      withinMs: read(ANALYTICS_ENV.merchantsMinutes, MINUTE),
    }),
    engagement: drop({
      windowMs: read(ANALYTICS_ENV.engagementWindowMinutes, MINUTE),
      bingeWatches: read(ANALYTICS_ENV.bingeWatches),
    }),
  });
}
