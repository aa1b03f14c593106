import { finishPublication, type PublisherDeps } from '../consumer/publish';
import { streamCheckpoints } from './streamCheckpoints';

export interface PublishSummary {
  /** Shards whose checkpoint carried an unfinished publication. */
  pending: number;
  /** Publications this run finished. */
  finished: number;
  /** Age in seconds of the oldest unfinished publication found (0 when none). */
  oldestPendingAgeSeconds: number;
}

/**
 * Finishes every unfinished publication of the stream's shards, closed parent shards included: it finds
 * them in the state table (a Scan of checkpoint items with a `pending` attribute), not through
 * ListShards, which stops listing a closed shard once its records expire. One shard's failure does not
 * stop the others; the run throws at the end if any failed, so the schedule's error alarm sees it.
 *
 * @example
 * ```ts
 * const summary = await publishPendingCommits({ s3, dynamo, config });
 * ```
 */
export async function publishPendingCommits(deps: PublisherDeps): Promise<PublishSummary> {
  const now = (deps.now ?? Date.now)();
  const summary: PublishSummary = { pending: 0, finished: 0, oldestPendingAgeSeconds: 0 };
  const failures: Error[] = [];
  const stream = { tableName: deps.config.tableName, streamName: deps.config.streamName };
  for await (const { shardId, checkpoint } of streamCheckpoints(deps.dynamo, stream, { withPending: true })) {
    if (!checkpoint.pending) continue;
    summary.pending++;
    const age = Math.max(0, Math.round((now - checkpoint.pending.committedAt) / 1000));
    summary.oldestPendingAgeSeconds = Math.max(summary.oldestPendingAgeSeconds, age);
    try {
      if (await finishPublication(deps, { ...stream, shardId }, checkpoint.pending)) summary.finished++;
      deps.log?.('finished a publication', { shardId, attemptId: checkpoint.pending.id, ageSeconds: age });
    } catch (error) {
      failures.push(error as Error);
      deps.log?.('could not finish a publication', { shardId, error: (error as Error).message });
    }
  }
  if (failures.length > 0)
    throw new AggregateError(failures, `${failures.length} publication(s) could not be finished`);
  return summary;
}
