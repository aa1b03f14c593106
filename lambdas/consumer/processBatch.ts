import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { KinesisStreamBatchResponse, KinesisStreamEvent, KinesisStreamRecord } from 'aws-lambda';
import type { ConsumerConfig } from '../shared/config';
import type { EventRow } from '../shared/rows';
import { isAfter } from '../shared/sequence';
import {
  type Checkpoint,
  CheckpointConflictError,
  clearIntent,
  commitIntent,
  type Intent,
  readCheckpoint,
  recordIntent,
  type ShardKey,
} from './checkpoint';
import { type InvalidRecord, sendToDeadLetterQueue } from './deadLetter';
import { decodeRecord } from './decode';
import { type BatchIdentity, groupByPartition, objectKey } from './objects';
import { encodeCsv } from './sinks/csv';
import { encodeParquet } from './sinks/parquet';
import { type RecordOrigin, toRow } from './transform';

export interface ConsumerDeps {
  s3: S3Client;
  dynamo: DynamoDBClient;
  sqs: SQSClient;
  config: ConsumerConfig;
  now?: () => number;
  newId?: () => string;
  /** Receives one line per protocol step; the handler wires it to the Powertools logger. */
  log?: (message: string, fields: Record<string, unknown>) => void;
}

/** What one invocation did for one shard, for logs, metrics and tests. */
export interface ShardBatchResult {
  shardId: string;
  received: number;
  /** Records at or below the committed checkpoint: already in the lake, skipped. */
  skipped: number;
  valid: number;
  invalid: number;
  objectsWritten: number;
  bytesWritten: number;
  /** An unfinished intent of an earlier invocation that this one rolled back. */
  rolledBack: Intent | null;
  committedSequenceNumber: string | null;
}

interface PlannedObject {
  key: string;
  body: Uint8Array;
  contentType: string;
}

const originOf = (record: KinesisStreamRecord, shardId: string): RecordOrigin => ({
  shardId,
  sequenceNumber: record.kinesis.sequenceNumber,
  partitionKey: record.kinesis.partitionKey,
  arrivalTime: Math.round(record.kinesis.approximateArrivalTimestamp * 1000),
});

/** `shardId-000000000001:4955…` → `shardId-000000000001`. */
export const shardIdOf = (record: KinesisStreamRecord) =>
  record.eventID.slice(0, record.eventID.indexOf(':'));

/**
 * Processes a Kinesis batch exactly once per record: for each shard in the event it skips what is
 * already committed, rolls back any unfinished earlier attempt, records an intent, writes the Parquet and
 * CSV objects and the DLQ messages, then commits the checkpoint (docs/EXACTLY_ONCE.md).
 *
 * Any failure throws, so Lambda retries (and bisects) the batch; the retry finds the checkpoint and the
 * intent and continues safely. A successful return always has an empty `batchItemFailures`.
 *
 * @example
 * ```ts
 * const response = await processKinesisEvent(event, { s3, dynamo, sqs, config });
 * ```
 */
export async function processKinesisEvent(
  event: KinesisStreamEvent,
  deps: ConsumerDeps,
): Promise<KinesisStreamBatchResponse & { shards: ShardBatchResult[] }> {
  const byShard = new Map<string, KinesisStreamRecord[]>();
  for (const record of event.Records) {
    const shardId = shardIdOf(record);
    const list = byShard.get(shardId) ?? [];
    list.push(record);
    byShard.set(shardId, list);
  }
  const shards: ShardBatchResult[] = [];
  for (const [shardId, records] of byShard) shards.push(await processShardBatch(shardId, records, deps));
  return { batchItemFailures: [], shards };
}

