import type { KinesisStreamEvent, KinesisStreamRecord } from './types';

/** A record as read from the shard (GetRecords), before it is shaped into Lambda's event. */
export interface StreamRecord {
  sequenceNumber: string;
  partitionKey: string;
  data: Uint8Array;
  approximateArrivalTimestampMs: number;
}

/** Where the records come from and who reads them: the fields every event record repeats. */
export interface EventRecordSource {
  shardId: string;
  streamArn: string;
  awsRegion: string;
  invokeIdentityArn: string;
}

/** A stream record with its event form and the bytes that form takes in the serialized event. */
export interface EventRecord {
  source: StreamRecord;
  event: KinesisStreamRecord;
  bytes: number;
}

/**
 * Shapes one stream record exactly as Lambda delivers it in a Kinesis event (same fields, same order),
 * with data in base64 and the arrival time in seconds as a float.
 *
 * @example
 * ```ts
 * toKinesisEventRecord(
 *   { sequenceNumber: '4959…', partitionKey: 'k', data: Buffer.from('hi'), approximateArrivalTimestampMs: 1545084650987 },
 *   { shardId: 'shardId-000000000006', streamArn, awsRegion: 'us-east-2', invokeIdentityArn },
 * ).kinesis.approximateArrivalTimestamp; // 1545084650.987
 * ```
 */
export function toKinesisEventRecord(record: StreamRecord, source: EventRecordSource): KinesisStreamRecord {
  return {
    kinesis: {
      kinesisSchemaVersion: '1.0',
      partitionKey: record.partitionKey,
      sequenceNumber: record.sequenceNumber,
      data: Buffer.from(record.data).toString('base64'),
      approximateArrivalTimestamp: record.approximateArrivalTimestampMs / 1000,
    },
    eventSource: 'aws:kinesis',
    eventVersion: '1.0',
    eventID: `${source.shardId}:${record.sequenceNumber}`,
    eventName: 'aws:kinesis:record',
    invokeIdentityArn: source.invokeIdentityArn,
    awsRegion: source.awsRegion,
    eventSourceARN: source.streamArn,
  };
}

/**
 * Shapes a record and measures it, so the batcher can keep the serialized event under the payload limit.
 *
 * @example
 * ```ts
 * const prepared = prepareEventRecord(record, source);
 * prepared.bytes === Buffer.byteLength(JSON.stringify(prepared.event)); // true
 * ```
 */
export function prepareEventRecord(record: StreamRecord, source: EventRecordSource): EventRecord {
  const event = toKinesisEventRecord(record, source);
  return { source: record, event, bytes: Buffer.byteLength(JSON.stringify(event)) };
}

/**
 * The event Lambda sends for a batch: `{ Records: [...] }`.
 *
 * @example
 * ```ts
 * const event = kinesisStreamEvent(batch);
 * await invoke(event);
 * ```
 */
export function kinesisStreamEvent(records: readonly EventRecord[]): KinesisStreamEvent {
  return { Records: records.map((record) => record.event) };
}
