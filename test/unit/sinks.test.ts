import type { JS } from '@duckdb/node-api';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeCsv, encodeParquet, InvalidEventRowError } from '../../lambdas/consumer/sinks';
import { type ColumnType, EVENT_COLUMNS, type EventRow } from '../../lambdas/shared/rows';
import { type DuckDbScratch, openDuckDb } from '../helpers/duckdb';

const DUCKDB_TYPES: Record<ColumnType, string> = {
  string: 'VARCHAR',
  int32: 'INTEGER',
  double: 'DOUBLE',
  timestamptz: 'TIMESTAMP WITH TIME ZONE',
  date: 'DATE',
};

/** Selects a DuckDB relation back into the EventRow shape: epoch milliseconds and YYYY-MM-DD text. */
const AS_EVENT_ROWS = EVENT_COLUMNS.map(({ name, type }) => {
  if (type === 'timestamptz') return `epoch_ms(${name})::DOUBLE AS ${name}`;
  if (type === 'date') return `${name}::VARCHAR AS ${name}`;
  return name;
}).join(', ');

/** Explicit types, quoted "" kept as '' (allow_quoted_nulls), and no sniffing: the CSV is read as written. */
function readCsv(file: string): string {
  const columns = EVENT_COLUMNS.map(({ name, type }) => `'${name}': '${DUCKDB_TYPES[type]}'`).join(', ');
  return (
    `read_csv(${file}, header = true, columns = {${columns}}, auto_detect = false, delim = ',', ` +
    `quote = '"', escape = '"', new_line = '\\n', allow_quoted_nulls = false)`
  );
}

const BASE_ROW: EventRow = {
  event_id: '0b6f4f1e-6d1a-4f55-9a51-3c7e2d9a1b00',
  schema_version: 1,
  tenant_id: 'acme',
  event_type: 'payment_processed',
  occurred_at: Date.UTC(2026, 2, 14, 9, 26, 53, 589),
  user_id: 'user-42',
  session_id: 'session-7',
  amount: 19.99,
  currency: 'EUR',
  amount_usd: 21.6891,
  payload: '{"payment_id":"pay-1","order_id":"ord-1","amount":19.99,"currency":"EUR","method":"card"}',
  event_date: '2026-03-14',
  event_hour: 9,
  shard_id: 'shardId-000000000001',
  sequence_number: '49654961345298432180927634158921034877246110347112349714',
  partition_key: 'user-42',
  arrival_time: Date.UTC(2026, 2, 14, 9, 26, 54, 1),
  processed_at: Date.UTC(2026, 2, 14, 9, 26, 55, 250),
};

function realisticRow(index: number): EventRow {
  const occurredAt = Date.UTC(2026, 2, 14, 0, 0, 0, 0) + index * 8_191;
  const hasAmount = index % 3 !== 0;
  return {
    event_id: `0b6f4f1e-6d1a-4f55-9a51-${index.toString(16).padStart(12, '0')}`,
    schema_version: 1,
    tenant_id: `tenant-${index % 7}`,
    event_type: hasAmount ? 'order_created' : 'page_view',
    occurred_at: occurredAt,
    user_id: `user-${index % 997}`,
    session_id: index % 5 === 0 ? null : `session-${index % 211}`,
    amount: hasAmount ? (index % 10_000) / 100 : null,
    currency: hasAmount ? 'EUR' : null,
    amount_usd: hasAmount ? ((index % 10_000) / 100) * 1.085 : null,
    payload: hasAmount
      ? `{"order_id":"ord-${index}","items":[{"product_id":"sku-${index % 89}","quantity":2}]}`
      : `{"url":"https://shop.example.com/p/${index % 89}?q=a,b","referrer":"https://s.example/?q=\\"x\\""}`,
    event_date: new Date(occurredAt).toISOString().slice(0, 10),
    event_hour: new Date(occurredAt).getUTCHours(),
    shard_id: `shardId-00000000000${index % 4}`,
    sequence_number: (49654961345298432180927634158921034877246110347112349714n + BigInt(index)).toString(),
    partition_key: `user-${index % 997}`,
    arrival_time: occurredAt + 250,
    processed_at: occurredAt + 1_250,
  };
}

