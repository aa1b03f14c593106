import { randomUUID } from 'node:crypto';
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { StreamRecord } from './eventShape';

/** Why a batch was discarded, as the on-failure record's `requestContext.condition` says it. */
export type OnFailureCondition = 'RetryAttemptsExhausted' | 'RecordAgeExceeded';

/** The function's last answer for the batch, as Lambda reports it in `responseContext`. */
export interface ResponseContext {
  statusCode: number;
  executedVersion: string;
  /** `Unhandled` for an error, a timeout or a crash; absent when the function answered. */
  functionError?: string;
}

/**
 * The invocation record Lambda sends to an on-failure destination for a Kinesis batch (Lambda developer
 * guide, "Retain discarded batch records for a Kinesis Data Streams event source"). It carries metadata
 * only: read the records again from the stream with the sequence numbers.
 */
export interface KinesisOnFailureMessage {
  requestContext: {
    requestId: string;
    functionArn: string;
    condition: OnFailureCondition;
    approximateInvokeCount: number;
  };
  /** Absent when the records were discarded before any invocation (too old on arrival). */
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
    ...(input.response === undefined ? {} : { responseContext: input.response }),
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

export interface OnFailureDestination {
  /** Sends one message; rejects if SQS refuses it (the caller retries: the checkpoint waits for it). */
  send(message: KinesisOnFailureMessage): Promise<void>;
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
