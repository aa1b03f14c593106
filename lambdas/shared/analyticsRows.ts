/**
 * The rows the stream analytics write to the lake (docs/ANALYTICS.md), one interface and one column list
 * per dataset. The Parquet encoder and the query views both read these lists, as they do `EVENT_COLUMNS`.
 * Timestamps are UTC epoch milliseconds; absent values are null. Every value is a pure function of the
 * events and their stream coordinates (no processing time), so a replay writes identical rows.
 */

export type AnalyticsColumnType =
  | 'string'
  | 'int32'
  | 'int64'
  | 'double'
  | 'boolean'
  | 'timestamptz'
  | 'string_list';

export interface AnalyticsColumn<Row> {
  name: keyof Row & string;
  type: AnalyticsColumnType;
  nullable: boolean;
}

export type WindowKind = 'tumbling' | 'hopping';

/** One closed event-time window of one tenant × event type on one shard. */
export interface WindowRow {
  window_kind: WindowKind;
  tenant_id: string;
  event_type: string;
  window_start: number;
  window_end: number;
  event_count: number;
  /** Events that carried an amount; sum, min and max are over these (USD). */
  amount_count: number;
  amount_usd_sum: number | null;
  amount_usd_min: number | null;
  amount_usd_max: number | null;
  distinct_users: number;
  /** False once the window outgrew the exact set and switched to the HyperLogLog estimate. */
  distinct_users_exact: boolean;
  first_event_at: number;
  last_event_at: number;
  shard_id: string;
  /** The watermark that closed the window, and the record that moved it there. */
  closed_at_watermark: number;
  closed_at_sequence_number: string;
}

export type SessionCloseReason = 'session_end' | 'inactivity';

/** One closed session. */
export interface SessionRow {
  tenant_id: string;
  user_id: string;
  session_id: string;
  session_start: number;
  session_end: number;
  duration_ms: number;
  event_count: number;
  closed_by: SessionCloseReason;
  /** Whether the session's session_start event was seen (it may predate the stream or a gap split it). */
  saw_session_start: boolean;
  shard_id: string;
  closed_at_sequence_number: string;
}

export type AlertPattern =
  | 'velocity_spike'
  | 'amount_anomaly'
  | 'rapid_fire'
  | 'payment_failures'
  | 'impossible_travel'
  | 'merchant_diversity';
export type AlertSeverity = 'low' | 'medium' | 'high' | 'critical';

/** One alert raised by one record. */
export interface AlertRow {
  /** `<pattern>:<shard>:<sequence number>`: the same on every replay. */
  alert_id: string;
  pattern: AlertPattern;
  severity: AlertSeverity;
  tenant_id: string;
  user_id: string;
  /** Event time of the record that raised the alert. */
  alert_time: number;
  /** The events involved, oldest first, the triggering event last. */
  event_ids: string[];
  /** What the rule saw, as JSON text (threshold, count, mean, z-score…). */
  evidence: string;
  shard_id: string;
  sequence_number: string;
}

/** An event that arrived after at least one of its windows had closed: counted here, never dropped. */
export interface LateEventRow {
  event_id: string;
  tenant_id: string;
  event_type: string;
  user_id: string;
  occurred_at: number;
  /** The watermark when the event arrived. */
  watermark: number;
  /** How far the event was behind the watermark. */
  behind_watermark_ms: number;
  missed_tumbling_windows: number;
  missed_hopping_windows: number;
  shard_id: string;
  sequence_number: string;
}

/**
 * One user's media engagement in one event-time window (content_watched events), written when the
 * watermark closes the window. engagement_score is documented in docs/ANALYTICS.md.
 */
export interface EngagementRow {
  tenant_id: string;
  user_id: string;
  window_start: number;
  window_end: number;
  watches: number;
  /** Viewings that covered at least the configured share (90%) of their content. */
  completed_watches: number;
  /** completed_watches / watches. */
  completion_rate: number;
  watch_ms: number;
  /** Distinct sessions with a viewing in the window (viewings without a session id count in none). */
  sessions: number;
  /** Sessions with at least the configured number of viewings (3) in the window. */
  binge_sessions: number;
  engagement_score: number;
  first_watch_at: number;
  last_watch_at: number;
  shard_id: string;
  closed_at_sequence_number: string;
}

export const WINDOW_COLUMNS: ReadonlyArray<AnalyticsColumn<WindowRow>> = [
  { name: 'window_kind', type: 'string', nullable: false },
  { name: 'tenant_id', type: 'string', nullable: false },
  { name: 'event_type', type: 'string', nullable: false },
  { name: 'window_start', type: 'timestamptz', nullable: false },
  { name: 'window_end', type: 'timestamptz', nullable: false },
  { name: 'event_count', type: 'int64', nullable: false },
  { name: 'amount_count', type: 'int64', nullable: false },
  { name: 'amount_usd_sum', type: 'double', nullable: true },
  { name: 'amount_usd_min', type: 'double', nullable: true },
  { name: 'amount_usd_max', type: 'double', nullable: true },
  { name: 'distinct_users', type: 'int64', nullable: false },
  { name: 'distinct_users_exact', type: 'boolean', nullable: false },
  { name: 'first_event_at', type: 'timestamptz', nullable: false },
  { name: 'last_event_at', type: 'timestamptz', nullable: false },
  { name: 'shard_id', type: 'string', nullable: false },
  { name: 'closed_at_watermark', type: 'timestamptz', nullable: false },
  { name: 'closed_at_sequence_number', type: 'string', nullable: false },
];

