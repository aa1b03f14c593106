import type { Context } from 'aws-lambda';
import { dynamoClient, s3Client } from '../shared/clients';
import { publisherConfig } from '../shared/config';
import { createObservability } from '../shared/observability';
import { publishPendingCommits } from './publishPending';
import { sweepOrphanedSnapshots } from './sweepSnapshots';

const HOUR_MS = 60 * 60 * 1000;
const MINUTE_MS = 60 * 1000;

const { logger, metrics, tracer } = createObservability('shardline-publisher');
const deps = {
  s3: tracer.captureAWSv3Client(s3Client()),
  dynamo: tracer.captureAWSv3Client(dynamoClient()),
  config: publisherConfig(),
  log: (message: string, fields: Record<string, unknown>) => logger.info(message, fields),
};

/**
 * The scheduled publisher (an EventBridge rule, every minute): finishes every commit whose publication
 * an invocation left unfinished, on every shard the state table knows, closed parent shards included;
 * once an hour it also deletes the state snapshots of attempts that never committed (sweepSnapshots.ts).
 */
export const handler = async (_event: unknown, context?: Context) => {
  if (context) logger.addContext(context);
  try {
    const summary = await publishPendingCommits(deps);
    metrics.addMetric('PublicationsFinished', 'Count', summary.finished);
    // The age of the oldest commit still unpublished when this run started: an alarm watches it.
    metrics.addMetric('UnpublishedCommitAgeSeconds', 'Seconds', summary.oldestPendingAgeSeconds);
    if (summary.finished > 0) logger.info('finished unpublished commits', { ...summary });
    // Once an hour (the run in its first minute): a LIST per shard every minute would cost more than the
    // orphans it finds, which only crashed attempts leave.
    if (Date.now() % HOUR_MS < MINUTE_MS) {
      const swept = await sweepOrphanedSnapshots(deps);
      metrics.addMetric('OrphanedSnapshotsDeleted', 'Count', swept.deleted);
      if (swept.deleted > 0) logger.info('deleted orphaned state snapshots', { ...swept });
    }
    return summary;
  } catch (error) {
    logger.error('publisher run failed; the next scheduled run tries again', error as Error);
    throw error;
  } finally {
    metrics.publishStoredMetrics();
  }
};
