import type { AnalyticsConfig } from '../../shared/analyticsConfig';
import type {
  AlertRow,
  EngagementRow,
  LateEventRow,
  SessionRow,
  WindowRow,
} from '../../shared/analyticsRows';
import {
  alertRow,
  evaluateAlerts,
  expireUserState,
  newUserAlertState,
  type UserAlertState,
  userKey,
} from './alerts';
import { hash64 } from './distinctUsers';
import { addWatch, type EngagementWindow, engagementRow, takeClosedEngagement } from './engagement';
import type { AnalyticsEvent } from './input';
import {
  applySessionEvent,
  type ClosedSession,
  isInactive,
  type OpenSession,
  recordClosedSession,
  sessionRow,
  type TenantSessionStats,
} from './sessions';
import { advanceMaxEventTime, closesAt, isClosed, watermarkOf } from './watermark';
import {
  addToWindow,
  openWindow,
  type WindowAggregate,
  type WindowSpec,
  windowKey,
  windowRow,
  windowStartsFor,
} from './windows';

/**
 * The analytics engine: a pure fold over a shard's valid events in stream order. Each event updates the
 * watermark, its windows, its session and its user's alert rules, then closes whatever the watermark has
 * passed. Results depend only on the events and their order, never on how they were split into batches,
 * which is what lets the consumer persist the state between batches and replay safely.
 */

export interface TenantStats extends TenantSessionStats {
  /** Events of the tenant that missed at least one closed window. */
  lateEvents: number;
}

export interface AnalyticsCounters {
  events: number;
  lateEvents: number;
  windowsClosed: number;
  sessionsClosed: number;
  alertsRaised: number;
  usersEvicted: number;
}

export interface AnalyticsState {
  /** Largest event time seen on the shard; the watermark trails it. */
  maxEventTime: number | null;
  /** The earliest watermark at which something may close or expire; null when nothing is open. */
  nextTimerAt: number | null;
  windows: Map<string, WindowAggregate>;
  sessions: Map<string, OpenSession>;
  users: Map<string, UserAlertState>;
  tenants: Map<string, TenantStats>;
  counters: AnalyticsCounters;
}

export interface AnalyticsOutputs {
  windows: WindowRow[];
  sessions: SessionRow[];
  alerts: AlertRow[];
  lateEvents: LateEventRow[];
  engagement: EngagementRow[];
}

export interface AnalyticsStep {
  state: AnalyticsState;
  outputs: AnalyticsOutputs;
}

/**
 * The state of a shard that has seen no event.
 *
 * @example
 * ```ts
 * const state = emptyAnalyticsState();
 * ```
 */
export function emptyAnalyticsState(): AnalyticsState {
  return {
    maxEventTime: null,
    nextTimerAt: null,
    windows: new Map(),
    sessions: new Map(),
    users: new Map(),
    tenants: new Map(),
    counters: zeroCounters(),
  };
}

/**
 * The counters of a shard that has seen no event.
 *
 * @example
 * ```ts
 * zeroCounters().events; // 0
 * ```
 */
export function zeroCounters(): AnalyticsCounters {
  return { events: 0, lateEvents: 0, windowsClosed: 0, sessionsClosed: 0, alertsRaised: 0, usersEvicted: 0 };
}

/**
 * No outputs.
 *
 * @example
 * ```ts
 * const outputs = emptyOutputs();
 * ```
 */
export function emptyOutputs(): AnalyticsOutputs {
  return { windows: [], sessions: [], alerts: [], lateEvents: [], engagement: [] };
}

/**
 * The tumbling and hopping window shapes of a configuration.
 *
 * @example
 * ```ts
 * windowSpecs(DEFAULT_ANALYTICS_CONFIG).map((s) => s.kind); // ['tumbling', 'hopping']
 * ```
 */
export function windowSpecs(config: AnalyticsConfig): WindowSpec[] {
  return [
    { kind: 'tumbling', sizeMs: config.tumblingWindowMs, stepMs: config.tumblingWindowMs },
    { kind: 'hopping', sizeMs: config.hoppingWindowMs, stepMs: config.hoppingStepMs },
  ];
}

const byTimeThenKey =
  <T>(time: (value: T) => number) =>
  (a: [string, T], b: [string, T]) =>
    time(a[1]) - time(b[1]) || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);

/**
 * Sessions and idle users are checked on a one-minute grid of event time. Whether they are closed is
 * decided by the watermark exactly (see applySessionEvent); the grid only bounds how many sweeps run.
 * Without it, every event that extends the oldest session would leave a stale timer, and a sweep of the
 * whole state would follow it for nothing.
 */
