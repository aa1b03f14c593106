import {
  type AttributeValue,
  ConditionalCheckFailedException,
  type DynamoDBClient,
  GetItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { ShardlineError } from '../shared/errors';
import { sortableSequenceNumber } from '../shared/sequence';

/**
 * The per-shard checkpoint item: the one commit point of the protocol (docs/EXACTLY_ONCE.md). A commit
 * is one conditional UpdateItem, guarded by `version` (a fencing counter: whoever read version N commits
 * N + 1, a writer holding a stale version always fails) and by the absence of a pending publication. It
 * moves `lastSeq` forward, points at the new analytics state snapshot, and records the publication that
 * is now owed: `pending`. Clearing `pending` does not move the version. Nothing here is ever rolled back.
 */

/** Rows committed per dataset, summed by the commits themselves: exactly once, like the rows. */
export interface CommittedRows {
  /** Rows in events/ (each in Parquet and in CSV). */
  events: number;
  /** Records sent to the DLQ as invalid. */
  invalid: number;
  windows: number;
  sessions: number;
  alerts: number;
  lateEvents: number;
  engagement: number;
}

export const COMMITTED_DATASETS = [
  'events',
  'invalid',
  'windows',
  'sessions',
  'alerts',
  'lateEvents',
  'engagement',
] as const;

/** Counts for every dataset, from a function of the dataset. */
export const committedRowsBy = (count: (dataset: keyof CommittedRows) => number): CommittedRows =>
  Object.fromEntries(
    COMMITTED_DATASETS.map((dataset) => [dataset, count(dataset)]),
  ) as unknown as CommittedRows;

const counterAttribute = (dataset: keyof CommittedRows) =>
  `committed${dataset[0]?.toUpperCase()}${dataset.slice(1)}`;

/** A committed batch whose final objects may not all be written yet. */
export interface PendingPublication {
  /** The committing attempt's random id. */
  id: string;
  /** The staging key of its bundle, from which anyone can finish the publication. */
  bundle: string;
  /**
   * The state snapshots the commit made obsolete (the chain a full snapshot replaced), deleted once the
   * publication is finished.
   */
  obsoleteStates: readonly string[];
  /** When the commit landed (epoch ms): the publisher reports the oldest. */
  committedAt: number;
}

export interface Checkpoint {
  /** 0 when the shard has never been written. */
  version: number;
  lastCommittedSequenceNumber: string | null;
  committedRecords: number;
  /** Zero for a dataset that nothing was committed to. */
  committedRows: CommittedRows;
  /** The end (epoch ms) of the newest window committed on this shard; null before the first. */
  latestWindowEnd: number | null;
  /** When the last commit landed (epoch ms); null before the first. */
  committedAt: number | null;
  /** The analytics state snapshot of the last commit (an S3 key); null when analytics never ran. */
  stateKey: string | null;
  /** The publication the last commit owes, until someone finishes it. */
  pending: PendingPublication | null;
  /** The attempt of the last commit: how an attempt whose commit response was lost learns it won. */
  lastAttemptId: string | null;
}

export interface ShardKey {
  tableName: string;
  streamName: string;
  shardId: string;
}

/** What one commit writes. */
export interface Commit {
  attemptId: string;
  lastSequenceNumber: string;
  /** The bundle staged before the commit. */
  bundle: string;
  /** The new analytics snapshot, or the current one when analytics are off (null: none). */
  stateKey: string | null;
  /** Records the commit covers (valid and invalid). */
  records: number;
  rows?: Partial<CommittedRows>;
  /** The end (epoch ms) of the newest window the batch closed, if it closed any. */
  latestWindowEnd?: number | null;
}

/** Another attempt committed first, or a publication is owed: this attempt must not commit. */
export class CheckpointConflictError extends ShardlineError {
  constructor(shardId: string, expectedVersion: number) {
    super(
      `checkpoint of ${shardId} moved past version ${expectedVersion} or owes a publication: another invocation owns the shard`,
    );
    this.name = 'CheckpointConflictError';
  }
}

/** The item was written by an older Shardline whose protocol this one does not read. */
export class LegacyCheckpointError extends ShardlineError {
  constructor(shardId: string) {
    super(
      `checkpoint of ${shardId} is in the layout of an older Shardline (intents and rollbacks); start from a clean data directory (delete .shardline/) or a new stage`,
    );
    this.name = 'LegacyCheckpointError';
  }
}

/**
 * The key of a shard's checkpoint item. The state table holds nothing else the consumer writes.
 *
 * @example
 * ```ts
 * checkpointKey({ tableName, streamName: 'events', shardId: 'shardId-000000000000' });
 * // { pk: { S: 'events#shardId-000000000000' }, sk: { S: 'checkpoint' } }
 * ```
 */
export const checkpointKey = (
  shard: Pick<ShardKey, 'streamName' | 'shardId'>,
): Record<string, AttributeValue> => ({
  pk: { S: `${shard.streamName}#${shard.shardId}` },
  sk: { S: CHECKPOINT_SK },
});

export const CHECKPOINT_SK = 'checkpoint';

function parsePending(value: AttributeValue | undefined): PendingPublication | null {
  const m = value?.M;
  if (!m) return null;
  return {
    id: m.id?.S ?? '',
    bundle: m.bundle?.S ?? '',
    // `previousState`: one replaced snapshot, as commits wrote it before snapshot chains.
    obsoleteStates:
      m.obsoleteStates?.L?.map((k) => k.S ?? '') ?? (m.previousState?.S ? [m.previousState.S] : []),
    committedAt: Number(m.committedAt?.N ?? '0'),
  };
}

/**
 * The checkpoint an item holds (an absent item: a shard never committed).
 *
 * @example
 * ```ts
 * const checkpoint = parseCheckpoint(shardId, Item);
 * ```
 */
export function parseCheckpoint(
  shardId: string,
  item: Record<string, AttributeValue> | undefined,
): Checkpoint {
  if (item?.intent || item?.lastIntentId) throw new LegacyCheckpointError(shardId);
  return {
    version: Number(item?.version?.N ?? '0'),
    lastCommittedSequenceNumber: item?.lastSeq?.S ?? null,
    committedRecords: Number(item?.committedRecords?.N ?? '0'),
    committedRows: committedRowsBy((dataset) => Number(item?.[counterAttribute(dataset)]?.N ?? '0')),
    latestWindowEnd: item?.latestWindowEnd?.N ? Number(item.latestWindowEnd.N) : null,
    committedAt: item?.committedAt?.N ? Number(item.committedAt.N) : null,
    stateKey: item?.state?.S ?? null,
    pending: parsePending(item?.pending),
    lastAttemptId: item?.lastAttemptId?.S ?? null,
  };
}

/**
 * Reads the shard's checkpoint with a strongly consistent read.
 *
 * @example
 * ```ts
 * const checkpoint = await readCheckpoint(dynamo, { tableName, streamName, shardId });
 * ```
 */
export async function readCheckpoint(dynamo: DynamoDBClient, shard: ShardKey): Promise<Checkpoint> {
  const { Item } = await dynamo.send(
    new GetItemCommand({ TableName: shard.tableName, Key: checkpointKey(shard), ConsistentRead: true }),
  );
  return parseCheckpoint(shard.shardId, Item);
}

/**
 * Commits a batch: moves the checkpoint to `commit.lastSequenceNumber`, points it at the new state
 * snapshot and records the publication it owes, in one conditional write. Only the holder of
 * `expectedVersion` can commit, only when no publication is owed, and never backwards. The same write
 * adds the batch's counts to the shard's counters, so they are exactly once too.
 *
 * A lost or timed-out response is resolved by reading the item again: `lastAttemptId` says whether this
 * attempt's commit is the one that landed. When even that read fails the outcome is unknown and this
 * throws; a commit that lands later finds its bundle staged, and whoever comes next publishes it.
 *
 * @example
 * ```ts
 * await commitBatch(dynamo, shard, checkpoint.version, checkpoint.stateKey, {
 *   attemptId, lastSequenceNumber, bundle, stateKey, records: 500, rows: { events: 490, invalid: 10 },
 * });
 * ```
 */
export async function commitBatch(
  dynamo: DynamoDBClient,
  shard: ShardKey,
  expectedVersion: number,
  obsoleteStates: readonly string[],
  commit: Commit,
  nowMs: number = Date.now(),
): Promise<number> {
  const nextVersion = expectedVersion + 1;
  const pending: Record<string, AttributeValue> = {
    id: { S: commit.attemptId },
    bundle: { S: commit.bundle },
    committedAt: { N: String(nowMs) },
  };
  // Deleted once the publication is finished: nothing committed refers to them after this commit.
  if (obsoleteStates.length > 0) pending.obsoleteStates = { L: obsoleteStates.map((key) => ({ S: key })) };
  const set = [
    'version = :next',
    'lastSeq = :last',
    'lastSeqKey = :lastKey',
    'lastAttemptId = :attempt',
    'pending = :pending',
    'committedAt = :now',
    'updatedAt = :now',
  ];
  const values: Record<string, AttributeValue> = {
    ':next': { N: String(nextVersion) },
    ':last': { S: commit.lastSequenceNumber },
    ':lastKey': { S: sortableSequenceNumber(commit.lastSequenceNumber) },
    ':attempt': { S: commit.attemptId },
    ':pending': { M: pending },
    ':now': { N: String(nowMs) },
    ':count': { N: String(commit.records) },
  };
  if (commit.stateKey !== null) {
    set.push('#state = :state');
    values[':state'] = { S: commit.stateKey };
  }
  const add = ['committedRecords :count'];
  for (const dataset of COMMITTED_DATASETS) {
    const rows = commit.rows?.[dataset] ?? 0;
    if (rows === 0) continue;
    add.push(`${counterAttribute(dataset)} :${dataset}`);
    values[`:${dataset}`] = { N: String(rows) };
  }
  if (commit.latestWindowEnd !== undefined && commit.latestWindowEnd !== null) {
    set.push('latestWindowEnd = :windowEnd');
    values[':windowEnd'] = { N: String(commit.latestWindowEnd) };
  }
  const fence =
    expectedVersion === 0
      ? 'attribute_not_exists(pk)'
      : 'version = :expected AND attribute_not_exists(pending) AND lastSeqKey < :lastKey';
  if (expectedVersion !== 0) values[':expected'] = { N: String(expectedVersion) };
  try {
    await dynamo.send(
      new UpdateItemCommand({
        TableName: shard.tableName,
        Key: checkpointKey(shard),
        UpdateExpression: `SET ${set.join(', ')} ADD ${add.join(', ')}`,
        ConditionExpression: fence,
        ExpressionAttributeNames: commit.stateKey !== null ? { '#state': 'state' } : undefined,
        ExpressionAttributeValues: values,
      }),
    );
    return nextVersion;
  } catch (error) {
    // Whatever went wrong, the write may have landed (a timeout, then a retry that fails its condition).
    const current = await readCheckpoint(dynamo, shard);
    if (current.lastAttemptId === commit.attemptId) return nextVersion;
    if (error instanceof ConditionalCheckFailedException)
      throw new CheckpointConflictError(shard.shardId, expectedVersion);
    throw error;
  }
}

/**
 * Marks a publication finished. Conditional on the pending id and without moving the version: a clear
 * must never fail a commit that follows it. A failed condition means someone else finished it first.
 *
 * @example
 * ```ts
 * await clearPending(dynamo, shard, pending.id);
 * ```
 */
export async function clearPending(
  dynamo: DynamoDBClient,
  shard: ShardKey,
  pendingId: string,
): Promise<boolean> {
  try {
    await dynamo.send(
      new UpdateItemCommand({
        TableName: shard.tableName,
        Key: checkpointKey(shard),
        UpdateExpression: 'REMOVE pending',
        ConditionExpression: 'pending.id = :id',
        ExpressionAttributeValues: { ':id': { S: pendingId } },
      }),
    );
    return true;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return false;
    throw error;
  }
}
