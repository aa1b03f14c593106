import type { ShardKey } from '../checkpoint';
import type { AnalyticsState } from './engine';
import type { EncodedState } from './stateCodec';

/**
 * A warm execution environment keeps each shard's analytics state from its last batch, so that the next
 * batch need not decode the whole state again, and re-encodes only what it touches. The state is only a
 * candidate: `loadAnalyticsState` still reads every item and uses it only if it is proven to be the
 * committed state (stateStore.ts, `isWarmStateCommitted`); the writes stay conditional on what was read.
 */
export interface WarmAnalyticsState {
  /** The last sequence number of the batch this state is the result of. */
  appliedSeq: string;
  /** The state as encoded for that batch's writes. */
  encoded: EncodedState;
  /** Folded into in place by whoever takes it. */
  state: AnalyticsState;
}

const keyOf = (shard: ShardKey) => `${shard.tableName}/${shard.streamName}#${shard.shardId}`;

/** Shards kept at most: one execution environment normally serves one shard at a time. */
const MAX_SHARDS = 4;

/**
 * Warm states by shard, the least recently kept dropped first. A state is handed out once: whoever takes
 * it folds into it, so it is only kept again, with its new encoding, by the attempt that did.
 *
 * @example
 * ```ts
 * const loaded = await loadAnalyticsState(store, committed, warmStates.take(shard));
 * warmStates.keep(shard, { appliedSeq: last, encoded: plan.encoded, state: loaded.state });
 * ```
 */
export class WarmStateCache {
  private readonly byShard = new Map<string, WarmAnalyticsState>();
  /** How many warm states a load proved committed and used (counted by the consumer), for tests. */
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
