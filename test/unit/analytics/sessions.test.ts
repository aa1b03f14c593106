import { describe, expect, it } from 'vitest';
import {
  type AnalyticsEvent,
  applySessionEvent,
  isInactive,
  NO_WATERMARK,
  type OpenSession,
  recordClosedSession,
  sessionRow,
  type TenantSessionStats,
} from '../../../lambdas/consumer/analytics';
import { event, MINUTE, T0 } from './fixtures';

const GAP = 30 * MINUTE;
const inSession = (offsetMs: number, eventType: string, sessionId = 's-1') =>
  event(offsetMs, { eventType, sessionId }) as AnalyticsEvent & { sessionId: string };

describe('sessions', () => {
  it('pairs session_start and session_end of one session id into one closed session', () => {
    const sessions = new Map<string, OpenSession>();
    expect(applySessionEvent(sessions, inSession(0, 'session_start'), GAP, NO_WATERMARK)).toEqual([]);
    applySessionEvent(sessions, inSession(2 * MINUTE, 'page_view'), GAP, NO_WATERMARK);
    const [closed] = applySessionEvent(sessions, inSession(5 * MINUTE, 'session_end'), GAP, NO_WATERMARK);
    expect(sessions.size).toBe(0);
    expect(closed && sessionRow(closed, 'shardId-000000000000', '9')).toMatchObject({
      session_id: 's-1',
      session_start: T0,
      session_end: T0 + 5 * MINUTE,
      duration_ms: 5 * MINUTE,
      event_count: 3,
      closed_by: 'session_end',
      saw_session_start: true,
    });
  });

  it('keeps sessions with different ids apart', () => {
    const sessions = new Map<string, OpenSession>();
    applySessionEvent(sessions, inSession(0, 'session_start', 's-1'), GAP, NO_WATERMARK);
    applySessionEvent(sessions, inSession(0, 'session_start', 's-2'), GAP, NO_WATERMARK);
    expect(sessions.size).toBe(2);
  });

  it('closes a session for inactivity once the watermark passes its last event plus the gap', () => {
    const sessions = new Map<string, OpenSession>();
    applySessionEvent(sessions, inSession(0, 'session_start'), GAP, NO_WATERMARK);
    const session = sessions.get('acme|s-1') as OpenSession;
    expect(isInactive(session, T0 + GAP - 1, GAP)).toBe(false);
    expect(isInactive(session, T0 + GAP, GAP)).toBe(true);
  });

  it('splits a session when an event comes more than the gap after its last one', () => {
    const sessions = new Map<string, OpenSession>();
    applySessionEvent(sessions, inSession(0, 'session_start'), GAP, NO_WATERMARK);
    const [closed] = applySessionEvent(sessions, inSession(GAP + MINUTE, 'page_view'), GAP, NO_WATERMARK);
    expect(closed?.closedBy).toBe('inactivity');
    expect(closed?.session.count).toBe(1);
    const reopened = sessions.get('acme|s-1');
    expect(reopened).toMatchObject({ start: T0 + GAP + MINUTE, count: 1, sawStart: false });
  });

  it('closes a session_end without a session_start as a one-event session', () => {
    const sessions = new Map<string, OpenSession>();
    const [closed] = applySessionEvent(sessions, inSession(0, 'session_end'), GAP, NO_WATERMARK);
    expect(closed && sessionRow(closed, 'shardId-000000000000', '1')).toMatchObject({
      duration_ms: 0,
      event_count: 1,
      saw_session_start: false,
    });
  });

  it('closes a session the watermark has passed by the gap before an older event can extend it', () => {
    const sessions = new Map<string, OpenSession>();
    applySessionEvent(sessions, inSession(0, 'session_start'), GAP, NO_WATERMARK);
    const [closed] = applySessionEvent(sessions, inSession(MINUTE, 'page_view'), GAP, T0 + GAP);
    expect(closed?.closedBy).toBe('inactivity');
    expect(sessions.get('acme|s-1')).toMatchObject({ start: T0 + MINUTE, count: 1 });
  });

  it('extends a session backwards for an event older than its first one', () => {
    const sessions = new Map<string, OpenSession>();
    applySessionEvent(sessions, inSession(5 * MINUTE, 'page_view'), GAP, NO_WATERMARK);
    applySessionEvent(sessions, inSession(MINUTE, 'session_start'), GAP, NO_WATERMARK);
    expect(sessions.get('acme|s-1')).toMatchObject({ start: T0 + MINUTE, last: T0 + 5 * MINUTE, count: 2 });
  });

  it('keeps per-tenant statistics: count, total for the average, and the last duration', () => {
    const stats: TenantSessionStats = { sessions: 0, totalDurationMs: 0, lastDurationMs: null };
    for (const minutes of [10, 20, 3]) {
      const session = { start: T0, last: T0 + minutes * MINUTE } as OpenSession;
      recordClosedSession(stats, session);
    }
    expect(stats).toEqual({ sessions: 3, totalDurationMs: 33 * MINUTE, lastDurationMs: 3 * MINUTE });
  });
});
