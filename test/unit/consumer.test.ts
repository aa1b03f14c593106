import { describe, expect, it } from 'vitest';
import { deadLetterMessage, INLINE_PAYLOAD_LIMIT } from '../../lambdas/consumer/deadLetter';
import { decodeRecord } from '../../lambdas/consumer/decode';
import { objectKey } from '../../lambdas/consumer/objects';
import { eventTimePartition, toRow } from '../../lambdas/consumer/transform';
import { compareSequenceNumbers, isAfter, sortableSequenceNumber } from '../../lambdas/shared/sequence';
import { bigSequence, kinesisRecord, validEventJson } from '../helpers/kinesisEvents';

const decode = (data: string | Uint8Array) => decodeRecord(kinesisRecord('shardId-000000000000', '1', data));

describe('decoding a Kinesis record', () => {
  it('accepts a valid event and normalises case, whitespace and currency', () => {
    const decoded = decode(validEventJson(1, { tenant_id: ' ACME ', event_type: ' Add_To_Cart ' }));
    expect(decoded.ok).toBe(true);
    if (!decoded.ok) return;
    expect(decoded.event.tenant_id).toBe('acme');
    expect(decoded.event.event_type).toBe('add_to_cart');
    expect(decoded.event.event_type === 'add_to_cart' && decoded.event.payload.currency).toBe('EUR');
  });

  it('converts a timestamp with an offset to UTC', () => {
    const decoded = decode(validEventJson(1, { occurred_at: '2026-11-01T05:15:00+02:00' }));
    expect(decoded.ok && decoded.event.occurred_at).toBe(Date.parse('2026-11-01T03:15:00Z'));
  });

  it.each([
    ['a newline', 'acme#u-1\nforged,row'],
    ['a carriage return', 'acme#u-1\r'],
    ['NUL', 'acme\u0000'],
    ['a bidirectional override', 'acme\u202Eu-1'],
  ])('rejects a record whose partition key holds %s, so it cannot split a CSV row', (_, partitionKey) => {
    const decoded = decodeRecord(kinesisRecord('shardId-000000000000', '1', validEventJson(1), partitionKey));
    expect(decoded.ok).toBe(false);
    expect(!decoded.ok && [decoded.reason, decoded.issues[0]?.path]).toEqual([
      'invalid_partition_key',
      'partition_key',
    ]);
  });

  it('accepts a partition key of ordinary text, emoji included', () => {
    expect(
      decodeRecord(kinesisRecord('shardId-000000000000', '1', validEventJson(1), 'acme#ü-1 😀')).ok,
    ).toBe(true);
  });

  it('drops a leading UTF-8 byte order mark', () => {
    expect(decode(`\uFEFF${validEventJson(1)}`).ok).toBe(true);
  });

  it('rejects bytes that are not UTF-8', () => {
    const decoded = decode(new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]));
    expect(decoded.ok === false && decoded.reason).toBe('invalid_utf8');
  });

  it('rejects truncated JSON', () => {
    const decoded = decode(validEventJson(1).slice(0, 40));
    expect(decoded.ok === false && decoded.reason).toBe('invalid_json');
  });

  it('rejects JSON that is not an object', () => {
    for (const text of ['[]', '42', '"text"', 'null']) {
      const decoded = decode(text);
      expect(decoded.ok === false && decoded.reason).toBe('not_an_object');
    }
  });

  it('rejects a missing field and names it in the issues', () => {
    const { user_id: _, ...event } = JSON.parse(validEventJson(1));
    const decoded = decode(JSON.stringify(event));
    expect(decoded.ok).toBe(false);
    if (decoded.ok) return;
    expect(decoded.reason).toBe('schema_violation');
    expect(decoded.issues.map((i) => i.path)).toContain('user_id');
  });

  it('rejects an unknown event type', () => {
    const decoded = decode(validEventJson(1, { event_type: 'teleport' }));
    expect(decoded.ok === false && decoded.reason).toBe('schema_violation');
  });

  it('rejects a timestamp without a zone', () => {
    const decoded = decode(validEventJson(1, { occurred_at: '2026-11-01T03:15:00' }));
    expect(decoded.ok).toBe(false);
  });

  it('rejects a currency the rate table does not know', () => {
    const decoded = decode(
      validEventJson(1, { payload: { product_id: 'p', quantity: 1, unit_price: 1, currency: 'XXX' } }),
    );
    expect(decoded.ok).toBe(false);
  });

  it('keeps the raw bytes of a rejected record for the DLQ', () => {
    const decoded = decode('not json');
    expect(decoded.ok === false && decoded.raw.toString()).toBe('not json');
  });
});

