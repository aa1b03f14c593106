import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { KinesisStreamBatchResponse, KinesisStreamEvent, KinesisStreamRecord } from 'aws-lambda';
import type { AnalyticsConfig } from '../shared/analyticsConfig';
import type { ConsumerConfig } from '../shared/config';
import type { EventRow } from '../shared/rows';
import { isAfter } from '../shared/sequence';
import {
  type AnalyticsStateStore,
  type AnalyticsStep,
  dynamoAnalyticsStateStore,
  foldEvents,
  loadAnalyticsState,
  planAnalyticsObjects,
  planStateRestore,
  planStateWrites,
  type StateSizing,
  type StateWritePlan,
  toAnalyticsEvent,
  warmStates,
  writeState,
} from './analytics';
import {
  type Checkpoint,
  CheckpointConflictError,
  type CommitCounts,
  clearIntent,
  commitIntent,
  fenceIntent,
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
import { dueSweeps, finishSweep, scheduleSweep } from './sweep';
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
  /**
   * Stream analytics (docs/ANALYTICS.md): windows, sessions and alerts with exactly-once state in the
   * state table. Absent or null: off. The handler turns them on unless `SHARDLINE_ANALYTICS=off`.
   */
  analytics?: AnalyticsConfig | null;
  /** How analytics state is cut into items; tests make buckets tiny to exercise splits. */
  analyticsStateSizing?: StateSizing;
}

/** What the analytics did in one invocation for one shard. */
export interface AnalyticsBatchSummary {
  events: number;
  windowsClosed: number;
  sessionsClosed: number;
  alertsRaised: number;
  lateEvents: number;
  objectsWritten: number;
  /** State items of the shard, how many this batch wrote, and the largest one's size in bytes. */
  stateItems: number;
  stateItemsWritten: number;
  largestStateItemBytes: number;
  /** The largest event time seen on the shard after the batch (epoch ms); the watermark trails it. */
  maxEventTime: number | null;
}

