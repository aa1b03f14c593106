import { CURRENCIES } from '../shared/currency';
import { ShardlineError } from '../shared/errors';
import { type EventInput, type EventType, SCHEMA_VERSION } from '../shared/events';
import { type Random, seededRandom } from '../shared/random';

/** One record as it goes onto the stream: its bytes and its partition key. */
export interface GeneratedRecord {
  data: Uint8Array;
  partitionKey: string;
  /** Set on the records generated to be invalid, saying how they are broken. */
  invalidKind?: InvalidKind;
  /** Set on the records injected as a known anomaly (`anomalies: true`), saying which. */
  anomaly?: AnomalyKind;
}

export const INVALID_KINDS = ['malformed_json', 'missing_field', 'wrong_type', 'unknown_event_type'] as const;
export type InvalidKind = (typeof INVALID_KINDS)[number];

export interface GenerateOptions {
  count: number;
  seed: number;
  /** Share of records made invalid, 0 to 1. Exactly `round(count * invalidRatio)` are invalid. */
  invalidRatio: number;
  /** Tenant slugs; a user belongs to one tenant. */
  tenants: readonly string[];
  /** Event time of the first event. Events spread over `spanMinutes` after it. */
  startTime: number;
  spanMinutes: number;
  usersPerTenant: number;
  /**
   * Also inject one known instance of each anomaly the analytics alert on (docs/ANALYTICS.md), each by its
   * own user, on top of the `count` normal records, which stay byte-identical. Off by default. Needs a span
   * of at least {@link MIN_ANOMALY_SPAN_MINUTES} minutes.
   */
  anomalies?: boolean;
}

/** The anomalies `anomalies: true` injects; each raises the alert of the same name. */
export const ANOMALY_KINDS = [
  'velocity_spike',
  'amount_anomaly',
  'rapid_fire',
  'payment_failures',
  'impossible_travel',
  'merchant_diversity',
] as const;
export type AnomalyKind = (typeof ANOMALY_KINDS)[number];
export const MIN_ANOMALY_SPAN_MINUTES = 30;

export class AnomalySpanTooShortError extends ShardlineError {
  constructor(spanMinutes: number) {
    super(
      `injecting anomalies needs spanMinutes >= ${MIN_ANOMALY_SPAN_MINUTES} (got ${spanMinutes}): ` +
        'shorter spans crowd the baseline events of the amount anomaly into a velocity spike',
    );
    this.name = 'AnomalySpanTooShortError';
  }
}

/** One injected anomaly: who carries it. */
export interface InjectedAnomaly {
  kind: AnomalyKind;
  tenantId: string;
  userId: string;
}

const EVENT_MIX: ReadonlyArray<[EventType, number]> = [
  ['page_view', 40],
  ['add_to_cart', 15],
  ['order_created', 8],
  ['payment_processed', 8],
  ['session_start', 10],
  ['session_end', 9],
  ['sensor_reading', 10],
  ['content_watched', 8],
];
const MIX_TOTAL = EVENT_MIX.reduce((sum, [, weight]) => sum + weight, 0);

function pickEventType(random: Random): EventType {
  let roll = random.next() * MIX_TOTAL;
  for (const [type, weight] of EVENT_MIX) {
    roll -= weight;
    if (roll < 0) return type;
  }
  return 'page_view';
}

const money = (random: Random, max: number) => Math.round(random.next() * max * 100) / 100 + 0.5;

/** FNV-1a of a text: picks a user's home and merchant without drawing from the random sequence. */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
  return hash >>> 0;
}

const HOMES: ReadonlyArray<{ country: string; latitude: number; longitude: number }> = [
  { country: 'DE', latitude: 52.52, longitude: 13.405 },
  { country: 'US', latitude: 40.7128, longitude: -74.006 },
  { country: 'FR', latitude: 48.8566, longitude: 2.3522 },
  { country: 'GB', latitude: 51.5072, longitude: -0.1276 },
  { country: 'JP', latitude: 35.6762, longitude: 139.6503 },
];

/**
 * Where a user is and where they buy: fixed per user (from a hash of the user, no random draws), so
 * normal traffic never travels impossibly nor spreads over many merchants. Half the users give their
 * location as coordinates, half as a country.
 */
