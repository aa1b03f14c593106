import type { KinesisStreamEvent, KinesisStreamRecord } from 'aws-lambda';

/** Builds Kinesis records in the exact shape Lambda delivers, for handler-level tests. */
export function kinesisRecord(
  shardId: string,
  sequenceNumber: string,
  data: string | Uint8Array,
  partitionKey = 'acme#u-1',
  arrivalSeconds = 1_793_500_000.123,
): KinesisStreamRecord {
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : Buffer.from(data);
  return {
    kinesis: {
      kinesisSchemaVersion: '1.0',
      partitionKey,
      sequenceNumber,
      data: bytes.toString('base64'),
      approximateArrivalTimestamp: arrivalSeconds,
    },
    eventSource: 'aws:kinesis',
    eventVersion: '1.0',
    eventID: `${shardId}:${sequenceNumber}`,
    eventName: 'aws:kinesis:record',
    invokeIdentityArn: 'arn:aws:iam::000000000000:role/consumer',
    awsRegion: 'us-east-1',
    eventSourceARN: 'arn:aws:kinesis:us-east-1:000000000000:stream/shardline-test-events',
  };
}

export const kinesisEvent = (records: KinesisStreamRecord[]): KinesisStreamEvent => ({ Records: records });

/** A valid event as JSON text, varied by `n`. */
export function validEventJson(n: number, overrides: Record<string, unknown> = {}): string {
  const hex = n.toString(16).padStart(12, '0');
  return JSON.stringify({
    event_id: `00000000-0000-4000-8000-${hex}`,
    schema_version: 1,
    tenant_id: 'acme',
    event_type: 'add_to_cart',
    occurred_at: '2026-11-01T03:15:00.000Z',
    user_id: `u-${n}`,
    session_id: 's-1',
    payload: { product_id: 'p-1', quantity: 2, unit_price: 10, currency: 'eur' },
    ...overrides,
  });
}

/** Sequence numbers the size Kinesis really uses (56 digits), far beyond 2^53. */
export const bigSequence = (n: number) =>
  `49657321564231783957204418562741890923${String(n).padStart(18, '0')}`;
