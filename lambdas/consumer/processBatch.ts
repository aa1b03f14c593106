import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DeleteObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { KinesisStreamBatchResponse, KinesisStreamEvent, KinesisStreamRecord } from 'aws-lambda';
import type { AnalyticsConfig } from '../shared/analyticsConfig';
import type { ConsumerConfig } from '../shared/config';
import { ShardlineError } from '../shared/errors';
import { commitRecordPrefix, stagingKey, stateSnapshotKey } from '../shared/lakeLayout';
import type { EventRow } from '../shared/rows';
import { isAfter } from '../shared/sequence';
import {
  type AnalyticsOutputs,
  foldEvents,
  type LoadedAnalyticsState,
  loadAnalyticsState,
  type PreparedSnapshot,
  planAnalyticsObjects,
  prepareSnapshot,
  putStateSnapshot,
  SNAPSHOT_SIZING,
  type StateSizing,
  toAnalyticsEvent,
  type WarmStateCache,
  warmStates,
} from './analytics';
import { type Bundle, type BundledObject, encodeBundle } from './bundle';
import {
  type Checkpoint,
  CheckpointConflictError,
  type Commit,
  commitBatch,
  readCheckpoint,
  type ShardKey,
} from './checkpoint';
import type { CommitRecordRows } from './commitRecord';
import { type InvalidRecord, sendToDeadLetterQueue } from './deadLetter';
import { decodeRecord } from './decode';
import { type BatchIdentity, groupByPartition, objectKey } from './objects';
import { finishPublication, publishBundle } from './publish';
import { encodeCsv } from './sinks/csv';
import { encodeParquet } from './sinks/parquet';
import { type RecordOrigin, toRow } from './transform';

export interface ConsumerDeps {
  s3: S3Client;
  dynamo: DynamoDBClient;
  sqs: SQSClient;
  config: ConsumerConfig;
  now?: () => number;
  /** The attempt id; random by default (tests make it predictable). */
  newId?: () => string;
  /** Receives one line per protocol step; the handler wires it to the Powertools logger. */
  log?: (message: string, fields: Record<string, unknown>) => void;
  /**
   * Stream analytics (docs/ANALYTICS.md): windows, sessions and alerts, their state one snapshot per
   * commit. Absent or null: off. The handler turns them on unless `SHARDLINE_ANALYTICS=off`.
   */
  analytics?: AnalyticsConfig | null;
  /** How the analytics state is cut into buckets inside a snapshot; tests make buckets tiny. */
  analyticsStateSizing?: StateSizing;
  /** The execution environment's warm analytics states; tests give each simulated environment its own. */
  warmStates?: WarmStateCache;
}

/** What the analytics did in one invocation for one shard. */
export interface AnalyticsBatchSummary {
  events: number;
  windowsClosed: number;
  sessionsClosed: number;
  alertsRaised: number;
  lateEvents: number;
  objectsWritten: number;
  /** Bytes of the state snapshot this commit wrote. */
  snapshotBytes: number;
  /** Whether that snapshot was a delta on the chain or a full one (the compaction). */
  snapshotKind: 'full' | 'delta';
  /** Whether the warm state of this execution environment stood in for reading the snapshot. */
  warm: boolean;
  /** The largest event time seen on the shard after the batch (epoch ms); the watermark trails it. */
  maxEventTime: number | null;
}

/** What one invocation did for one shard, for logs, metrics and tests. */
export interface ShardBatchResult {
  shardId: string;
  received: number;
  /** Records at or below the committed checkpoint: already committed, skipped. */
  skipped: number;
  /**
   * Second copies of a sequence number already in this batch, skipped. Lambda never sends one; a caller
   * that assembles its own events (a replay tool, a test) might, and writing it twice would duplicate it.
   */
  repeated: number;
  valid: number;
  invalid: number;
  /** Final objects this invocation's own commit published (0 when publication is left to others). */
  objectsWritten: number;
  bytesWritten: number;
  /** An earlier commit's unfinished publication that this invocation finished first. */
  finishedPublication: string | null;
  /** Whether this invocation's commit is published; false: committed, left for the next one to publish. */
  published: boolean;
  committedSequenceNumber: string | null;
  /** Null when analytics are off or the batch had nothing new. */
  analytics: AnalyticsBatchSummary | null;
}

/** A checkpoint item is missing while the lake holds commit records of its shard. */
export class LostCheckpointError extends ShardlineError {
  constructor(shardId: string) {
    super(
      `the checkpoint of ${shardId} is missing but the lake holds its commit records (${commitRecordPrefix(shardId)}): ` +
        'replaying would duplicate them; restore the state table (point-in-time recovery) before the consumer runs again',
    );
    this.name = 'LostCheckpointError';
  }
}