function userProfile(userKey: string): { merchantId: string; location: Record<string, unknown> } {
  const hash = fnv1a(userKey);
  const home = HOMES[hash % HOMES.length] as (typeof HOMES)[number];
  return {
    merchantId: `m-${(hash >>> 8) % 200}`,
    location:
      (hash >>> 16) % 2 === 0
        ? { latitude: home.latitude, longitude: home.longitude }
        : { country: home.country },
  };
}

const CONTENT_LENGTHS_MS = [22 * 60_000, 45 * 60_000, 95 * 60_000, 120 * 60_000];

function payloadFor(type: EventType, random: Random, userKey: string): Record<string, unknown> {
  switch (type) {
    case 'page_view':
      return {
        url: `/products/${random.int(1, 5000)}`,
        referrer: random.pick(['https://search.example', 'https://social.example', '']),
        duration_ms: random.int(50, 120_000),
      };
    case 'add_to_cart':
      return {
        product_id: `p-${random.int(1, 5000)}`,
        quantity: random.int(1, 5),
        unit_price: money(random, 200),
        currency: random.pick(CURRENCIES).toLowerCase(),
      };
    case 'order_created': {
      const items = Array.from({ length: random.int(1, 4) }, () => ({
        product_id: `p-${random.int(1, 5000)}`,
        quantity: random.int(1, 3),
        unit_price: money(random, 150),
      }));
      const total = items.reduce((sum, item) => sum + item.quantity * item.unit_price, 0);
      return {
        order_id: `o-${random.uuid().slice(0, 13)}`,
        items,
        total_amount: Math.round(total * 100) / 100,
        currency: random.pick(CURRENCIES),
        merchant_id: userProfile(userKey).merchantId,
        location: userProfile(userKey).location,
      };
    }
    case 'payment_processed':
      return {
        payment_id: `pay-${random.uuid().slice(0, 13)}`,
        order_id: `o-${random.uuid().slice(0, 13)}`,
        amount: money(random, 800),
        currency: random.pick(CURRENCIES),
        method: random.pick(['card', 'PayPal', 'bank_transfer', 'wallet']),
        status: random.pick(['succeeded', 'succeeded', 'succeeded', 'failed', 'pending']),
        merchant_id: userProfile(userKey).merchantId,
        location: userProfile(userKey).location,
      };
    case 'session_start':
      return {
        device: random.pick(['desktop', 'Mobile', 'tablet']),
        country: random.pick(['de', 'US', 'fr', 'GB', 'JP']),
      };
    case 'session_end':
      return { duration_ms: random.int(1_000, 3_600_000) };
    case 'sensor_reading':
      return {
        device_id: `dev-${random.int(1, 300)}`,
        metric: random.pick(['temperature', 'humidity', 'pressure']),
        value: Math.round(random.next() * 10_000) / 100,
      };
    case 'content_watched': {
      const length = random.pick(CONTENT_LENGTHS_MS);
      const contentId = random.int(1, 400);
      return {
        content_id: `c-${contentId}`,
        title: `Episode ${contentId}`,
        // Two in three viewings run to the end (with the credits skipped); the rest stop part-way.
        watch_duration_ms: random.int(0, 2) > 0 ? length - random.int(0, 60_000) : random.int(0, length),
        content_length_ms: length,
        device: random.pick(['desktop', 'mobile', 'tablet', 'TV']),
        location: userProfile(userKey).location,
      };
    }
  }
}

/** Breaks a valid event in one of four ways a real producer gets wrong. */
function corrupt(event: EventInput, kind: InvalidKind): string {
  switch (kind) {
    case 'malformed_json': {
      const text = JSON.stringify(event);
      return text.slice(0, Math.max(1, Math.floor(text.length / 2)));
    }
    case 'missing_field': {
      const { user_id: _dropped, ...rest } = event;
      return JSON.stringify(rest);
    }
    case 'wrong_type':
      return JSON.stringify({ ...event, occurred_at: 1_700_000_000, schema_version: 'one' });
    case 'unknown_event_type':
      return JSON.stringify({ ...event, event_type: 'teleport' });
  }
}

/**
 * Generates `count` deterministic records: the same options always give the same bytes. Invalid records
 * are spread evenly through the sequence and cycle through the four {@link INVALID_KINDS}.
 *
 * @example
 * ```ts
 * const records = generateRecords({ count: 10, seed: 1, invalidRatio: 0.1, tenants: ['acme'],
 *   startTime: Date.parse('2026-11-01T00:00:00Z'), spanMinutes: 60, usersPerTenant: 50 });
 * records.filter((r) => r.invalidKind).length; // 1
 * ```
 */
