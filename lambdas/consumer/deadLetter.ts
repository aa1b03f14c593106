import { createHash } from 'node:crypto';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import {
  SendMessageBatchCommand,
  type SendMessageBatchRequestEntry,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { chunkBySize } from '../shared/chunkBySize';
import { ShardlineError } from '../shared/errors';
import type { InvalidReason, ValidationIssue } from './decode';
import type { RecordOrigin } from './transform';

/**
 * Invalid records go to the SQS dead-letter queue, one message each, with everything needed to
 * understand and redrive them. Exactly-once for the DLQ is "deterministic ids plus dedup on read"
 * (docs/EXACTLY_ONCE.md): SQS cannot take a message back, so a replay after a crash may send a record's
 * message twice, and every reader (`shardline verify`, `dlq list`) counts distinct `recordId`s.
 */

export const DLQ_MESSAGE_KIND = 'invalid-record';
/** Raw payloads up to this size travel inline (base64); larger ones go to S3 (claim check). */
export const INLINE_PAYLOAD_LIMIT = 64 * 1024;
/** SQS limits: 10 entries and 256 KiB per SendMessageBatch. */
const BATCH_ENTRIES = 10;
const BATCH_BYTES = 250 * 1024;

export interface InvalidRecord {
  origin: RecordOrigin;
  reason: InvalidReason;
  issues: ValidationIssue[];
  raw: Buffer;
}

export interface DeadLetterMessage {
  kind: typeof DLQ_MESSAGE_KIND;
  /** `<shardId>:<sequenceNumber>`: the same on every replay, the key readers deduplicate on. */
  recordId: string;
  reason: InvalidReason;
  issues: ValidationIssue[];
  streamName: string;
  shardId: string;
  sequenceNumber: string;
  partitionKey: string;
  approximateArrivalTimestamp: string;
  payloadBytes: number;
  /** SHA-256 of the raw payload (hex), so a reader can check an inline or claim-checked copy. */
  payloadSha256: string;
  payloadBase64?: string;
  /** Set instead of `payloadBase64` when the payload is too large for SQS. */
  payloadS3Key?: string;
  failedAt: string;
}

export const recordIdOf = (origin: RecordOrigin) => `${origin.shardId}:${origin.sequenceNumber}`;

/** The S3 key of a claim-checked payload: deterministic, so a replay overwrites the same object. */
export const claimCheckKey = (origin: RecordOrigin) =>
  `dlq-payloads/${origin.shardId}/${origin.sequenceNumber}.bin`;

/**
 * Builds the DLQ message for an invalid record.
 *
 * @example
 * ```ts
 * const message = deadLetterMessage(record, 'shardline-dev-events', Date.now());
 * ```
 */
export function deadLetterMessage(record: InvalidRecord, streamName: string, now: number): DeadLetterMessage {
  const inline = record.raw.byteLength <= INLINE_PAYLOAD_LIMIT;
  return {
    kind: DLQ_MESSAGE_KIND,
    recordId: recordIdOf(record.origin),
    reason: record.reason,
    issues: record.issues.map((issue) => ({
      path: issue.path.slice(0, 256),
      message: issue.message.slice(0, 512),
    })),
    streamName,
    shardId: record.origin.shardId,
    sequenceNumber: record.origin.sequenceNumber,
    partitionKey: record.origin.partitionKey,
    approximateArrivalTimestamp: new Date(record.origin.arrivalTime).toISOString(),
    payloadBytes: record.raw.byteLength,
    payloadSha256: createHash('sha256').update(record.raw).digest('hex'),
    ...(inline
      ? { payloadBase64: record.raw.toString('base64') }
      : { payloadS3Key: claimCheckKey(record.origin) }),
    failedAt: new Date(now).toISOString(),
  };
}

export class DeadLetterSendError extends ShardlineError {
  constructor(failed: number, detail: string) {
    super(`${failed} dead-letter message(s) were not accepted by SQS: ${detail}`);
    this.name = 'DeadLetterSendError';
  }
}

export interface DeadLetterTarget {
  sqs: SQSClient;
  s3: S3Client;
  queueUrl: string;
  bucketName: string;
  streamName: string;
}

/**
 * Sends every invalid record to the DLQ, claim-checking oversized payloads into S3 first. Throws if any
 * message is not accepted, so that the batch fails and is retried: nothing is silently dropped.
 */
export async function sendToDeadLetterQueue(
  target: DeadLetterTarget,
  records: readonly InvalidRecord[],
  now: number,
) {
  const oversized = records.filter((r) => r.raw.byteLength > INLINE_PAYLOAD_LIMIT);
  await Promise.all(
    oversized.map((r) =>
      target.s3.send(
        new PutObjectCommand({ Bucket: target.bucketName, Key: claimCheckKey(r.origin), Body: r.raw }),
      ),
    ),
  );
  const entries: SendMessageBatchRequestEntry[] = records.map((record, index) => {
    const message = deadLetterMessage(record, target.streamName, now);
    return {
      Id: String(index),
      MessageBody: JSON.stringify(message),
      MessageAttributes: {
        kind: { DataType: 'String', StringValue: DLQ_MESSAGE_KIND },
        recordId: { DataType: 'String', StringValue: message.recordId },
        reason: { DataType: 'String', StringValue: message.reason },
      },
    };
  });
  for (const batch of sqsBatches(entries)) {
    const response = await target.sqs.send(
      new SendMessageBatchCommand({ QueueUrl: target.queueUrl, Entries: batch }),
    );
    const failed = response.Failed ?? [];
    if (failed.length > 0) {
      throw new DeadLetterSendError(failed.length, failed.map((f) => `${f.Code}: ${f.Message}`).join('; '));
    }
  }
}

const sqsBatches = (entries: SendMessageBatchRequestEntry[]) =>
  chunkBySize(
    entries,
    { maxItems: BATCH_ENTRIES, maxBytes: BATCH_BYTES },
    (entry) => Buffer.byteLength(entry.MessageBody ?? '') + 512,
  );
