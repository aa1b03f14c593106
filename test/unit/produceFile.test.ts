import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { csvRowToEvent } from '../../cli/produce/csv';
import { InputFormatError, StrictValidationError } from '../../cli/produce/errors';
import type { InputRecord } from '../../cli/produce/inputRecord';
import { openInput } from '../../cli/produce/inputSource';
import { invocationChunks, MAX_RECORD_BYTES } from '../../cli/produce/invocationChunks';
import { progressLine } from '../../cli/produce/progressBar';
import { readRecords } from '../../cli/produce/readRecords';
import { type FileProducer, sendFile } from '../../cli/produce/sendFile';
import { parseEvent } from '../../lambdas/shared/events';

const dir = mkdtempSync(join(tmpdir(), 'shardline-produce-'));
let fileCount = 0;
function file(name: string, content: string | Buffer): string {
  const path = join(dir, `${++fileCount}-${name}`);
  writeFileSync(path, content);
  return path;
}

const event = (n: number, overrides: Record<string, unknown> = {}) => ({
  event_id: `0b8a6a9e-3f8e-4a53-9a7e-${String(n).padStart(12, '0')}`,
  schema_version: 1,
  tenant_id: 'acme',
  event_type: 'page_view',
  occurred_at: '2026-11-01T00:00:00Z',
  user_id: `u-${n}`,
  payload: { url: `/p/${n}` },
  ...overrides,
});

async function readAll(path: string, stdin?: Readable): Promise<{ format: string; records: InputRecord[] }> {
  const source = await openInput(path, undefined, stdin);
  const records: InputRecord[] = [];
  for await (const record of readRecords(source.stream, source.format)) records.push(record);
  return { format: source.format, records };
}

const NDJSON = `${JSON.stringify(event(1))}\n\n${JSON.stringify(event(2))}\r\n{"event_type": oops\n`;

describe('the NDJSON reader', () => {
  it('yields each non-blank line as its exact text, with its line number', async () => {
    const { format, records } = await readAll(file('events.ndjson', NDJSON));
    expect(format).toBe('ndjson');
    expect(records).toEqual([
      { line: 1, data: JSON.stringify(event(1)) },
      { line: 3, data: JSON.stringify(event(2)) },
      { line: 4, data: '{"event_type": oops' },
    ]);
  });

  it('reads gzip, recognised by its bytes whatever the name', async () => {
    const plain = await readAll(file('events.ndjson', NDJSON));
    expect(await readAll(file('events.ndjson.gz', gzipSync(NDJSON)))).toEqual(plain);
    expect((await readAll(file('events.data', gzipSync(NDJSON)))).records).toEqual(plain.records);
  });

  it('reads standard input for -, guessing the format from the first bytes', async () => {
    const ndjson = await readAll('-', Readable.from([Buffer.from(NDJSON)]));
    expect(ndjson.format).toBe('ndjson');
    expect(ndjson.records).toHaveLength(3);
    const array = await readAll('-', Readable.from([gzipSync(`[${JSON.stringify(event(1))}]`)]));
    expect(array.format).toBe('json');
    expect(array.records).toEqual([{ line: 1, data: event(1) }]);
  });

  it('reads an empty file as no records', async () => {
    expect((await readAll(file('empty.ndjson', ''))).records).toEqual([]);
    expect((await readAll(file('empty.json', ''))).records).toEqual([]);
    expect((await readAll(file('empty.csv', ''))).records).toEqual([]);
    expect((await readAll('-', Readable.from([]))).records).toEqual([]);
  });

  it('says which file it cannot open', async () => {
    await expect(openInput(join(dir, 'missing.ndjson'))).rejects.toThrowError(
      /cannot read .*missing.ndjson: ENOENT/,
    );
  });
});

describe('the JSON array reader', () => {
  it('yields objects element by element, across chunk boundaries, with the line each starts on', async () => {
    const text = `[\n ${JSON.stringify(event(1, { payload: { url: '/a,]}"\\\\' } }))},\n  ${JSON.stringify(event(2))}\n]\n`;
    // One byte at a time: every boundary falls somewhere inside a string, an escape or a nesting.
    const stream = Readable.from([...Buffer.from(text)].map((b) => Buffer.from([b])));
    const { records } = await readAll('-', stream);
    expect(records).toEqual([
      { line: 2, data: event(1, { payload: { url: '/a,]}"\\\\' } }) },
      { line: 3, data: event(2) },
    ]);
  });

  it('passes an element that is not valid JSON, or not an object, on as its text', async () => {
    const { records } = await readAll(
      file('events.json', `[{"a": tru}, 42, "x", ${JSON.stringify(event(3))}]`),
    );
    expect(records.map((r) => r.data)).toEqual(['{"a": tru}', '42', '"x"', event(3)]);
  });

  it('refuses a file that is not one closed array', async () => {
    await expect(readAll(file('open.json', '[{"a":1},'))).rejects.toThrowError(InputFormatError);
    await expect(readAll(file('object.json', '{"a":1}'))).rejects.toThrowError(/expected a JSON array/);
    await expect(readAll(file('trailing.json', '[{"a":1}] x'))).rejects.toThrowError(/after the end/);
  });
});

