import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance, type JS } from '@duckdb/node-api';

/** An in-memory DuckDB plus a scratch folder for the files a test wants it to read. */
export interface DuckDbScratch {
  /** Writes the bytes to `name` in the scratch folder; returns the path as a quoted SQL string literal. */
  writeFile(name: string, bytes: Uint8Array): string;
  /** Runs one statement; returns its rows as plain JS values (VARCHAR → string, INTEGER → number…). */
  query(sql: string): Promise<Record<string, JS>[]>;
  /** Closes the database and deletes the scratch folder. */
  close(): void;
}

/**
 * Opens an in-memory DuckDB with an empty scratch folder. Close it in `afterAll`.
 *
 * @example
 * ```ts
 * const duckdb = await openDuckDb();
 * const file = duckdb.writeFile('events.parquet', encodeParquet([]));
 * const [result] = await duckdb.query(`SELECT count(*)::INTEGER AS rows FROM read_parquet(${file})`);
 * console.log(result?.rows); // 0
 * duckdb.close();
 * ```
 */
export async function openDuckDb(): Promise<DuckDbScratch> {
  const folder = mkdtempSync(join(tmpdir(), 'shardline-duckdb-'));
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  return {
    writeFile(name, bytes) {
      const path = join(folder, name);
      writeFileSync(path, bytes);
      return `'${path.replaceAll("'", "''")}'`;
    },
    async query(sql) {
      return (await connection.runAndReadAll(sql)).getRowObjectsJS();
    },
    close() {
      connection.closeSync();
      instance.closeSync();
      rmSync(folder, { recursive: true, force: true });
    },
  };
}
