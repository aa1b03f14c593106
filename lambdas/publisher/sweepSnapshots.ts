import { DeleteObjectCommand, paginateListObjectsV2 } from '@aws-sdk/client-s3';
import { snapshotChainKeys } from '../consumer/analytics/stateSnapshot';
import type { PublisherDeps } from '../consumer/publish';
import { STATE_PREFIX } from '../shared/lakeLayout';
import { streamCheckpoints } from './streamCheckpoints';

/**
 * Deletes the state snapshots nothing will ever read: those of attempts that crashed, or whose commit
 * outcome was never learned, before their commit (docs/EXACTLY_ONCE.md, "The analytics state"). A
 * snapshot is kept when it is in the chain the shard's checkpoint names, or younger than
 * {@link ORPHAN_MIN_AGE_MS}. A snapshot outside that chain can only come to be named by a commit still in
 * flight, which its attempt sent right after writing it; Lambda stops an invocation after 15 minutes at
 * most and no request lives for days, so one that old never will be. A chain only grows by new keys or is
 * replaced by a new full snapshot, so the chain read before the listing keeps everything a later commit
 * still needs. A shard with no checkpoint is left alone.
 */

/** Seven days, like the lifecycle rule on staged bundles. */
export const ORPHAN_MIN_AGE_MS = 7 * 24 * 60 * 60 * 1000;

export interface SweepSummary {
  /** Checkpoints whose snapshots were looked at. */
  shards: number;
  /** Snapshots deleted. */
  deleted: number;
  /** Snapshots kept: in a committed chain, or too young. */
  kept: number;
}

/**
 * Sweeps every shard of the stream the state table knows.
 *
 * @example
 * ```ts
 * const summary = await sweepOrphanedSnapshots({ s3, dynamo, config });
 * ```
 */
export async function sweepOrphanedSnapshots(
  deps: PublisherDeps,
  minAgeMs: number = ORPHAN_MIN_AGE_MS,
): Promise<SweepSummary> {
  const now = (deps.now ?? Date.now)();
  const summary: SweepSummary = { shards: 0, deleted: 0, kept: 0 };
  const failures: Error[] = [];
  const stream = { tableName: deps.config.tableName, streamName: deps.config.streamName };
  for await (const { shardId, checkpoint } of streamCheckpoints(deps.dynamo, stream)) {
    summary.shards++;
    try {
      await sweepShard(deps, shardId, checkpoint.stateKey, { now, minAgeMs, summary });
    } catch (error) {
      // A committed snapshot that cannot be read is worth an alarm; the other shards are still swept.
      failures.push(error as Error);
      deps.log?.('could not sweep the state snapshots of a shard', {
        shardId,
        error: (error as Error).message,
      });
    }
  }
  if (failures.length > 0)
    throw new AggregateError(failures, `${failures.length} shard(s) could not be swept`);
  return summary;
}

async function sweepShard(
  deps: PublisherDeps,
  shardId: string,
  stateKey: string | null,
  { now, minAgeMs, summary }: { now: number; minAgeMs: number; summary: SweepSummary },
): Promise<void> {
  const bucket = deps.config.bucketName;
  // Read after the checkpoint: anything a later commit adds to the chain is younger than the minimum.
  const chain = new Set(stateKey ? await snapshotChainKeys(deps.s3, bucket, stateKey) : []);
  const listing = paginateListObjectsV2(
    { client: deps.s3 },
    { Bucket: bucket, Prefix: `${STATE_PREFIX}/${shardId}/` },
  );
  for await (const listed of listing) {
    for (const object of listed.Contents ?? []) {
      const key = object.Key;
      const writtenAt = object.LastModified?.getTime();
      if (!key || chain.has(key) || writtenAt === undefined || now - writtenAt < minAgeMs) {
        summary.kept++;
        continue;
      }
      await deps.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
      summary.deleted++;
      deps.log?.('deleted an orphaned state snapshot', {
        shardId,
        key,
        ageSeconds: (now - writtenAt) / 1000,
      });
    }
  }
}
