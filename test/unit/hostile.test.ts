import { createHash } from 'node:crypto';
import type { JS } from '@duckdb/node-api';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deadLetterMessage, INLINE_PAYLOAD_LIMIT } from '../../lambdas/consumer/deadLetter';
import { decodeRecord } from '../../lambdas/consumer/decode';
import { encodeCsv, encodeParquet } from '../../lambdas/consumer/sinks';
import { type RecordOrigin, toRow } from '../../lambdas/consumer/transform';
import { EVENT_TYPES } from '../../lambdas/shared/events';
import { type ColumnType, EVENT_COLUMNS, type EventRow } from '../../lambdas/shared/rows';
import {
  expectedRowValues,
  type HostileCase,
  KINESIS_MAX_RECORD_BYTES,
  loadHostileCorpus,
} from '../fixtures/hostile/corpus';
import { type DuckDbScratch, openDuckDb } from '../helpers/duckdb';
import { bigSequence, kinesisRecord } from '../helpers/kinesisEvents';

/**
 * Every record of the hostile-input corpus through the consumer's own path: decode (UTF-8, JSON, schema),
 * transform, and both encoders, read back with DuckDB. Each case must end where corpus.json says: in
 * the lake, sanitised as stated, or in the DLQ with its reason. Nothing may throw.
 */
const SQS_MESSAGE_LIMIT = 256 * 1024;
const SHARD = 'shardId-000000000000';
const ARRIVAL_MS = 1_793_502_960_000;
const PROCESSED_MS = 1_793_502_961_000;
const FORMULA_START = /^[=+\-@\t\r]/;

const cases = loadHostileCorpus();
const lakeCases = cases.filter((c) => c.expect.outcome === 'lake');

const originOf = (c: HostileCase): RecordOrigin => ({
  shardId: SHARD,
  sequenceNumber: bigSequence(cases.indexOf(c) + 1),
  partitionKey: c.partitionKey,
  arrivalTime: ARRIVAL_MS,
});

function decode(c: HostileCase) {
  const origin = originOf(c);
  return decodeRecord(kinesisRecord(SHARD, origin.sequenceNumber, c.data, c.partitionKey, ARRIVAL_MS / 1000));
}

function rowOf(c: HostileCase): EventRow {
  const decoded = decode(c);
  if (!decoded.ok) throw new Error(`${c.id} was expected to decode, got ${decoded.reason}`);
  return toRow(decoded.event, originOf(c), PROCESSED_MS);
}

describe('the hostile-input corpus', () => {
  it('has at least 60 cases, each with a unique id and an expected outcome', () => {
    expect(cases.length).toBeGreaterThanOrEqual(60);
    expect(new Set(cases.map((c) => c.id)).size).toBe(cases.length);
    for (const c of cases) expect(['lake', 'dlq'], c.id).toContain(c.expect.outcome);
  });

  it('covers every kind of hostile input the reliability issue lists', () => {
    expect([...new Set(cases.map((c) => c.category))].sort()).toEqual([
      'csv-injection',
      'event-types',
      'fields',
      'malformed-json',
      'nesting',
      'not-an-object',
      'numbers',
      'prototype',
      'size',
      'strings',
      'timestamps',
      'types',
      'unicode',
    ]);
  });

  it('keeps every record within the Kinesis limit of 1 MiB for data plus partition key', () => {
    const sizes = cases.map((c) => c.data.byteLength + Buffer.byteLength(c.partitionKey));
    expect(Math.max(...sizes)).toBe(KINESIS_MAX_RECORD_BYTES);
  });
});

describe.each(cases.filter((c) => c.expect.outcome === 'dlq'))('$id ($category)', (c) => {
  const expected = c.expect as Extract<HostileCase['expect'], { outcome: 'dlq' }>;

  it(`goes to the DLQ as ${expected.reason}, naming ${JSON.stringify(expected.paths ?? [])}`, () => {
    const decoded = decode(c);
    expect(decoded.ok).toBe(false);
    if (decoded.ok) return;
    expect(decoded.reason).toBe(expected.reason);
    expect(decoded.issues.map((issue) => issue.path)).toEqual(expect.arrayContaining(expected.paths ?? []));
    expect(decoded.raw.equals(c.data)).toBe(true);
  });

  it('makes a DLQ message SQS accepts, with the payload inline up to 64 KiB and claim-checked above', () => {
    const decoded = decode(c);
    if (decoded.ok) throw new Error('expected an invalid record');
    const message = deadLetterMessage(
      { origin: originOf(c), reason: decoded.reason, issues: decoded.issues, raw: decoded.raw },
      'shardline-test-events',
      PROCESSED_MS,
    );
    expect(Buffer.byteLength(JSON.stringify(message))).toBeLessThan(SQS_MESSAGE_LIMIT);
    expect(message.payloadSha256).toBe(createHash('sha256').update(c.data).digest('hex'));
    if (c.data.byteLength > INLINE_PAYLOAD_LIMIT) {
      expect(message.payloadBase64).toBeUndefined();
      expect(message.payloadS3Key).toBe(`dlq-payloads/${SHARD}/${originOf(c).sequenceNumber}.bin`);
    } else {
      expect(Buffer.from(message.payloadBase64 ?? '', 'base64').equals(c.data)).toBe(true);
    }
  });
});

