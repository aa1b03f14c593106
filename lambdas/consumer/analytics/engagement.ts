import type { AnalyticsConfig } from '../../shared/analyticsConfig';
import type { EngagementRow } from '../../shared/analyticsRows';
import type { AnalyticsEvent } from './input';
import { closesAt, isClosed } from './watermark';

/**
 * Media engagement per user (content_watched events), in event-time windows of `engagement.windowMs`
 * that close with the watermark like every other window: viewings, completed viewings, watch time,
 * sessions with a viewing and binge sessions (at least `engagement.bingeWatches` viewings in one session
 * within the window). A session that spans two windows counts in each with the viewings it had there.
 */

export interface EngagementWindow {
  start: number;
  end: number;
  watches: number;
  completed: number;
  watchMs: number;
  /** Viewings per session id, sorted by session id so that equal states encode to equal bytes. */
  sessions: [string, number][];
  first: number;
  last: number;
}

/** What the score weighs: one hour of watching scores full marks on the watch-time part. */
const FULL_WATCH_MS = 60 * 60_000;

/**
 * The engagement score of a window, from 0 to 100 with one decimal: half completion rate, three tenths
 * watch time (capped at one hour), two tenths whether there was a binge session.
 *
 * @example
 * ```ts
 * engagementScore({ completionRate: 1, watchMs: 3_600_000, bingeSessions: 1 }); // 100
 * ```
 */
export function engagementScore(parts: {
  completionRate: number;
  watchMs: number;
  bingeSessions: number;
}): number {
  const score =
    100 *
    (0.5 * parts.completionRate +
      0.3 * Math.min(1, parts.watchMs / FULL_WATCH_MS) +
      0.2 * Math.min(1, parts.bingeSessions));
  return Math.round(score * 10) / 10;
}

/**
 * Counts a content_watched event in its window of the user's `windows`; other events, and viewings whose
 * window the watermark has closed, change nothing. Returns whether the event was counted. Mutates `windows`.
 *
 * @example
 * ```ts
 * addWatch(user.engagement, event, config, watermark);
 * ```
 */
export function addWatch(
  windows: EngagementWindow[],
  event: AnalyticsEvent,
  config: AnalyticsConfig,
  watermark: number,
): boolean {
  if (event.watch === null) return false;
  const { windowMs, completionRatio } = config.engagement;
  const start = Math.floor(event.occurredAt / windowMs) * windowMs;
  if (isClosed(start + windowMs, watermark, config.allowedLatenessMs)) return false;
  let window = windows.find((w) => w.start === start);
  if (!window) {
    window = {
      start,
      end: start + windowMs,
      watches: 0,
      completed: 0,
      watchMs: 0,
      sessions: [],
      first: event.occurredAt,
      last: event.occurredAt,
    };
    windows.push(window);
    windows.sort((a, b) => a.start - b.start);
  }
  window.watches++;
  if (event.watch.durationMs >= completionRatio * event.watch.lengthMs) window.completed++;
  window.watchMs += event.watch.durationMs;
  window.first = Math.min(window.first, event.occurredAt);
  window.last = Math.max(window.last, event.occurredAt);
  if (event.sessionId !== null) {
    const entry = window.sessions.find(([id]) => id === event.sessionId);
    if (entry) entry[1]++;
    else {
      window.sessions.push([event.sessionId, 1]);
      window.sessions.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    }
  }
  return true;
}

/**
 * Removes and returns the windows the watermark has closed, or all of them when `all` (the user is being
 * forgotten). Mutates `windows`.
 *
 * @example
 * ```ts
 * const closed = takeClosedEngagement(user.engagement, watermark, config, false);
 * ```
 */
export function takeClosedEngagement(
  windows: EngagementWindow[],
  watermark: number,
  config: AnalyticsConfig,
  all: boolean,
): EngagementWindow[] {
  const closed: EngagementWindow[] = [];
  for (let i = windows.length - 1; i >= 0; i--) {
    const window = windows[i] as EngagementWindow;
    if (all || isClosed(window.end, watermark, config.allowedLatenessMs)) {
      closed.unshift(window);
      windows.splice(i, 1);
    }
  }
  return closed;
}

/**
 * When the earliest open window closes, or infinity.
 *
 * @example
 * ```ts
 * const at = nextEngagementClose(user.engagement, config);
 * ```
 */
export function nextEngagementClose(windows: readonly EngagementWindow[], config: AnalyticsConfig): number {
  let next = Number.POSITIVE_INFINITY;
  for (const w of windows) next = Math.min(next, closesAt(w.end, config.allowedLatenessMs));
  return next;
}

/**
 * The lake row of a closed window.
 *
 * @example
 * ```ts
 * const row = engagementRow(window, 'acme', 'u-1', config, event.shardId, event.sequenceNumber);
 * ```
 */
export function engagementRow(
  window: EngagementWindow,
  tenantId: string,
  userId: string,
  config: AnalyticsConfig,
  shardId: string,
  sequenceNumber: string,
): EngagementRow {
  const completionRate = window.completed / window.watches;
  const bingeSessions = window.sessions.filter(([, n]) => n >= config.engagement.bingeWatches).length;
  return {
    tenant_id: tenantId,
    user_id: userId,
    window_start: window.start,
    window_end: window.end,
    watches: window.watches,
    completed_watches: window.completed,
    completion_rate: Math.round(completionRate * 10_000) / 10_000,
    watch_ms: window.watchMs,
    sessions: window.sessions.length,
    binge_sessions: bingeSessions,
    engagement_score: engagementScore({ completionRate, watchMs: window.watchMs, bingeSessions }),
    first_watch_at: window.first,
    last_watch_at: window.last,
    shard_id: shardId,
    closed_at_sequence_number: sequenceNumber,
  };
}