describe('the CSV reader', () => {
  const header =
    'event_id,schema_version,tenant_id,event_type,occurred_at,user_id,session_id,payment_id,order_id,amount,currency,method,status,merchant_id,location.country';
  const row = (n: number, amount: string) =>
    `${event(n).event_id},1,acme,payment_processed,2026-11-01T00:00:00Z,u-${n},,pay-${n},o-${n},${amount},USD,card,succeeded,"m-1, the ""best""",DE`;

  it('maps a header row onto the envelope and the payload, with numbers where the schema wants them', async () => {
    const { format, records } = await readAll(file('events.csv', `${header}\r\n${row(1, '12.5')}\r\n`));
    expect(format).toBe('csv');
    expect(records).toHaveLength(1);
    const data = records[0]?.data as Record<string, unknown>;
    expect(data).toMatchObject({
      schema_version: 1,
      event_type: 'payment_processed',
      payload: {
        amount: 12.5,
        payment_id: 'pay-1',
        merchant_id: 'm-1, the "best"',
        location: { country: 'DE' },
      },
    });
    expect(data).not.toHaveProperty('session_id');
    const parsed = parseEvent(data);
    expect(parsed.success).toBe(true);
  });

  it('keeps a quoted line break inside its field and counts lines for the next row', async () => {
    const text = `event_type,url,referrer\npage_view,"/a\nb",x\npage_view,/c,y\n`;
    const { records } = await readAll(file('multi.csv', text));
    expect(records).toEqual([
      { line: 2, data: { event_type: 'page_view', payload: { url: '/a\nb', referrer: 'x' } } },
      { line: 4, data: { event_type: 'page_view', payload: { url: '/c', referrer: 'y' } } },
    ]);
  });

  it('passes a row with the wrong number of cells on as its raw text', async () => {
    const { records } = await readAll(file('short.csv', `${header}\n${row(1, '3')}\nonly,three,cells\n`));
    expect(records[1]).toEqual({ line: 3, data: 'only,three,cells' });
  });

  it('refuses a header without event_type, and an unclosed quote', async () => {
    await expect(readAll(file('noheader.csv', 'a,b\n1,2\n'))).rejects.toThrowError(/no event_type column/);
    await expect(readAll(file('quote.csv', 'event_type,url\npage_view,"/a\n'))).rejects.toThrowError(
      /not closed/,
    );
  });

  it('leaves a number-looking id a string when the schema wants a string', () => {
    expect(
      csvRowToEvent(['event_type', 'product_id', 'quantity'], ['add_to_cart', '123', '2']).payload,
    ).toEqual({
      product_id: '123',
      quantity: 2,
    });
  });
});

describe('invocation chunks', () => {
  async function* records(texts: string[]): AsyncGenerator<InputRecord> {
    for (const [i, data] of texts.entries()) yield { line: i + 1, data };
  }

  it('keeps every request under the byte limit, counting JSON escapes, and keeps file order', async () => {
    const texts = Array.from({ length: 100 }, (_, i) => `{"n":${i},"q":"${'"'.repeat(50)}"}`);
    const chunks = [];
    for await (const chunk of invocationChunks(records(texts), { maxBytes: 2_000 })) chunks.push(chunk);
    expect(chunks.length).toBeGreaterThan(1);
    for (const chunk of chunks)
      expect(Buffer.byteLength(JSON.stringify({ records: chunk.records }))).toBeLessThanOrEqual(2_000);
    expect(chunks.flatMap((c) => c.records)).toEqual(texts);
  });

  it('reports a record larger than a Kinesis record instead of sending it', async () => {
    const oversized: number[] = [];
    const chunks = [];
    for await (const chunk of invocationChunks(records(['a', 'x'.repeat(MAX_RECORD_BYTES + 1), 'b']), {
      onOversized: (o) => oversized.push(o.line),
    }))
      chunks.push(chunk);
    expect(oversized).toEqual([2]);
    expect(chunks.flatMap((c) => c.records)).toEqual(['a', 'b']);
  });
});