describe.each(lakeCases)('$id ($category)', (c) => {
  const expected = c.expect as Extract<HostileCase['expect'], { outcome: 'lake' }>;

  it('goes to the lake as the row the corpus states', () => {
    const row = rowOf(c);
    expect(row).toMatchObject({ event_id: c.eventId, partition_key: c.partitionKey, ...withoutEventId(c) });
    expect(row).toMatchObject(expectedRowValues(expected.row));
    if (expected.row.payload !== undefined) expect(JSON.parse(row.payload)).toEqual(expected.row.payload);
  });

  it('is accepted by both encoders', () => {
    const row = rowOf(c);
    expect(() => encodeParquet([row])).not.toThrow();
    expect(() => encodeCsv([row])).not.toThrow();
  });
});

/** A case that sets its own event_id (duplicate keys) is checked against that one instead. */
function withoutEventId(c: HostileCase): Partial<EventRow> {
  const row = (c.expect as { row?: { event_id?: string } }).row;
  return row?.event_id ? { event_id: row.event_id } : {};
}

describe('the lake rows of the corpus, in one Parquet and one CSV file read back with DuckDB', () => {
  const DUCKDB_TYPES: Record<ColumnType, string> = {
    string: 'VARCHAR',
    int32: 'INTEGER',
    double: 'DOUBLE',
    timestamptz: 'TIMESTAMP WITH TIME ZONE',
    date: 'DATE',
  };
  const AS_ROWS = EVENT_COLUMNS.map(({ name, type }) =>
    type === 'timestamptz'
      ? `epoch_ms(${name})::DOUBLE AS ${name}`
      : type === 'date'
        ? `${name}::VARCHAR AS ${name}`
        : name,
  ).join(', ');
  const csvOptions = (types: (type: ColumnType) => string) =>
    `header = true, columns = {${EVENT_COLUMNS.map(({ name, type }) => `'${name}': '${types(type)}'`).join(', ')}}, ` +
    `auto_detect = false, delim = ',', quote = '"', escape = '"', new_line = '\\n', allow_quoted_nulls = false`;

  let duckdb: DuckDbScratch;
  let rows: EventRow[];
  let parquet: Record<string, JS>[];
  let csvTyped: Record<string, JS>[];
  let csvText: Record<string, JS>[];

  beforeAll(async () => {
    duckdb = await openDuckDb();
    rows = lakeCases.map(rowOf);
    const parquetFile = duckdb.writeFile('hostile.parquet', encodeParquet(rows));
    const csvFile = duckdb.writeFile('hostile.csv', encodeCsv(rows));
    parquet = await duckdb.query(`SELECT ${AS_ROWS} FROM read_parquet(${parquetFile})`);
    csvTyped = await duckdb.query(
      `SELECT ${AS_ROWS} FROM read_csv(${csvFile}, ${csvOptions((type) => DUCKDB_TYPES[type])})`,
    );
    csvText = await duckdb.query(`SELECT * FROM read_csv(${csvFile}, ${csvOptions(() => 'VARCHAR')})`);
  });

  afterAll(() => duckdb?.close());

  it('reads back from Parquet exactly the rows the transform made', () => {
    expect(parquet).toEqual(rows);
  });

  it('reads back from CSV the same rows, except string values neutralised against formula injection', () => {
    const neutralised = rows.map((row) =>
      Object.fromEntries(
        Object.entries(row).map(([column, value]) => [
          column,
          typeof value === 'string' && FORMULA_START.test(value) ? `'${value}` : value,
        ]),
      ),
    );
    expect(csvTyped).toEqual(neutralised);
  });

  it.each(
    lakeCases.flatMap((c) =>
      Object.entries((c.expect as { csv?: Record<string, string> }).csv ?? {}).map(([column, text]) => ({
        id: c.id,
        column,
        text,
      })),
    ),
  )('writes $column of $id in CSV as the corpus states', ({ id, column, text }) => {
    const row = csvText[lakeCases.findIndex((c) => c.id === id)];
    expect(row?.[column]).toBe(text);
  });
});

describe('prototype pollution', () => {
  it('leaves Object.prototype untouched after every case is decoded and transformed', () => {
    for (const c of cases) {
      const decoded = decode(c);
      if (decoded.ok) toRow(decoded.event, originOf(c), PROCESSED_MS);
    }
    const probe: Record<string, unknown> = {};
    expect([probe.polluted, probe.isAdmin, Object.keys(Object.prototype)]).toEqual([
      undefined,
      undefined,
      [],
    ]);
  });
});

