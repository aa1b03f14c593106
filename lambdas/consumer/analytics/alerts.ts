import type { AnalyticsConfig } from '../../shared/analyticsConfig';
import type { AlertPattern, AlertRow, AlertSeverity } from '../../shared/analyticsRows';
import type { EngagementWindow } from './engagement';
import type { AnalyticsEvent } from './input';
import { closesAt, isClosed } from './watermark';
import { addValue, emptyRunningStats, type RunningStats, standardDeviation, zScore } from './welford';

/**
 * The alert rules, evaluated per user on every event in stream order:
 *
 * - velocity_spike: more than N events of one user in one event-time window;
 * - amount_anomaly: an amount more than k standard deviations from the user's running mean (Welford);
 * - rapid_fire: N events of one user within a short span (10 s by default);
 * - payment_failures: N failed payments of one user within a span (card testing);
 * - impossible_travel: two consecutive located events of one user further apart than anyone could
 *   travel in the time between them (900 km/h by default);
 * - merchant_diversity: N distinct merchants for one user within a span.
 *
 * Each rule keeps only what it needs per user, bounded in size: the open velocity windows (event ids
 * up to N + 1), the running statistics, the last few event times, the last place and the latest event
 * of the last N merchants.
 */

export interface TimedEvent {
  at: number;
  id: string;
}

/** The last located event of a user. */
export interface LastPlace {
  at: number;
  id: string;
  latitude: number;
  longitude: number;
}

/** The latest event of one merchant of a user. */
export interface MerchantVisit {
  at: number;
  merchantId: string;
  id: string;
}

export interface VelocityWindow {
  start: number;
  end: number;
  count: number;
  /** Ids of the window's events until the alert fires (then no longer needed). */
  eventIds: string[];
  alerted: boolean;
}

/** Everything the rules remember about one user. */
export interface UserAlertState {
  tenantId: string;
  userId: string;
  /** Largest event time of the user: the user's state is dropped after `userIdleMs` without events. */
  lastSeen: number;
  amounts: RunningStats;
  velocity: VelocityWindow[];
  recent: TimedEvent[];
  rapidFireAlertedAt: number | null;
  failures: TimedEvent[];
  failuresAlertedAt: number | null;
  lastPlace: LastPlace | null;
  merchants: MerchantVisit[];
  merchantsAlertedAt: number | null;
  /** The user's open engagement windows (engagement.ts). */
  engagement: EngagementWindow[];
}

export interface RaisedAlert {
  pattern: AlertPattern;
  severity: AlertSeverity;
  eventIds: string[];
  evidence: Record<string, number | string | boolean>;
}

/**
 * The state key of a user: user ids are only unique within a tenant.
 *
 * @example
 * ```ts
 * userKey('acme', 'u-1'); // 'acme#u-1'
 * ```
 */
export function userKey(tenantId: string, userId: string): string {
  return `${tenantId}#${userId}`;
}

/**
 * A user the rules have not seen yet.
 *
 * @example
 * ```ts
 * const user = newUserAlertState('acme', 'u-1', event.occurredAt);
 * ```
 */
export function newUserAlertState(tenantId: string, userId: string, seenAt: number): UserAlertState {
  return {
    tenantId,
    userId,
    lastSeen: seenAt,
    amounts: emptyRunningStats(),
    velocity: [],
    recent: [],
    rapidFireAlertedAt: null,
    failures: [],
    failuresAlertedAt: null,
    lastPlace: null,
    merchants: [],
    merchantsAlertedAt: null,
    engagement: [],
  };
}

const round2 = (n: number) => Math.round(n * 100) / 100;

/**
 * Inserts in event-time order (after equal times, so stream order breaks ties) and keeps the last `keep`
 * within `spanMs` of the newest.
 */
function remember<T extends { at: number }>(list: T[], event: T, keep: number, spanMs: number): T[] {
  let index = list.length;
  while (index > 0 && (list[index - 1] as T).at > event.at) index--;
  list.splice(index, 0, event);
  const newest = (list[list.length - 1] as T).at;
  const kept = list.filter((e) => e.at > newest - spanMs);
  return kept.slice(Math.max(0, kept.length - keep));
}