const SWEEP_GRID_MS = 60_000;
const onGrid = (at: number) => Math.ceil(at / SWEEP_GRID_MS) * SWEEP_GRID_MS;

function schedule(state: AnalyticsState, at: number) {
  if (state.nextTimerAt === null || at < state.nextTimerAt) state.nextTimerAt = at;
}

function tenantStats(state: AnalyticsState, tenantId: string): TenantStats {
  let stats = state.tenants.get(tenantId);
  if (!stats) {
    stats = { sessions: 0, totalDurationMs: 0, lastDurationMs: null, lateEvents: 0 };
    state.tenants.set(tenantId, stats);
  }
  return stats;
}

function emitSession(
  state: AnalyticsState,
  closed: ClosedSession,
  event: AnalyticsEvent,
  outputs: AnalyticsOutputs,
) {
  recordClosedSession(tenantStats(state, closed.session.tenantId), closed.session);
  state.counters.sessionsClosed++;
  outputs.sessions.push(sessionRow(closed, event.shardId, event.sequenceNumber));
}

/** A map's entries, read without a TouchedMap recording the reads. */
const untracked = <K, V>(map: Map<K, V>): MapIterator<[K, V]> =>
  Map.prototype.entries.call(map) as MapIterator<[K, V]>;

/** Closes every window and session the watermark has passed and expires idle users, in a fixed order. */
function runTimers(
  state: AnalyticsState,
  config: AnalyticsConfig,
  watermark: number,
  event: AnalyticsEvent,
  outputs: AnalyticsOutputs,
) {
  if (state.nextTimerAt === null || watermark < state.nextTimerAt) return;
  let next = Number.POSITIVE_INFINITY;

  // The sweep reads every entry but changes few: it iterates without recording (see touchedMap.ts) and
  // records each entry it changes, so that the next snapshot can be a delta of those (stateDelta.ts).
  const closedWindows: [string, WindowAggregate][] = [];
  for (const [key, window] of untracked(state.windows)) {
    const at = closesAt(window.end, config.allowedLatenessMs);
    if (watermark >= at) closedWindows.push([key, window]);
    else next = Math.min(next, at);
  }
  closedWindows.sort(byTimeThenKey((w) => w.end));
  for (const [key, window] of closedWindows) {
    state.windows.delete(key);
    state.counters.windowsClosed++;
    outputs.windows.push(
      windowRow(window, event.shardId, { watermark, sequenceNumber: event.sequenceNumber }),
    );
  }

  const idleSessions: [string, OpenSession][] = [];
  for (const [key, session] of untracked(state.sessions)) {
    if (isInactive(session, watermark, config.sessionGapMs)) idleSessions.push([key, session]);
    else next = Math.min(next, onGrid(session.last + config.sessionGapMs));
  }
  idleSessions.sort(byTimeThenKey((s) => s.last));
  for (const [key, session] of idleSessions) {
    state.sessions.delete(key);
    emitSession(state, { session, closedBy: 'inactivity' }, event, outputs);
  }

  // Users are visited in map order, which differs between a state built in memory and one decoded
  // from storage: the engagement windows they close are sorted before they are emitted.
  const closedEngagement: [string, { user: UserAlertState; window: EngagementWindow }][] = [];
  for (const [key, user] of untracked(state.users)) {
    const velocityBefore = user.velocity.length;
    const expiry = expireUserState(user, watermark, config);
    const closed = takeClosedEngagement(user.engagement, watermark, config, expiry.evict);
    for (const window of closed) closedEngagement.push([key, { user, window }]);
    if (expiry.evict) {
      state.users.delete(key);
      state.counters.usersEvicted++;
    } else {
      if (closed.length > 0 || user.velocity.length !== velocityBefore) state.users.get(key);
      next = Math.min(next, onGrid(expiry.nextTimerAt));
    }
  }
  closedEngagement.sort(byTimeThenKey((c) => c.window.end));
  for (const [, { user, window }] of closedEngagement)
    outputs.engagement.push(
      engagementRow(window, user.tenantId, user.userId, config, event.shardId, event.sequenceNumber),
    );
  state.nextTimerAt = Number.isFinite(next) ? next : null;
}

