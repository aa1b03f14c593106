import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli';
import { startUp, type UpProcess } from '../helpers/upProcess';

const root = mkdtempSync(join(tmpdir(), 'shardline-produce-file-'));
let up: UpProcess | undefined;
afterAll(async () => {
  await up?.stop();
  rmSync(root, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const json = async (args: string[]) => {
  const run = await runCli([...args, '--json']);
  if (run.code !== 0) throw new Error(`shardline ${args.join(' ')} failed: ${run.stderr}`);
  return JSON.parse(run.stdout);
};

const T0 = Date.parse('2026-11-05T10:00:00Z');
let n = 0;
const event = (
  minutes: number,
  userId: string,
  eventType: string,
  payload: Record<string, unknown>,
  extra = {},
) => ({
  event_id: `6f1c2a44-0d7e-4b1a-9c1e-${String(++n).padStart(12, '0')}`,
  schema_version: 1,
  tenant_id: 'acme',
  event_type: eventType,
  occurred_at: new Date(T0 + minutes * 60_000).toISOString(),
  user_id: userId,
  payload,
  ...extra,
});
const payment = (merchant: string, location: Record<string, unknown>) => ({
  payment_id: `pay-${n}`,
  order_id: `o-${n}`,
  amount: 25,
  currency: 'EUR',
  method: 'card',
  status: 'succeeded',
  merchant_id: merchant,
  location,
});
const watch = (minutes: number) => ({
  content_id: `c-${minutes}`,
  title: 'Pilot',
  watch_duration_ms: 40 * 60_000,
  content_length_ms: 42 * 60_000,
  device: 'tv',
});

const valid = [
  event(0, 'u-traveller', 'payment_processed', payment('m-1', { latitude: 52.52, longitude: 13.405 })),
  event(30, 'u-traveller', 'payment_processed', payment('m-1', { country: 'US' })),
  ...[0, 1, 2].map((k) => event(k * 5, 'u-viewer', 'content_watched', watch(k), { session_id: 's-binge' })),
  ...Array.from({ length: 20 }, (_, k) => event(k, `u-${k}`, 'page_view', { url: `/p/${k}` })),
  // Moves the watermark past the hour the rest happened in, so its engagement window closes.
  event(150, 'u-clock', 'page_view', { url: '/later' }),
];
const invalid = [
  '{"event_type": "page_view", ',
  JSON.stringify({ ...event(1, 'u-x', 'page_view', { url: '/' }), user_id: undefined }),
  JSON.stringify(event(1, 'u-x', 'teleport', {})),
  JSON.stringify(event(1, 'u-x', 'page_view', { url: '/', location: { country: 'XX' } })),
  'plain text, not an event',
];

describe('shardline produce --file', () => {
  it('sends valid events to the lake and invalid lines, as they are, to the DLQ', async () => {
    const dataDir = join(root, 'up');
    up = await startUp(dataDir);
    // An invalid line after every sixth valid one, gzipped: the reader recognises gzip by its bytes.
    const lines: string[] = [];
    let used = 0;
    valid.forEach((e, k) => {
      lines.push(JSON.stringify(e));
      if (k % 6 === 5 && used < invalid.length) lines.push(invalid[used++] as string);
    });
    lines.push(...invalid.slice(used));
    const file = join(root, 'mixed.ndjson.gz');
    writeFileSync(file, gzipSync(`${lines.join('\n')}\n`));
    const total = lines.length;

    const sent = await json(['produce', '--file', file, '--data-dir', dataDir]);
    expect(sent).toMatchObject({ records: total, sent: total, failed: 0, invalid: 5, invocations: 1 });

    let verified: { ok: boolean; valid: number; invalid: number } | undefined;
    for (const deadline = Date.now() + 90_000; Date.now() < deadline; await sleep(500)) {
      const run = await runCli(['verify', '--json', '--data-dir', dataDir]);
      verified = JSON.parse(run.stdout);
      if (verified?.ok && verified.valid + verified.invalid === total) break;
    }
    expect(verified).toMatchObject({ ok: true, valid: total - 5, invalid: 5 });

    const [lake] = await json([
      'query',
      "SELECT count(*) AS events, count(*) FILTER (WHERE event_type = 'content_watched') AS watches, count(DISTINCT json_extract_string(payload, '$.merchant_id')) AS merchants FROM events",
      '--data-dir',
      dataDir,
    ]);
    expect(lake).toEqual({ events: total - 5, watches: 3, merchants: 1 });

    const errors = await json([
      'query',
      'SELECT reason, count(*) AS n FROM errors GROUP BY reason ORDER BY reason',
      '--data-dir',
      dataDir,
    ]);
    expect(errors).toEqual([
      { reason: 'invalid_json', n: 2 },
      { reason: 'schema_violation', n: 3 },
    ]);

    let alerts: unknown[] = [];
    let engagement: unknown[] = [];
    for (const deadline = Date.now() + 30_000; Date.now() < deadline; await sleep(500)) {
      alerts = await json(['query', 'SELECT pattern, user_id FROM alerts', '--data-dir', dataDir]);
      engagement = await json([
        'query',
        'SELECT user_id, watches, completed_watches, binge_sessions FROM engagement',
        '--data-dir',
        dataDir,
      ]);
      if (alerts.length > 0 && engagement.length > 0) break;
    }
    expect(alerts).toEqual([{ pattern: 'impossible_travel', user_id: 'u-traveller' }]);
    expect(engagement).toEqual([
      { user_id: 'u-viewer', watches: 3, completed_watches: 3, binge_sessions: 1 },
    ]);
  }, 300_000);
});
