import {
  ConditionalCheckFailedException,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import {
  GetRecordsCommand,
  GetShardIteratorCommand,
  type KinesisClient,
  PutRecordsCommand,
} from '@aws-sdk/client-kinesis';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { DeadLetterMessage } from '../../lambdas/consumer/deadLetter';
import { parseEvent } from '../../lambdas/shared/events';
import { type HeldDeadLetters, type OnFailureMessage, onFailureId } from '../deadLetters';

/**
 * DLQ redrive. Invalid records are decoded, passed through an optional fix, validated, and put back on
 * the stream; on-failure batches are re-read from the stream by their sequence range and put back. Either
 * way the consumer then processes them as new records, exactly once. A ledger item per DLQ entry in the
 * state table makes a rerun skip what was already redriven and only finish deleting its messages.
 */

/** Maps a parsed invalid record to a fixed record, or null to leave it in the DLQ. */
export type FixFunction = (
  record: unknown,
  message: DeadLetterMessage,
) => unknown | null | Promise<unknown | null>;

export interface RedriveContext {
  kinesis: KinesisClient;
  dynamo: DynamoDBClient;
  s3: S3Client;
  sqs: SQSClient;
  streamName: string;
  tableName: string;
  bucketName: string;
  dlqUrl: string;
}

export type RedriveOutcome =
  | 'redriven'
  | 'already-redriven'
  | 'left: fix returned null'
  | 'left: still invalid'
  | 'left: not JSON and no fix'
  | 'left: records no longer in the stream'
  | 'would redrive';

export interface RedriveReport {
  id: string;
  kind: 'invalid-record' | 'on-failure';
  outcome: RedriveOutcome;
  records: number;
  detail?: string;
}

const ledgerKey = (id: string) => ({ pk: { S: 'redrive' }, sk: { S: id } });

async function ledgerStatus(context: RedriveContext, id: string): Promise<string | null> {
  const { Item } = await context.dynamo.send(
    new GetItemCommand({ TableName: context.tableName, Key: ledgerKey(id), ConsistentRead: true }),
  );
  return Item?.status?.S ?? null;
}

/**
 * Claims the ledger entry before putting: a second redrive of the same entry finds it. A claim left at
 * 'putting' by a crash is retried (the put may then happen twice, the one window this cannot close).
 */
async function claim(context: RedriveContext, id: string): Promise<void> {
  try {
    await context.dynamo.send(
      new PutItemCommand({
        TableName: context.tableName,
        Item: { ...ledgerKey(id), status: { S: 'putting' }, startedAt: { N: String(Date.now()) } },
        ConditionExpression: 'attribute_not_exists(pk) OR #status = :putting',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':putting': { S: 'putting' } },
      }),
    );
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return;
    throw error;
  }
}

async function markDone(context: RedriveContext, id: string, sequenceNumbers: string[]) {
  await context.dynamo.send(
    new UpdateItemCommand({
      TableName: context.tableName,
      Key: ledgerKey(id),
      UpdateExpression: 'SET #status = :done, redrivenAt = :now, newSequenceNumbers = :seqs',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: {
        ':done': { S: 'done' },
        ':now': { N: String(Date.now()) },
        ':seqs': { L: sequenceNumbers.slice(0, 500).map((s) => ({ S: s })) },
      },
    }),
  );
}

async function putBack(context: RedriveContext, records: Array<{ data: Uint8Array; partitionKey: string }>) {
  const sequenceNumbers: string[] = [];
  for (let i = 0; i < records.length; i += 500) {
    const chunk = records.slice(i, i + 500);
    const response = await context.kinesis.send(
      new PutRecordsCommand({
        StreamName: context.streamName,
        Records: chunk.map((r) => ({ Data: r.data, PartitionKey: r.partitionKey })),
      }),
    );
    if (response.FailedRecordCount)
      throw new Error(
        `${response.FailedRecordCount} record(s) were not accepted by Kinesis; run the redrive again`,
      );
    sequenceNumbers.push(...(response.Records ?? []).map((r) => r.SequenceNumber ?? ''));
  }
  return sequenceNumbers;
}

/** The raw bytes of an invalid record: inline, or from the claim-check object in S3. */
export async function payloadOf(
  context: Pick<RedriveContext, 's3' | 'bucketName'>,
  message: DeadLetterMessage,
) {
  if (message.payloadBase64 !== undefined) return Buffer.from(message.payloadBase64, 'base64');
  const object = await context.s3.send(
    new GetObjectCommand({ Bucket: context.bucketName, Key: message.payloadS3Key }),
  );
  return Buffer.from((await object.Body?.transformToByteArray()) ?? new Uint8Array());
}