describe('transforming an event into a lake row', () => {
  const origin = {
    shardId: 'shardId-000000000001',
    sequenceNumber: bigSequence(5),
    partitionKey: 'acme#u-1',
    arrivalTime: 1_793_500_000_123,
  };

  it('enriches with event date and hour, USD amount and stream coordinates', () => {
    const decoded = decode(validEventJson(3));
    if (!decoded.ok) throw new Error('fixture must be valid');
    const row = toRow(decoded.event, origin, 1_793_500_001_000);
    expect(row).toMatchObject({
      event_date: '2026-11-01',
      event_hour: 3,
      amount: 20,
      currency: 'EUR',
      amount_usd: 21.6,
      shard_id: 'shardId-000000000001',
      sequence_number: bigSequence(5),
      arrival_time: 1_793_500_000_123,
      processed_at: 1_793_500_001_000,
    });
    expect(JSON.parse(row.payload)).toEqual({
      product_id: 'p-1',
      quantity: 2,
      unit_price: 10,
      currency: 'EUR',
    });
  });

  it('leaves money columns null for events without an amount', () => {
    const decoded = decode(validEventJson(4, { event_type: 'page_view', payload: { url: '/' } }));
    if (!decoded.ok) throw new Error('fixture must be valid');
    expect(toRow(decoded.event, origin, 0)).toMatchObject({ amount: null, currency: null, amount_usd: null });
  });

  it('partitions by UTC date and hour', () => {
    expect(eventTimePartition(Date.parse('2026-12-31T23:59:59.999Z'))).toEqual({
      date: '2026-12-31',
      hour: 23,
    });
  });
});

describe('sequence numbers', () => {
  it('compares 56-digit sequence numbers exactly, where Number would tie', () => {
    const a = bigSequence(1);
    const b = bigSequence(2);
    expect(Number(a)).toBe(Number(b));
    expect(compareSequenceNumbers(a, b)).toBe(-1);
    expect(isAfter(b, a)).toBe(true);
  });

  it('has a sortable form whose string order is numeric order', () => {
    expect(sortableSequenceNumber('99') < sortableSequenceNumber('100')).toBe(true);
    expect(() => sortableSequenceNumber('12a')).toThrowError(/not a Kinesis sequence number/);
  });
});

describe('output layout', () => {
  it('names objects after the shard, and the committed sequence range, under Hive partitions', () => {
    const key = objectKey(
      'parquet',
      { date: '2026-11-01', hour: 3 },
      {
        shardId: 'shardId-000000000000',
        firstSequenceNumber: '10',
        lastSequenceNumber: '20',
      },
    );
    expect(key).toBe('events/parquet/dt=2026-11-01/hour=03/shardId-000000000000-10-20.parquet');
  });
});

describe('dead-letter messages', () => {
  const origin = {
    shardId: 'shardId-000000000000',
    sequenceNumber: '77',
    partitionKey: 'acme#u-1',
    arrivalTime: 0,
  };

  it('carry reason, issues, coordinates and the payload as base64', () => {
    const message = deadLetterMessage(
      { origin, reason: 'invalid_json', issues: [{ path: '', message: 'bad' }], raw: Buffer.from('{oops') },
      'stream',
      0,
    );
    expect(message).toMatchObject({
      kind: 'invalid-record',
      recordId: 'shardId-000000000000:77',
      reason: 'invalid_json',
      shardId: 'shardId-000000000000',
      sequenceNumber: '77',
      payloadBytes: 5,
      payloadBase64: Buffer.from('{oops').toString('base64'),
    });
  });

  it('point to S3 instead of inlining a payload too large for SQS (claim check)', () => {
    const raw = Buffer.alloc(INLINE_PAYLOAD_LIMIT + 1, 0x61);
    const message = deadLetterMessage({ origin, reason: 'invalid_json', issues: [], raw }, 'stream', 0);
    expect(message.payloadBase64).toBeUndefined();
    expect(message.payloadS3Key).toBe('dlq-payloads/shardId-000000000000/77.bin');
  });
});
