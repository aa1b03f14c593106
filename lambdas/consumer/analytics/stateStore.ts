import {
  type AttributeValue,
  ConditionalCheckFailedException,
  type DynamoDBClient,
  PutItemCommand,
  QueryCommand,
} from '@aws-sdk/client-dynamodb';
import type { ShardKey } from '../checkpoint';
import type { AnalyticsState } from './engine';
import { AnalyticsStateConflictError, CorruptAnalyticsStateError } from './errors';
import {
  DEFAULT_SIZING,
  decodeState,
  type EncodedState,
  encodeMeta,
  encodeState,
  isStateUntouched,
  layoutOf,
  layoutSks,
  META_SK,
  type StateLayout,
  type StateSizing,
  untouchState,
} from './stateCodec';
import type { WarmAnalyticsState } from './warmStateCache';

/**
 * Exactly-once analytics state with single-item conditional writes (docs/ANALYTICS.md, "Exactly once").
 *
 * Each item keeps two versions: `data`, written by the attempt that processed up to `appliedSeq`, and
 * `prev`, the committed version that attempt started from. The shard's checkpoint decides which one is
 * current: an item whose `appliedSeq` is above the committed sequence number was written by an attempt
 * that never committed, so its `prev` is current. Every write is conditional on the `writer` the
 * attempt read (unique per attempt), so two attempts can never both overwrite what one of them read.
 * The checkpoint commit remains the one atomic commit point of events and analytics.
 */

export const ANALYTICS_SK_PREFIX = 'analytics#';
const DAY_SECONDS = 86_400;
/** An item with nothing in it, now or in its previous version, expires a day after its last write. */
export const EMPTY_ITEM_TTL_SECONDS = DAY_SECONDS;
/** Any other item expires 30 days after its last write: only a shard that stopped receiving data. */
export const IDLE_ITEM_TTL_SECONDS = 30 * DAY_SECONDS;

export interface StateVersion {
  /** The last sequence number (decimal string) of the batch that produced this version; '0' for none. */
  appliedSeq: string;
  data: Uint8Array;
}

export interface StoredStateItem {
  sk: string;
  /** Who wrote the item: unique per attempt, the condition of the next write. */
  writer: string;
  appliedSeq: string;
  data: Uint8Array;
  /** The committed version the writer started from; null when there was none. */
  prev: StateVersion | null;
  /** TTL, epoch seconds. */
  expiresAt: number;
}

export interface StatePut {
  item: StoredStateItem;
  /** The writer this put expects to find; null: the item must not exist. */
  expectedWriter: string | null;
}

/** Where the items live: DynamoDB in the consumer, a map in the property tests. */
export interface AnalyticsStateStore {
  readAll(): Promise<StoredStateItem[]>;
  /** Throws {@link AnalyticsStateConflictError} when the item's writer is not the expected one. */
  put(put: StatePut): Promise<void>;
}

const isAfterCommitted = (appliedSeq: string, lastCommitted: string | null) =>
  lastCommitted === null || BigInt(appliedSeq) > BigInt(lastCommitted);

/**
 * The committed version of an item: its data if its writer's batch is at or below the checkpoint, else
 * its previous version.
 *
 * @example
 * ```ts
 * committedVersion(item, checkpoint.lastCommittedSequenceNumber);
 * ```
 */
export function committedVersion(item: StoredStateItem, lastCommitted: string | null): StateVersion | null {
  return isAfterCommitted(item.appliedSeq, lastCommitted)
    ? item.prev
    : { appliedSeq: item.appliedSeq, data: item.data };
}

export interface LoadedAnalyticsState {
  lastCommittedSequenceNumber: string | null;
  state: AnalyticsState;
  layout: StateLayout;
  /** Every analytics item as read, in or out of the layout. */
  stored: Map<string, StoredStateItem>;
  /** The committed version of each item of the committed layout (null: none). */
  committed: Map<string, StateVersion | null>;
  /**
   * When `state` is a warm state proven equal to the committed one: its encoding, which the next
   * encoding reuses for whatever the batch does not touch. Null when `state` was decoded.
   */
  earlier: EncodedState | null;
}

