import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { type CommitRecord, isCoveredByCommit, readCommitRecords } from '../../lambdas/consumer/commitRecord';
import type { DeadLetterMessage } from '../../lambdas/consumer/deadLetter';
import {
  chunkRecords,
  DEFAULT_RETRY_POLICY,
  putChunk,
  type RetryPolicy,
  type StreamRecord,
} from '../../lambdas/producer/putRecords';
import { ShardlineError } from '../../lambdas/shared/errors';
import { parseEvent } from '../../lambdas/shared/events';
import { readSequenceRange } from '../../lambdas/shared/kinesisShards';
import { type HeldDeadLetters, type OnFailureMessage, onFailureId } from '../deadLetters';
import type { FailedBatch } from './failureStore';
import { type FixResult, runFixScript } from './fixProcess';
import { claimRedrive, ledgerStatus, markRedriven, notedPartialPuts, notePartialPut } from './redriveLedger';

/**
 * DLQ redrive. Invalid records are decoded, passed through an optional fix script (in a child process
 * without AWS credentials: fixProcess.ts), validated, and put back on the stream. Failed batches are put
 * back from the failure store (S3, records included), or, for an SQS on-failure message, re-read from the
 * stream by their sequence range. Records a commit already covers (a batch that was committed after the
 * mapping gave up on it) are never put back. A ledger item per entry in the state table makes a rerun
 * skip what was already redriven.
 */

export interface RedriveContext {
  kinesis: KinesisClient;
  dynamo: DynamoDBClient;
  s3: S3Client;
  sqs: SQSClient;
  streamName: string;
  tableName: string;
  bucketName: string;
  dlqUrl: string;
  /** How PutRecords retries refused entries and throttled calls: DEFAULT_RETRY_POLICY unless a test waits less. */
  retryPolicy?: RetryPolicy;
}

export type RedriveOutcome =
  | 'redriven'
  | 'already-redriven'
  | 'left: fix returned null'
  | 'left: still invalid'
  | 'left: not JSON and no fix'
  | 'left: records no longer in the stream'
  | 'left: fix failed'
  | 'skipped: already committed'
  | 'would redrive';

export interface RedriveReport {
  id: string;
  kind: 'invalid-record' | 'on-failure' | 'failed-batch';
  outcome: RedriveOutcome;
  records: number;
  /** Records of a failed batch left out because a commit covers them. */
  committed?: number;
  detail?: string;
}

/**
 * Kinesis did not accept every record of a put back, after every attempt (or the put failed outright:
 * `cause`). The entry is not marked redriven, so a rerun puts back what is missing. `sequenceNumbers`
 * holds, in record order, the sequence number of each record Kinesis did accept, `undefined` for the rest.
 */
export class RecordsNotAcceptedError extends ShardlineError {
  constructor(
    readonly sequenceNumbers: ReadonlyArray<string | undefined>,
    cause?: unknown,
  ) {
    const missing = sequenceNumbers.filter((sequenceNumber) => sequenceNumber === undefined).length;
    const why = cause instanceof Error ? ` (${cause.name}: ${cause.message})` : '';
    super(
      `${missing} of ${sequenceNumbers.length} record(s) were not accepted by Kinesis${why}; the ledger was ` +
        'not marked redriven, so run the redrive again',
      { cause },
    );
  }
}

/**
 * Puts records back on the stream in PutRecords-sized calls (500 records and 5 MiB each, so a failed
 * batch of large records still fits), with the producer's retries: only the entries Kinesis refused are
 * sent again, never one it accepted. Returns their new sequence numbers in record order, or
 * throws RecordsNotAcceptedError at the first call that still has refused entries once the retry policy
 * is spent, without sending the calls after it.
 *
 * @example
 * ```ts
 * const sequenceNumbers = await putBack({ kinesis, streamName }, records);
 * ```
 */
export async function putBack(
  context: Pick<RedriveContext, 'kinesis' | 'streamName' | 'retryPolicy'>,
  records: readonly StreamRecord[],
): Promise<string[]> {
  const retryPolicy = context.retryPolicy ?? DEFAULT_RETRY_POLICY;
  const sequenceNumbers = new Array<string | undefined>(records.length).fill(undefined);
  let offset = 0;
  let failed = 0;
  try {
    for (const chunk of chunkRecords(records)) {
      const chunkOffset = offset;
      const onAccepted = (index: number, sequenceNumber: string) => {
        sequenceNumbers[chunkOffset + index] = sequenceNumber;
      };
      ({ failed } = await putChunk(context.kinesis, context.streamName, chunk, retryPolicy, onAccepted));
      if (failed > 0) break;
      offset += chunk.length;
    }
  } catch (error) {
    throw new RecordsNotAcceptedError(sequenceNumbers, error);
  }
  if (failed > 0) throw new RecordsNotAcceptedError(sequenceNumbers);
  return sequenceNumbers as string[];
}

