import type { ListedShard } from '../../lambdas/shared/kinesisShards';
import type { ShardCheckpoint } from './checkpointStore';
import type { ShardStartPosition } from './shardPoller';
import type { EventSourceMappingSettings } from './types';

export type ShardStartPlan =
  | { action: 'start'; position: ShardStartPosition; persistStartedAtMs?: number }
  | { action: 'wait-for-parents'; parents: string[] }
  /** Nothing to process: ended before, or a closed shard that a LATEST mapping never reads. */
  | { action: 'ended'; persist: boolean };

export interface ShardStartContext {
  /** Every shard id ListShards returned (parents that aged out of the stream count as done). */
  listedShardIds: ReadonlySet<string>;
  endedShardIds: ReadonlySet<string>;
  /** The shard existed when the mapping first started, so StartingPosition applies to it. */
  initial: boolean;
  checkpoint: ShardCheckpoint | undefined;
  settings: Pick<EventSourceMappingSettings, 'StartingPosition' | 'StartingPositionTimestamp'>;
  nowMs: number;
}

/**
 * Decides where a shard's processing starts, parents before children (resharding):
 * - a persisted checkpoint wins: resume after it (or at the time a LATEST start was fixed);
 * - shards that existed when the mapping was created start at StartingPosition; with LATEST, closed ones
 *   are skipped and open ones start at the tip regardless of their parents (as a new mapping does);
 * - otherwise a shard waits until its parents are fully processed, and a child created after the mapping
 *   started is read from its beginning (TRIM_HORIZON), so no record is lost across a split or merge.
 *
 * @example
 * ```ts
 * planShardStart({ shardId: 'shardId-000000000002', parentShardId: 'shardId-000000000000', closed: false },
 *   { listedShardIds, endedShardIds: new Set(), initial: false, checkpoint: undefined, settings, nowMs: Date.now() });
 * // { action: 'wait-for-parents', parents: ['shardId-000000000000'] }
 * ```
 */
export function planShardStart(shard: ListedShard, context: ShardStartContext): ShardStartPlan {
  const { checkpoint, settings } = context;
  if (checkpoint?.ended) return { action: 'ended', persist: false };
  if (checkpoint?.lastProcessedSequenceNumber !== undefined) {
    return {
      action: 'start',
      position: { type: 'AFTER_SEQUENCE_NUMBER', sequenceNumber: checkpoint.lastProcessedSequenceNumber },
    };
  }
  if (checkpoint?.startedAtMs !== undefined) {
    return { action: 'start', position: { type: 'AT_TIMESTAMP', timestampMs: checkpoint.startedAtMs } };
  }
  if (context.initial && settings.StartingPosition === 'LATEST') {
    if (shard.closed) return { action: 'ended', persist: true };
    return { action: 'start', position: { type: 'LATEST' }, persistStartedAtMs: context.nowMs };
  }
  const parents = [shard.parentShardId, shard.adjacentParentShardId].filter(
    (parent): parent is string =>
      parent !== undefined && context.listedShardIds.has(parent) && !context.endedShardIds.has(parent),
  );
  if (parents.length > 0) return { action: 'wait-for-parents', parents };
  if (context.initial && settings.StartingPosition === 'AT_TIMESTAMP') {
    return {
      action: 'start',
      position: { type: 'AT_TIMESTAMP', timestampMs: (settings.StartingPositionTimestamp ?? 0) * 1000 },
    };
  }
  return { action: 'start', position: { type: 'TRIM_HORIZON' } };
}