export function generateRecords(options: GenerateOptions): GeneratedRecord[] {
  return Array.from(streamRecords(options));
}

/**
 * Who carries each injected anomaly, so that a test can expect exactly these alerts and no others.
 *
 * @example
 * ```ts
 * injectedAnomalies({ tenants: ['acme'] }).map((a) => a.userId);
 * // ['u-anomaly-velocity', 'u-anomaly-amount', 'u-anomaly-rapid', 'u-anomaly-payments',
 * //  'u-anomaly-travel', 'u-anomaly-merchants']
 * ```
 */
export function injectedAnomalies(options: Pick<GenerateOptions, 'tenants'>): InjectedAnomaly[] {
  const tenantId = options.tenants[0] ?? 'acme';
  const users: Record<AnomalyKind, string> = {
    velocity_spike: 'u-anomaly-velocity',
    amount_anomaly: 'u-anomaly-amount',
    rapid_fire: 'u-anomaly-rapid',
    payment_failures: 'u-anomaly-payments',
    impossible_travel: 'u-anomaly-travel',
    merchant_diversity: 'u-anomaly-merchants',
  };
  return ANOMALY_KINDS.map((kind) => ({ kind, tenantId, userId: users[kind] }));
}

interface TimedRecord {
  at: number;
  record: GeneratedRecord;
}

/**
 * The injected anomalies' records with their event times, oldest first. They use their own random
 * sequence, so the normal records do not change. With the default thresholds:
 * - velocity_spike: 25 page views in one minute, 2 s apart (more than 20 per window, never 8 in 10 s);
 * - rapid_fire: 10 page views within 4.5 s (8 within 10 s, but only 10 in the window);
 * - amount_anomaly: 24 payments of about $100 spread over the span, then one of $9,500;
 * - payment_failures: 4 failed payments one minute apart (3 within 10 minutes);
 * - impossible_travel: two payments in Berlin ten minutes apart, then one in New York 30 minutes later
 *   (about 6,400 km in half an hour);
 * - merchant_diversity: 6 payments at 6 different merchants, one a minute (5 within 10 minutes).
 */
function anomalyRecords(options: GenerateOptions): TimedRecord[] {
  if (options.spanMinutes < MIN_ANOMALY_SPAN_MINUTES) throw new AnomalySpanTooShortError(options.spanMinutes);
  const random = seededRandom(options.seed ^ 0x5eed_a11e);
  const encoder = new TextEncoder();
  const spanMs = options.spanMinutes * 60_000;
  const minuteAt = (share: number) => Math.floor((options.startTime + share * spanMs) / 60_000) * 60_000;
  const records: TimedRecord[] = [];
  const add = (anomaly: InjectedAnomaly, at: number, type: EventType, payload: Record<string, unknown>) => {
    const event = {
      event_id: random.uuid(),
      schema_version: SCHEMA_VERSION,
      tenant_id: anomaly.tenantId,
      event_type: type,
      occurred_at: new Date(at).toISOString(),
      user_id: anomaly.userId,
      payload,
    };
    records.push({
      at,
      record: {
        data: encoder.encode(JSON.stringify(event)),
        partitionKey: `${anomaly.tenantId}#${anomaly.userId}`,
        anomaly: anomaly.kind,
      },
    });
  };
  const page = () => ({ url: `/products/${random.int(1, 5000)}`, duration_ms: random.int(50, 5_000) });
  const payment = (amount: number, status: string) => ({
    payment_id: `pay-${random.uuid().slice(0, 13)}`,
    order_id: `o-${random.uuid().slice(0, 13)}`,
    amount,
    currency: 'USD',
    method: 'card',
    status,
  });
  const [velocity, amount, rapid, payments, travel, merchants] = injectedAnomalies(options) as [
    InjectedAnomaly,
    InjectedAnomaly,
    InjectedAnomaly,
    InjectedAnomaly,
    InjectedAnomaly,
    InjectedAnomaly,
  ];
  for (let k = 0; k < 25; k++) add(velocity, minuteAt(0.25) + 1_000 + k * 2_000, 'page_view', page());
  for (let k = 0; k < 10; k++) add(rapid, minuteAt(0.5) + 1_000 + k * 500, 'page_view', page());
  for (let k = 0; k < 24; k++) {
    const at = options.startTime + Math.floor((0.05 + (0.65 * k) / 23) * spanMs);
    add(amount, at, 'payment_processed', payment(95 + random.int(0, 1_000) / 100, 'succeeded'));
  }
  add(amount, minuteAt(0.75) + 30_000, 'payment_processed', payment(9_500, 'succeeded'));
  for (let k = 0; k < 4; k++)
    add(
      payments,
      minuteAt(0.9) + k * 60_000,
      'payment_processed',
      payment(20 + random.int(0, 2_000) / 100, 'failed'),
    );
  const berlin = { latitude: 52.52, longitude: 13.405 };
  const newYork = { latitude: 40.7128, longitude: -74.006 };
  const travelAt = minuteAt(0.35);
  const located = (location: Record<string, unknown>) => ({
    ...payment(40 + random.int(0, 2_000) / 100, 'succeeded'),
    merchant_id: 'm-travel',
    location,
  });
  add(travel, travelAt, 'payment_processed', located(berlin));
  add(travel, travelAt + 10 * 60_000, 'payment_processed', located(berlin));
  add(travel, travelAt + 40 * 60_000, 'payment_processed', located(newYork));
  for (let k = 0; k < 6; k++)
    add(merchants, minuteAt(0.6) + k * 60_000, 'payment_processed', {
      ...payment(10 + random.int(0, 2_000) / 100, 'succeeded'),
      merchant_id: `m-spree-${k + 1}`,
    });
  return records.sort((a, b) => a.at - b.at);
}

