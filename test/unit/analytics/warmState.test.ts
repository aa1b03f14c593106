import { afterEach, describe, expect, it } from 'vitest';
import {
  type AnalyticsStateStore,
  checkEncodingReuse,
  decodeState,
  encodeState,
  foldEvents,
  loadAnalyticsState,
  planStateRestore,
  planStateWrites,
  ReusedEncodingMismatchError,
  TouchedMap,
  type WarmAnalyticsState,
  WarmStateCache,
  writeState,
} from '../../../lambdas/consumer/analytics';
import { bigSequence } from '../../helpers/kinesisEvents';
import { config, event, MINUTE, SECOND } from './fixtures';
import { MemoryStateStore } from './memoryStore';

const settings = config({ distinctExactLimit: 3 });
const NOW = Date.parse('2026-11-02T00:00:00Z');
const SHARD = { tableName: 'state', streamName: 'events', shardId: 'shardId-000000000000' };
// Small buckets, so that a batch leaves some of them untouched.
const sizing = { splitBytes: 200, maxBucketBytes: 180 * 1024, maxBuckets: 64 };

const events = (fromMinute: number, users: number[]) =>
  users.map((u, i) =>
    event(fromMinute * MINUTE + i * SECOND, { userId: `u-${u}`, sessionId: `s-${u}`, amountUsd: u }),
  );

/**
 * One batch as the consumer runs it: load (offering a warm state), fold in place, plan, write, and hand
 * back the warm state the consumer keeps. `commit: false` is an attempt that never commits.
 */
async function batch(
  store: AnalyticsStateStore,
  committed: string | null,
  last: string,
  batchEvents: ReturnType<typeof events>,
  warm: WarmAnalyticsState | null,
) {
  const loaded = await loadAnalyticsState(store, committed, warm);
  const outputs = foldEvents(loaded.state, batchEvents, settings);
  const plan = planStateWrites(loaded, loaded.state, {
    lastSequenceNumber: last,
    writer: `w-${last}-${Math.random()}`,
    nowMs: NOW,
    sizing,
  });
  await writeState(store, plan.puts);
  const kept: WarmAnalyticsState = { appliedSeq: last, encoded: plan.encoded, state: loaded.state };
  return { loaded, outputs, plan, kept };
}

afterEach(() => checkEncodingReuse(false));