async function redriveInvalid(
  context: RedriveContext,
  message: DeadLetterMessage,
  fix: FixFunction | undefined,
  dryRun: boolean,
): Promise<RedriveReport> {
  const report = (outcome: RedriveOutcome, detail?: string): RedriveReport => ({
    id: message.recordId,
    kind: 'invalid-record',
    outcome,
    records: 1,
    ...(detail ? { detail } : {}),
  });
  if ((await ledgerStatus(context, message.recordId)) === 'done') return report('already-redriven');
  const raw = await payloadOf(context, message);
  let record: unknown;
  try {
    record = JSON.parse(raw.toString('utf8'));
  } catch {
    if (!fix) return report('left: not JSON and no fix');
    record = raw.toString('utf8');
  }
  const fixed = fix ? await fix(record, message) : record;
  if (fixed === null || fixed === undefined) return report('left: fix returned null');
  const validation = parseEvent(fixed);
  if (!validation.success) {
    const issue = validation.error.issues[0];
    return report('left: still invalid', `${issue?.path.join('.') || '(root)'}: ${issue?.message}`);
  }
  if (dryRun) return report('would redrive');
  await claim(context, message.recordId);
  const sequenceNumbers = await putBack(context, [
    { data: new TextEncoder().encode(JSON.stringify(fixed)), partitionKey: message.partitionKey },
  ]);
  await markDone(context, message.recordId, sequenceNumbers);
  return report('redriven');
}

/** Reads the records of an on-failure batch's sequence range back from its shard. */
export async function readRange(
  kinesis: KinesisClient,
  streamName: string,
  info: OnFailureMessage['KinesisBatchInfo'],
) {
  const end = BigInt(info.endSequenceNumber);
  const { ShardIterator } = await kinesis.send(
    new GetShardIteratorCommand({
      StreamName: streamName,
      ShardId: info.shardId,
      ShardIteratorType: 'AT_SEQUENCE_NUMBER',
      StartingSequenceNumber: info.startSequenceNumber,
    }),
  );
  const records: Array<{ data: Uint8Array; partitionKey: string; sequenceNumber: string }> = [];
  let iterator = ShardIterator;
  while (iterator) {
    const page = await kinesis.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 10_000 }));
    for (const r of page.Records ?? []) {
      if (BigInt(r.SequenceNumber ?? '0') > end) return records;
      records.push({
        data: r.Data ?? new Uint8Array(),
        partitionKey: r.PartitionKey ?? '',
        sequenceNumber: r.SequenceNumber ?? '',
      });
    }
    if ((page.Records?.length ?? 0) === 0 && (page.MillisBehindLatest ?? 0) === 0) break;
    iterator = page.NextShardIterator;
  }
  return records;
}

async function redriveOnFailure(
  context: RedriveContext,
  message: OnFailureMessage,
  dryRun: boolean,
): Promise<RedriveReport> {
  const id = onFailureId(message);
  const report = (outcome: RedriveOutcome, records: number, detail?: string): RedriveReport => ({
    id,
    kind: 'on-failure',
    outcome,
    records,
    ...(detail ? { detail } : {}),
  });
  if ((await ledgerStatus(context, id)) === 'done')
    return report('already-redriven', message.KinesisBatchInfo.batchSize);
  const records = await readRange(context.kinesis, context.streamName, message.KinesisBatchInfo);
  if (records.length === 0)
    return report('left: records no longer in the stream', 0, 'past the stream retention');
  if (dryRun) return report('would redrive', records.length);
  await claim(context, id);
  await markDone(context, id, await putBack(context, records));
  return report('redriven', records.length);
}

/**
 * Redrives held DLQ entries, deleting each entry's messages once it is redriven (or was already), and
 * releases the rest back to the queue.
 *
 * @example
 * ```ts
 * const reports = await redrive(context, await holdDeadLetters(sqs, dlqUrl), { kind: 'all' });
 * ```
 */
export async function redrive(
  context: RedriveContext,
  snapshot: HeldDeadLetters,
  options: { kind: 'invalid' | 'on-failure' | 'all'; fix?: FixFunction; dryRun?: boolean },
): Promise<RedriveReport[]> {
  const reports: RedriveReport[] = [];
  const dryRun = options.dryRun ?? false;
  try {
    if (options.kind !== 'on-failure') {
      for (const message of snapshot.invalidRecords) {
        reports.push(await redriveInvalid(context, message, options.fix, dryRun));
      }
    }
    if (options.kind !== 'invalid') {
      for (const message of snapshot.onFailure)
        reports.push(await redriveOnFailure(context, message, dryRun));
    }
    for (const report of reports) {
      if (report.outcome === 'redriven' || report.outcome === 'already-redriven') {
        await snapshot.remove(snapshot.receipts.get(report.id) ?? []);
      }
    }
  } finally {
    await snapshot.release();
  }
  return reports;
}