/** Values at the edges of each column type, plus a row whose nullable columns are all null. */
const EDGE_ROWS: EventRow[] = [
  BASE_ROW,
  { ...BASE_ROW, session_id: null, amount: null, currency: null, amount_usd: null },
  {
    ...BASE_ROW,
    event_id: '',
    schema_version: -2_147_483_648,
    tenant_id: 'a,b "c"\r\n\u0000\uFEFF😀 שלום',
    occurred_at: -62_167_219_200_000,
    session_id: '',
    amount: -0,
    currency: '',
    amount_usd: 5e-324,
    payload: '{}',
    event_date: '1969-12-31',
    event_hour: 2_147_483_647,
    arrival_time: 253_402_300_799_999,
    processed_at: -1,
  },
  { ...BASE_ROW, amount: Number.MAX_VALUE, amount_usd: -1e21, event_date: '2024-02-29' },
];

let duckdb: DuckDbScratch;
let filesWritten = 0;

beforeAll(async () => {
  duckdb = await openDuckDb();
});

afterAll(() => duckdb?.close());

async function parquetRoundTrip(rows: readonly EventRow[]): Promise<Record<string, JS>[]> {
  const file = duckdb.writeFile(`round-trip-${++filesWritten}.parquet`, encodeParquet(rows));
  return duckdb.query(`SELECT ${AS_EVENT_ROWS} FROM read_parquet(${file})`);
}

async function csvRoundTrip(name: string, rows: readonly EventRow[]): Promise<Record<string, JS>[]> {
  const file = duckdb.writeFile(`${name}.csv`, encodeCsv(rows));
  return duckdb.query(`SELECT ${AS_EVENT_ROWS} FROM ${readCsv(file)}`);
}

function csvText(rows: readonly EventRow[]): string {
  return Buffer.from(encodeCsv(rows)).toString('utf8');
}

describe('encodeParquet', () => {
  it('writes every value, nulls included, so that DuckDB reads back exactly the input rows', async () => {
    expect(await parquetRoundTrip(EDGE_ROWS)).toEqual(EDGE_ROWS);
  });

  it('declares the EVENT_COLUMNS in order as VARCHAR, INTEGER, DOUBLE, TIMESTAMPTZ and DATE', async () => {
    const file = duckdb.writeFile('describe.parquet', encodeParquet([BASE_ROW]));
    const described = await duckdb.query(`DESCRIBE SELECT * FROM read_parquet(${file})`);

    expect(described.map(({ column_name, column_type }) => [column_name, column_type])).toEqual(
      EVENT_COLUMNS.map(({ name, type }) => [name, DUCKDB_TYPES[type]]),
    );
  });

  it('marks nullable columns OPTIONAL and the others REQUIRED', async () => {
    const file = duckdb.writeFile('schema.parquet', encodeParquet([BASE_ROW]));
    const schema = await duckdb.query(
      `SELECT name, repetition_type FROM parquet_schema(${file}) WHERE num_children IS NULL`,
    );

    expect(schema).toEqual(
      EVENT_COLUMNS.map(({ name, nullable }) => ({
        name,
        repetition_type: nullable ? 'OPTIONAL' : 'REQUIRED',
      })),
    );
  });

  it('compresses every column chunk with Snappy', async () => {
    const file = duckdb.writeFile('snappy.parquet', encodeParquet(EDGE_ROWS));
    const codecs = await duckdb.query(`SELECT DISTINCT compression FROM parquet_metadata(${file})`);

    expect(codecs).toEqual([{ compression: 'SNAPPY' }]);
  });

  it('dictionary-encodes a repetitive column such as tenant_id', async () => {
    const file = duckdb.writeFile('dictionary.parquet', encodeParquet(EDGE_ROWS));
    const [chunk] = await duckdb.query(
      `SELECT encodings FROM parquet_metadata(${file}) WHERE path_in_schema = 'tenant_id'`,
    );

    expect(chunk?.encodings).toContain('RLE_DICTIONARY');
  });

  it('writes a valid file with the full schema and zero rows when there are no rows', async () => {
    const file = duckdb.writeFile('empty.parquet', encodeParquet([]));

    expect(await duckdb.query(`SELECT count(*)::INTEGER AS rows FROM read_parquet(${file})`)).toEqual([
      { rows: 0 },
    ]);
    expect(await duckdb.query(`DESCRIBE SELECT * FROM read_parquet(${file})`)).toHaveLength(
      EVENT_COLUMNS.length,
    );
  });

  it('encodes 10,000 realistic rows that DuckDB reads back unchanged', async () => {
    const rows = Array.from({ length: 10_000 }, (_, index) => realisticRow(index));

    expect(await parquetRoundTrip(rows)).toEqual(rows);
  });
});

