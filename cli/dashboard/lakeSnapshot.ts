import type { ResultSet } from '../format';
import type { Lake } from '../lake/views';

/**
 * What the dashboard shows from the lake: events per type, and, when the lake has the views
 * `windows`, `alerts` and `sessions`, windows per event type and the newest alerts and sessions. Those
 * views may or may not exist in a given version of cli/lake/views.ts, and their columns are read from
 * DuckDB's catalog rather than assumed.
 */

export interface CountByKey {
  key: string;
  count: number;
}

export interface LakeSnapshot {
  refreshedAt: string;
  eventsByType: CountByKey[];
  /** null: the lake has no `windows` view (or it has no event_type column). */
  windowsByType: CountByKey[] | null;
  /** null: the lake has no such view. */
  recentAlerts: ResultSet | null;
  recentSessions: ResultSet | null;
}

/** One column of a view, as DuckDB's information_schema describes it. */
export interface CatalogColumn {
  table: string;
  column: string;
  type: string;
}

export interface LakeQueries {
  eventsByType: string;
  windowsByType: string | null;
  recentAlerts: string | null;
  recentSessions: string | null;
}

export const RECENT_ROWS = 10;
/** Wider tables do not fit a dashboard card; the first columns of a view are its most telling. */
export const MAX_TABLE_COLUMNS = 8;

export const CATALOG_SQL =
  "SELECT table_name, column_name, data_type FROM information_schema.columns WHERE table_name IN ('windows', 'alerts', 'sessions') ORDER BY table_name, ordinal_position";

const quoteIdentifier = (name: string) => `"${name.replaceAll('"', '""')}"`;

/**
 * The column that best says how recent a row is: a timestamp whose name speaks of an end, then one
 * that ends in `_at` or `_time`, then any timestamp.
 */
export function recencyColumn(columns: readonly CatalogColumn[]): string | null {
  const timestamps = columns.filter((c) => /^TIMESTAMP/i.test(c.type));
  const byName = (pattern: RegExp) => timestamps.find((c) => pattern.test(c.column));
  return (byName(/end/i) ?? byName(/(_at|_time)$/i) ?? timestamps[0])?.column ?? null;
}

function recentRowsSql(view: string, columns: readonly CatalogColumn[]): string | null {
  if (columns.length === 0) return null;
  const shown = columns.slice(0, MAX_TABLE_COLUMNS).map((c) => quoteIdentifier(c.column));
  const order = recencyColumn(columns);
  const orderBy = order ? ` ORDER BY ${quoteIdentifier(order)} DESC NULLS LAST` : '';
  return `SELECT ${shown.join(', ')} FROM ${quoteIdentifier(view)}${orderBy} LIMIT ${RECENT_ROWS}`;
}

/**
 * The queries to run, given the catalog of the optional views.
 *
 * @example
 * ```ts
 * const queries = lakeQueries([{ table: 'windows', column: 'event_type', type: 'VARCHAR' }]);
 * queries.windowsByType; // SELECT event_type AS key, count(*) AS count FROM "windows" …
 * ```
 */
export function lakeQueries(catalog: readonly CatalogColumn[]): LakeQueries {
  const columnsOf = (view: string) => catalog.filter((c) => c.table === view);
  const windowColumns = columnsOf('windows');
  return {
    eventsByType:
      'SELECT event_type AS key, count(*) AS count FROM events GROUP BY ALL ORDER BY count DESC, key',
    windowsByType: windowColumns.some((c) => c.column === 'event_type')
      ? 'SELECT event_type AS key, count(*) AS count FROM "windows" GROUP BY ALL ORDER BY count DESC, key'
      : null,
    recentAlerts: recentRowsSql('alerts', columnsOf('alerts')),
    recentSessions: recentRowsSql('sessions', columnsOf('sessions')),
  };
}

/** Rows of (key, count) into counts; a NULL key reads as "(none)". */
export function toCounts(result: ResultSet): CountByKey[] {
  return result.rows.map(([key, count]) => ({
    key: key === null || key === undefined ? '(none)' : String(key),
    count: Number(count),
  }));
}

export function toCatalog(result: ResultSet): CatalogColumn[] {
  return result.rows.map(([table, column, type]) => ({
    table: String(table),
    column: String(column),
    type: String(type),
  }));
}

/**
 * Runs the dashboard's queries on an open lake.
 *
 * @example
 * ```ts
 * const lake = await openLake(mirrorDir);
 * const snapshot = await readLakeSnapshot(lake);
 * lake.close();
 * ```
 */
export async function readLakeSnapshot(lake: Lake, now = new Date()): Promise<LakeSnapshot> {
  const queries = lakeQueries(toCatalog(await lake.query(CATALOG_SQL)));
  const rowsOf = async (sql: string | null) => (sql === null ? null : await lake.query(sql));
  const windows = await rowsOf(queries.windowsByType);
  return {
    refreshedAt: now.toISOString(),
    eventsByType: toCounts(await lake.query(queries.eventsByType)),
    windowsByType: windows && toCounts(windows),
    recentAlerts: await rowsOf(queries.recentAlerts),
    recentSessions: await rowsOf(queries.recentSessions),
  };
}