/** What one invocation did for one shard, for logs, metrics and tests. */
export interface ShardBatchResult {
  shardId: string;
  received: number;
  /** Records at or below the committed checkpoint: already in the lake, skipped. */
  skipped: number;
  /**
   * Second copies of a sequence number already in this batch, skipped. Lambda never sends one; a caller
   * that assembles its own events (a replay tool, a test) might, and writing it twice would duplicate it.
   */
  repeated: number;
  valid: number;
  invalid: number;
  objectsWritten: number;
  bytesWritten: number;
  /** An unfinished intent of an earlier invocation that this one rolled back. */
  rolledBack: Intent | null;
  /** Objects of rolled-back attempts deleted again by the late-PUT sweep (lambdas/consumer/sweep.ts). */
  swept: number;
  committedSequenceNumber: string | null;
  /** Null when analytics are off or the batch had nothing new. */
  analytics: AnalyticsBatchSummary | null;
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
 * CSV objects and the DLQ messages, then commits the checkpoint (docs/EXACTLY_ONCE.md). With analytics
 * on, it also folds the valid events into the shard's analytics state, writes the closed windows,
 * sessions, alerts and late events as objects of the same intent, and writes the state as two-version
 * items before the commit, which commits both (docs/ANALYTICS.md).
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
    repeated: 0,
    valid: 0,
    invalid: 0,
    objectsWritten: 0,
    bytesWritten: 0,
    rolledBack: null,
    swept: 0,
    committedSequenceNumber: null,
    analytics: null,
  };

  let checkpoint = await readCheckpoint(deps.dynamo, shard);
  if (checkpoint.intent) {
    result.rolledBack = checkpoint.intent;
    checkpoint = await rollBack(deps, shard, checkpoint);
    log('rolled back an unfinished intent', { shardId, intent: result.rolledBack });
  }
  // A sweep item comes with every cleared intent: a shard that never cleared one has nothing to sweep.
  if (checkpoint.rolledBack > 0) result.swept = await sweepLatePuts(deps, shard);

  const committed = checkpoint.lastCommittedSequenceNumber;
  const distinct = distinctBySequenceNumber(records);
  const pending =
    committed === null ? distinct : distinct.filter((r) => isAfter(r.kinesis.sequenceNumber, committed));
  result.repeated = records.length - distinct.length;
  result.skipped = distinct.length - pending.length;
  if (result.repeated > 0)
    log('skipped repeated sequence numbers in the batch', { shardId, repeated: result.repeated });
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
  const intentId = deps.newId?.() ?? crypto.randomUUID();
  const analytics = deps.analytics
    ? await prepareAnalytics(deps, shard, committed, rows, batch, `v${token}:${intentId}`)
    : null;
  const objects = [...planObjects(rows, batch), ...(analytics?.objects ?? [])];
  const intent: Intent = {
    id: intentId,
    firstSequenceNumber: batch.firstSequenceNumber,
    lastSequenceNumber: batch.lastSequenceNumber,
    objectKeys: objects.map((o) => o.key),
    startedAt: processedAt,
  };

  const intentVersion = await recordIntent(deps.dynamo, shard, checkpoint.version, intent);
  try {
    await settleAll(
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
    // The analytics state goes after the objects and before the commit, which is the one commit point of
    // both: until the checkpoint moves, these items' `prev` versions stay the current ones.
    if (analytics) await writeState(analytics.store, analytics.plan.puts);
    await commitIntent(
      deps.dynamo,
      shard,
      intentVersion,
      intent,
      commitCounts(pending.length, rows, invalid, analytics),
    );
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
  if (analytics) result.analytics = summarize(analytics);
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

/** What the commit adds to the shard's counters (status reads them). */
function commitCounts(
  records: number,
  rows: EventRow[],
  invalid: InvalidRecord[],
  analytics: PreparedAnalytics | null,
): CommitCounts {
  const outputs = analytics?.run.outputs;
  let latestWindowEnd: number | null = null;
  for (const window of outputs?.windows ?? [])
    latestWindowEnd = Math.max(latestWindowEnd ?? 0, window.window_end);
  return {
    records,
    rows: {
      events: rows.length,
      invalid: invalid.length,
      windows: outputs?.windows.length ?? 0,
      sessions: outputs?.sessions.length ?? 0,
      alerts: outputs?.alerts.length ?? 0,
      lateEvents: outputs?.lateEvents.length ?? 0,
    },
    latestWindowEnd,
  };
}

/** The batch without second copies of a sequence number, in its order. */
function distinctBySequenceNumber(records: KinesisStreamRecord[]): KinesisStreamRecord[] {
  const seen = new Set<string>();
  const distinct = records.filter((r) => {
    if (seen.has(r.kinesis.sequenceNumber)) return false;
    seen.add(r.kinesis.sequenceNumber);
    return true;
  });
  return distinct.length === records.length ? records : distinct;
}

interface PreparedAnalytics {
  events: number;
  store: AnalyticsStateStore;
  run: AnalyticsStep;
  plan: StateWritePlan;
  objects: PlannedObject[];
}

/**
 * Loads the shard's committed analytics state, folds the batch's valid events into it, and plans both
 * the output objects (for the intent) and the state writes, before anything is written: an oversized
 * state fails the attempt here, with nothing to roll back.
 */
async function prepareAnalytics(
  deps: ConsumerDeps,
  shard: ShardKey,
  committed: string | null,
  rows: EventRow[],
  batch: BatchIdentity,
  writer: string,
): Promise<PreparedAnalytics> {
  const config = deps.analytics as AnalyticsConfig;
  const store = dynamoAnalyticsStateStore(deps.dynamo, shard, deps.now);
  // A warm state of this shard stands in for decoding only if the load proves it is the committed one.
  const loaded = await loadAnalyticsState(store, committed, warmStates.take(shard));
  if (loaded.earlier) warmStates.reused++;
  // The loaded state is this invocation's own copy (decoded, or taken out of the warm cache): fold into
  // it rather than clone it, which costs as much as decoding it.
  const outputs = foldEvents(loaded.state, rows.map(toAnalyticsEvent), config);
  const plan = planStateWrites(loaded, loaded.state, {
    lastSequenceNumber: batch.lastSequenceNumber,
    writer,
    nowMs: (deps.now ?? Date.now)(),
    sizing: deps.analyticsStateSizing,
  });
  // Kept whatever this attempt's outcome: the next load uses it only if these bytes are what committed.
  warmStates.keep(shard, {
    appliedSeq: batch.lastSequenceNumber,
    encoded: plan.encoded,
    state: loaded.state,
  });
  // A shallow copy: the summary reads this batch's fields, and the next batch folds into the maps.
  const run: AnalyticsStep = { state: { ...loaded.state }, outputs };
  return { events: rows.length, store, run, plan, objects: planAnalyticsObjects(run.outputs, batch) };
}

function summarize({ events, run, plan, objects }: PreparedAnalytics): AnalyticsBatchSummary {
  const { outputs, state } = run;
  return {
    events,
    windowsClosed: outputs.windows.length,
    sessionsClosed: outputs.sessions.length,
    alertsRaised: outputs.alerts.length,
    lateEvents: outputs.lateEvents.length,
    objectsWritten: objects.length,
    stateItems: plan.itemCount,
    stateItemsWritten: plan.puts.length,
    largestStateItemBytes: plan.largestItemBytes,
    maxEventTime: state.maxEventTime,
  };
}

/**
 * Like Promise.all, but waits for every promise to settle before rejecting with the first failure: the
 * cleanup that follows a failure must not race a write of this attempt that is still in flight.
 */
async function settleAll(promises: Promise<unknown>[]): Promise<void> {
  const settled = await Promise.allSettled(promises);
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) throw failed.reason;
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

/**
 * Deletes again the objects of attempts rolled back long enough ago that none of their PUTs can still
 * land. Best effort: what fails now is swept by a later invocation.
 */
async function sweepLatePuts(deps: ConsumerDeps, shard: ShardKey): Promise<number> {
  let swept = 0;
  try {
    const nowMs = (deps.now ?? Date.now)();
    for (const due of await dueSweeps(deps.dynamo, shard, nowMs)) {
      await deleteObjects(deps, due.keys);
      await finishSweep(deps.dynamo, shard, due.intentId, nowMs);
      swept += due.keys.length;
    }
  } catch (error) {
    deps.log?.('the late-PUT sweep did not finish; a later invocation goes on with it', {
      shardId: shard.shardId,
      error: (error as Error).message,
    });
  }
  if (swept > 0)
    deps.log?.('swept the objects of rolled-back attempts again', { shardId: shard.shardId, swept });
  return swept;
}

async function deleteObjects(deps: ConsumerDeps, keys: readonly string[]) {
  // One DeleteObject per key: deleting a key that was never written succeeds, so this is idempotent.
  await settleAll(
    keys.map((Key) => deps.s3.send(new DeleteObjectCommand({ Bucket: deps.config.bucketName, Key }))),
  );
}

/**
 * Deletes an earlier attempt's objects and restores the analytics state to its committed version, then
 * clears its intent under the fence. The restore rewrites every analytics item with a new writer, so that
 * the earlier attempt, if it is still running, can no longer write any of them (docs/ANALYTICS.md).
 */
async function rollBack(deps: ConsumerDeps, shard: ShardKey, checkpoint: Checkpoint): Promise<Checkpoint> {
  const intent = checkpoint.intent as Intent;
  // Fence first: the intent's owner may still be alive and about to commit. Once the version has moved,
  // its commit fails, and only then is it safe to delete its objects and restore the state.
  const rollbackId = deps.newId?.() ?? crypto.randomUUID();
  const fenced = await fenceIntent(deps.dynamo, shard, checkpoint.version, intent.id, rollbackId);
  // A PUT of the attempt may still be in flight and land after this delete: delete again later.
  await scheduleSweep(deps.dynamo, shard, intent.id, intent.objectKeys, (deps.now ?? Date.now)());
  await deleteObjects(deps, intent.objectKeys);
  if (deps.analytics) {
    // Not needed for safety (a warm state must match the committed bytes), but nothing to gain after a rollback.
    warmStates.forget(shard);
    const store = dynamoAnalyticsStateStore(deps.dynamo, shard, deps.now);
    const loaded = await loadAnalyticsState(store, checkpoint.lastCommittedSequenceNumber);
    // The restore must not be built from a later holder's items: a rollback that stalled between its
    // fence and this load (a timed-out invocation) would write the committed state over the new state
    // of an invocation that fenced after it and is about to commit. Only if the fence is still ours after
    // the load did no later holder exist when it read, and any that comes now fails its conditional
    // writes against ours, or ours against its.
    if ((await readCheckpoint(deps.dynamo, shard)).version !== fenced)
      throw new CheckpointConflictError(shard.shardId, fenced, 'rollBack (analytics restore)');
    const writer = `rollback-v${checkpoint.version}:${rollbackId}`;
    await writeState(store, planStateRestore(loaded, writer, (deps.now ?? Date.now)()));
  }
  const version = await clearIntent(deps.dynamo, shard, fenced, intent.id);
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
    // A PUT of this attempt that failed here (a timeout) may still complete on the server later.
    await scheduleSweep(deps.dynamo, shard, intent.id, intent.objectKeys, (deps.now ?? Date.now)());
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