describe('encodeCsv', () => {
  it('starts with a header line of the EVENT_COLUMNS names and ends every record with a single LF', () => {
    const text = csvText([BASE_ROW, BASE_ROW]);

    expect(text.split('\n')[0]).toBe(EVENT_COLUMNS.map(({ name }) => name).join(','));
    expect(text.endsWith('\n')).toBe(true);
    expect(text.split('\n')).toHaveLength(4);
    expect(text).not.toContain('\r');
  });

  it('writes only the header line when there are no rows', () => {
    expect(csvText([])).toBe(`${EVENT_COLUMNS.map(({ name }) => name).join(',')}\n`);
  });

  it('leaves a field unquoted when nothing in it needs quoting', () => {
    expect(csvText([BASE_ROW]).split('\n')[1]).toBe(
      '0b6f4f1e-6d1a-4f55-9a51-3c7e2d9a1b00,1,acme,payment_processed,2026-03-14T09:26:53.589Z,user-42,' +
        'session-7,19.99,EUR,21.6891,"{""payment_id"":""pay-1"",""order_id"":""ord-1"",""amount"":19.99,' +
        '""currency"":""EUR"",""method"":""card""}",2026-03-14,9,shardId-000000000001,' +
        '49654961345298432180927634158921034877246110347112349714,user-42,2026-03-14T09:26:54.001Z,' +
        '2026-03-14T09:26:55.250Z',
    );
  });

  it('writes timestamps as ISO-8601 UTC with milliseconds and a Z', () => {
    const [, record] = csvText([{ ...BASE_ROW, occurred_at: Date.UTC(2026, 0, 2, 3, 4, 5, 0) }]).split('\n');

    expect(record?.split(',')[4]).toBe('2026-01-02T03:04:05.000Z');
  });

  it('formats any timestamp from year 0000 to 9999 exactly as Date.prototype.toISOString does', () => {
    const epochMs = fc.integer({ min: -62_167_219_200_000, max: 253_402_300_799_999 });

    fc.assert(
      fc.property(epochMs, (occurredAt) => {
        const [, record] = csvText([{ ...BASE_ROW, occurred_at: occurredAt }]).split('\n');
        expect(record?.split(',')[4]).toBe(new Date(occurredAt).toISOString());
      }),
    );
  });

  it('quotes a value with a leading space', () => {
    const [, record] = csvText([{ ...BASE_ROW, user_id: ' leading' }]).split('\n');

    expect(record).toContain(',2026-03-14T09:26:53.589Z," leading",session-7,');
  });

  it('quotes a value with a trailing space', () => {
    const [, record] = csvText([{ ...BASE_ROW, user_id: 'trailing ' }]).split('\n');

    expect(record).toContain(',2026-03-14T09:26:53.589Z,"trailing ",session-7,');
  });

  describe('round trip through DuckDB read_csv', () => {
    const edgeCases: [string, string][] = [
      ['a comma', 'a,b'],
      ['a double quote', 'say "hi" ""'],
      ['a lone CR', 'line\rbreak'],
      ['a lone LF', 'line\nbreak'],
      ['a CRLF', 'line\r\nbreak'],
      ['a NUL byte', 'nul\u0000byte'],
      ['a byte order mark inside the value', 'a\uFEFFb'],
      ['an emoji', 'rocket 🚀 and family 👨‍👩‍👧'],
      ['right-to-left text', 'שלום עולם مرحبا'],
      ['a leading and trailing space', ' padded '],
      ['a leading single quote', "'quoted"],
      ['JSON text', '{"a":[1,2],"b":"x,y"}'],
    ];
    const formulaCases: [string, string][] = [
      ['=', '=HYPERLINK("http://evil.example","click")'],
      ['+', '+1+1'],
      ['-', '-2+3'],
      ['@', '@SUM(A1:A2)'],
      ['tab', '\t=1'],
      ['CR', '\r=1'],
    ];
    const edgeRows = edgeCases.map(([, value]) => ({ ...BASE_ROW, user_id: value, session_id: value }));
    const formulaRows = formulaCases.map(([, value]) => ({ ...BASE_ROW, user_id: value, session_id: value }));
    let readBack: { edge: Record<string, JS>[]; formula: Record<string, JS>[] };

    beforeAll(async () => {
      readBack = {
        edge: await csvRoundTrip('edge', edgeRows),
        formula: await csvRoundTrip('formula', formulaRows),
      };
    });

    it.each(edgeCases.map(([label, value], index) => ({ label, value, index })))(
      'keeps a value with $label intact',
      ({ value, index }) => {
        expect(readBack.edge[index]).toMatchObject({ user_id: value, session_id: value });
      },
    );

    it.each(formulaCases.map(([label, value], index) => ({ label, value, index })))(
      'neutralises a string starting with $label by prefixing a single quote',
      ({ value, index }) => {
        expect(readBack.formula[index]).toMatchObject({ user_id: `'${value}`, session_id: `'${value}` });
      },
    );

    it('reads every other column of a neutralised row back unchanged', () => {
      const { user_id: _user, session_id: _session, ...rest } = BASE_ROW;

      expect(readBack.formula[0]).toMatchObject(rest);
    });

    it('does not prefix negative numbers, which are not strings', async () => {
      const rows = [{ ...BASE_ROW, amount: -12.5, amount_usd: -13.5625 }];

      expect(await csvRoundTrip('negative', rows)).toEqual(rows);
    });

    it('reads null back as NULL and the empty string back as an empty string', async () => {
      const rows = [
        { ...BASE_ROW, session_id: null, currency: null },
        { ...BASE_ROW, session_id: '', currency: '' },
      ];

      expect(await csvRoundTrip('empty-vs-null', rows)).toEqual(rows);
    });

    it('keeps 56-digit sequence numbers as exact strings', async () => {
      const sequenceNumber = '49654961345298432180927634158921034877246110347112349714';
      const [row] = await csvRoundTrip('sequence', [{ ...BASE_ROW, sequence_number: sequenceNumber }]);

      expect(row?.sequence_number).toBe(sequenceNumber);
    });

    it('reads back exactly the rows with values at the edges of every column type', async () => {
      expect(await csvRoundTrip('edges', EDGE_ROWS)).toEqual(EDGE_ROWS);
    });

    it('encodes 10,000 realistic rows that DuckDB reads back unchanged', async () => {
      const rows = Array.from({ length: 10_000 }, (_, index) => realisticRow(index));

      expect(await csvRoundTrip('realistic', rows)).toEqual(rows);
    });
  });

  it('writes a leading byte order mark as its UTF-8 bytes (DuckDB strips it when reading)', () => {
    const record = encodeCsv([{ ...BASE_ROW, user_id: '\uFEFFbom' }]);

    expect(Buffer.from(record).includes(Buffer.from([0x2c, 0xef, 0xbb, 0xbf, 0x62, 0x6f, 0x6d, 0x2c]))).toBe(
      true,
    );
  });
});