export const SESSION_COLUMNS: ReadonlyArray<AnalyticsColumn<SessionRow>> = [
  { name: 'tenant_id', type: 'string', nullable: false },
  { name: 'user_id', type: 'string', nullable: false },
  { name: 'session_id', type: 'string', nullable: false },
  { name: 'session_start', type: 'timestamptz', nullable: false },
  { name: 'session_end', type: 'timestamptz', nullable: false },
  { name: 'duration_ms', type: 'int64', nullable: false },
  { name: 'event_count', type: 'int64', nullable: false },
  { name: 'closed_by', type: 'string', nullable: false },
  { name: 'saw_session_start', type: 'boolean', nullable: false },
  { name: 'shard_id', type: 'string', nullable: false },
  { name: 'closed_at_sequence_number', type: 'string', nullable: false },
];

export const ALERT_COLUMNS: ReadonlyArray<AnalyticsColumn<AlertRow>> = [
  { name: 'alert_id', type: 'string', nullable: false },
  { name: 'pattern', type: 'string', nullable: false },
  { name: 'severity', type: 'string', nullable: false },
  { name: 'tenant_id', type: 'string', nullable: false },
  { name: 'user_id', type: 'string', nullable: false },
  { name: 'alert_time', type: 'timestamptz', nullable: false },
  { name: 'event_ids', type: 'string_list', nullable: false },
  { name: 'evidence', type: 'string', nullable: false },
  { name: 'shard_id', type: 'string', nullable: false },
  { name: 'sequence_number', type: 'string', nullable: false },
];

export const LATE_EVENT_COLUMNS: ReadonlyArray<AnalyticsColumn<LateEventRow>> = [
  { name: 'event_id', type: 'string', nullable: false },
  { name: 'tenant_id', type: 'string', nullable: false },
  { name: 'event_type', type: 'string', nullable: false },
  { name: 'user_id', type: 'string', nullable: false },
  { name: 'occurred_at', type: 'timestamptz', nullable: false },
  { name: 'watermark', type: 'timestamptz', nullable: false },
  { name: 'behind_watermark_ms', type: 'int64', nullable: false },
  { name: 'missed_tumbling_windows', type: 'int32', nullable: false },
  { name: 'missed_hopping_windows', type: 'int32', nullable: false },
  { name: 'shard_id', type: 'string', nullable: false },
  { name: 'sequence_number', type: 'string', nullable: false },
];

export const ENGAGEMENT_COLUMNS: ReadonlyArray<AnalyticsColumn<EngagementRow>> = [
  { name: 'tenant_id', type: 'string', nullable: false },
  { name: 'user_id', type: 'string', nullable: false },
  { name: 'window_start', type: 'timestamptz', nullable: false },
  { name: 'window_end', type: 'timestamptz', nullable: false },
  { name: 'watches', type: 'int64', nullable: false },
  { name: 'completed_watches', type: 'int64', nullable: false },
  { name: 'completion_rate', type: 'double', nullable: false },
  { name: 'watch_ms', type: 'int64', nullable: false },
  { name: 'sessions', type: 'int64', nullable: false },
  { name: 'binge_sessions', type: 'int64', nullable: false },
  { name: 'engagement_score', type: 'double', nullable: false },
  { name: 'first_watch_at', type: 'timestamptz', nullable: false },
  { name: 'last_watch_at', type: 'timestamptz', nullable: false },
  { name: 'shard_id', type: 'string', nullable: false },
  { name: 'closed_at_sequence_number', type: 'string', nullable: false },
];

/** Each analytics dataset: its lake prefix, its columns, and the column its dt/hour partition follows. */
export const ANALYTICS_DATASETS = {
  windows: { prefix: 'windows', columns: WINDOW_COLUMNS, partitionBy: 'window_start' },
  sessions: { prefix: 'sessions', columns: SESSION_COLUMNS, partitionBy: 'session_start' },
  alerts: { prefix: 'alerts', columns: ALERT_COLUMNS, partitionBy: 'alert_time' },
  late_events: { prefix: 'late_events', columns: LATE_EVENT_COLUMNS, partitionBy: 'occurred_at' },
  engagement: { prefix: 'engagement', columns: ENGAGEMENT_COLUMNS, partitionBy: 'window_start' },
} as const;

export type AnalyticsDataset = keyof typeof ANALYTICS_DATASETS;
export const ANALYTICS_DATASET_NAMES = Object.keys(ANALYTICS_DATASETS) as AnalyticsDataset[];
