import type { S3Client } from '@aws-sdk/client-s3';
import { afterEach, describe, expect, it } from 'vitest';
import {
  checkEncodingReuse,
  decodeSnapshot,
  decodeState,
  encodeState,
  foldEvents,
  loadAnalyticsState,
  MissingStateSnapshotError,
  prepareSnapshot,
  putStateSnapshot,
  ReusedEncodingMismatchError,
  TouchedMap,
  type WarmAnalyticsState,
  WarmStateCache,
} from '../../../lambdas/consumer/analytics';
import { clientsFor, FakeDynamo, FakeS3, FakeSqs, passThrough } from '../../property/fakeAws';
import { config, event, MINUTE, SECOND } from './fixtures';

const settings = config({ distinctExactLimit: 3 });
const BUCKET = 'lake';
const SHARD = { tableName: 'state', streamName: 'events', shardId: 'shardId-000000000000' };
// Small buckets, so that a batch leaves some of them untouched; full snapshots only (no maxDeltas).
const sizing = { splitBytes: 200, maxBucketBytes: 180 * 1024, maxBuckets: 64 };

const events = (fromMinute: number, users: number[]) =>
  users.map((u, i) =>
    event(fromMinute * MINUTE + i * SECOND, { userId: `u-${u}`, sessionId: `s-${u}`, amountUsd: u }),
  );

/** An in-memory S3 (fakeAws.ts) behind a real S3Client. */
function lake(): { s3: S3Client; objects: FakeS3['objects'] } {
  const world = { dynamo: new FakeDynamo(), s3: new FakeS3(), sqs: new FakeSqs() };
  return { s3: clientsFor(world, passThrough).s3, objects: world.s3.objects };
}

let attempts = 0;

/**
 * One batch as the consumer runs it: load the committed snapshot (offering a warm state), fold in place,
 * encode, write the new snapshot under the attempt's own key, and hand back the warm state the consumer
 * keeps once its commit is confirmed.
 */
async function batch(
  s3: S3Client,
  committed: string | null,
  batchEvents: ReturnType<typeof events>,
  warm: WarmAnalyticsState | null,
) {
  const loaded = await loadAnalyticsState(s3, BUCKET, committed, warm);
  const outputs = foldEvents(loaded.state, batchEvents, settings);
  const stateKey = `state/${SHARD.shardId}/attempt-${++attempts}.snapshot`;
  const prepared = prepareSnapshot(loaded, stateKey, sizing);
  await putStateSnapshot(s3, BUCKET, stateKey, prepared.body);
  const encoded = prepared.encoded as NonNullable<typeof prepared.encoded>;
  const kept: WarmAnalyticsState = {
    stateKey,
    encoded,
    chain: prepared.chain,
    layout: prepared.layout,
    state: loaded.state,
  };
  return { loaded, outputs, encoded, stateKey, kept };
}

afterEach(() => checkEncodingReuse(false));