/**
 * velocity_spike: counts the event in the user's window of `velocity.windowMs` and fires once per window
 * when the count exceeds `velocity.maxEventsPerWindow`. An event whose window has already closed (by the
 * watermark, as for the tumbling windows) is not counted. Mutates `user`.
 *
 * @example
 * ```ts
 * const alert = checkVelocity(user, event, config, watermark);
 * ```
 */
export function checkVelocity(
  user: UserAlertState,
  event: AnalyticsEvent,
  config: AnalyticsConfig,
  watermark: number,
): RaisedAlert | null {
  const { windowMs, maxEventsPerWindow } = config.velocity;
  const start = Math.floor(event.occurredAt / windowMs) * windowMs;
  const end = start + windowMs;
  if (isClosed(end, watermark, config.allowedLatenessMs)) return null;
  let window = user.velocity.find((w) => w.start === start);
  if (!window) {
    window = { start, end, count: 0, eventIds: [], alerted: false };
    user.velocity.push(window);
    user.velocity.sort((a, b) => a.start - b.start);
  }
  window.count++;
  if (window.alerted) return null;
  window.eventIds.push(event.eventId);
  if (window.count <= maxEventsPerWindow) return null;
  window.alerted = true;
  const eventIds = window.eventIds;
  window.eventIds = [];
  return {
    pattern: 'velocity_spike',
    severity: 'medium',
    eventIds,
    evidence: {
      events: window.count,
      threshold: maxEventsPerWindow,
      window_start: new Date(start).toISOString(),
      window_end: new Date(end).toISOString(),
    },
  };
}

function amountSeverity(z: number): AlertSeverity {
  const size = Math.abs(z);
  return size >= 10 ? 'critical' : size >= 6 ? 'high' : 'medium';
}

/**
 * amount_anomaly: once the user has `amount.minSamples` amounts, fires when this amount lies more than
 * `amount.sigmas` sample standard deviations from their running mean. The amount then joins the
 * statistics either way. Mutates `user`.
 *
 * @example
 * ```ts
 * const alert = checkAmount(user, event, config);
 * ```
 */
export function checkAmount(
  user: UserAlertState,
  event: AnalyticsEvent,
  config: AnalyticsConfig,
): RaisedAlert | null {
  const amount = event.amountUsd;
  if (amount === null) return null;
  const before = user.amounts;
  user.amounts = addValue(before, amount);
  if (before.n < config.amount.minSamples) return null;
  const z = zScore(before, amount);
  if (z === null || Math.abs(z) <= config.amount.sigmas) return null;
  return {
    pattern: 'amount_anomaly',
    severity: amountSeverity(z),
    eventIds: [event.eventId],
    evidence: {
      amount_usd: amount,
      mean_usd: round2(before.mean),
      stddev_usd: round2(standardDeviation(before)),
      z_score: round2(z),
      sigmas: config.amount.sigmas,
      samples: before.n,
    },
  };
}

/**
 * The rules that count events in a span ending at this one (rapid_fire, payment_failures,
 * merchant_diversity): the events in the span, and whether the rule fires, at most once per span.
 */
function burst<T extends { at: number }>(
  list: T[],
  event: AnalyticsEvent,
  threshold: number,
  withinMs: number,
  alertedAt: number | null,
): { inSpan: T[]; fires: boolean } {
  const inSpan = list.filter((e) => e.at > event.occurredAt - withinMs && e.at <= event.occurredAt);
  const fires =
    inSpan.length >= threshold && (alertedAt === null || event.occurredAt >= alertedAt + withinMs);
  return { inSpan, fires };
}

/** The evidence of a {@link burst} alert: how many in the span (under `countName`), the rule, the span. */
function burstEvidence(
  countName: string,
  inSpan: ReadonlyArray<{ at: number }>,
  threshold: number,
  withinMs: number,
  event: AnalyticsEvent,
): RaisedAlert['evidence'] {
  return {
    [countName]: inSpan.length,
    threshold,
    within_ms: withinMs,
    span_ms: event.occurredAt - (inSpan[0] as { at: number }).at,
  };
}

/**
 * rapid_fire: fires when the user has `rapidFire.events` events in the `rapidFire.withinMs` ending at this
 * event, at most once per span. Mutates `user`.
 *
 * @example
 * ```ts
 * const alert = checkRapidFire(user, event, config);
 * ```
 */
