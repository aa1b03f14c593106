import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { KinesisStreamEvent } from 'aws-lambda';
import { encodeParquet } from '../lambdas/consumer/sinks/parquet';
import { eventTimePartition } from '../lambdas/consumer/transform';
import type { EventRow } from '../lambdas/shared/rows';

/**
 * The naive peer of issue 17: what a consumer without exactly-once looks like. Each batch becomes one
 * Parquet object (the same writer as Shardline's) with one PUT; no checkpoint, no staging, no commit, no
 * CSV, no analytics and no validation: a record is JSON-parsed and its fields copied as they are. A
 * record whose JSON does not parse, or that lacks a field the writer requires, is dropped (the writer
 * would throw on it). A retried batch writes its records again: at least once.
 */

type Raw = Record<string, unknown>;

const text = (value: unknown) => (typeof value === 'string' ? value : null);

function naiveRow(raw: Raw, record: KinesisStreamEvent['Records'][number], processedAt: number) {
  const occurredAt = Date.parse(String(raw.occurred_at));
  const eventId = text(raw.event_id);
  const tenantId = text(raw.tenant_id);
  const eventType = text(raw.event_type);
  const userId = text(raw.user_id);
  if (!eventId || !tenantId || !eventType || !userId || Number.isNaN(occurredAt)) return null;
  const { date, hour } = eventTimePartition(occurredAt);
  const payload = (raw.payload ?? {}) as Raw;
  const amount = typeof payload.amount === 'number' ? payload.amount : null;
  const row: EventRow = {
    event_id: eventId,
    schema_version: Number(raw.schema_version) || 1,
    tenant_id: tenantId,
    event_type: eventType,
    occurred_at: occurredAt,
    user_id: userId,
    session_id: text(raw.session_id),
    amount,
    currency: text(payload.currency),
    amount_usd: amount,
    payload: JSON.stringify(payload),
    event_date: date,
    event_hour: hour,
    shard_id: record.eventID.slice(0, record.eventID.indexOf(':')),
    sequence_number: record.kinesis.sequenceNumber,
    partition_key: record.kinesis.partitionKey,
    arrival_time: Math.round(record.kinesis.approximateArrivalTimestamp * 1000),
    processed_at: processedAt,
  };
  return row;
}

/**
 * Writes a batch as one Parquet object, at least once. Returns the rows written.
 *
 * @example
 * ```ts
 * await naiveConsumer(event, s3, 'my-lake');
 * ```
 */
export async function naiveConsumer(
  event: KinesisStreamEvent,
  s3: S3Client,
  bucket: string,
): Promise<number> {
  const processedAt = Date.now();
  const rows: EventRow[] = [];
  for (const record of event.Records) {
    let raw: unknown;
    try {
      raw = JSON.parse(Buffer.from(record.kinesis.data, 'base64').toString('utf8'));
    } catch {
      continue;
    }
    const row = raw && typeof raw === 'object' ? naiveRow(raw as Raw, record, processedAt) : null;
    if (row) rows.push(row);
  }
  const first = event.Records[0];
  if (!first) return 0;
  const last = event.Records.at(-1) ?? first;
  const key = `naive/${first.eventID.replace(':', '-')}-${last.kinesis.sequenceNumber}.parquet`;
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: encodeParquet(rows) }));
  return rows.length;
}