describe('a warm analytics state', () => {
  it('stands in for reading the snapshot when its key is the committed one and nothing touched it', async () => {
    const { s3 } = lake();
    const first = await batch(s3, null, events(0, [1, 2, 3, 4, 5, 6]), null);
    const second = await batch(s3, first.stateKey, events(1, [1]), first.kept);
    expect(second.loaded.warm).toBe(true);
    expect(second.loaded.state).toBe(first.kept.state);
    expect(second.loaded.earlier).toBe(first.encoded);
  });

  it('is not used when the checkpoint refers to another snapshot (an attempt whose commit failed)', async () => {
    const { s3 } = lake();
    const committed = await batch(s3, null, events(0, [1, 2, 3]), null);
    // This attempt folds u-4 into the warm state and writes its snapshot, but its commit fails.
    const failed = await batch(s3, committed.stateKey, events(1, [4]), committed.kept);
    // The checkpoint still refers to the committed snapshot: the failed attempt's state is another state.
    const retry = await loadAnalyticsState(s3, BUCKET, committed.stateKey, failed.kept);
    expect(retry.warm).toBe(false);
    expect(retry.earlier).toBeNull();
    expect(retry.state).not.toBe(failed.kept.state);
    expect(retry.state.users.has('acme#u-4')).toBe(false);
  });

  it('is read from the snapshot the checkpoint refers to when another environment committed it', async () => {
    const { s3 } = lake();
    const mine = await batch(s3, null, events(0, [1, 2, 3]), null);
    const other = await batch(s3, mine.stateKey, events(1, [7]), null);
    const loaded = await loadAnalyticsState(s3, BUCKET, other.stateKey, mine.kept);
    expect(loaded.warm).toBe(false);
    expect(loaded.state.users.has('acme#u-7')).toBe(true);
  });

  it('is not used when its maps were touched after it was encoded', async () => {
    const { s3 } = lake();
    const first = await batch(s3, null, events(0, [1, 2, 3]), null);
    first.kept.state.users.get('acme#u-1');
    expect((await loadAnalyticsState(s3, BUCKET, first.stateKey, first.kept)).earlier).toBeNull();
  });

  it('re-encodes to the same bytes as encoding from scratch, leaving untouched buckets alone', async () => {
    checkEncodingReuse(true);
    const { s3 } = lake();
    let warm: WarmAnalyticsState | null = null;
    let committed: string | null = null;
    for (let round = 1; round <= 6; round++) {
      const run = await batch(s3, committed, events(round, round === 1 ? [1, 2, 3, 4, 5, 6] : [round]), warm);
      expect(run.loaded.earlier !== null).toBe(round > 1);
      if (run.loaded.earlier) {
        const earlier = run.loaded.earlier.items;
        const reused = [...run.encoded.items].filter(([sk, bytes]) => earlier.get(sk) === bytes);
        expect(reused.length).toBeGreaterThan(0);
        expect(reused.length).toBeLessThan(run.encoded.items.size);
      }
      warm = run.kept;
      committed = run.stateKey;
    }
  });

  it('is caught re-encoding stale bytes when an entry changes without its map recording it', async () => {
    checkEncodingReuse(true);
    const { s3 } = lake();
    const first = await batch(s3, null, events(0, [1, 2, 3]), null);
    const loaded = await loadAnalyticsState(s3, BUCKET, first.stateKey, first.kept);
    const user = Map.prototype.get.call(loaded.state.users, 'acme#u-2') as { lastSeen: number };
    user.lastSeen += 1;
    expect(() => prepareSnapshot(loaded, 'state/x/next.snapshot', sizing)).toThrow(
      ReusedEncodingMismatchError,
    );
  });
});

describe('a state snapshot', () => {
  it('decodes to the state it was encoded from', async () => {
    const { s3, objects } = lake();
    const first = await batch(s3, null, events(0, [1, 2, 3]), null);
    const state = decodeState(decodeSnapshot(first.stateKey, objects.get(first.stateKey) as Uint8Array));
    expect(state.users.has('acme#u-3')).toBe(true);
    expect(state.counters).toEqual(first.kept.state.counters);
  });

  it('that the checkpoint refers to but is missing is refused with a named error', async () => {
    const { s3 } = lake();
    await expect(loadAnalyticsState(s3, BUCKET, 'state/x/gone.snapshot', null)).rejects.toThrow(
      MissingStateSnapshotError,
    );
  });

  it('is an empty state of touched maps when the checkpoint refers to none yet', async () => {
    const { s3 } = lake();
    const loaded = await loadAnalyticsState(s3, BUCKET, null, null);
    expect(loaded.state.users.size).toBe(0);
    expect(loaded.warm).toBe(false);
    // So that the state the shard's first commit keeps warm can stand in at the next batch.
    expect(loaded.state.users).toBeInstanceOf(TouchedMap);
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
    const warm = { stateKey: 'state/s/1.snapshot' } as WarmAnalyticsState;
    cache.keep(SHARD, warm);
    expect(cache.take(SHARD)).toBe(warm);
    expect(cache.take(SHARD)).toBeNull();
  });

  it('keeps the shards kept last, up to its size', () => {
    const cache = new WarmStateCache(2);
    const shard = (n: number) => ({ ...SHARD, shardId: `shardId-${n}` });
    for (const n of [1, 2, 3]) cache.keep(shard(n), { stateKey: String(n) } as WarmAnalyticsState);
    expect(cache.take(shard(1))).toBeNull();
    expect(cache.take(shard(3))?.stateKey).toBe('3');
  });
});
