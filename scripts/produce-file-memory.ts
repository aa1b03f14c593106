/**
 * Streams a large generated file through `produce --file`'s reading path (open, gunzip, parse, validate,
 * chunk under Lambda's 6 MB) with a producer that discards each request, and reports the reader's peak
 * RSS. Not a test and not timed: a measurement of bounded memory.
 *
 *   npx tsx scripts/produce-file-memory.ts [--gigabytes 1] [--format ndjson|json|csv] [--gzip] [--keep PATH]
 *
 * The file is written by this process; the reading runs in a child process of its own, so that its peak
 * RSS (getrusage maxrss) is the reader's alone.
 */
import { spawnSync } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import { createGzip } from 'node:zlib';
import { openInput } from '../cli/produce/inputSource';
import { sendFile } from '../cli/produce/sendFile';
import { streamRecords } from '../lambdas/producer/generate';

const { values } = parseArgs({
  options: {
    gigabytes: { type: 'string', default: '1' },
    format: { type: 'string', default: 'ndjson' },
    gzip: { type: 'boolean', default: false },
    keep: { type: 'string' },
    read: { type: 'string' },
  },
});

async function* lines(bytes: number, format: string): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let written = 0;
  let first = true;
  if (format === 'json') yield '[\n';
  if (format === 'csv')
    yield 'event_id,schema_version,tenant_id,event_type,occurred_at,user_id,session_id,url,duration_ms\n';
  for (let seed = 1; written < bytes; seed++) {
    const records = streamRecords({
      count: 100_000,
      seed,
      invalidRatio: 0.01,
      tenants: ['acme', 'globex', 'initech'],
      startTime: Date.parse('2026-11-01T00:00:00Z'),
      spanMinutes: 180,
      usersPerTenant: 1_000,
    });
    for (const record of records) {
      if (written >= bytes) break;
      // Truncated JSON inside an array breaks the whole array, not one element: NDJSON only.
      if (format !== 'ndjson' && record.invalidKind === 'malformed_json') continue;
      const text = decoder.decode(record.data);
      let line: string;
      if (format === 'csv') {
        const e = JSON.parse(text.startsWith('{') && text.endsWith('}') ? text : '{}') as Record<
          string,
          never
        >;
        const p = (e.payload ?? {}) as Record<string, unknown>;
        line = `${e.event_id},1,${e.tenant_id},page_view,${e.occurred_at},${e.user_id},${e.session_id ?? ''},${p.url ?? '/x'},${p.duration_ms ?? ''}\n`;
      } else line = format === 'json' ? `${first ? '' : ',\n'}${text}` : `${text}\n`;
      first = false;
      written += Buffer.byteLength(line);
      yield line;
    }
  }
  if (format === 'json') yield '\n]\n';
}

async function read(path: string) {
  const started = Date.now();
  let requests = 0;
  let maxRequestBytes = 0;
  const summary = await sendFile(() => openInput(path), {
    async send({ records }) {
      requests++;
      maxRequestBytes = Math.max(maxRequestBytes, Buffer.byteLength(JSON.stringify({ records })));
      return { sent: records.length, failed: 0, shards: {} };
    },
  });
  const peakRssMb = process.resourceUsage().maxRSS / 1024;
  console.log(
    JSON.stringify({
      records: summary.records,
      invalid: summary.invalid,
      requests,
      maxRequestBytes,
      seconds: (Date.now() - started) / 1000,
      peakRssMb: Math.round(peakRssMb),
    }),
  );
}

async function main() {
  if (values.read) return read(values.read);
  const dir = mkdtempSync(join(tmpdir(), 'shardline-produce-memory-'));
  const format = values.format as string;
  const path = values.keep ?? join(dir, `events.${format}${values.gzip ? '.gz' : ''}`);
  try {
    const bytes = Number(values.gigabytes) * 1024 ** 3;
    const out = createWriteStream(path);
    await (values.gzip
      ? pipeline(lines(bytes, format), createGzip({ level: 1 }), out)
      : pipeline(lines(bytes, format), out));
    const fileMb = statSync(path).size / 1024 ** 2;
    console.log(
      `wrote ${Math.round(fileMb)} MB (${Number(values.gigabytes)} GiB of ${format} before compression) to ${path}`,
    );
    const child = spawnSync(process.execPath, [...process.execArgv, import.meta.filename, '--read', path], {
      stdio: ['ignore', 'pipe', 'inherit'],
      encoding: 'utf8',
    });
    if (child.status !== 0) throw new Error(`the reader exited with ${child.status}`);
    const result = JSON.parse(child.stdout) as Record<string, number>;
    console.log(
      `read ${result.records} records (${result.invalid} invalid) in ${result.seconds} s, ${result.requests} producer requests of at most ${result.maxRequestBytes} bytes; reader peak RSS ${result.peakRssMb} MB`,
    );
  } finally {
    if (!values.keep) rmSync(dir, { recursive: true, force: true });
  }
}

await main();
