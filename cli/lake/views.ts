import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import {
  ANALYTICS_DATASET_NAMES,
  ANALYTICS_DATASETS,
  type AnalyticsColumnType,
} from '../../lambdas/shared/analyticsRows';
import { ShardlineError } from '../../lambdas/shared/errors';
import { type ColumnType, EVENT_COLUMNS } from '../../lambdas/shared/rows';
import type { ResultSet } from '../format';

/** DuckDB over the local mirror, with one view per dataset. */

const DUCKDB_TYPE: Record<ColumnType, string> = {
  string: 'VARCHAR',
  int32: 'INTEGER',
  double: 'DOUBLE',
  timestamptz: 'TIMESTAMPTZ',
  date: 'DATE',
};

const sqlString = (text: string) => `'${text.replaceAll("'", "''")}'`;

async function hasFiles(dir: string, extension: string): Promise<boolean> {
  try {
    const entries = await readdir(dir, { recursive: true });
    return entries.some((name) => name.endsWith(extension));
  } catch {
    return false;
  }
}

/** A typed, empty relation with the event columns plus the partitions, for a lake with no objects yet. */
function emptyEvents(): string {
  const columns = EVENT_COLUMNS.map((c) => `NULL::${DUCKDB_TYPE[c.type]} AS ${c.name}`);
  return `SELECT ${columns.join(', ')}, NULL::DATE AS dt, NULL::INTEGER AS hour WHERE false`;
}

const HIVE = "hive_partitioning = true, hive_types = {'dt': DATE, 'hour': INTEGER}";

const ANALYTICS_DUCKDB_TYPE: Record<AnalyticsColumnType, string> = {
  string: 'VARCHAR',
  int32: 'INTEGER',
  int64: 'BIGINT',
  double: 'DOUBLE',
  boolean: 'BOOLEAN',
  timestamptz: 'TIMESTAMPTZ',
  string_list: 'VARCHAR[]',
};

/**
 * The analytics views (docs/ANALYTICS.md): one per dataset (typed and empty while it has no files),
 * then views that merge the shards. Each shard closes its own windows, so a window appears once per
 * shard that saw events in it; the merged views add them up. Distinct users add up across shards
 * because the producer keys records by tenant and user, so a user's events all go to one shard.
 */
async function analyticsViews(mirrorDir: string): Promise<string[]> {
  const statements: string[] = [];
  for (const name of ANALYTICS_DATASET_NAMES) {
    const { prefix, columns } = ANALYTICS_DATASETS[name];
    const dir = join(mirrorDir, prefix);
    const empty = `SELECT ${columns.map((c) => `NULL::${ANALYTICS_DUCKDB_TYPE[c.type]} AS ${c.name}`).join(', ')}, NULL::DATE AS dt, NULL::INTEGER AS hour WHERE false`;
    const relation = (await hasFiles(dir, '.parquet'))
      ? `SELECT * FROM read_parquet(${sqlString(`${dir}/**/*.parquet`)}, ${HIVE})`
      : empty;
    statements.push(`CREATE OR REPLACE VIEW ${name} AS ${relation}`);
  }
  statements.push(
    `CREATE OR REPLACE VIEW windows_merged AS
      SELECT window_kind, tenant_id, event_type, window_start, window_end,
        count(*) AS shards,
        sum(event_count) AS event_count,
        sum(amount_count) AS amount_count,
        round(sum(amount_usd_sum), 2) AS amount_usd_sum,
        min(amount_usd_min) AS amount_usd_min,
        max(amount_usd_max) AS amount_usd_max,
        sum(distinct_users) AS distinct_users,
        bool_and(distinct_users_exact) AS distinct_users_exact
      FROM windows GROUP BY ALL`,
    `CREATE OR REPLACE VIEW window_totals AS
      SELECT window_kind, tenant_id, window_start, window_end,
        sum(event_count) AS events,
        round(sum(amount_usd_sum), 2) AS amount_usd,
        count(DISTINCT event_type) AS event_types,
        count(DISTINCT shard_id) AS shards
      FROM windows GROUP BY ALL`,
    `CREATE OR REPLACE VIEW session_stats AS
      SELECT tenant_id,
        count(*) AS sessions,
        round(avg(duration_ms) / 1000, 1) AS avg_duration_s,
        round(arg_max(duration_ms, (session_end, session_id)) / 1000, 1) AS last_duration_s,
        max(session_end) AS last_session_end,
        count(*) FILTER (WHERE closed_by = 'session_end') AS ended_by_session_end,
        count(*) FILTER (WHERE closed_by = 'inactivity') AS ended_by_inactivity
      FROM sessions GROUP BY ALL`,
    `CREATE OR REPLACE VIEW alert_summary AS
      SELECT tenant_id, pattern, severity, count(*) AS alerts, count(DISTINCT user_id) AS users,
        min(alert_time) AS first_alert, max(alert_time) AS last_alert
      FROM alerts GROUP BY ALL`,
    // A user's events all go to one shard, so each engagement window is one row: no merging needed.
    `CREATE OR REPLACE VIEW user_engagement AS
      SELECT tenant_id, user_id,
        count(*) AS windows,
        sum(watches) AS watches,
        sum(completed_watches) AS completed_watches,
        round(sum(completed_watches) / sum(watches), 4) AS completion_rate,
        round(sum(watch_ms) / 60000, 1) AS watch_minutes,
        sum(binge_sessions) AS binge_sessions,
        round(avg(engagement_score), 1) AS avg_engagement_score,
        max(last_watch_at) AS last_watch_at
      FROM engagement GROUP BY ALL`,
  );
  return statements;
}

