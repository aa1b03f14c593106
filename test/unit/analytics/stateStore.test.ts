import {
  ConditionalCheckFailedException,
  DynamoDBClient,
  PutItemCommand,
  QueryCommand,
} from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import {
  AnalyticsStateConflictError,
  type AnalyticsStateStore,
  applyEvents,
  canonicalState,
  committedVersion,
  DEFAULT_LAYOUT,
  dynamoAnalyticsStateStore,
  EMPTY_ITEM_TTL_SECONDS,
  emptyAnalyticsState,
  encodeState,
  IDLE_ITEM_TTL_SECONDS,
  loadAnalyticsState,
  planStateRestore,
  planStateWrites,
  resolveAnalyticsState,
  type StoredStateItem,
  writeState,
} from '../../../lambdas/consumer/analytics';
import { bigSequence } from '../../helpers/kinesisEvents';
import { config, event, MINUTE } from './fixtures';
import { MemoryStateStore } from './memoryStore';

const settings = config();
const NOW = Date.parse('2026-11-02T00:00:00Z');
const bytes = (text: string) => new Uint8Array(Buffer.from(text));
const item = (overrides: Partial<StoredStateItem>): StoredStateItem => ({
  sk: 'analytics#users#0',
  writer: 'w',
  appliedSeq: '0',
  data: bytes('data'),
  prev: { appliedSeq: '0', data: bytes('prev') },
  expiresAt: 0,
  ...overrides,
});

/** Persists a batch the way the consumer does: load at `committed`, fold, write as the batch `last`. */
async function persist(
  store: AnalyticsStateStore,
  committed: string | null,
  last: string,
  offsets: number[],
) {
  const loaded = await loadAnalyticsState(store, committed);
  const run = applyEvents(
    loaded.state,
    offsets.map((o) => event(o * MINUTE, { userId: `u-${o % 5}` })),
    settings,
  );
  const plan = planStateWrites(loaded, run.state, {
    lastSequenceNumber: last,
    writer: `w-${last}`,
    nowMs: NOW,
  });
  await writeState(store, plan.puts);
  return { loaded, run, plan };
}

describe('the committed version of an item', () => {
  it('is its data when its batch is at or below the checkpoint, compared as BigInt', () => {
    const stored = item({ appliedSeq: bigSequence(7) });
    expect(committedVersion(stored, bigSequence(7))?.data).toEqual(bytes('data'));
    expect(committedVersion(stored, bigSequence(8))?.data).toEqual(bytes('data'));
  });

  it('is its previous version when its batch is above the checkpoint (never committed)', () => {
    const stored = item({ appliedSeq: bigSequence(8) });
    expect(committedVersion(stored, bigSequence(7))?.data).toEqual(bytes('prev'));
    expect(committedVersion(stored, null)?.data).toEqual(bytes('prev'));
  });

  it('is none when an uncommitted item had no previous version', () => {
    expect(committedVersion(item({ appliedSeq: '9', prev: null }), '8')).toBeNull();
  });
});