/** One event, in place: the fold's body. */
function applyEvent(
  state: AnalyticsState,
  event: AnalyticsEvent,
  config: AnalyticsConfig,
  outputs: AnalyticsOutputs,
) {
  state.counters.events++;
  state.maxEventTime = advanceMaxEventTime(state.maxEventTime, event.occurredAt);
  const watermark = watermarkOf(state.maxEventTime, config.watermarkDelayMs);
  const user = userKey(event.tenantId, event.userId);
  const userHash = hash64(user);

  let missedTumbling = 0;
  let missedHopping = 0;
  for (const spec of windowSpecs(config)) {
    for (const start of windowStartsFor(event.occurredAt, spec)) {
      if (isClosed(start + spec.sizeMs, watermark, config.allowedLatenessMs)) {
        if (spec.kind === 'tumbling') missedTumbling++;
        else missedHopping++;
        continue;
      }
      const key = windowKey(spec, event.tenantId, event.eventType, start);
      let window = state.windows.get(key);
      if (!window) {
        window = openWindow(spec, event.tenantId, event.eventType, start);
        state.windows.set(key, window);
        schedule(state, closesAt(window.end, config.allowedLatenessMs));
      }
      addToWindow(window, event, userHash, config.distinctExactLimit);
    }
  }
  if (missedTumbling + missedHopping > 0) {
    state.counters.lateEvents++;
    tenantStats(state, event.tenantId).lateEvents++;
    outputs.lateEvents.push({
      event_id: event.eventId,
      tenant_id: event.tenantId,
      event_type: event.eventType,
      user_id: event.userId,
      occurred_at: event.occurredAt,
      watermark,
      behind_watermark_ms: watermark - event.occurredAt,
      missed_tumbling_windows: missedTumbling,
      missed_hopping_windows: missedHopping,
      shard_id: event.shardId,
      sequence_number: event.sequenceNumber,
    });
  }

  if (event.sessionId !== null) {
    const withSession = event as AnalyticsEvent & { sessionId: string };
    for (const closed of applySessionEvent(state.sessions, withSession, config.sessionGapMs, watermark))
      emitSession(state, closed, event, outputs);
    const open = state.sessions.get(`${event.tenantId}|${event.sessionId}`);
    if (open) schedule(state, onGrid(open.last + config.sessionGapMs));
  }

  let alerts = state.users.get(user);
  if (!alerts) {
    alerts = newUserAlertState(event.tenantId, event.userId, event.occurredAt);
    state.users.set(user, alerts);
  }
  for (const raised of evaluateAlerts(alerts, event, config, watermark)) {
    state.counters.alertsRaised++;
    outputs.alerts.push(alertRow(raised, event));
  }
  if (addWatch(alerts.engagement, event, config, watermark))
    for (const w of alerts.engagement) schedule(state, closesAt(w.end, config.allowedLatenessMs));
  schedule(state, onGrid(alerts.lastSeen + config.userIdleMs));
  for (const w of alerts.velocity) schedule(state, closesAt(w.end, config.allowedLatenessMs));

  runTimers(state, config, watermark, event, outputs);
}

/**
 * Folds events into the state in stream order, in place: the state is updated and the outputs the events
 * caused are returned. For a state nobody else holds, such as one just decoded from storage; otherwise
 * use {@link applyEvents}.
 *
 * @example
 * ```ts
 * const outputs = foldEvents(loaded.state, events, config); // loaded.state is now the new state
 * ```
 */
export function foldEvents(
  state: AnalyticsState,
  events: readonly AnalyticsEvent[],
  config: AnalyticsConfig,
): AnalyticsOutputs {
  const outputs = emptyOutputs();
  for (const event of events) applyEvent(state, event, config, outputs);
  return outputs;
}

/**
 * Folds events into the state in stream order. Pure: the input state is not changed; the new state and
 * every output the events caused are returned.
 *
 * @example
 * ```ts
 * const { state, outputs } = applyEvents(emptyAnalyticsState(), rows.map(toAnalyticsEvent), config);
 * ```
 */
export function applyEvents(
  state: AnalyticsState,
  events: readonly AnalyticsEvent[],
  config: AnalyticsConfig,
): AnalyticsStep {
  const next = structuredClone(state);
  return { state: next, outputs: foldEvents(next, events, config) };
}

/**
 * One step of the fold: `step(state, event) → { state', outputs }`.
 *
 * @example
 * ```ts
 * const { state: next, outputs } = step(state, event, config);
 * ```
 */
export function step(state: AnalyticsState, event: AnalyticsEvent, config: AnalyticsConfig): AnalyticsStep {
  return applyEvents(state, [event], config);
}
