import { randomUUID } from 'node:crypto';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { StreamRecord } from './eventShape';
import type { KinesisStreamRecord } from './types';

/** Why a batch was discarded, as the on-failure record's `requestContext.condition` says it. */
export type OnFailureCondition = 'RetryAttemptsExhausted' | 'RecordAgeExceeded';

/** The function's last answer for the batch, as Lambda reports it in `responseContext`. */
export interface ResponseContext {
  statusCode: number;
  executedVersion: string;
  /** `Unhandled` for an error, a timeout or a crash; null when the function answered (AWS sends the key). */
  functionError: 'Unhandled' | null;
}

/**
 * The invocation record Lambda sends to an SQS or SNS on-failure destination for a Kinesis batch (Lambda
 * developer guide, "Retain discarded batch records for a Kinesis Data Streams event source"). It carries
 * metadata only: read the records again from the stream with the sequence numbers. Field order as AWS
 * sends it (test/fixtures/aws/).
 */
export interface KinesisOnFailureMessage {
  requestContext: {
    requestId: string;
    functionArn: string;
    condition: OnFailureCondition;
    approximateInvokeCount: number;
  };
  /** Only with RetryAttemptsExhausted: AWS sends none with RecordAgeExceeded, invoked or not. */
  responseContext?: ResponseContext;
  version: '1.0';
  timestamp: string;
  KinesisBatchInfo: {
    shardId: string;
    startSequenceNumber: string;
    endSequenceNumber: string;
    approximateArrivalOfFirstRecord: string;
    approximateArrivalOfLastRecord: string;
    batchSize: number;
    streamArn: string;
  };
}

export interface OnFailureMessageInput {
  /** The request id of the last invocation of these records; a new one if there was none. */
  requestId?: string;
  functionArn: string;
  condition: OnFailureCondition;
  approximateInvokeCount: number;
  response?: ResponseContext;
  discardedAt: Date;
  shardId: string;
  streamArn: string;
  /** The discarded records, in shard order (non-empty). */
  records: readonly StreamRecord[];
}

/**
 * What Lambda writes to an S3 on-failure destination: the metadata plus the invocation's records
 * (`payload.Records`, shaped as in the event). AWS writes the metadata with its keys sorted and the
 * payload as the event was (test/fixtures/aws/s3-on-failure-object.json).
 */
export interface KinesisS3OnFailureObject {
  KinesisBatchInfo: KinesisOnFailureMessage['KinesisBatchInfo'];
  payload: { Records: KinesisStreamRecord[] };
  requestContext: KinesisOnFailureMessage['requestContext'];
  responseContext?: ResponseContext;
  timestamp: string;
  version: '1.0';
}

/**
 * Builds the on-failure message for a discarded range of records, field for field as AWS sends it.
 *
 * @example
 * ```ts
 * const message = buildOnFailureMessage({ functionArn, condition: 'RetryAttemptsExhausted',
 *   approximateInvokeCount: 3, response: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
 *   discardedAt: new Date(), shardId: 'shardId-000000000000', streamArn, records });
 * message.KinesisBatchInfo.batchSize === records.length; // true
 * ```
 */
export function buildOnFailureMessage(input: OnFailureMessageInput): KinesisOnFailureMessage {
  const first = input.records[0];
  const last = input.records[input.records.length - 1];
  if (first === undefined || last === undefined) throw new RangeError('an on-failure message needs records');
  return {
    requestContext: {
      requestId: input.requestId ?? randomUUID(),
      functionArn: input.functionArn,
      condition: input.condition,
      approximateInvokeCount: input.approximateInvokeCount,
    },
    // AWS reports the last response only when the retries ran out (test/fixtures/aws/README.md).
    ...(input.response === undefined || input.condition === 'RecordAgeExceeded'
      ? {}
      : { responseContext: input.response }),
    version: '1.0',
    timestamp: input.discardedAt.toISOString(),
    KinesisBatchInfo: {
      shardId: input.shardId,
      startSequenceNumber: first.sequenceNumber,
      endSequenceNumber: last.sequenceNumber,
      approximateArrivalOfFirstRecord: new Date(first.approximateArrivalTimestampMs).toISOString(),
      approximateArrivalOfLastRecord: new Date(last.approximateArrivalTimestampMs).toISOString(),
      batchSize: input.records.length,
      streamArn: input.streamArn,
    },
  };
}

/**
 * The S3 form of an on-failure record: the metadata with sorted keys, and the records as the event carried them.
 *
 * @example
 * ```ts
 * const object = s3OnFailureObject(message, batch.map((record) => record.event));
 * object.payload.Records.length === message.KinesisBatchInfo.batchSize; // true
 * ```
 */