describe('any event the decoder accepts', () => {
  // Near-valid events: most fields valid, some at or past the edges, so that many reach the encoders.
  const edgy = <T>(valid: fc.Arbitrary<T>, ...edges: fc.Arbitrary<unknown>[]) =>
    fc.oneof({ arbitrary: valid, weight: 6 }, ...edges.map((arbitrary) => ({ arbitrary, weight: 1 })));
  const strangeText = fc.oneof(
    fc.string({ unit: 'binary', maxLength: 140 }),
    fc.constantFrom('=1+1', '@x', ' padded\t', '\u0000', '\ud800', 'שלום', '👨‍👩‍👧', '\u202e', ''),
  );
  const id = edgy(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 128 }), strangeText);
  const edgeNumber = fc.oneof(fc.double(), fc.constantFrom(-0, 1e12, 1e16, 1e308, 2 ** 53 + 1, -1, 0.005));
  const money = edgy(fc.double({ min: 0, max: 1e12, noNaN: true }), edgeNumber);
  const count = edgy(fc.integer({ min: 1, max: 10_000 }), edgeNumber);
  const oneOf = (...values: string[]) =>
    edgy(fc.constantFrom(...values, ...values.map((v) => ` ${v.toUpperCase()} `)), strangeText);
  const currency = oneOf('usd', 'EUR', 'jpy', 'GBP');
  const hour = (n: number) => String(n).padStart(2, '0');
  const timestamp = edgy(
    fc
      .tuple(
        fc.date({
          min: new Date('1999-12-30T00:00:00Z'),
          max: new Date('2100-01-02T00:00:00Z'),
          noInvalidDate: true,
        }),
        fc.integer({ min: -14, max: 14 }),
      )
      .map(
        ([d, offset]) =>
          `${d.toISOString().slice(0, 19)}${offset < 0 ? '-' : '+'}${hour(Math.abs(offset))}:00`,
      ),
    fc
      .date({ min: new Date(-62_167_219_200_000), max: new Date(253_402_300_799_999), noInvalidDate: true })
      .map((d) => d.toISOString()),
    fc.constantFrom('9999-12-31T23:00:00-05:00', '0000-01-01T00:30:00+01:00', '2099-12-31T23:59:59.999Z'),
  );
  const payloads = {
    page_view: fc.record({ url: id, referrer: fc.option(id, { nil: undefined }), duration_ms: count }),
    add_to_cart: fc.record({ product_id: id, quantity: count, unit_price: money, currency }),
    order_created: fc.record({
      order_id: id,
      items: fc.array(fc.record({ product_id: id, quantity: count, unit_price: money }), {
        minLength: 1,
        maxLength: 3,
      }),
      total_amount: money,
      currency,
    }),
    payment_processed: fc.record({
      payment_id: id,
      order_id: id,
      amount: money,
      currency,
      method: oneOf('card', 'paypal', 'bank_transfer', 'wallet'),
      status: oneOf('succeeded', 'failed', 'pending'),
    }),
    session_start: fc.record({
      device: oneOf('desktop', 'mobile', 'tablet'),
      country: oneOf('de', 'US', 'il'),
    }),
    session_end: fc.record({ duration_ms: count }),
    sensor_reading: fc.record({
      device_id: id,
      metric: id,
      value: edgy(fc.double({ noNaN: true }), edgeNumber),
    }),
    content_watched: fc.record({
      content_id: id,
      title: fc.option(id, { nil: undefined }),
      watch_duration_ms: count,
      content_length_ms: count,
      device: oneOf('desktop', 'mobile', 'tablet', 'tv'),
    }),
  };
  const event = fc.constantFrom(...EVENT_TYPES).chain((eventType) =>
    fc.record({
      event_id: fc.uuid(),
      schema_version: fc.constant(1),
      tenant_id: edgy(fc.constantFrom('acme', ' Globex ', 'tenant-7'), strangeText),
      event_type: fc.constant(eventType),
      occurred_at: timestamp,
      user_id: id,
      session_id: fc.option(id, { nil: undefined }),
      payload: payloads[eventType] as fc.Arbitrary<unknown>,
    }),
  );

  it('makes a row that both encoders accept (nothing valid can fail a batch)', () => {
    let accepted = 0;
    fc.assert(
      fc.property(event, (value) => {
        const decoded = decodeRecord(kinesisRecord(SHARD, '1', JSON.stringify(value)));
        if (!decoded.ok) return;
        accepted++;
        const origin = { shardId: SHARD, sequenceNumber: '1', partitionKey: 'k', arrivalTime: 0 };
        const row = toRow(decoded.event, origin, 0);
        encodeParquet([row]);
        encodeCsv([row]);
      }),
      { numRuns: 2_000, seed: 9 },
    );
    // The generator must reach the encoders often enough for the property to mean something.
    expect(accepted).toBeGreaterThan(200);
  });
});