/**
 * Puts back the records of a claimed ledger entry (a failed batch or an on-failure range), leaving out
 * those an earlier run that failed part way got onto the stream, and noting the ones this run gets on if
 * it fails part way too: a rerun then sends each record once. Only a crash between a put and its note (or
 * a failed write of the note) can still send a record twice. Records are known by their original sequence
 * numbers, which do not change between runs (indices would, as commits cover more records). Returns the
 * new sequence numbers of the records this run put.
 */
async function putBackEntry(
  context: RedriveContext,
  id: string,
  status: string | null,
  records: ReadonlyArray<StreamRecord & { sequenceNumber: string }>,
): Promise<string[]> {
  const alreadyPut = status === 'putting' ? await notedPartialPuts(context, id) : new Set<string>();
  const remaining = records.filter((record) => !alreadyPut.has(record.sequenceNumber));
  try {
    return await putBack(context, remaining);
  } catch (error) {
    if (error instanceof RecordsNotAcceptedError) {
      const accepted = remaining.filter((_, i) => error.sequenceNumbers[i] !== undefined);
      await notePartialPut(
        context,
        id,
        accepted.map((record) => record.sequenceNumber),
      );
    }
    throw error;
  }
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

/** An invalid record read back, before its fix. */
interface InvalidCandidate {
  message: DeadLetterMessage;
  record?: unknown;
  /** Decided without a fix: already redriven, or not JSON and no fix. */
  report?: RedriveReport;
}

async function readInvalid(
  context: RedriveContext,
  message: DeadLetterMessage,
  withFix: boolean,
): Promise<InvalidCandidate> {
  const report = (outcome: RedriveOutcome): RedriveReport => ({
    id: message.recordId,
    kind: 'invalid-record',
    outcome,
    records: 1,
  });
  if ((await ledgerStatus(context, message.recordId)) === 'done')
    return { message, report: report('already-redriven') };
  const raw = await payloadOf(context, message);
  try {
    return { message, record: JSON.parse(raw.toString('utf8')) };
  } catch {
    if (!withFix) return { message, report: report('left: not JSON and no fix') };
    return { message, record: raw.toString('utf8') };
  }
}

async function redriveInvalid(
  context: RedriveContext,
  message: DeadLetterMessage,
  fixed: unknown,
  dryRun: boolean,
): Promise<RedriveReport> {
  const report = (outcome: RedriveOutcome, detail?: string): RedriveReport => ({
    id: message.recordId,
    kind: 'invalid-record',
    outcome,
    records: 1,
    ...(detail ? { detail } : {}),
  });
  if (fixed === null || fixed === undefined) return report('left: fix returned null');
  const validation = parseEvent(fixed);
  if (!validation.success) {
    const issue = validation.error.issues[0];
    return report('left: still invalid', `${issue?.path.join('.') || '(root)'}: ${issue?.message}`);
  }
  if (dryRun) return report('would redrive');
  await claimRedrive(context, message.recordId);
  const sequenceNumbers = await putBack(context, [
    { data: new TextEncoder().encode(JSON.stringify(fixed)), partitionKey: message.partitionKey },
  ]);
  await markRedriven(context, message.recordId, sequenceNumbers);
  return report('redriven');
}

/** Reads the records of an on-failure batch's sequence range back from its shard. */
export async function readRange(
  kinesis: KinesisClient,
  streamName: string,
  info: OnFailureMessage['KinesisBatchInfo'],
) {
  const records = await readSequenceRange(kinesis, streamName, info.shardId, {
    first: info.startSequenceNumber,
    last: info.endSequenceNumber,
  });
  return records.map((r) => ({
    data: r.Data ?? new Uint8Array(),
    partitionKey: r.PartitionKey ?? '',
    sequenceNumber: r.SequenceNumber ?? '',
  }));
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
  const status = await ledgerStatus(context, id);
  if (status === 'done') return report('already-redriven', message.KinesisBatchInfo.batchSize);
  const records = await readRange(context.kinesis, context.streamName, message.KinesisBatchInfo);
  if (records.length === 0)
    return report('left: records no longer in the stream', 0, 'past the stream retention');
  if (dryRun) return report('would redrive', records.length);
  await claimRedrive(context, id);
  await markRedriven(context, id, await putBackEntry(context, id, status, records));
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
  options: {
    kind: 'invalid' | 'on-failure' | 'all';
    /** A fix script (JS or TS module), run in a child process without AWS credentials, dry run or not. */
    fixScript?: string;
    dryRun?: boolean;
  },
): Promise<RedriveReport[]> {
  const reports: RedriveReport[] = [];
  const dryRun = options.dryRun ?? false;
  try {
    if (options.kind !== 'on-failure') {
      const candidates: InvalidCandidate[] = [];
      for (const message of snapshot.invalidRecords) {
        candidates.push(await readInvalid(context, message, options.fixScript !== undefined));
      }
      const pending = candidates.filter((candidate) => candidate.report === undefined);
      const fixes: FixResult[] =
        options.fixScript === undefined
          ? pending.map((candidate) => ({ fixed: candidate.record }))
          : await runFixScript(
              options.fixScript,
              pending.map((candidate) => ({ record: candidate.record, message: candidate.message })),
            );
      const fixedByRecordId = new Map(pending.map((candidate, i) => [candidate.message.recordId, fixes[i]]));
      for (const candidate of candidates) {
        if (candidate.report) {
          reports.push(candidate.report);
          continue;
        }
        const fix = fixedByRecordId.get(candidate.message.recordId);
        if (fix === undefined || 'error' in fix) {
          reports.push({
            id: candidate.message.recordId,
            kind: 'invalid-record',
            outcome: 'left: fix failed',
            records: 1,
            detail: fix && 'error' in fix ? fix.error : 'no result from the fix script',
          });
          continue;
        }
        reports.push(await redriveInvalid(context, candidate.message, fix.fixed, dryRun));
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

/**
 * Puts failed batches back on the stream from the failure store, idempotently: a batch already in the
 * ledger is skipped, and a record that a commit covers (in the lake already: a commit whose response
 * was lost after the mapping gave up) is left out. Works however long ago the stream dropped the records.
 *
 * @example
 * ```ts
 * const reports = await redriveFailedBatches(context, await readFailedBatches(s3, failuresBucket), { dryRun: true });
 * ```
 */
export async function redriveFailedBatches(
  context: RedriveContext,
  batches: readonly FailedBatch[],
  options: { dryRun?: boolean; commits?: readonly CommitRecord[] } = {},
): Promise<RedriveReport[]> {
  if (batches.length === 0) return [];
  const commits = options.commits ?? (await readCommitRecords(context.s3, context.bucketName));
  const reports: RedriveReport[] = [];
  for (const batch of batches) {
    const report = (outcome: RedriveOutcome, records: number, committed: number, detail?: string) => ({
      id: batch.id,
      kind: 'failed-batch' as const,
      outcome,
      records,
      ...(committed > 0 ? { committed } : {}),
      ...(detail ? { detail } : {}),
    });
    const status = await ledgerStatus(context, batch.id);
    if (status === 'done') {
      reports.push(report('already-redriven', batch.records.length, 0));
      continue;
    }
    const uncommitted = batch.records.filter(
      (record) => !isCoveredByCommit(commits, batch.shardId, record.kinesis.sequenceNumber),
    );
    const committed = batch.records.length - uncommitted.length;
    if (uncommitted.length === 0) {
      if (!options.dryRun) {
        await claimRedrive(context, batch.id);
        await markRedriven(context, batch.id, []);
      }
      reports.push(report('skipped: already committed', 0, committed, 'a commit covers every record'));
      continue;
    }
    if (options.dryRun) {
      reports.push(report('would redrive', uncommitted.length, committed));
      continue;
    }
    await claimRedrive(context, batch.id);
    const sequenceNumbers = await putBackEntry(
      context,
      batch.id,
      status,
      uncommitted.map((record) => ({
        data: Buffer.from(record.kinesis.data, 'base64'),
        partitionKey: record.kinesis.partitionKey,
        sequenceNumber: record.kinesis.sequenceNumber,
      })),
    );
    await markRedriven(context, batch.id, sequenceNumbers);
    reports.push(report('redriven', uncommitted.length, committed));
  }
  return reports;
}