/** The mapping runs several batches of one shard at once: the protocol needs one writer per shard. */
export class ParallelizationNotSupportedError extends ShardlineError {
  constructor(factor: number) {
    super(
      `the event source mapping's ParallelizationFactor is ${factor}: Shardline's commit protocol needs one writer per shard; set it to 1 (add shards to scale out)`,
    );
    this.name = 'ParallelizationNotSupportedError';
  }
}

/**
 * Refuses a ParallelizationFactor above 1 (passed in the environment: the event does not carry it).
 *
 * @example
 * ```ts
 * requireSingleWriter(process.env.SHARDLINE_PARALLELIZATION_FACTOR);
 * ```
 */
export function requireSingleWriter(factor: string | undefined): void {
  if (factor === undefined || factor === '') return;
  const value = Number(factor);
  if (value !== 1) throw new ParallelizationNotSupportedError(value);
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
 * Processes a Kinesis batch exactly once per record (docs/EXACTLY_ONCE.md). For each shard in the event:
 * finish any publication an earlier commit owes; skip what is already committed; stage every output of
 * the batch as one bundle (and, with analytics on, the new state as one snapshot) under keys of this
 * attempt's own; send invalid records to the DLQ; commit with one conditional write on the checkpoint;
 * then publish the final objects and the commit record.
 *
 * Before the commit lands, a failure throws, so Lambda retries (and bisects) the batch; nothing staged is
 * visible to any reader, and nothing needs undoing. Once the commit has landed this never throws: the
 * records are committed, and a publication left unfinished is finished by whoever comes next.
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
    finishedPublication: null,
    published: false,
    committedSequenceNumber: null,
    analytics: null,
  };

  let checkpoint = await readCheckpoint(deps.dynamo, shard);
  if (checkpoint.version === 0) await refuseLostCheckpoint(deps, shardId);
  if (checkpoint.pending) {
    // Finished first: a commit needs no pending publication, and readers are owed these objects.
    await finishPublication(deps, shard, checkpoint.pending);
    result.finishedPublication = checkpoint.pending.id;
    log('finished an earlier commit publication', { shardId, attemptId: checkpoint.pending.id });
    checkpoint = { ...checkpoint, pending: null };
  }

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

  const attemptId = deps.newId?.() ?? crypto.randomUUID();
  const batch: BatchIdentity = {
    shardId,
    firstSequenceNumber: first.kinesis.sequenceNumber,
    lastSequenceNumber: last.kinesis.sequenceNumber,
  };
  // Taken out of the warm cache: whatever this attempt's outcome, only a confirmed commit puts it back.
  const analytics = deps.analytics
    ? await prepareAnalytics(deps, shard, checkpoint, rows, batch, attemptId)
    : null;
  const outputs = analytics?.outputs ?? null;
  const objects: BundledObject[] = [...planObjects(rows, batch), ...(analytics?.objects ?? [])];
  const rowCounts = countRows(rows, invalid, outputs);
  const bundle: Bundle = {
    streamName: shard.streamName,
    shardId,
    attemptId,
    firstSequenceNumber: batch.firstSequenceNumber,
    lastSequenceNumber: batch.lastSequenceNumber,
    records: pending.length,
    rows: rowCounts,
    objects,
  };
  const bundleKey = stagingKey(shardId, attemptId);

  await Promise.all([
    deps.s3.send(
      new PutObjectCommand({
        Bucket: deps.config.bucketName,
        Key: bundleKey,
        Body: encodeBundle(bundle),
        ContentType: 'application/octet-stream',
      }),
    ),
    analytics
      ? putStateSnapshot(deps.s3, deps.config.bucketName, analytics.stateKey, analytics.snapshot.body)
      : null,
  ]);
  if (invalid.length > 0) {
    // Before the commit: at least once on the wire, once as readers count them (deterministic record ids).
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

  const commit: Commit = {
    attemptId,
    lastSequenceNumber: batch.lastSequenceNumber,
    bundle: bundleKey,
    stateKey: analytics?.stateKey ?? checkpoint.stateKey,
    records: pending.length,
    rows: rowCounts,
    latestWindowEnd: latestWindowEnd(outputs),
  };
  const committedAt = now();
  // A full snapshot makes the chain it replaces obsolete; a delta keeps building on it.
  const obsoleteStates = analytics?.snapshot.obsolete ?? [];
  try {
    await commitBatch(deps.dynamo, shard, checkpoint.version, obsoleteStates, commit, committedAt);
  } catch (error) {
    // A conflict is final: another attempt committed, and this one's commit can never land (its version
    // is gone), so nobody will ever refer to its snapshot. Anything else may still land: keep it.
    if (analytics && error instanceof CheckpointConflictError) await forgetSnapshot(deps, analytics.stateKey);
    throw error;
  }
  result.committedSequenceNumber = batch.lastSequenceNumber;
  if (analytics) {
    const { encoded, chain, layout } = analytics.snapshot;
    (deps.warmStates ?? warmStates).keep(shard, {
      stateKey: analytics.stateKey,
      encoded,
      chain,
      layout,
      state: analytics.loaded.state,
    });
    result.analytics = summarize(analytics, rows.length);
  }

  // Committed: from here on nothing throws. What is not published now is published by the next
  // invocation of the shard or by the scheduled publisher, from the staged bundle.
  try {
    await publishBundle(
      deps,
      shard,
      { id: attemptId, bundle: bundleKey, obsoleteStates, committedAt },
      bundle,
    );
    result.published = true;
    result.objectsWritten = objects.length;
    result.bytesWritten = objects.reduce((sum, o) => sum + o.body.byteLength, 0);
  } catch (error) {
    log('committed; publication left for the next invocation or the publisher', {
      shardId,
      attemptId,
      error: (error as Error).message,
    });
  }
  log('committed', {
    shardId,
    lastSequenceNumber: batch.lastSequenceNumber,
    valid: result.valid,
    invalid: result.invalid,
    skipped: result.skipped,
    objects: objects.length,
    published: result.published,
  });
  return result;
}