describe.each([
  ['encodeParquet', encodeParquet],
  ['encodeCsv', encodeCsv],
])('%s refuses a row that breaks the EVENT_COLUMNS contract', (_name, encode) => {
  it('throws InvalidEventRowError naming the row and column for a null in a non-nullable column', () => {
    const rows = [BASE_ROW, { ...BASE_ROW, payload: null as unknown as string }];

    expect(() => encode(rows)).toThrowError(InvalidEventRowError);
    expect(() => encode(rows)).toThrowError(/Row 1, column "payload"/);
  });

  it('throws InvalidEventRowError for a fractional int32', () => {
    expect(() => encode([{ ...BASE_ROW, event_hour: 1.5 }])).toThrowError(InvalidEventRowError);
  });

  it('throws InvalidEventRowError for a non-finite double', () => {
    expect(() => encode([{ ...BASE_ROW, amount: Number.NaN }])).toThrowError(InvalidEventRowError);
  });

  it('throws InvalidEventRowError for a timestamp that is not whole epoch milliseconds', () => {
    expect(() => encode([{ ...BASE_ROW, occurred_at: 1.5 }])).toThrowError(InvalidEventRowError);
  });

  it('throws InvalidEventRowError for an impossible date', () => {
    expect(() => encode([{ ...BASE_ROW, event_date: '2026-02-30' }])).toThrowError(InvalidEventRowError);
  });
});
