import { describe, expect, it } from 'vitest';
import {
  type AnalyticsEvent,
  applyEvents,
  assembleSnapshotChain,
  CorruptAnalyticsStateError,
  canonicalState,
  decodeState,
  emptyAnalyticsState,
  foldEvents,
  type LoadedAnalyticsState,
  MissingStateSnapshotError,
  type PreparedSnapshot,
  prepareSnapshot,
  type StateSizing,
} from '../../../lambdas/consumer/analytics';
import { seededRandom } from '../../../lambdas/shared/random';
import { config, event, MINUTE, SECOND } from './fixtures';

// Three exact users per window, then the sketch: random batches switch windows over mid-chain.
const settings = config({ distinctExactLimit: 3, userIdleMs: 10 * MINUTE, sessionGapMs: 3 * MINUTE });
const sizing = (maxDeltas: number): StateSizing => ({
  splitBytes: 400,
  maxBucketBytes: 180 * 1024,
  maxBuckets: 64,
  maxDeltas,
});

/** A shard's consumer over batches, keeping its state warm, with every snapshot it commits kept. */
function shard(maxDeltas: number) {
  const objects = new Map<string, Uint8Array>();
  let loaded: LoadedAnalyticsState = {
    ...assembleEmpty(),
    earlier: null,
    warm: false,
  };
  let head: string | null = null;
  let commits = 0;
  const folded: AnalyticsEvent[] = [];
  return {
    objects,
    folded,
    get head() {
      return head;
    },
    commit(events: AnalyticsEvent[]): PreparedSnapshot {
      foldEvents(loaded.state, events, settings);
      folded.push(...events);
      const key = `state/s/${++commits}.snapshot`;
      const prepared = prepareSnapshot(loaded, key, sizing(maxDeltas));
      objects.set(key, prepared.body);
      for (const obsolete of prepared.obsolete) objects.delete(obsolete);
      head = key;
      loaded = {
        state: loaded.state,
        earlier: prepared.encoded,
        warm: true,
        layout: prepared.layout,
        chain: prepared.chain,
      };
      return prepared;
    },
    /** What a cold start reads: the chain from the stored objects alone. */
    cold() {
      return assembleSnapshotChain(head as string, (key) => objects.get(key));
    },
    /** Continues from the stored chain, as another execution environment would. */
    restartCold() {
      const { state, chain, layout } = this.cold();
      loaded = { state, chain, layout, earlier: null, warm: false };
    },
    live: () => loaded.state,
  };
}

function assembleEmpty() {
  // As the loader starts a shard: maps that record what they are touched by.
  const state = decodeState(new Map());
  return { state, layout: { windows: 1, sessions: 1, users: 1, tenants: 1 }, chain: NO_CHAIN };
}
const NO_CHAIN = { keys: [], baseBytes: 0, deltaBytes: 0 };

/** Events of random users, sessions and amounts over a few minutes from `minute`. */
function randomBatch(random: () => number, minute: number, size: number): AnalyticsEvent[] {
  return Array.from({ length: size }, (_, i) => {
    const user = Math.floor(random() * 12);
    return event(minute * MINUTE + i * SECOND + Math.floor(random() * 30 * SECOND), {
      userId: `u-${user}`,
      tenantId: random() < 0.3 ? 'globex' : 'acme',
      eventType: random() < 0.5 ? 'page_view' : 'add_to_cart',
      sessionId: `s-${user}-${Math.floor(minute / 4)}`,
      amountUsd: random() < 0.5 ? Math.round(random() * 200) : null,
    });
  });
}

describe('a snapshot chain', () => {
  it.each([1, 3, 8])(
    'holds, after every commit, the state the consumer has in memory and one fold gives (at most %i deltas)',
    (maxDeltas) => {
      const generator = seededRandom(maxDeltas * 7919);
      const random = () => generator.next();
      const consumer = shard(maxDeltas);
      const kinds = new Set<string>();
      for (let batch = 0; batch < 60; batch++) {
        // Mostly small steps in event time, sometimes a jump that closes windows and evicts users.
        const minute = batch + (batch % 17 === 16 ? 12 : 0);
        const prepared = consumer.commit(randomBatch(random, minute, 1 + Math.floor(random() * 6)));
        kinds.add(prepared.kind);
        expect(prepared.chain.keys.length).toBeLessThanOrEqual(maxDeltas + 1);
        const cold = consumer.cold();
        expect(cold.chain.keys).toEqual(prepared.chain.keys);
        expect(canonicalState(cold.state)).toBe(canonicalState(consumer.live()));
        if (batch % 9 === 8) consumer.restartCold();
      }
      expect(kinds).toEqual(new Set(['full', 'delta']));
      const once = applyEvents(emptyAnalyticsState(), consumer.folded, settings).state;
      expect(canonicalState(consumer.cold().state)).toBe(canonicalState(once));
      // Distinct-user sketches were written (and appended to) inside chains.
      expect([...consumer.cold().state.windows.values()].some((w) => w.users.kind === 'sketch')).toBe(true);
    },
  );

  it('writes a delta of what the batch touched, far smaller than the full snapshot', () => {
    const consumer = shard(8);
    const users = Array.from({ length: 40 }, (_, u) =>
      event(u * 100, { userId: `u-${u}`, sessionId: `s-${u}` }),
    );
    const full = consumer.commit(users);
    const delta = consumer.commit([event(5 * SECOND, { userId: 'u-3', sessionId: 's-3' })]);
    expect(full.kind).toBe('full');
    expect(delta.kind).toBe('delta');
    expect(delta.body.byteLength * 5).toBeLessThan(full.body.byteLength);
    expect(delta.obsolete).toEqual([]);
  });

  it('compacts when the chain is at its length, making the whole chain obsolete', () => {
    const consumer = shard(2);
    const commits = [0, 1, 2, 3].map((minute) =>
      consumer.commit([event(minute * 10 * SECOND, { userId: `u-${minute}` })]),
    );
    expect(commits.map((c) => c.kind)).toEqual(['full', 'delta', 'delta', 'full']);
    expect(commits[3]?.obsolete).toEqual(['state/s/1.snapshot', 'state/s/2.snapshot', 'state/s/3.snapshot']);
    expect(commits[3]?.chain.keys).toEqual(['state/s/4.snapshot']);
  });

  it('is refused with a named error when one of its snapshots is missing', () => {
    const consumer = shard(4);
    consumer.commit([event(0, { userId: 'u-1' })]);
    consumer.commit([event(SECOND, { userId: 'u-2' })]);
    consumer.objects.delete('state/s/1.snapshot');
    expect(() => consumer.cold()).toThrow(MissingStateSnapshotError);
  });

  it('is refused as corrupt when a delta does not apply to the state before it', () => {
    // Two chains from different first snapshots: the second's delta appended to the first's set is wrong.
    const a = shard(4);
    a.commit([event(0, { userId: 'u-1' }), event(1, { userId: 'u-2' })]);
    a.commit([event(SECOND, { userId: 'u-3' })]);
    const b = shard(4);
    b.commit([event(0, { userId: 'u-1' })]);
    const mixed = new Map(b.objects);
    mixed.set('state/s/2.snapshot', a.objects.get('state/s/2.snapshot') as Uint8Array);
    expect(() => assembleSnapshotChain('state/s/2.snapshot', (key) => mixed.get(key))).toThrow(
      CorruptAnalyticsStateError,
    );
  });
});