/** Best effort: an orphaned snapshot costs storage, not correctness. */
async function forgetSnapshot(deps: ConsumerDeps, key: string): Promise<void> {
  await deps.s3
    .send(new DeleteObjectCommand({ Bucket: deps.config.bucketName, Key: key }))
    .catch(() => undefined);
}

/**
 * A missing checkpoint is a new shard, unless the lake holds commit records of it: then the table was
 * lost, and replaying from the start would publish every committed record again.
 */
async function refuseLostCheckpoint(deps: ConsumerDeps, shardId: string): Promise<void> {
  const listed = await deps.s3.send(
    new ListObjectsV2Command({
      Bucket: deps.config.bucketName,
      Prefix: commitRecordPrefix(shardId),
      MaxKeys: 1,
    }),
  );
  if ((listed.KeyCount ?? listed.Contents?.length ?? 0) > 0) throw new LostCheckpointError(shardId);
}

/** Rows per dataset of the batch, for the commit's counters and the commit record. */
function countRows(
  rows: EventRow[],
  invalid: InvalidRecord[],
  outputs: AnalyticsOutputs | null,
): CommitRecordRows {
  return {
    events: rows.length,
    invalid: invalid.length,
    windows: outputs?.windows.length ?? 0,
    sessions: outputs?.sessions.length ?? 0,
    alerts: outputs?.alerts.length ?? 0,
    lateEvents: outputs?.lateEvents.length ?? 0,
    engagement: outputs?.engagement.length ?? 0,
  };
}

function latestWindowEnd(outputs: AnalyticsOutputs | null): number | null {
  let latest: number | null = null;
  for (const window of outputs?.windows ?? []) latest = Math.max(latest ?? 0, window.window_end);
  return latest;
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
  loaded: LoadedAnalyticsState;
  outputs: AnalyticsOutputs;
  objects: BundledObject[];
  stateKey: string;
  snapshot: PreparedSnapshot;
}

/**
 * Loads the shard's committed analytics state (warm, or from its snapshot), folds the batch's valid
 * events into it, and encodes the outputs and the new snapshot, before anything is written.
 */
async function prepareAnalytics(
  deps: ConsumerDeps,
  shard: ShardKey,
  checkpoint: Checkpoint,
  rows: EventRow[],
  batch: BatchIdentity,
  attemptId: string,
): Promise<PreparedAnalytics> {
  const config = deps.analytics as AnalyticsConfig;
  const cache = deps.warmStates ?? warmStates;
  const loaded = await loadAnalyticsState(
    deps.s3,
    deps.config.bucketName,
    checkpoint.stateKey,
    cache.take(shard),
  );
  if (loaded.warm) cache.reused++;
  // The loaded state is this attempt's own copy: fold into it rather than clone it.
  const outputs = foldEvents(loaded.state, rows.map(toAnalyticsEvent), config);
  const stateKey = stateSnapshotKey(shard.shardId, attemptId);
  return {
    loaded,
    outputs,
    objects: planAnalyticsObjects(outputs, batch),
    stateKey,
    snapshot: prepareSnapshot(loaded, stateKey, deps.analyticsStateSizing ?? SNAPSHOT_SIZING),
  };
}

function summarize(analytics: PreparedAnalytics, events: number): AnalyticsBatchSummary {
  const { outputs, loaded, objects, snapshot } = analytics;
  return {
    events,
    windowsClosed: outputs.windows.length,
    sessionsClosed: outputs.sessions.length,
    alertsRaised: outputs.alerts.length,
    lateEvents: outputs.lateEvents.length,
    objectsWritten: objects.length,
    snapshotBytes: snapshot.body.byteLength,
    snapshotKind: snapshot.kind,
    warm: loaded.warm,
    maxEventTime: loaded.state.maxEventTime,
  };
}

function planObjects(rows: EventRow[], batch: BatchIdentity): BundledObject[] {
  const objects: BundledObject[] = [];
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
