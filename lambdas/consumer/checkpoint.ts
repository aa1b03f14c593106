import {
  type AttributeValue,
  ConditionalCheckFailedException,
  type DynamoDBClient,
  GetItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { sortableSequenceNumber } from '../shared/sequence';

/**
 * The per-shard checkpoint item and the conditional writes of the commit protocol
 * (docs/EXACTLY_ONCE.md). Every write is a single-item conditional UpdateItem guarded by `version`, a
 * fencing counter in the style of KCL leases: whoever wrote version N owns the shard until the next
 * write, and a writer holding a stale version always fails.
 */

/** What an invocation is about to write, recorded before it writes anything. */
export interface Intent {
  id: string;
  firstSequenceNumber: string;
  lastSequenceNumber: string;
  /** Every S3 key the invocation may write; rollback deletes exactly these. */
  objectKeys: string[];
  startedAt: number;
}

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
}

export const COMMITTED_DATASETS = [
  'events',
  'invalid',
  'windows',
  'sessions',
  'alerts',
  'lateEvents',
] as const;

/** What one commit adds to the shard's counters. */
export interface CommitCounts {
  /** Records the commit covers (valid and invalid). */
  records: number;
  rows?: Partial<CommittedRows>;
  /** The end (epoch ms) of the newest window the batch closed, if it closed any. */
  latestWindowEnd?: number | null;
}

/** Counts for every dataset, from a function of the dataset. */
export const committedRowsBy = (count: (dataset: keyof CommittedRows) => number): CommittedRows =>
  Object.fromEntries(
    COMMITTED_DATASETS.map((dataset) => [dataset, count(dataset)]),
  ) as unknown as CommittedRows;

const counterAttribute = (dataset: keyof CommittedRows) =>
  `committed${dataset[0]?.toUpperCase()}${dataset.slice(1)}`;

export interface Checkpoint {
  /** 0 when the shard has never been written. */
  version: number;
  lastCommittedSequenceNumber: string | null;
  committedRecords: number;
  /**
   * Intents cleared by a rollback or by their own failed attempt's cleanup. Every such attempt's keys get
   * a late-PUT sweep item (sweep.ts) first, so while this is 0 the shard has none.
   */
  rolledBack: number;
  /** Zero for a dataset that nothing was committed to (and for checkpoints older than the counters). */
  committedRows: CommittedRows;
  /** The end (epoch ms) of the newest window committed on this shard; null before the first. */
  latestWindowEnd: number | null;
  /** When the last commit landed (epoch ms); null before the first. */
  committedAt: number | null;
  intent: Intent | null;
  /** The intent of the last commit: how an invocation whose commit response was lost learns it won. */
  lastCommittedIntentId: string | null;
  /** Who took the last fence over an intent (a rollback's own id): how a lost fence response is told apart. */
  fencedBy: string | null;
}

export interface ShardKey {
  tableName: string;
  streamName: string;
  shardId: string;
}

/** Another invocation moved the checkpoint first: this one must not commit. */
export class CheckpointConflictError extends Error {
  constructor(shardId: string, expectedVersion: number, step: string) {
    super(
      `checkpoint of ${shardId} moved past version ${expectedVersion} during ${step}: another invocation owns the shard`,
    );
    this.name = 'CheckpointConflictError';
  }
}

const key = (shard: ShardKey): Record<string, AttributeValue> => ({
  pk: { S: `${shard.streamName}#${shard.shardId}` },
  sk: { S: 'checkpoint' },
});