describe('persisting analytics state', () => {
  it('writes every non-empty item of a new shard, each expecting that it does not exist yet', async () => {
    const store = new MemoryStateStore();
    const { plan } = await persist(store, null, '10', [0, 1, 2]);
    expect(plan.puts.map((p) => p.expectedWriter)).toEqual(plan.puts.map(() => null));
    // No session and no tenant statistics yet: those buckets are empty and need no item.
    expect(plan.puts.map((p) => p.item.sk).sort()).toEqual([
      'analytics#meta#0',
      'analytics#users#0',
      'analytics#windows#0',
    ]);
    expect(plan.puts.every((p) => p.item.appliedSeq === '10' && p.item.prev === null)).toBe(true);
  });

  it('reads back the committed state once the checkpoint has passed the batch', async () => {
    const store = new MemoryStateStore();
    const { run } = await persist(store, null, '10', [0, 1, 2]);
    expect(canonicalState((await loadAnalyticsState(store, '10')).state)).toBe(canonicalState(run.state));
  });

  it('reads back the previous state while the checkpoint has not passed the batch', async () => {
    const store = new MemoryStateStore();
    const first = await persist(store, null, '10', [0, 1]);
    await persist(store, '10', '20', [2, 3]);
    expect(canonicalState((await loadAnalyticsState(store, '10')).state)).toBe(
      canonicalState(first.run.state),
    );
  });

  it('sets prev to the committed version and expects the writer it read', async () => {
    const store = new MemoryStateStore();
    await persist(store, null, '10', [0]);
    const committedMeta = store.items.get('analytics#meta#0');
    const { plan } = await persist(store, '10', '20', [1]);
    const meta = plan.puts.find((p) => p.item.sk === 'analytics#meta#0');
    expect(meta?.expectedWriter).toBe('w-10');
    expect(meta?.item.prev).toEqual({ appliedSeq: '10', data: committedMeta?.data });
  });

  it('skips an item whose committed value did not change', async () => {
    const store = new MemoryStateStore();
    const base = applyEvents(emptyAnalyticsState(), [event(0)], settings).state;
    const loaded = resolveAnalyticsState([], null);
    await writeState(
      store,
      planStateWrites(loaded, base, { lastSequenceNumber: '1', writer: 'a', nowMs: NOW }).puts,
    );
    const again = await loadAnalyticsState(store, '1');
    const plan = planStateWrites(again, again.state, { lastSequenceNumber: '2', writer: 'b', nowMs: NOW });
    expect(plan.puts).toEqual([]);
  });

  it('rewrites an item an uncommitted attempt left, even when the new value equals the committed one', async () => {
    const store = new MemoryStateStore();
    const base = applyEvents(emptyAnalyticsState(), [event(0)], settings).state;
    await writeState(
      store,
      planStateWrites(resolveAnalyticsState([], null), base, {
        lastSequenceNumber: '1',
        writer: 'a',
        nowMs: NOW,
      }).puts,
    );
    // An attempt that never commits writes a later state as of '5'.
    const later = applyEvents(base, [event(MINUTE, { userId: 'u-9' })], settings).state;
    const crashed = await loadAnalyticsState(store, '1');
    await writeState(
      store,
      planStateWrites(crashed, later, { lastSequenceNumber: '5', writer: 'x', nowMs: NOW }).puts,
    );
    // The retry's value is the committed one again (for instance a window that opened and closed).
    const retry = await loadAnalyticsState(store, '1');
    const plan = planStateWrites(retry, retry.state, { lastSequenceNumber: '7', writer: 'c', nowMs: NOW });
    expect(plan.puts.map((p) => p.item.sk).sort()).toEqual(
      [...store.items.values()]
        .filter((i) => i.writer === 'x')
        .map((i) => i.sk)
        .sort(),
    );
    await writeState(store, plan.puts);
    // Once the checkpoint passes '5', the crashed attempt's value must not surface.
    expect(canonicalState((await loadAnalyticsState(store, '7')).state)).toBe(canonicalState(base));
  });

  it('writes every bucket of a part that split, new buckets included', async () => {
    const store = new MemoryStateStore();
    const events = Array.from({ length: 300 }, (_, i) => event(i * 1_000, { userId: `u-${i}` }));
    const state = applyEvents(emptyAnalyticsState(), events, settings).state;
    const sizing = { splitBytes: 4_000, maxBucketBytes: 180 * 1024, maxBuckets: 64 };
    const plan = planStateWrites(resolveAnalyticsState([], null), state, {
      lastSequenceNumber: '1',
      writer: 'a',
      nowMs: NOW,
      sizing,
    });
    const userBuckets = plan.puts.filter((p) => p.item.sk.startsWith('analytics#users#'));
    expect(userBuckets.length).toBe(plan.layout.users);
    expect(plan.layout.users).toBeGreaterThan(1);
    await writeState(store, plan.puts);
    expect(canonicalState((await loadAnalyticsState(store, '1')).state)).toBe(canonicalState(state));
  });

  it('ignores buckets outside the committed layout (an uncommitted split)', () => {
    const { items } = encodeState(emptyAnalyticsState(), DEFAULT_LAYOUT);
    const stored = [...items].map(([sk, data]) => item({ sk, data, appliedSeq: '1', prev: null }));
    stored.push(item({ sk: 'analytics#users#1', appliedSeq: '1', data: bytes('garbage') }));
    expect(resolveAnalyticsState(stored, '1').committed.has('analytics#users#1')).toBe(false);
  });

  it('gives empty items a short TTL and others a long one', async () => {
    const store = new MemoryStateStore();
    const { plan } = await persist(store, null, '10', [0]);
    const meta = plan.puts.find((p) => p.item.sk === 'analytics#meta#0');
    expect(meta?.item.expiresAt).toBe(NOW / 1000 + IDLE_ITEM_TTL_SECONDS);
    const restore = planStateRestore(await loadAnalyticsState(store, null), 'r', NOW);
    const emptyBucket = restore.find((p) => p.item.sk === 'analytics#sessions#0');
    expect(emptyBucket?.item.expiresAt).toBe(NOW / 1000 + EMPTY_ITEM_TTL_SECONDS);
  });
});

