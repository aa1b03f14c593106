import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeCsv, encodeParquet } from '../../lambdas/consumer/sinks';
import type { EventRow } from '../../lambdas/shared/rows';
import { runCli } from '../helpers/cli';

// A data directory whose `up` has stopped (no runtime.json) but whose lake copy is still there, as
// `npm start` leaves .shardline/demo: the mirror written by the real sinks, and the DLQ snapshot.

const scratch = mkdtempSync(join(tmpdir(), 'shardline-stopped-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const row = (n: number): EventRow => ({
  event_id: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
  schema_version: 1,
  tenant_id: 'acme',
  event_type: 'page_view',
  occurred_at: Date.UTC(2026, 11, 1, 10, 0, n),
  user_id: `user-${n}`,
  session_id: null,
  amount: null,
  currency: null,
  amount_usd: null,
  payload: '{"url":"/"}',
  event_date: '2026-12-01',
  event_hour: 10,
  shard_id: 'shardId-000000000000',
  sequence_number: `4965496134529843218092763415892103487724611034711234${String(n).padStart(4, '0')}`,
  partition_key: `user-${n}`,
  arrival_time: Date.UTC(2026, 11, 1, 10, 0, n),
  processed_at: Date.UTC(2026, 11, 1, 10, 0, n + 1),
});

/** A stopped data directory whose lake copy holds `parquetRows` in Parquet and `csvRows` in CSV. */
function stoppedDataDir(name: string, parquetRows: EventRow[], csvRows: EventRow[]): string {
  const dataDir = join(scratch, name);
  const mirror = join(dataDir, 'mirror', 'local-dev');
  const partition = 'dt=2026-12-01/hour=10';
  mkdirSync(join(mirror, 'events', 'parquet', partition), { recursive: true });
  mkdirSync(join(mirror, 'events', 'csv', partition), { recursive: true });
  writeFileSync(join(mirror, 'events', 'parquet', partition, 'a.parquet'), encodeParquet(parquetRows));
  writeFileSync(join(mirror, 'events', 'csv', partition, 'a.csv'), encodeCsv(csvRows));
  writeFileSync(
    join(mirror, 'errors.ndjson'),
    `${JSON.stringify({ record_id: 'shardId-000000000000:9', reason: 'invalid JSON', issues: '[]', shard_id: 'shardId-000000000000', sequence_number: '9', partition_key: 'k', arrival_time: '2026-12-01T10:00:00Z', failed_at: '2026-12-01T10:00:01Z', payload_bytes: 3, payload_s3_key: null })}\n`,
  );
  writeFileSync(join(mirror, '.mirror-index.json'), '{}');
  return dataDir;
}

const rows = [1, 2, 3].map(row);
const agreeing = stoppedDataDir('agreeing', rows, rows);
const COPY_NOTICE =
  /up is not running in .*agreeing: reading the stopped copy of its lake in .*mirror\/local-dev/;

describe('query on a stopped data directory', () => {
  it('answers from the local copy of the lake and says so on stderr', async () => {
    const run = await runCli([
      'query',
      '--data-dir',
      agreeing,
      '--format',
      'csv',
      'select count(*) AS n from events',
    ]);
    expect(run.code).toBe(0);
    expect(run.stdout.trim().split(/\r?\n/)).toEqual(['n', '3']);
    expect(run.stderr).toMatch(COPY_NOTICE);
  });

  it('has the errors view from the DLQ snapshot taken when the copy was made', async () => {
    const run = await runCli(['query', '--data-dir', agreeing, '--json', 'select reason from errors']);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual([{ reason: 'invalid JSON' }]);
  });

  it('takes --format json as another spelling of --json, the documented way', async () => {
    const sql = 'select count(*) AS n from events_csv';
    const viaJson = await runCli(['query', '--data-dir', agreeing, '--json', sql]);
    const viaFormat = await runCli(['query', '--data-dir', agreeing, '--format', 'json', sql]);
    expect(viaFormat.code).toBe(0);
    expect(JSON.parse(viaFormat.stdout)).toEqual([{ n: 3 }]);
    expect(viaFormat.stdout).toBe(viaJson.stdout);
  });

  it('rejects an unknown --format with one line pointing at --json', async () => {
    const run = await runCli(['query', '--data-dir', agreeing, '--format', 'xml', 'select 1']);
    expect(run.code).not.toBe(0);
    expect(run.stdout).toBe('');
    expect(run.stderr.trim()).toMatch(/--format.*must be table or csv \(for JSON, use --json\)$/);
  });

  it('without a copy either, fails with one line saying how to start up', async () => {
    const run = await runCli(['query', '--data-dir', join(scratch, 'empty'), 'select 1']);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(/shardline up is not running in .*empty \(start it with `npx shardline up`\)/);
    expect(run.stderr).toMatch(/nor is there a local copy of its lake/);
  });
});

describe('verify on a stopped data directory', () => {
  it('checks that Parquet and CSV agree, and exits 2 with one line for the stream and DLQ it could not read', async () => {
    const run = await runCli(['verify', '--data-dir', agreeing]);
    expect(run.code).toBe(2);
    expect(run.stdout).toMatch(/3 records in the stopped copy of the lake/);
    expect(run.stdout).toMatch(/OK: Parquet and CSV hold the same records, each exactly once/);
    const stderr = run.stderr.trim().split('\n');
    expect(stderr).toHaveLength(2);
    expect(stderr[0]).toMatch(COPY_NOTICE);
    expect(stderr[1]).toMatch(/^shardline: not checked: the stream and the DLQ \(up is not running; start/);
  });

  it('exits 1 when the copy shows a record twice in CSV and missing from Parquet', async () => {
    const dataDir = stoppedDataDir('disagreeing', rows.slice(0, 2), [...rows, rows[0] as EventRow]);
    const run = await runCli(['verify', '--data-dir', dataDir, '--json']);
    expect(run.code).toBe(1);
    const report = JSON.parse(run.stdout);
    expect(report.ok).toBe(false);
    expect(
      report.outputs.map((o: { missing: number; duplicated: number }) => [o.missing, o.duplicated]),
    ).toEqual([
      [1, 0],
      [0, 1],
    ]);
  });
});