function parseIntent(value: AttributeValue | undefined): Intent | null {
  const m = value?.M;
  if (!m) return null;
  return {
    id: m.id?.S ?? '',
    firstSequenceNumber: m.first?.S ?? '',
    lastSequenceNumber: m.last?.S ?? '',
    objectKeys: (m.keys?.L ?? []).map((k) => k.S ?? ''),
    startedAt: Number(m.startedAt?.N ?? '0'),
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
    new GetItemCommand({ TableName: shard.tableName, Key: key(shard), ConsistentRead: true }),
  );
  return {
    version: Number(Item?.version?.N ?? '0'),
    lastCommittedSequenceNumber: Item?.lastSeq?.S ?? null,
    committedRecords: Number(Item?.committedRecords?.N ?? '0'),
    rolledBack: Number(Item?.rolledBack?.N ?? '0'),
    committedRows: committedRowsBy((dataset) => Number(Item?.[counterAttribute(dataset)]?.N ?? '0')),
    latestWindowEnd: Item?.latestWindowEnd?.N ? Number(Item.latestWindowEnd.N) : null,
    committedAt: Item?.committedAt?.N ? Number(Item.committedAt.N) : null,
    intent: parseIntent(Item?.intent),
    lastCommittedIntentId: Item?.lastIntentId?.S ?? null,
    fencedBy: Item?.fencedBy?.S ?? null,
  };
}

/** The condition that the item is still at `version` (or absent, for version 0). */
function fence(version: number): { ConditionExpression: string; values: Record<string, AttributeValue> } {
  return version === 0
    ? { ConditionExpression: 'attribute_not_exists(pk)', values: {} }
    : { ConditionExpression: 'version = :expected', values: { ':expected': { N: String(version) } } };
}

interface ConditionalUpdate {
  expression: string;
  condition?: string;
  values: Record<string, AttributeValue>;
  /**
   * Whether the item, read after a failed condition, shows that this very write landed: its response was
   * lost and the SDK's retry then failed the condition. Only for writes whose effect no other writer can
   * produce at the same version; without it, a failed condition is a conflict.
   */
  landed?: (current: Checkpoint, nextVersion: number) => boolean;
}

async function conditionalUpdate(
  dynamo: DynamoDBClient,
  shard: ShardKey,
  expectedVersion: number,
  step: string,
  update: ConditionalUpdate,
): Promise<number> {
  const guard = fence(expectedVersion);
  const nextVersion = expectedVersion + 1;
  try {
    await dynamo.send(
      new UpdateItemCommand({
        TableName: shard.tableName,
        Key: key(shard),
        UpdateExpression: update.expression,
        ConditionExpression: update.condition
          ? `${guard.ConditionExpression} AND ${update.condition}`
          : guard.ConditionExpression,
        ExpressionAttributeValues: {
          ...guard.values,
          ...update.values,
          ':next': { N: String(nextVersion) },
          ':now': { N: String(Date.now()) },
        },
      }),
    );
    return nextVersion;
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
    if (update.landed?.(await readCheckpoint(dynamo, shard), nextVersion)) return nextVersion;
    throw new CheckpointConflictError(shard.shardId, expectedVersion, step);
  }
}

/**
 * Records the intent and takes the fence: the returned version is this invocation's token.
 *
 * @example
 * ```ts
 * const token = await recordIntent(dynamo, shard, checkpoint.version, intent);
 * ```
 */
export function recordIntent(
  dynamo: DynamoDBClient,
  shard: ShardKey,
  expectedVersion: number,
  intent: Intent,
) {
  return conditionalUpdate(dynamo, shard, expectedVersion, 'recordIntent', {
    expression: 'SET intent = :intent, version = :next, updatedAt = :now',
    // The intent id is this invocation's own UUID: nobody else can have written it.
    landed: (current, nextVersion) => current.version === nextVersion && current.intent?.id === intent.id,
    values: {
      ':intent': {
        M: {
          id: { S: intent.id },
          first: { S: intent.firstSequenceNumber },
          last: { S: intent.lastSequenceNumber },
          keys: { L: intent.objectKeys.map((k) => ({ S: k })) },
          startedAt: { N: String(intent.startedAt) },
        },
      },
    },
  });
}