describe('restoring analytics state on rollback', () => {
  it('writes every item of the committed layout back to its committed value under a new writer', async () => {
    const store = new MemoryStateStore();
    const first = await persist(store, null, '10', [0, 1]);
    await persist(store, '10', '20', [2, 3]); // never committed
    const loaded = await loadAnalyticsState(store, '10');
    const puts = planStateRestore(loaded, 'rollback-1', NOW);
    expect(puts.map((p) => p.item.sk).sort()).toEqual([...loaded.committed.keys()].sort());
    await writeState(store, puts);
    expect([...store.items.values()].every((i) => i.writer === 'rollback-1')).toBe(true);
    // Committed or not, the restored items read as the committed state.
    expect(canonicalState((await loadAnalyticsState(store, '10')).state)).toBe(
      canonicalState(first.run.state),
    );
    expect(canonicalState((await loadAnalyticsState(store, '99')).state)).toBe(
      canonicalState(first.run.state),
    );
  });

  it('makes every later write of the rolled-back attempt fail its condition', async () => {
    const store = new MemoryStateStore();
    await persist(store, null, '10', [0, 1]);
    const zombie = await loadAnalyticsState(store, '10');
    const zombieRun = applyEvents(zombie.state, [event(5 * MINUTE)], settings);
    const zombiePlan = planStateWrites(zombie, zombieRun.state, {
      lastSequenceNumber: '30',
      writer: 'z',
      nowMs: NOW,
    });
    await writeState(store, planStateRestore(await loadAnalyticsState(store, '10'), 'rollback-2', NOW));
    await expect(writeState(store, zombiePlan.puts)).rejects.toThrowError(AnalyticsStateConflictError);
    expect(store.items.size).toBeGreaterThan(0);
    expect([...store.items.values()].every((i) => i.writer === 'rollback-2')).toBe(true);
  });
});

describe('writing state', () => {
  it('waits for every put to settle before reporting the first failure', async () => {
    const settled: string[] = [];
    const store: AnalyticsStateStore = {
      readAll: async () => [],
      put: async ({ item: { sk } }) => {
        if (sk === 'a') throw new Error('first fails');
        await new Promise((resolve) => setTimeout(resolve, 20));
        settled.push(sk);
      },
    };
    const puts = ['a', 'b', 'c'].map((sk) => ({ item: item({ sk }), expectedWriter: null }));
    await expect(writeState(store, puts)).rejects.toThrowError('first fails');
    expect(settled.sort()).toEqual(['b', 'c']);
  });
});

describe('the DynamoDB analytics store', () => {
  const dynamo = mockClient(DynamoDBClient);
  const shard = { tableName: 'state', streamName: 'events', shardId: 'shardId-000000000000' };
  beforeEach(() => dynamo.reset());
  afterAll(() => dynamo.restore());

  it('puts the item next to the checkpoint, conditional on the writer it read', async () => {
    dynamo.on(PutItemCommand).resolves({});
    const store = dynamoAnalyticsStateStore(new DynamoDBClient({}), shard, () => NOW);
    await store.put({ item: item({ appliedSeq: '5', expiresAt: 99 }), expectedWriter: 'old' });
    const input = dynamo.commandCalls(PutItemCommand)[0]?.args[0].input;
    expect(input?.ConditionExpression).toBe('writer = :expected');
    expect(input?.ExpressionAttributeValues).toEqual({ ':expected': { S: 'old' } });
    expect(input?.Item).toMatchObject({
      pk: { S: 'events#shardId-000000000000' },
      sk: { S: 'analytics#users#0' },
      appliedSeq: { S: '5' },
      expires_at: { N: '99' },
      prev: { M: { appliedSeq: { S: '0' }, data: { B: bytes('prev') } } },
    });
  });

  it('creates an item only if it does not exist, and leaves out empty data', async () => {
    dynamo.on(PutItemCommand).resolves({});
    const store = dynamoAnalyticsStateStore(new DynamoDBClient({}), shard, () => NOW);
    await store.put({ item: item({ data: new Uint8Array(0), prev: null }), expectedWriter: null });
    const input = dynamo.commandCalls(PutItemCommand)[0]?.args[0].input;
    expect(input?.ConditionExpression).toBe('attribute_not_exists(pk)');
    expect(input?.Item?.data).toBeUndefined();
    expect(input?.Item?.prev).toBeUndefined();
  });

  it('turns a failed condition into an AnalyticsStateConflictError', async () => {
    dynamo.on(PutItemCommand).rejects(new ConditionalCheckFailedException({ message: 'no', $metadata: {} }));
    const store = dynamoAnalyticsStateStore(new DynamoDBClient({}), shard);
    await expect(store.put({ item: item({}), expectedWriter: 'w' })).rejects.toThrowError(
      AnalyticsStateConflictError,
    );
  });

  it('reads every page of the shard analytics items with a consistent query', async () => {
    const stored = (sk: string) => ({
      pk: { S: 'events#shardId-000000000000' },
      sk: { S: sk },
      writer: { S: 'w' },
      appliedSeq: { S: '3' },
    });
    dynamo
      .on(QueryCommand)
      .resolvesOnce({ Items: [stored('analytics#meta#0')], LastEvaluatedKey: { pk: { S: 'x' } } })
      .resolvesOnce({ Items: [stored('analytics#users#0')] });
    const store = dynamoAnalyticsStateStore(new DynamoDBClient({}), shard);
    const items = await store.readAll();
    expect(items.map((i) => [i.sk, i.data.byteLength, i.prev])).toEqual([
      ['analytics#meta#0', 0, null],
      ['analytics#users#0', 0, null],
    ]);
    const query = dynamo.commandCalls(QueryCommand)[0]?.args[0].input;
    expect(query?.ConsistentRead).toBe(true);
    expect(query?.KeyConditionExpression).toBe('pk = :pk AND begins_with(sk, :prefix)');
  });
});