describe('a warm analytics state', () => {
  it('stands in for decoding when it is byte for byte the committed state', async () => {
    const store = new MemoryStateStore();
    const first = await batch(store, null, bigSequence(10), events(0, [1, 2, 3, 4, 5, 6]), null);
    const second = await batch(store, bigSequence(10), bigSequence(20), events(1, [1]), first.kept);
    expect(second.loaded.state).toBe(first.kept.state);
    expect(second.loaded.earlier).toBe(first.plan.encoded);
  });

  it('is not used when the checkpoint is not at its batch (an attempt that never committed)', async () => {
    const store = new MemoryStateStore();
    const committed = await batch(store, null, bigSequence(10), events(0, [1, 2, 3]), null);
    const failed = await batch(store, bigSequence(10), bigSequence(20), events(1, [4]), committed.kept);
    // The checkpoint stayed at 10: the failed attempt's warm state is another state.
    const retry = await loadAnalyticsState(store, bigSequence(10), failed.kept);
    expect(retry.earlier).toBeNull();
    expect(retry.state).not.toBe(failed.kept.state);
    expect(retry.state.users.has('acme#u-4')).toBe(false);
  });

  it('is not used when an item differs from its encoding (another invocation wrote the state)', async () => {
    const store = new MemoryStateStore();
    const mine = await batch(store, null, bigSequence(10), events(0, [1, 2, 3]), null);
    // Another execution environment commits batch 20 from the same committed state; a warm state that
    // claims batch 20 too (forged, to isolate the byte check) has other bytes and is not used.
    const other = await batch(store, bigSequence(10), bigSequence(20), events(1, [7]), null);
    const forged: WarmAnalyticsState = { ...mine.kept, appliedSeq: bigSequence(20) };
    const loaded = await loadAnalyticsState(store, bigSequence(20), forged);
    expect(loaded.earlier).toBeNull();
    expect(loaded.state.users.has('acme#u-7')).toBe(true);
    expect(other.plan.puts.length).toBeGreaterThan(0);
  });

  it('is not used after a rollback restored the items, unless it equals the committed state', async () => {
    const store = new MemoryStateStore();
    const committed = await batch(store, null, bigSequence(10), events(0, [1, 2, 3]), null);
    const rolledBack = await batch(store, bigSequence(10), bigSequence(20), events(1, [4]), committed.kept);
    const atRollback = await loadAnalyticsState(store, bigSequence(10));
    await writeState(store, planStateRestore(atRollback, 'rollback-1', NOW));
    expect((await loadAnalyticsState(store, bigSequence(10), rolledBack.kept)).earlier).toBeNull();
  });

  it('is not used when its maps were touched after it was encoded', async () => {
    const store = new MemoryStateStore();
    const first = await batch(store, null, bigSequence(10), events(0, [1, 2, 3]), null);
    first.kept.state.users.get('acme#u-1');
    expect((await loadAnalyticsState(store, bigSequence(10), first.kept)).earlier).toBeNull();
  });

  it('is not used when a field of its meta item changed after it was encoded', async () => {
    const store = new MemoryStateStore();
    const first = await batch(store, null, bigSequence(10), events(0, [1, 2, 3]), null);
    first.kept.state.counters.events++;
    expect((await loadAnalyticsState(store, bigSequence(10), first.kept)).earlier).toBeNull();
  });

  it('re-encodes to the same bytes as encoding from scratch, leaving untouched buckets alone', async () => {
    checkEncodingReuse(true);
    const store = new MemoryStateStore();
    let warm: WarmAnalyticsState | null = null;
    let committed: string | null = null;
    for (let round = 1; round <= 6; round++) {
      const last = bigSequence(round * 10);
      const run = await batch(
        store,
        committed,
        last,
        events(round, round === 1 ? [1, 2, 3, 4, 5, 6] : [round]),
        warm,
      );
      expect(run.loaded.earlier !== null).toBe(round > 1);
      if (round > 1) expect(run.plan.puts.length).toBeLessThan(run.plan.itemCount);
      warm = run.kept;
      committed = last;
    }
  });

  it('is caught re-encoding stale bytes when an entry changes without its map recording it', async () => {
    checkEncodingReuse(true);
    const store = new MemoryStateStore();
    const first = await batch(store, null, bigSequence(10), events(0, [1, 2, 3]), null);
    const loaded = await loadAnalyticsState(store, bigSequence(10), first.kept);
    const user = Map.prototype.get.call(loaded.state.users, 'acme#u-2') as { lastSeen: number };
    user.lastSeen += 1;
    expect(() =>
      planStateWrites(loaded, loaded.state, {
        lastSequenceNumber: bigSequence(20),
        writer: 'w',
        nowMs: NOW,
        sizing,
      }),
    ).toThrow(ReusedEncodingMismatchError);
  });
});

describe('a touched map', () => {
  it('records the keys read, written or deleted, and everything once iterated', () => {
    const map = new TouchedMap<string, number>();
    map.set('a', 1);
    map.set('b', 2);
    map.untouch();
    expect(map.isUntouched()).toBe(true);
    map.has('a');
    [...map.keys()];
    expect(map.isUntouched()).toBe(true);
    map.get('a');
    map.delete('b');
    expect([...(map.touched() as Set<string>)]).toEqual(['a', 'b']);
    for (const _ of map) break;
    expect(map.touched()).toBe('all');
  });

  it('is what a decoded state is made of, untouched', () => {
    const state = decodeState(
      encodeState(decodeState(new Map()), { windows: 1, sessions: 1, users: 1, tenants: 1 }).items,
    );
    expect(state.users).toBeInstanceOf(TouchedMap);
    expect((state.users as TouchedMap<string, unknown>).isUntouched()).toBe(true);
  });
});

describe('the warm state cache', () => {
  it('hands a state out once', () => {
    const cache = new WarmStateCache();
    const warm = { appliedSeq: '1' } as WarmAnalyticsState;
    cache.keep(SHARD, warm);
    expect(cache.take(SHARD)).toBe(warm);
    expect(cache.take(SHARD)).toBeNull();
  });

  it('keeps the shards kept last, up to its size', () => {
    const cache = new WarmStateCache(2);
    const shard = (n: number) => ({ ...SHARD, shardId: `shardId-${n}` });
    for (const n of [1, 2, 3]) cache.keep(shard(n), { appliedSeq: String(n) } as WarmAnalyticsState);
    expect(cache.take(shard(1))).toBeNull();
    expect(cache.take(shard(3))?.appliedSeq).toBe('3');
  });
});