export function checkRapidFire(
  user: UserAlertState,
  event: AnalyticsEvent,
  config: AnalyticsConfig,
): RaisedAlert | null {
  const { events, withinMs } = config.rapidFire;
  user.recent = remember(user.recent, { at: event.occurredAt, id: event.eventId }, events, withinMs);
  const { inSpan, fires } = burst(user.recent, event, events, withinMs, user.rapidFireAlertedAt);
  if (!fires) return null;
  user.rapidFireAlertedAt = event.occurredAt;
  return {
    pattern: 'rapid_fire',
    severity: 'high',
    eventIds: inSpan.map((e) => e.id),
    evidence: burstEvidence('events', inSpan, events, withinMs, event),
  };
}

/**
 * payment_failures: fires when the user has `paymentFailures.failures` failed payments within
 * `paymentFailures.withinMs` ending at this one, at most once per span. Mutates `user`.
 *
 * @example
 * ```ts
 * const alert = checkPaymentFailures(user, event, config);
 * ```
 */
export function checkPaymentFailures(
  user: UserAlertState,
  event: AnalyticsEvent,
  config: AnalyticsConfig,
): RaisedAlert | null {
  if (event.eventType !== 'payment_processed' || event.paymentStatus !== 'failed') return null;
  const { failures, withinMs } = config.paymentFailures;
  user.failures = remember(user.failures, { at: event.occurredAt, id: event.eventId }, failures, withinMs);
  const { inSpan, fires } = burst(user.failures, event, failures, withinMs, user.failuresAlertedAt);
  if (!fires) return null;
  user.failuresAlertedAt = event.occurredAt;
  return {
    pattern: 'payment_failures',
    severity: 'high',
    eventIds: inSpan.map((e) => e.id),
    evidence: burstEvidence('failed_payments', inSpan, failures, withinMs, event),
  };
}

const EARTH_RADIUS_KM = 6_371;
const radians = (degrees: number) => (degrees * Math.PI) / 180;

/**
 * The great-circle distance between two places in kilometres (haversine).
 *
 * @example
 * ```ts
 * Math.round(distanceKm({ latitude: 52.52, longitude: 13.405 }, { latitude: 40.7128, longitude: -74.006 })); // 6385
 * ```
 */
export function distanceKm(
  a: { latitude: number; longitude: number },
  b: { latitude: number; longitude: number },
): number {
  const dLat = radians(b.latitude - a.latitude);
  const dLon = radians(b.longitude - a.longitude);
  const h =
    Math.sin(dLat / 2) ** 2 +
    Math.cos(radians(a.latitude)) * Math.cos(radians(b.latitude)) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_KM * Math.asin(Math.min(1, Math.sqrt(h)));
}

/**
 * impossible_travel: compares a located event with the user's previous located event (in stream order,
 * which is the user's order: one partition key, one shard) and fires when they are at least
 * `impossibleTravel.minDistanceKm` apart and the speed between them exceeds
 * `impossibleTravel.maxSpeedKmh` (two places at the same instant: infinitely fast). Mutates `user`.
 *
 * @example
 * ```ts
 * const alert = checkImpossibleTravel(user, event, config);
 * ```
 */
export function checkImpossibleTravel(
  user: UserAlertState,
  event: AnalyticsEvent,
  config: AnalyticsConfig,
): RaisedAlert | null {
  if (event.location === null) return null;
  const previous = user.lastPlace;
  user.lastPlace = { at: event.occurredAt, id: event.eventId, ...event.location };
  if (previous === null) return null;
  const km = distanceKm(previous, event.location);
  if (km < config.impossibleTravel.minDistanceKm) return null;
  const elapsedMs = Math.abs(event.occurredAt - previous.at);
  const speed = elapsedMs === 0 ? Number.POSITIVE_INFINITY : km / (elapsedMs / 3_600_000);
  if (speed <= config.impossibleTravel.maxSpeedKmh) return null;
  return {
    pattern: 'impossible_travel',
    severity: 'high',
    eventIds: [previous.id, event.eventId],
    evidence: {
      distance_km: Math.round(km),
      elapsed_s: Math.round(elapsedMs / 1_000),
      ...(Number.isFinite(speed) ? { speed_kmh: Math.round(speed) } : {}),
      max_speed_kmh: config.impossibleTravel.maxSpeedKmh,
      from: `${previous.latitude},${previous.longitude}`,
      to: `${event.location.latitude},${event.location.longitude}`,
    },
  };
}