/**
 * Resolves the committed state from the items read, given the shard's committed sequence number. Items
 * outside the committed layout (buckets an uncommitted split created) are ignored.
 *
 * @example
 * ```ts
 * const loaded = resolveAnalyticsState(await store.readAll(), checkpoint.lastCommittedSequenceNumber);
 * ```
 */
export function resolveAnalyticsState(
  items: readonly StoredStateItem[],
  lastCommittedSequenceNumber: string | null,
  warm: WarmAnalyticsState | null = null,
): LoadedAnalyticsState {
  const stored = new Map(items.map((item) => [item.sk, item]));
  const versionOf = (sk: string) => {
    const item = stored.get(sk);
    return item ? committedVersion(item, lastCommittedSequenceNumber) : null;
  };
  const layout = layoutOf(versionOf(META_SK)?.data ?? new Uint8Array(0));
  const committed = new Map<string, StateVersion | null>();
  const data = new Map<string, Uint8Array>();
  for (const sk of layoutSks(layout)) {
    const version = versionOf(sk);
    committed.set(sk, version);
    if (version) data.set(sk, version.data);
  }
  if (warm && isWarmStateCommitted(warm, lastCommittedSequenceNumber, layout, committed))
    return {
      lastCommittedSequenceNumber,
      state: warm.state,
      layout,
      stored,
      committed,
      earlier: warm.encoded,
    };
  return { lastCommittedSequenceNumber, state: decodeState(data), layout, stored, committed, earlier: null };
}

const EMPTY = new Uint8Array(0);

/**
 * Whether a warm state is the committed one, so that it can stand in for decoding it: it was planned for
 * the batch the checkpoint committed last, its encoding is byte for byte the committed version of every
 * item of the committed layout, nothing touched it since it was encoded, and its meta fields still
 * encode to the committed meta item. An attempt that failed or was rolled back left other bytes or
 * another sequence number, so its state is never reused unless it equals the committed one.
 */
function isWarmStateCommitted(
  warm: WarmAnalyticsState,
  lastCommittedSequenceNumber: string | null,
  layout: StateLayout,
  committed: ReadonlyMap<string, StateVersion | null>,
): boolean {
  if (warm.appliedSeq !== lastCommittedSequenceNumber) return false;
  if (warm.encoded.items.size !== committed.size) return false;
  for (const [sk, version] of committed) {
    const bytes = warm.encoded.items.get(sk);
    if (bytes === undefined || !sameBytes(bytes, version?.data ?? EMPTY)) return false;
  }
  if (!isStateUntouched(warm.state)) return false;
  return sameBytes(encodeMeta(warm.state, layout), committed.get(META_SK)?.data ?? EMPTY);
}

/**
 * Reads every analytics item of the shard and resolves the committed state.
 *
 * @example
 * ```ts
 * const loaded = await loadAnalyticsState(store, checkpoint.lastCommittedSequenceNumber);
 * ```
 */
export async function loadAnalyticsState(
  store: AnalyticsStateStore,
  lastCommittedSequenceNumber: string | null,
  warm: WarmAnalyticsState | null = null,
): Promise<LoadedAnalyticsState> {
  return resolveAnalyticsState(await store.readAll(), lastCommittedSequenceNumber, warm);
}

// Views, not copies: the items compared are tens of kilobytes.
const view = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
const sameBytes = (a: Uint8Array, b: Uint8Array) => a.byteLength === b.byteLength && view(a).equals(b);

function expiresAt(nowMs: number, data: Uint8Array, prev: StateVersion | null): number {
  const empty = data.byteLength === 0 && (prev === null || prev.data.byteLength === 0);
  return Math.floor(nowMs / 1000) + (empty ? EMPTY_ITEM_TTL_SECONDS : IDLE_ITEM_TTL_SECONDS);
}

export interface StateWritePlan {
  puts: StatePut[];
  layout: StateLayout;
  /** Every item of the new layout as encoded: the bytes the state has once the batch commits. */
  encoded: EncodedState;
  /** Items of the new layout, and the largest one's estimated DynamoDB size in bytes. */
  itemCount: number;
  largestItemBytes: number;
}