/** The same records as {@link generateRecords}, one at a time, so millions fit in constant memory. */
export function* streamRecords(options: GenerateOptions): Generator<GeneratedRecord> {
  const random = seededRandom(options.seed);
  const anomalies = options.anomalies ? anomalyRecords(options) : [];
  let nextAnomaly = 0;
  const encoder = new TextEncoder();
  const invalidCount = Math.round(options.count * options.invalidRatio);
  const invalidEvery = invalidCount > 0 ? options.count / invalidCount : Number.POSITIVE_INFINITY;
  const spanMs = options.spanMinutes * 60_000;
  let invalidSoFar = 0;
  const sessions = new Map<string, string>();

  for (let i = 0; i < options.count; i++) {
    const tenant = random.pick(options.tenants);
    const user = `u-${random.int(1, options.usersPerTenant)}`;
    const type = pickEventType(random);
    const userKey = `${tenant}#${user}`;
    if (type === 'session_start' || !sessions.has(userKey))
      sessions.set(userKey, `s-${random.uuid().slice(0, 18)}`);
    const baseOffsetMs = Math.floor((i / Math.max(1, options.count)) * spanMs);
    // Injected records go in event-time order among the normal ones, so none of them arrives late.
    while (
      nextAnomaly < anomalies.length &&
      (anomalies[nextAnomaly] as TimedRecord).at <= options.startTime + baseOffsetMs
    )
      yield (anomalies[nextAnomaly++] as TimedRecord).record;
    const offsetMs = baseOffsetMs + random.int(0, 999);
    const event: EventInput = {
      event_id: random.uuid(),
      schema_version: SCHEMA_VERSION,
      tenant_id: tenant,
      event_type: type,
      occurred_at: new Date(options.startTime + offsetMs).toISOString(),
      user_id: user,
      session_id: sessions.get(userKey),
      payload: payloadFor(type, random, userKey),
    } as EventInput;
    if (type === 'session_end') sessions.delete(userKey);

    // Place the k-th invalid record at index floor(k * invalidEvery) so the ratio is exact.
    const isInvalid = invalidSoFar < invalidCount && i >= Math.floor(invalidSoFar * invalidEvery);
    if (isInvalid) {
      const kind = INVALID_KINDS[invalidSoFar % INVALID_KINDS.length] as InvalidKind;
      invalidSoFar++;
      yield { data: encoder.encode(corrupt(event, kind)), partitionKey: userKey, invalidKind: kind };
    } else {
      yield { data: encoder.encode(JSON.stringify(event)), partitionKey: userKey };
    }
  }
  while (nextAnomaly < anomalies.length) yield (anomalies[nextAnomaly++] as TimedRecord).record;
}
