import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
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
  return [`CREATE OR REPLACE VIEW events AS ${parquet}`, `CREATE OR REPLACE VIEW events_csv AS ${csv}`];
}

export class QueryError extends Error {
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