export function s3OnFailureObject(
  message: KinesisOnFailureMessage,
  records: readonly KinesisStreamRecord[],
): KinesisS3OnFailureObject {
  const info = message.KinesisBatchInfo;
  const request = message.requestContext;
  const response = message.responseContext;
  return {
    KinesisBatchInfo: {
      approximateArrivalOfFirstRecord: info.approximateArrivalOfFirstRecord,
      approximateArrivalOfLastRecord: info.approximateArrivalOfLastRecord,
      batchSize: info.batchSize,
      endSequenceNumber: info.endSequenceNumber,
      shardId: info.shardId,
      startSequenceNumber: info.startSequenceNumber,
      streamArn: info.streamArn,
    } as KinesisOnFailureMessage['KinesisBatchInfo'],
    payload: { Records: [...records] },
    requestContext: {
      approximateInvokeCount: request.approximateInvokeCount,
      condition: request.condition,
      functionArn: request.functionArn,
      requestId: request.requestId,
    } as KinesisOnFailureMessage['requestContext'],
    ...(response
      ? {
          responseContext: {
            executedVersion: response.executedVersion,
            functionError: response.functionError,
            statusCode: response.statusCode,
          } as ResponseContext,
        }
      : {}),
    timestamp: message.timestamp,
    version: message.version,
  };
}

/**
 * The key Lambda gives an S3 on-failure object (Lambda developer guide, "Retain discarded batch records
 * for a Kinesis Data Streams event source"): `aws/lambda/<ESM-UUID>/<shardID>/YYYY/MM/DD/YYYY-MM-DDTHH.MM.SS-<Random UUID>`.
 *
 * @example
 * ```ts
 * s3OnFailureObjectKey('6d2c…', 'shardId-000000000000', new Date('2026-12-02T20:10:05Z'), 'f00…');
 * // 'aws/lambda/6d2c…/shardId-000000000000/2026/12/02/2026-12-02T20.10.05-f00…'
 * ```
 */
export function s3OnFailureObjectKey(
  mappingUuid: string,
  shardId: string,
  failedAt: Date,
  randomId: string = randomUUID(),
): string {
  const iso = failedAt.toISOString();
  const day = iso.slice(0, 10);
  const time = iso.slice(11, 19).replaceAll(':', '.');
  return `${S3_ON_FAILURE_PREFIX}/${mappingUuid}/${shardId}/${day.replaceAll('-', '/')}/${day}T${time}-${randomId}`;
}

/** Where Lambda writes every S3 on-failure object in its bucket. */
export const S3_ON_FAILURE_PREFIX = 'aws/lambda';

export interface OnFailureDestination {
  /**
   * Sends one record; rejects if the destination refuses it (the caller retries: the checkpoint waits
   * for it). `records` are the discarded records as the event carried them (the S3 form includes them).
   */
  send(message: KinesisOnFailureMessage, records: readonly KinesisStreamRecord[]): Promise<void>;
}

/**
 * An S3 bucket as on-failure destination: one JSON object per discarded range, with the records.
 *
 * @example
 * ```ts
 * const destination = s3OnFailureDestination(s3, 'arn:aws:s3:::shardline-dev-failures', mappingUuid);
 * await destination.send(message, records);
 * ```
 */
export function s3OnFailureDestination(
  s3: S3Client,
  bucketArn: string,
  mappingUuid: string,
): OnFailureDestination {
  const bucket = bucketArn.split(':').pop() ?? '';
  return {
    async send(message, records) {
      await s3.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: s3OnFailureObjectKey(
            mappingUuid,
            message.KinesisBatchInfo.shardId,
            new Date(message.timestamp),
          ),
          Body: JSON.stringify(s3OnFailureObject(message, records)),
          ContentType: 'application/json',
        }),
      );
    },
  };
}

/**
 * An SQS queue as on-failure destination.
 *
 * @example
 * ```ts
 * const destination = sqsOnFailureDestination(sqs, 'arn:aws:sqs:us-east-1:000000000000:dlq', () => dlqUrl);
 * await destination.send(message);
 * ```
 */
export function sqsOnFailureDestination(
  sqs: SQSClient,
  queueArn: string,
  resolveQueueUrl: (queueArn: string) => string | Promise<string>,
): OnFailureDestination {
  let queueUrl: string | undefined;
  return {
    async send(message) {
      queueUrl ??= await resolveQueueUrl(queueArn);
      await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify(message) }));
    },
  };
}
