import type { SessionCloseReason, SessionRow } from '../../shared/analyticsRows';
import type { AnalyticsEvent } from './input';

/**
 * Sessions per session_id (within a tenant). An event with a session id extends its open session, or
 * opens one. session_end closes it; otherwise it closes when the watermark passes its last event plus the
 * inactivity gap. An event more than the gap after the session's last event starts a new session with
 * the same id, as a session window would.
 */

export interface OpenSession {
  tenantId: string;
  userId: string;
  sessionId: string;
  start: number;
  last: number;
  count: number;
  sawStart: boolean;
}

export interface ClosedSession {
  session: OpenSession;
  closedBy: SessionCloseReason;
}

/** Per-tenant statistics over every session closed on this shard. */
export interface TenantSessionStats {
  sessions: number;
  totalDurationMs: number;
  lastDurationMs: number | null;
}

/**
 * The state key of a session: session ids are only unique within a tenant.
 *
 * @example
 * ```ts
 * sessionKey('acme', 's-1'); // 'acme|s-1'
 * ```
 */
export function sessionKey(tenantId: string, sessionId: string): string {
  return `${tenantId}|${sessionId}`;
}

/**
 * Applies one event that carries a session id: extends or opens its session, and closes the sessions it
 * ends (an inactivity split before it, its own session on session_end). A session the watermark has
 * already passed by the gap is closed, whether or not a sweep has emitted it yet, so the result never
 * depends on when sweeps run. Mutates `sessions`.
 *
 * @example
 * ```ts
 * const closed = applySessionEvent(sessions, event, 30 * 60_000, watermark);
 * ```
 */
export function applySessionEvent(
  sessions: Map<string, OpenSession>,
  event: AnalyticsEvent & { sessionId: string },
  sessionGapMs: number,
  watermark: number,
): ClosedSession[] {
  const closed: ClosedSession[] = [];
  const key = sessionKey(event.tenantId, event.sessionId);
  let session = sessions.get(key);
  if (
    session &&
    (event.occurredAt - session.last >= sessionGapMs || isInactive(session, watermark, sessionGapMs))
  ) {
    closed.push({ session, closedBy: 'inactivity' });
    sessions.delete(key);
    session = undefined;
  }
  if (!session) {
    session = {
      tenantId: event.tenantId,
      userId: event.userId,
      sessionId: event.sessionId,
      start: event.occurredAt,
      last: event.occurredAt,
      count: 0,
      sawStart: false,
    };
    sessions.set(key, session);
  }
  session.count++;
  if (event.occurredAt < session.start) session.start = event.occurredAt;
  if (event.occurredAt > session.last) session.last = event.occurredAt;
  if (event.eventType === 'session_start') session.sawStart = true;
  if (event.eventType === 'session_end') {
    closed.push({ session, closedBy: 'session_end' });
    sessions.delete(key);
  }
  return closed;
}

/**
 * Whether an open session has been inactive for the gap at this watermark.
 *
 * @example
 * ```ts
 * isInactive(session, watermark, 30 * 60_000);
 * ```
 */
export function isInactive(session: OpenSession, watermark: number, sessionGapMs: number): boolean {
  return watermark >= session.last + sessionGapMs;
}

/**
 * Adds a closed session to its tenant's statistics (mutates `stats`).
 *
 * @example
 * ```ts
 * recordClosedSession(stats, closed.session);
 * stats.totalDurationMs / stats.sessions; // the average duration
 * ```
 */
export function recordClosedSession(stats: TenantSessionStats, session: OpenSession): void {
  const duration = session.last - session.start;
  stats.sessions++;
  stats.totalDurationMs += duration;
  stats.lastDurationMs = duration;
}

/**
 * The lake row of a closed session; it ends at its last event.
 *
 * @example
 * ```ts
 * const row = sessionRow(closed, 'shardId-000000000000', sequenceNumber);
 * ```
 */
export function sessionRow(closed: ClosedSession, shardId: string, sequenceNumber: string): SessionRow {
  const { session } = closed;
  return {
    tenant_id: session.tenantId,
    user_id: session.userId,
    session_id: session.sessionId,
    session_start: session.start,
    session_end: session.last,
    duration_ms: session.last - session.start,
    event_count: session.count,
    closed_by: closed.closedBy,
    saw_session_start: session.sawStart,
    shard_id: shardId,
    closed_at_sequence_number: sequenceNumber,
  };
}
