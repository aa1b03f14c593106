import {
  type AthenaClient,
  GetQueryExecutionCommand,
  paginateGetQueryResults,
  StartQueryExecutionCommand,
} from '@aws-sdk/client-athena';
import type { ResultSet } from '../format';
import { QueryError } from './views';

export interface AthenaQuery {
  sql: string;
  workGroup: string;
  database: string;
  /** Between status checks; tests set 0. */
  pollMs?: number;
  timeoutMs?: number;
}

const NUMERIC = new Set(['tinyint', 'smallint', 'integer', 'bigint', 'double', 'float', 'real', 'decimal']);

/**
 * Runs SQL on Athena in the stack's workgroup (which enforces its encrypted result location and scan
 * limit) against the stack's Glue database, and returns the rows in the same shape as the DuckDB path.
 *
 * @example
 * ```ts
 * const result = await runAthenaQuery(athena, { sql: 'SELECT count(*) FROM events', workGroup: 'shardline-dev', database: 'shardline_dev' });
 * ```
 */
export async function runAthenaQuery(athena: AthenaClient, query: AthenaQuery): Promise<ResultSet> {
  const { QueryExecutionId } = await athena.send(
    new StartQueryExecutionCommand({
      QueryString: query.sql,
      WorkGroup: query.workGroup,
      QueryExecutionContext: { Database: query.database },
    }),
  );
  const deadline = Date.now() + (query.timeoutMs ?? 5 * 60_000);
  for (;;) {
    const { QueryExecution } = await athena.send(new GetQueryExecutionCommand({ QueryExecutionId }));
    const state = QueryExecution?.Status?.State;
    if (state === 'SUCCEEDED') break;
    if (state === 'FAILED' || state === 'CANCELLED') {
      throw new QueryError(
        QueryExecution?.Status?.StateChangeReason ?? `Athena query ${state?.toLowerCase()}`,
      );
    }
    if (Date.now() > deadline)
      throw new QueryError(`Athena query ${QueryExecutionId} still ${state} after the timeout`);
    await new Promise((resolve) => setTimeout(resolve, query.pollMs ?? 500));
  }
  let columns: string[] = [];
  let types: string[] = [];
  const rows: unknown[][] = [];
  let first = true;
  for await (const page of paginateGetQueryResults({ client: athena }, { QueryExecutionId })) {
    if (first) {
      const info = page.ResultSet?.ResultSetMetadata?.ColumnInfo ?? [];
      columns = info.map((c) => c.Name ?? '');
      types = info.map((c) => (c.Type ?? 'varchar').toLowerCase());
    }
    const data = page.ResultSet?.Rows ?? [];
    // The first row of the first page repeats the column names.
    for (const row of first ? data.slice(1) : data) {
      rows.push(
        (row.Data ?? []).map((cell, i) => {
          const value = cell.VarCharValue;
          if (value === undefined) return null;
          return NUMERIC.has(types[i] ?? '') && Number.isFinite(Number(value)) ? Number(value) : value;
        }),
      );
    }
    first = false;
  }
  return { columns, rows };
}