/**
 * The conditional puts that persist `state` as the result of the batch ending at `lastSequenceNumber`.
 * An item is written when its bytes differ from its committed version, when it was left by an attempt
 * that never committed (even if the value is back to the committed one: otherwise that stale version
 * would turn current once the checkpoint passes its `appliedSeq`), and when a split adds it to the
 * layout. Each put sets `prev` to the committed version and expects the writer that was read.
 *
 * @example
 * ```ts
 * const plan = planStateWrites(loaded, next.state, { lastSequenceNumber, writer, nowMs: Date.now() });
 * await writeState(store, plan.puts);
 * ```
 */
export function planStateWrites(
  loaded: LoadedAnalyticsState,
  state: AnalyticsState,
  options: { lastSequenceNumber: string; writer: string; nowMs: number; sizing?: StateSizing },
): StateWritePlan {
  // Re-encodes only what the fold touched when the state is a warm one; the bytes are the same.
  const earlier = state === loaded.state ? loaded.earlier : null;
  const encoded = encodeState(state, loaded.layout, options.sizing ?? DEFAULT_SIZING, earlier);
  // What the state's maps record from now on is relative to this encoding.
  untouchState(state);
  const puts: StatePut[] = [];
  let largestItemBytes = 0;
  for (const [sk, data] of encoded.items) {
    const stored = loaded.stored.get(sk);
    const inCommittedLayout = loaded.committed.has(sk);
    const committed = loaded.committed.get(sk) ?? null;
    const unchanged = committed ? sameBytes(committed.data, data) : data.byteLength === 0;
    const leftUncommitted =
      stored !== undefined && isAfterCommitted(stored.appliedSeq, loaded.lastCommittedSequenceNumber);
    const item: StoredStateItem = {
      sk,
      writer: options.writer,
      appliedSeq: options.lastSequenceNumber,
      data,
      prev: committed,
      expiresAt: expiresAt(options.nowMs, data, committed),
    };
    largestItemBytes = Math.max(largestItemBytes, estimateItemSize(item));
    if (unchanged && !leftUncommitted && inCommittedLayout) continue;
    puts.push({ item, expectedWriter: stored?.writer ?? null });
  }
  return { puts, layout: encoded.layout, encoded, itemCount: encoded.items.size, largestItemBytes };
}

/**
 * The puts that roll the analytics state back to its committed version and take it over, for the
 * rollback of an unfinished intent: every item of the committed layout (created if missing) gets the
 * committed value in both versions and a new writer. An invocation whose intent is rolled back can still
 * be running; whatever it writes afterwards now fails its condition, because its reads all precede this.
 *
 * @example
 * ```ts
 * await writeState(store, planStateRestore(loaded, `rollback-${id}`, Date.now()));
 * ```
 */
export function planStateRestore(loaded: LoadedAnalyticsState, writer: string, nowMs: number): StatePut[] {
  return [...loaded.committed].map(([sk, committed]) => {
    const data = committed?.data ?? new Uint8Array(0);
    return {
      item: {
        sk,
        writer,
        appliedSeq: committed?.appliedSeq ?? '0',
        data,
        prev: committed,
        expiresAt: expiresAt(nowMs, data, committed),
      },
      expectedWriter: loaded.stored.get(sk)?.writer ?? null,
    };
  });
}

/**
 * Runs the puts in parallel and waits for every one to settle before reporting the first failure, so
 * that nothing of this attempt is still in flight when it cleans up and the next attempt reads.
 *
 * @example
 * ```ts
 * await writeState(store, plan.puts);
 * ```
 */
export async function writeState(store: AnalyticsStateStore, puts: readonly StatePut[]): Promise<void> {
  const settled = await Promise.allSettled(puts.map((put) => store.put(put)));
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) throw failed.reason;
}

/**
 * The DynamoDB size of an item (attribute names plus values), the figure the 400 KB limit applies to.
 *
 * @example
 * ```ts
 * estimateItemSize(item) < 400 * 1024;
 * ```
 */
