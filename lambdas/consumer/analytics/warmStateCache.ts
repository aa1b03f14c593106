import type { ShardKey } from '../checkpoint';
import type { AnalyticsState } from './engine';
import type { EncodedState, StateLayout } from './stateCodec';
import type { SnapshotChain } from './stateSnapshot';

/**
 * A warm execution environment keeps each shard's analytics state after a confirmed commit, under the key
 * of the snapshot that commit wrote, so that the next batch need not read and decode the snapshot again,
 * and re-encodes only what it touches. Snapshot keys carry the committing attempt's random id, so a warm
 * state whose key is the checkpoint's is exactly the committed state.
 *
 * A state is handed out once and folded into in place: only an attempt whose commit is confirmed keeps it
 * again. A failed attempt's mutated state is simply dropped, never left in the cache.
 */
export interface WarmAnalyticsState {
  /** The snapshot this state was committed as. */
  stateKey: string;
  /** The state's full encoding, when that snapshot is a full one (null: a delta). */
  encoded: EncodedState | null;
  /** The chain of snapshots the state is read from, that snapshot last. */
  chain: SnapshotChain;
  /** The layout of the chain's full snapshot. */
  layout: StateLayout;
  state: AnalyticsState;
}

const keyOf = (shard: ShardKey) => `${shard.tableName}/${shard.streamName}#${shard.shardId}`;

/** Shards kept at most: one execution environment normally serves one shard at a time. */
const MAX_SHARDS = 4;

/**
 * Warm states by shard, the least recently kept dropped first.
 *
 * @example
 * ```ts
 * const loaded = await loadAnalyticsState(s3, bucket, checkpoint.stateKey, warmStates.take(shard));
 * // … fold, encode, snapshot, commit confirmed …
 * warmStates.keep(shard, { stateKey, encoded, chain, layout, state: loaded.state });
 * ```
 */
export class WarmStateCache {
  private readonly byShard = new Map<string, WarmAnalyticsState>();
  /** How many loads the warm state stood in for (counted by the consumer), for tests. */
  reused = 0;

  constructor(private readonly maxShards = MAX_SHARDS) {}

  take(shard: ShardKey): WarmAnalyticsState | null {
    const key = keyOf(shard);
    const warm = this.byShard.get(key) ?? null;
    this.byShard.delete(key);
    return warm;
  }

  keep(shard: ShardKey, warm: WarmAnalyticsState): void {
    const key = keyOf(shard);
    this.byShard.delete(key);
    this.byShard.set(key, warm);
    for (const oldest of this.byShard.keys()) {
      if (this.byShard.size <= this.maxShards) break;
      this.byShard.delete(oldest);
    }
  }

  forget(shard: ShardKey): void {
    this.byShard.delete(keyOf(shard));
  }
}

/** This execution environment's warm states, shared by its invocations. */
export const warmStates = new WarmStateCache();