async function processShardBatch(
  shardId: string,
  records: KinesisStreamRecord[],
  deps: ConsumerDeps,
): Promise<ShardBatchResult> {
  const now = deps.now ?? Date.now;
  const log = deps.log ?? (() => {});
  const shard: ShardKey = { tableName: deps.config.tableName, streamName: deps.config.streamName, shardId };
  const result: ShardBatchResult = {
    shardId,
    received: records.length,
    skipped: 0,
    valid: 0,
    invalid: 0,
    objectsWritten: 0,
    bytesWritten: 0,
    rolledBack: null,
    committedSequenceNumber: null,
  };

  let checkpoint = await readCheckpoint(deps.dynamo, shard);
  if (checkpoint.intent) {
    result.rolledBack = checkpoint.intent;
    checkpoint = await rollBack(deps, shard, checkpoint);
    log('rolled back an unfinished intent', { shardId, intent: result.rolledBack });
  }

  const committed = checkpoint.lastCommittedSequenceNumber;
  const pending =
    committed === null ? records : records.filter((r) => isAfter(r.kinesis.sequenceNumber, committed));
  result.skipped = records.length - pending.length;
  result.committedSequenceNumber = committed;
  const first = pending[0];
  const last = pending[pending.length - 1];
  if (!first || !last) return result;

  const processedAt = now();
  const rows: EventRow[] = [];
  const invalid: InvalidRecord[] = [];
  for (const record of pending) {
    const origin = originOf(record, shardId);
    const decoded = decodeRecord(record);
    if (decoded.ok) rows.push(toRow(decoded.event, origin, processedAt));
    else invalid.push({ origin, reason: decoded.reason, issues: decoded.issues, raw: decoded.raw });
  }
  result.valid = rows.length;
  result.invalid = invalid.length;

  const token = checkpoint.version + 1;
  const batch: BatchIdentity = {
    shardId,
    firstSequenceNumber: first.kinesis.sequenceNumber,
    lastSequenceNumber: last.kinesis.sequenceNumber,
    token,
  };
  const objects = planObjects(rows, batch);
  const intent: Intent = {
    id: deps.newId?.() ?? crypto.randomUUID(),
    firstSequenceNumber: batch.firstSequenceNumber,
    lastSequenceNumber: batch.lastSequenceNumber,
    objectKeys: objects.map((o) => o.key),
    startedAt: processedAt,
  };

  const intentVersion = await recordIntent(deps.dynamo, shard, checkpoint.version, intent);
  try {
    await Promise.all(
      objects.map((o) =>
        deps.s3.send(
          new PutObjectCommand({
            Bucket: deps.config.bucketName,
            Key: o.key,
            Body: o.body,
            ContentType: o.contentType,
          }),
        ),
      ),
    );
    if (invalid.length > 0) {
      await sendToDeadLetterQueue(
        {
          sqs: deps.sqs,
          s3: deps.s3,
          queueUrl: deps.config.dlqUrl,
          bucketName: deps.config.bucketName,
          streamName: deps.config.streamName,
        },
        invalid,
        processedAt,
      );
    }
    await commitIntent(deps.dynamo, shard, intentVersion, intent, pending.length);
  } catch (error) {
    const landed = await commitLanded(deps, shard, intent);
    if (landed === 'no') await abandon(deps, shard, intentVersion, intent, error);
    // 'unknown': leave everything as it is; the next invocation finds either this intent (and rolls it
    // back) or the committed checkpoint (and skips), both safe.
    if (landed !== 'yes') throw error;
    log('commit response was lost but the commit landed', { shardId, intentId: intent.id });
  }
  result.objectsWritten = objects.length;
  result.bytesWritten = objects.reduce((sum, o) => sum + o.body.byteLength, 0);
  result.committedSequenceNumber = batch.lastSequenceNumber;
  log('committed', {
    shardId,
    lastSequenceNumber: batch.lastSequenceNumber,
    valid: result.valid,
    invalid: result.invalid,
    skipped: result.skipped,
    objects: objects.length,
  });
  return result;
}

function planObjects(rows: EventRow[], batch: BatchIdentity): PlannedObject[] {
  const objects: PlannedObject[] = [];
  for (const group of groupByPartition(rows)) {
    objects.push({
      key: objectKey('parquet', group, batch),
      body: encodeParquet(group.rows),
      contentType: 'application/vnd.apache.parquet',
    });
    objects.push({
      key: objectKey('csv', group, batch),
      body: encodeCsv(group.rows),
      contentType: 'text/csv',
    });
  }
  return objects;
}

async function deleteObjects(deps: ConsumerDeps, keys: readonly string[]) {
  // One DeleteObject per key: deleting a key that was never written succeeds, so this is idempotent.
  await Promise.all(
    keys.map((Key) => deps.s3.send(new DeleteObjectCommand({ Bucket: deps.config.bucketName, Key }))),
  );
}

/** Deletes an earlier attempt's objects, then clears its intent under the fence. */
async function rollBack(deps: ConsumerDeps, shard: ShardKey, checkpoint: Checkpoint): Promise<Checkpoint> {
  const intent = checkpoint.intent as Intent;
  await deleteObjects(deps, intent.objectKeys);
  const version = await clearIntent(deps.dynamo, shard, checkpoint.version, intent.id);
  return { ...checkpoint, version, intent: null };
}

/**
 * A commit whose response was lost (a timeout, then an SDK retry that fails its condition) may still have
 * landed. Deleting its objects then would lose data, so ask the checkpoint which intent committed last.
 */
async function commitLanded(
  deps: ConsumerDeps,
  shard: ShardKey,
  intent: Intent,
): Promise<'yes' | 'no' | 'unknown'> {
  try {
    return (await readCheckpoint(deps.dynamo, shard)).lastCommittedIntentId === intent.id ? 'yes' : 'no';
  } catch {
    return 'unknown';
  }
}

/**
 * Best-effort cleanup after a failure between intent and commit. If it cannot finish (or this process
 * dies first), the next invocation finds the intent and rolls it back; if another invocation already
 * took the fence, only this attempt's own objects (keyed by its token) are deleted.
 */
async function abandon(
  deps: ConsumerDeps,
  shard: ShardKey,
  intentVersion: number,
  intent: Intent,
  cause: unknown,
) {
  try {
    await deleteObjects(deps, intent.objectKeys);
    if (!(cause instanceof CheckpointConflictError))
      await clearIntent(deps.dynamo, shard, intentVersion, intent.id);
  } catch (cleanupError) {
    deps.log?.('cleanup after a failed attempt did not finish; the next invocation rolls it back', {
      shardId: shard.shardId,
      intentId: intent.id,
      error: (cleanupError as Error).message,
    });
  }
}