/**
 * Moves the checkpoint to the intent's last sequence number and clears the intent, in one conditional
 * write: only the holder of `expectedVersion` with this intent can commit, and never backwards. The same
 * write adds the batch's counts to the shard's counters, so they are exactly once too.
 *
 * @example
 * ```ts
 * await commitIntent(dynamo, shard, token, intent, { records: 500, rows: { events: 490, invalid: 10 } });
 * ```
 */
export function commitIntent(
  dynamo: DynamoDBClient,
  shard: ShardKey,
  expectedVersion: number,
  intent: Intent,
  counts: CommitCounts,
) {
  const set = [
    'lastSeq = :last',
    'lastSeqKey = :lastKey',
    'lastIntentId = :intentId',
    'version = :next',
    'updatedAt = :now',
    'committedAt = :now',
  ];
  const add = ['committedRecords :count'];
  const values: Record<string, AttributeValue> = {
    ':last': { S: intent.lastSequenceNumber },
    ':lastKey': { S: sortableSequenceNumber(intent.lastSequenceNumber) },
    ':intentId': { S: intent.id },
    ':count': { N: String(counts.records) },
  };
  for (const dataset of COMMITTED_DATASETS) {
    const rows = counts.rows?.[dataset] ?? 0;
    if (rows === 0) continue;
    add.push(`${counterAttribute(dataset)} :${dataset}`);
    values[`:${dataset}`] = { N: String(rows) };
  }
  if (counts.latestWindowEnd !== undefined && counts.latestWindowEnd !== null) {
    set.push('latestWindowEnd = :windowEnd');
    values[':windowEnd'] = { N: String(counts.latestWindowEnd) };
  }
  return conditionalUpdate(dynamo, shard, expectedVersion, 'commitIntent', {
    expression: `SET ${set.join(', ')} ADD ${add.join(', ')} REMOVE intent`,
    condition: 'intent.id = :intentId AND (attribute_not_exists(lastSeqKey) OR lastSeqKey < :lastKey)',
    values,
  });
}

/**
 * Takes the fence over another invocation's unfinished intent before touching anything of it: from here
 * on that invocation's commit fails its condition, so a rollback can never delete the objects of a commit
 * that lands while it runs. `fencerId`, unique to this rollback, is written with it, so that a fence whose
 * response was lost can tell itself from a rival's.
 *
 * @example
 * ```ts
 * const fenced = await fenceIntent(dynamo, shard, checkpoint.version, checkpoint.intent.id, randomUUID());
 * ```
 */
export function fenceIntent(
  dynamo: DynamoDBClient,
  shard: ShardKey,
  expectedVersion: number,
  intentId: string,
  fencerId: string,
) {
  return conditionalUpdate(dynamo, shard, expectedVersion, 'fenceIntent', {
    expression: 'SET version = :next, fencedBy = :fencer, updatedAt = :now',
    condition: 'intent.id = :intentId',
    values: { ':intentId': { S: intentId }, ':fencer': { S: fencerId } },
    landed: (current, nextVersion) =>
      current.version === nextVersion && current.intent?.id === intentId && current.fencedBy === fencerId,
  });
}

/**
 * Clears an intent whose objects have been deleted, taking the fence. Used to roll back a crashed or
 * failed invocation.
 */
export function clearIntent(
  dynamo: DynamoDBClient,
  shard: ShardKey,
  expectedVersion: number,
  intentId: string,
) {
  return conditionalUpdate(dynamo, shard, expectedVersion, 'clearIntent', {
    expression: 'SET version = :next, updatedAt = :now ADD rolledBack :one REMOVE intent',
    // Only the holder of `expectedVersion` (the fence) can move the item to the next version without an
    // intent: a rival's fence keeps the intent, and a commit needs an intent of that version.
    landed: (current, nextVersion) => current.version === nextVersion && current.intent === null,
    condition: 'intent.id = :intentId',
    values: { ':intentId': { S: intentId }, ':one': { N: '1' } },
  });
}