/**
 * The SQL that defines each view over a mirror directory.
 *
 * @example
 * ```ts
 * const statements = await viewDefinitions('.shardline/mirror');
 * ```
 */
export async function viewDefinitions(mirrorDir: string): Promise<string[]> {
  const parquetDir = join(mirrorDir, 'events', 'parquet');
  const csvDir = join(mirrorDir, 'events', 'csv');
  const parquet = (await hasFiles(parquetDir, '.parquet'))
    ? `SELECT * FROM read_parquet(${sqlString(`${parquetDir}/**/*.parquet`)}, ${HIVE})`
    : emptyEvents();
  const csvColumns = EVENT_COLUMNS.map((c) => `'${c.name}': '${DUCKDB_TYPE[c.type]}'`).join(', ');
  // Explicit types (long sequence numbers would be read as DOUBLE) and quoted "" kept as '' not NULL.
  const csv = (await hasFiles(csvDir, '.csv'))
    ? `SELECT * FROM read_csv(${sqlString(`${csvDir}/**/*.csv`)}, header = true, columns = {${csvColumns}}, allow_quoted_nulls = false, ${HIVE})`
    : emptyEvents();
  return [
    `CREATE OR REPLACE VIEW events AS ${parquet}`,
    `CREATE OR REPLACE VIEW events_csv AS ${csv}`,
    ...(await analyticsViews(mirrorDir)),
  ];
}

const ERRORS_COLUMNS: ReadonlyArray<readonly [string, string]> = [
  ['record_id', 'VARCHAR'],
  ['reason', 'VARCHAR'],
  ['issues', 'VARCHAR'],
  ['shard_id', 'VARCHAR'],
  ['sequence_number', 'VARCHAR'],
  ['partition_key', 'VARCHAR'],
  ['arrival_time', 'TIMESTAMPTZ'],
  ['failed_at', 'TIMESTAMPTZ'],
  ['payload_bytes', 'BIGINT'],
  ['payload_s3_key', 'VARCHAR'],
];

/**
 * The `errors` view over the DLQ snapshot written next to the mirror (one JSON object per line), typed
 * and empty when there is no snapshot or it holds no rows.
 *
 * @example
 * ```ts
 * await connection.run(errorsView('.shardline/mirror/local-dev/errors.ndjson', 12));
 * ```
 */
export function errorsView(snapshotFile: string, rows: number): string {
  if (rows === 0) {
    const empty = ERRORS_COLUMNS.map(([name, type]) => `NULL::${type} AS ${name}`);
    return `CREATE OR REPLACE VIEW errors AS SELECT ${empty.join(', ')} WHERE false`;
  }
  const columns = ERRORS_COLUMNS.map(([name, type]) => `${name}: '${type}'`).join(', ');
  return `CREATE OR REPLACE VIEW errors AS SELECT * FROM read_json(${sqlString(snapshotFile)}, columns = {${columns}}, format = 'newline_delimited')`;
}

export class QueryError extends ShardlineError {
  constructor(message: string) {
    super(message);
    this.name = 'QueryError';
  }
}

/**
 * Opens an in-memory DuckDB with the lake's views and runs SQL against it.
 *
 * @example
 * ```ts
 * const lake = await openLake('.shardline/mirror');
 * const result = await lake.query('SELECT count(*) FROM events');
 * lake.close();
 * ```
 */
export async function openLake(mirrorDir: string) {
  const instance = await DuckDBInstance.create(':memory:', { threads: '2' });
  const connection = await instance.connect();
  await connection.run("SET TimeZone = 'UTC'");
  for (const statement of await viewDefinitions(mirrorDir)) await connection.run(statement);
  return {
    async query(sql: string): Promise<ResultSet> {
      try {
        const reader = await connection.runAndReadAll(sql);
        // JSON-safe values (timestamps as ISO text, decimals as text), except that integers that fit a
        // JavaScript number stay numbers: counts should be 42, not "42".
        const raw = reader.getRows();
        const rows = (reader.getRowsJson() as unknown[][]).map((row, r) =>
          row.map((value, c) => {
            const original = raw[r]?.[c];
            return typeof original === 'bigint' && Number.isSafeInteger(Number(original))
              ? Number(original)
              : value;
          }),
        );
        return { columns: reader.columnNames(), rows };
      } catch (error) {
        throw new QueryError((error as Error).message.split('\n')[0] ?? 'query failed');
      }
    },
    close() {
      connection.closeSync();
      instance.closeSync();
    },
  };
}

export type Lake = Awaited<ReturnType<typeof openLake>>;
