import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type Lake, openLake } from '../../cli/lake/views';
import { decodeRecord } from '../../lambdas/consumer/decode';
import { encodeCsv } from '../../lambdas/consumer/sinks/csv';
import { encodeParquet } from '../../lambdas/consumer/sinks/parquet';
import { toRow } from '../../lambdas/consumer/transform';
import { type Event, parseEvent } from '../../lambdas/shared/events';
import { EVENT_COLUMNS } from '../../lambdas/shared/rows';
import { EnvelopeWithSupportTicket, supportTickets } from '../fixtures/ownEvent/supportTicket';
import { kinesisRecord } from '../helpers/kinesisEvents';

const dir = mkdtempSync(join(tmpdir(), 'shardline-own-event-'));
let lake: Lake | undefined;
afterAll(() => {
  lake?.close();
  rmSync(dir, { recursive: true, force: true });
});

const origin = (i: number) => ({
  shardId: 'shardId-000000000000',
  sequenceNumber: String(1000 + i),
  partitionKey: 'acme#u-1',
  arrivalTime: Date.UTC(2026, 10, 1, 9, 5),
});

describe('bringing your own event type (docs/OWN_EVENTS.md)', () => {
  const lines = supportTickets(25, 3);

  it('is a schema violation for the stock consumer until the type is added to the model', () => {
    const decoded = decodeRecord(
      kinesisRecord('shardId-000000000000', '1', Buffer.from(lines[0] as string), 'k'),
    );
    expect(decoded).toMatchObject({ ok: false, reason: 'schema_violation' });
  });

  it('validates and normalises with the added schema, and still rejects a bad ticket', () => {
    const parsed = lines.map((line) => parseEvent(JSON.parse(line), EnvelopeWithSupportTicket));
    expect(parsed.every((p) => p.success)).toBe(true);
    expect(
      new Set(parsed.map((p) => (p.data?.payload as { priority?: string } | undefined)?.priority)),
    ).toEqual(new Set(['low', 'normal', 'urgent']));
    const bad = {
      ...JSON.parse(lines[0] as string),
      payload: { ticket_id: 't', priority: 'whenever', subject: '' },
    };
    expect(parseEvent(bad, EnvelopeWithSupportTicket).success).toBe(false);
    // Every built-in type stays valid with the extended union.
    const pageView = { ...JSON.parse(lines[0] as string), event_type: 'page_view', payload: { url: '/' } };
    expect(parseEvent(pageView, EnvelopeWithSupportTicket).success).toBe(true);
  });

  it('lands in Parquet and CSV through the real sinks and is queryable through the real views', async () => {
    const rows = lines.map((line, i) => {
      const parsed = parseEvent(JSON.parse(line), EnvelopeWithSupportTicket);
      if (!parsed.success) throw parsed.error;
      // The transform needs no change for a type without money: its payload is kept as JSON text.
      return toRow(parsed.data as unknown as Event, origin(i), Date.UTC(2026, 10, 1, 9, 6));
    });
    expect(Object.keys(rows[0] ?? {})).toEqual(EVENT_COLUMNS.map((c) => c.name));
    const put = (key: string, body: Uint8Array) => {
      mkdirSync(dirname(join(dir, key)), { recursive: true });
      writeFileSync(join(dir, key), body);
    };
    put('events/parquet/dt=2026-11-01/hour=09/shardId-000000000000-1000-1024.parquet', encodeParquet(rows));
    put('events/csv/dt=2026-11-01/hour=09/shardId-000000000000-1000-1024.csv', encodeCsv(rows));
    lake = await openLake(dir);
    const sql = (view: string) =>
      `SELECT json_extract_string(payload, '$.priority') AS priority, count(*) AS tickets FROM ${view} WHERE event_type = 'support_ticket' GROUP BY ALL ORDER BY priority`;
    const fromParquet = await lake.query(sql('events'));
    const fromCsv = await lake.query(sql('events_csv'));
    expect(fromParquet.rows.reduce((sum, [, n]) => sum + Number(n), 0)).toBe(25);
    expect(fromCsv.rows).toEqual(fromParquet.rows);
  });
});