describe('sending a file', () => {
  function recordingProducer() {
    const requests: (string | Record<string, unknown>)[][] = [];
    const producer: FileProducer = {
      async send({ records }) {
        requests.push(records);
        return { sent: records.length, failed: 0, shards: { 'shardId-000000000000': records.length } };
      },
    };
    return { producer, requests };
  }

  it('sends malformed lines as they are by default and counts them for the DLQ', async () => {
    const path = file('mixed.ndjson', NDJSON);
    const { producer, requests } = recordingProducer();
    const summary = await sendFile(() => openInput(path), producer, { rereadable: true });
    expect(requests.flat()).toEqual([
      JSON.stringify(event(1)),
      JSON.stringify(event(2)),
      '{"event_type": oops',
    ]);
    expect(summary).toMatchObject({ records: 3, sent: 3, failed: 0, invalid: 1, invocations: 1 });
    expect(summary.invalidSamples[0]).toMatchObject({ line: 4, problem: expect.stringMatching(/^not JSON/) });
  });

  it('with --strict, refuses a file with an invalid record before sending anything', async () => {
    const path = file('mixed.ndjson', NDJSON);
    const { producer, requests } = recordingProducer();
    await expect(
      sendFile(() => openInput(path), producer, { strict: true, rereadable: true }),
    ).rejects.toThrowError(StrictValidationError);
    expect(requests).toEqual([]);
  });

  it('with --strict on standard input, stops at the first invalid record and says what was sent', async () => {
    const { producer } = recordingProducer();
    const open = () => openInput('-', undefined, Readable.from([Buffer.from(NDJSON)]));
    await expect(sendFile(open, producer, { strict: true, rereadable: false })).rejects.toThrowError(
      /line 4 is not a valid event .*0 record\(s\) before it were already sent/,
    );
  });

  it('adds up partial failures of the producer', async () => {
    const path = file(
      'events.ndjson',
      Array.from({ length: 10 }, (_, i) => JSON.stringify(event(i))).join('\n'),
    );
    const producer: FileProducer = {
      async send({ records }) {
        return {
          sent: records.length - 1,
          failed: 1,
          shards: { 'shardId-000000000001': records.length - 1 },
        };
      },
    };
    const summary = await sendFile(() => openInput(path), producer, {
      rereadable: true,
      maxInvocationBytes: 1_000,
    });
    expect(summary.invocations).toBeGreaterThan(1);
    expect(summary.sent + summary.failed).toBe(10);
    expect(summary.failed).toBe(summary.invocations);
  });

  it('paces requests to --rate', async () => {
    const path = file(
      'events.ndjson',
      Array.from({ length: 10 }, (_, i) => JSON.stringify(event(i))).join('\n'),
    );
    const { producer, requests } = recordingProducer();
    let clock = 0;
    await sendFile(() => openInput(path), producer, {
      rereadable: true,
      rate: 4,
      now: () => clock,
      sleep: async (ms) => {
        clock += ms;
      },
    });
    expect(requests.map((r) => r.length)).toEqual([4, 4, 2]);
    expect(clock).toBe(2_000);
  });
});

describe('the progress line', () => {
  it('shows a bar when the size is known and counts only otherwise', () => {
    expect(progressLine({ records: 5, failed: 1, bytesRead: 50 }, 100)).toMatch(
      /^\[#{15} {15}\] {2}50% 5 records sent, 1 failed$/,
    );
    expect(progressLine({ records: 5, failed: 0, bytesRead: 50 }, null)).toBe('5 records sent');
  });
});

describe('the producer session on LocalStack and AWS', () => {
  it('sends each request as a synchronous Invoke of the producer function with { records }', async () => {
    const { InvokeCommand, LambdaClient } = await import('@aws-sdk/client-lambda');
    const { mockClient } = await import('aws-sdk-client-mock');
    const { openProducerSession } = await import('../../cli/produce/producerSession');
    const lambda = mockClient(LambdaClient);
    lambda.on(InvokeCommand).resolves({
      // The SDK wraps the bytes in a blob adapter; the code under test only decodes them.
      Payload: new TextEncoder().encode(
        JSON.stringify({ sent: 2, failed: 0, shards: { 'shardId-000000000000': 2 } }),
      ) as never,
    });
    const target = {
      name: 'aws' as const,
      resources: { producerFunctionName: 'shardline-dev-producer' },
      clientSettings: { region: 'eu-west-1' },
    } as unknown as Parameters<typeof openProducerSession>[0];
    const session = openProducerSession(target, { lambda: new LambdaClient({ region: 'eu-west-1' }) });
    const response = await session.send({ records: ['{"oops"', event(1)] });
    await session.close();
    expect(response.sent).toBe(2);
    const input = lambda.commandCalls(InvokeCommand)[0]?.args[0].input;
    expect(input).toMatchObject({
      FunctionName: 'shardline-dev-producer',
      InvocationType: 'RequestResponse',
    });
    expect(JSON.parse(new TextDecoder().decode(input?.Payload as Uint8Array))).toEqual({
      records: ['{"oops"', event(1)],
    });
    lambda.restore();
  });
});

describe('produce option checks', () => {
  it('refuses generator options with --file, and --strict without --file, in one line', async () => {
    const { produceCommand } = await import('../../cli/commands/produce');
    const base = {
      target: 'local' as const,
      stage: 'dev',
      dataDir: dir,
      json: false,
      events: 1,
      invalidRatio: 0,
      seed: 1,
      tenants: 1,
    };
    await expect(
      produceCommand({ ...base, file: 'x.ndjson' }, new Set(['events', 'invalidRatio'])),
    ).rejects.toThrowError("--file sends the file's events: drop --events, --invalid-ratio");
    await expect(produceCommand({ ...base, strict: true })).rejects.toThrowError(
      /--strict and --format apply to --file/,
    );
  });
});
