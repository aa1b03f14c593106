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
export const ANOMALY_KINDS = ['velocity_spike', 'amount_anomaly', 'rapid_fire', 'payment_failures'] as const;
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

function payloadFor(type: EventType, random: Random): Record<string, unknown> {
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
 * // ['u-anomaly-velocity', 'u-anomaly-amount', 'u-anomaly-rapid', 'u-anomaly-payments']
 * ```
 */
export function injectedAnomalies(options: Pick<GenerateOptions, 'tenants'>): InjectedAnomaly[] {
  const tenantId = options.tenants[0] ?? 'acme';
  const users: Record<AnomalyKind, string> = {
    velocity_spike: 'u-anomaly-velocity',
    amount_anomaly: 'u-anomaly-amount',
    rapid_fire: 'u-anomaly-rapid',
    payment_failures: 'u-anomaly-payments',
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
 * - payment_failures: 4 failed payments one minute apart (3 within 10 minutes).
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
  const [velocity, amount, rapid, payments] = injectedAnomalies(options) as [
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
      payload: payloadFor(type, random),
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
