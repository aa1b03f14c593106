import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { benchBatches } from './lib/records';
import { type Spread, spread } from './lib/stats';

/**
 * The native reference: DuckDB on one thread converting the same records, as NDJSON, to one Snappy
 * Parquet file per batch. DuckDB gets the best case: an explicit schema (no sniffing), the envelope's
 * columns plus the payload as JSON, and `ignore_errors`, which writes what it cannot parse or type as NULL
 * fields instead of failing (every line becomes a row). It does no validation of the payloads, no
 * enrichment, no dead-letter routing and no second format.
 */

export interface DuckDbBatchResult {
  batchSize: number;
  rowsPerSecond: Spread;
  /** Rows in each output file: the records DuckDB could read. */
  rowsWritten: number;
  msPerBatch: Spread;
}

const COLUMNS =
  "{event_id: 'VARCHAR', schema_version: 'INTEGER', tenant_id: 'VARCHAR', event_type: 'VARCHAR', " +
  "occurred_at: 'TIMESTAMPTZ', user_id: 'VARCHAR', session_id: 'VARCHAR', payload: 'JSON'}";

/**
 * Times DuckDB's NDJSON → Parquet (Snappy) conversion for each batch size, `runs` timed runs after a
 * warm-up, each of enough batches to reach `recordsPerRun` rows.
 *
 * @example
 * ```ts
 * const results = await runDuckDbBench({ batchSizes: [1000], runs: 5, recordsPerRun: 20_000 });
 * ```
 */
export async function runDuckDbBench(options: {
  batchSizes: readonly number[];
  runs: number;
  recordsPerRun: number;
}): Promise<DuckDbBatchResult[]> {
  const dir = await mkdtemp(join(tmpdir(), 'shardline-bench-duckdb-'));
  const instance = await DuckDBInstance.create(':memory:', { threads: '1' });
  const connection = await instance.connect();
  try {
    await connection.run('SET threads = 1');
    await connection.run('SET preserve_insertion_order = true');
    const results: DuckDbBatchResult[] = [];
    for (const batchSize of options.batchSizes) {
      // The same records, cut into the same batches, as the consumer benchmark uses for this batch size.
      const batches = benchBatches(batchSize, options.recordsPerRun);
      const statements: string[] = [];
      for (const [index, records] of batches.entries()) {
        const input = join(dir, `batch-${batchSize}-${index}.ndjson`);
        const output = join(dir, `batch-${batchSize}-${index}.parquet`);
        await writeFile(input, Buffer.concat(records.flatMap((record) => [record.data, Buffer.from('\n')])));
        statements.push(
          `COPY (SELECT * FROM read_json('${input}', format = 'newline_delimited', columns = ${COLUMNS}, ` +
            `ignore_errors = true)) TO '${output}' (FORMAT parquet, COMPRESSION snappy)`,
        );
      }
      const output = join(dir, `batch-${batchSize}-0.parquet`);
      const rates: number[] = [];
      const batchMs: number[] = [];
      for (let run = 0; run <= options.runs; run++) {
        let elapsedNs = 0n;
        for (const sql of statements) {
          const started = process.hrtime.bigint();
          await connection.run(sql);
          const took = process.hrtime.bigint() - started;
          elapsedNs += took;
          if (run > 0) batchMs.push(Number(took) / 1e6);
        }
        if (run > 0) rates.push((batchSize * statements.length) / (Number(elapsedNs) / 1e9));
      }
      const counted = await connection.runAndReadAll(`SELECT count(*) FROM read_parquet('${output}')`);
      results.push({
        batchSize,
        rowsPerSecond: spread(rates),
        rowsWritten: Number(counted.getRows()[0]?.[0] ?? 0),
        msPerBatch: spread(batchMs),
      });
    }
    return results;
  } finally {
    connection.closeSync();
    instance.closeSync();
    await rm(dir, { recursive: true, force: true });
  }
}