export function estimateItemSize(item: StoredStateItem, pk = ''.padEnd(64)): number {
  const text = (s: string) => Buffer.byteLength(s, 'utf8');
  const number = 21;
  let size = text('pk') + text(pk) + text('sk') + text(item.sk);
  size += text('writer') + text(item.writer) + text('appliedSeq') + text(item.appliedSeq);
  size += text('data') + item.data.byteLength + text('expires_at') + number + text('updatedAt') + number;
  if (item.prev)
    size +=
      text('prev') +
      3 +
      text('appliedSeq') +
      text(item.prev.appliedSeq) +
      1 +
      text('data') +
      item.prev.data.byteLength +
      1;
  return size;
}

const bytesOf = (value: AttributeValue | undefined) =>
  value?.B ? new Uint8Array(value.B) : new Uint8Array(0);

function fromDynamo(item: Record<string, AttributeValue>): StoredStateItem {
  const sk = item.sk?.S ?? '';
  const prev = item.prev?.M;
  if (item.writer?.S === undefined || item.appliedSeq?.S === undefined)
    throw new CorruptAnalyticsStateError(sk, 'writer or appliedSeq missing');
  return {
    sk,
    writer: item.writer.S,
    appliedSeq: item.appliedSeq.S,
    data: bytesOf(item.data),
    prev: prev ? { appliedSeq: prev.appliedSeq?.S ?? '0', data: bytesOf(prev.data) } : null,
    expiresAt: Number(item.expires_at?.N ?? '0'),
  };
}

function toDynamo(pk: string, item: StoredStateItem, nowMs: number): Record<string, AttributeValue> {
  // Empty binary values are left out: an absent `data` is an empty bucket.
  const record: Record<string, AttributeValue> = {
    pk: { S: pk },
    sk: { S: item.sk },
    writer: { S: item.writer },
    appliedSeq: { S: item.appliedSeq },
    expires_at: { N: String(item.expiresAt) },
    updatedAt: { N: String(nowMs) },
  };
  if (item.data.byteLength > 0) record.data = { B: item.data };
  if (item.prev) {
    const prev: Record<string, AttributeValue> = { appliedSeq: { S: item.prev.appliedSeq } };
    if (item.prev.data.byteLength > 0) prev.data = { B: item.prev.data };
    record.prev = { M: prev };
  }
  return record;
}

/**
 * The analytics items of one shard in the state table, next to its checkpoint item
 * (`pk = <stream>#<shard>`, `sk = analytics#<part>#<bucket>`).
 *
 * @example
 * ```ts
 * const store = dynamoAnalyticsStateStore(dynamo, { tableName, streamName, shardId });
 * const loaded = await loadAnalyticsState(store, checkpoint.lastCommittedSequenceNumber);
 * ```
 */
export function dynamoAnalyticsStateStore(
  dynamo: DynamoDBClient,
  shard: ShardKey,
  now: () => number = Date.now,
): AnalyticsStateStore {
  const pk = `${shard.streamName}#${shard.shardId}`;
  return {
    async readAll() {
      const items: StoredStateItem[] = [];
      let startKey: Record<string, AttributeValue> | undefined;
      do {
        const page = await dynamo.send(
          new QueryCommand({
            TableName: shard.tableName,
            KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
            ExpressionAttributeValues: { ':pk': { S: pk }, ':prefix': { S: ANALYTICS_SK_PREFIX } },
            ConsistentRead: true,
            ExclusiveStartKey: startKey,
          }),
        );
        for (const item of page?.Items ?? []) items.push(fromDynamo(item));
        startKey = page?.LastEvaluatedKey;
      } while (startKey);
      return items;
    },
    async put({ item, expectedWriter }) {
      try {
        await dynamo.send(
          new PutItemCommand({
            TableName: shard.tableName,
            Item: toDynamo(pk, item, now()),
            ConditionExpression: expectedWriter === null ? 'attribute_not_exists(pk)' : 'writer = :expected',
            ExpressionAttributeValues:
              expectedWriter === null ? undefined : { ':expected': { S: expectedWriter } },
          }),
        );
      } catch (error) {
        if (error instanceof ConditionalCheckFailedException)
          throw new AnalyticsStateConflictError(shard.shardId, item.sk);
        throw error;
      }
    },
  };
}