/**
 * merchant_diversity: fires when the user has events at `merchantDiversity.merchants` distinct merchants
 * within the `merchantDiversity.withinMs` ending at this event, at most once per span. Only the latest
 * event of each of the last N merchants is kept. Mutates `user`.
 *
 * @example
 * ```ts
 * const alert = checkMerchantDiversity(user, event, config);
 * ```
 */
export function checkMerchantDiversity(
  user: UserAlertState,
  event: AnalyticsEvent,
  config: AnalyticsConfig,
): RaisedAlert | null {
  if (event.merchantId === null) return null;
  const { merchants: threshold, withinMs } = config.merchantDiversity;
  const known = user.merchants.find((m) => m.merchantId === event.merchantId);
  if (known && known.at > event.occurredAt) return null;
  user.merchants = remember(
    user.merchants.filter((m) => m.merchantId !== event.merchantId),
    { at: event.occurredAt, merchantId: event.merchantId, id: event.eventId },
    threshold,
    withinMs,
  );
  const { inSpan, fires } = burst(user.merchants, event, threshold, withinMs, user.merchantsAlertedAt);
  if (!fires) return null;
  user.merchantsAlertedAt = event.occurredAt;
  return {
    pattern: 'merchant_diversity',
    severity: 'medium',
    eventIds: inSpan.map((m) => m.id),
    evidence: {
      ...burstEvidence('merchants', inSpan, threshold, withinMs, event),
      merchant_ids: inSpan.map((m) => m.merchantId).join(','),
    },
  };
}

/**
 * Runs every rule on one event, in a fixed order, and updates the user's state. Mutates `user`.
 *
 * @example
 * ```ts
 * const alerts = evaluateAlerts(user, event, config, watermark);
 * ```
 */
export function evaluateAlerts(
  user: UserAlertState,
  event: AnalyticsEvent,
  config: AnalyticsConfig,
  watermark: number,
): RaisedAlert[] {
  if (event.occurredAt > user.lastSeen) user.lastSeen = event.occurredAt;
  const alerts = [
    checkVelocity(user, event, config, watermark),
    checkAmount(user, event, config),
    checkRapidFire(user, event, config),
    checkPaymentFailures(user, event, config),
    checkImpossibleTravel(user, event, config),
    checkMerchantDiversity(user, event, config),
  ];
  return alerts.filter((a): a is RaisedAlert => a !== null);
}

/**
 * Drops the user's closed velocity windows; says whether the whole user has been idle long enough to be
 * forgotten, and otherwise when the user next needs attention. Mutates `user`.
 *
 * @example
 * ```ts
 * const { evict, nextTimerAt } = expireUserState(user, watermark, config);
 * ```
 */
export function expireUserState(
  user: UserAlertState,
  watermark: number,
  config: AnalyticsConfig,
): { evict: boolean; nextTimerAt: number } {
  const idleAt = user.lastSeen + config.userIdleMs;
  if (watermark >= idleAt) return { evict: true, nextTimerAt: Number.POSITIVE_INFINITY };
  user.velocity = user.velocity.filter((w) => !isClosed(w.end, watermark, config.allowedLatenessMs));
  let next = idleAt;
  for (const w of user.velocity) next = Math.min(next, closesAt(w.end, config.allowedLatenessMs));
  for (const w of user.engagement) next = Math.min(next, closesAt(w.end, config.allowedLatenessMs));
  return { evict: false, nextTimerAt: next };
}

/**
 * The lake row of a raised alert; its id is stable across replays.
 *
 * @example
 * ```ts
 * const row = alertRow(raised, event);
 * row.alert_id; // 'rapid_fire:shardId-000000000000:4955…'
 * ```
 */
export function alertRow(raised: RaisedAlert, event: AnalyticsEvent): AlertRow {
  return {
    alert_id: `${raised.pattern}:${event.shardId}:${event.sequenceNumber}`,
    pattern: raised.pattern,
    severity: raised.severity,
    tenant_id: event.tenantId,
    user_id: event.userId,
    alert_time: event.occurredAt,
    event_ids: raised.eventIds,
    evidence: JSON.stringify(raised.evidence),
    shard_id: event.shardId,
    sequence_number: event.sequenceNumber,
  };
}
