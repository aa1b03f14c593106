import type { Context, KinesisStreamEvent } from 'aws-lambda';
import { analyticsConfigFromEnv } from '../shared/analyticsConfig';
import { dynamoClient, s3Client, sqsClient } from '../shared/clients';
import { consumerConfig, ENV } from '../shared/config';
import { createObservability } from '../shared/observability';
import { processKinesisEvent, requireSingleWriter } from './processBatch';

const { logger, metrics, tracer } = createObservability('shardline-consumer');
// Created once per execution environment and reused while warm, as Lambda intends.
const deps = {
  s3: tracer.captureAWSv3Client(s3Client()),
  dynamo: tracer.captureAWSv3Client(dynamoClient()),
  sqs: tracer.captureAWSv3Client(sqsClient()),
  config: consumerConfig(),
  // On unless SHARDLINE_ANALYTICS=off; thresholds from SHARDLINE_* variables (docs/ANALYTICS.md).
  analytics: analyticsConfigFromEnv(),
  log: (message: string, fields: Record<string, unknown>) => logger.info(message, fields),
};

/** The consumer Lambda: a Kinesis batch in, the partial batch response out. */
export const handler = async (event: KinesisStreamEvent, context?: Context) => {
  if (context) logger.addContext(context);
  try {
    requireSingleWriter(process.env[ENV.parallelizationFactor]);
    const { batchItemFailures, shards } = await processKinesisEvent(event, deps);
    for (const shard of shards) {
      metrics.addMetric('RecordsReceived', 'Count', shard.received);
      metrics.addMetric('RecordsSkippedAsCommitted', 'Count', shard.skipped);
      metrics.addMetric('ValidRecords', 'Count', shard.valid);
      metrics.addMetric('InvalidRecords', 'Count', shard.invalid);
      metrics.addMetric('ObjectsWritten', 'Count', shard.objectsWritten);
      metrics.addMetric('BytesWritten', 'Bytes', shard.bytesWritten);
      // A commit whose publication is left to the next invocation or the publisher: not an error.
      if (!shard.published && shard.committedSequenceNumber !== null && shard.valid + shard.invalid > 0)
        metrics.addMetric('PublicationsDeferred', 'Count', 1);
      if (shard.finishedPublication) metrics.addMetric('EarlierPublicationsFinished', 'Count', 1);
      if (shard.analytics) {
        metrics.addMetric('WindowsClosed', 'Count', shard.analytics.windowsClosed);
        metrics.addMetric('SessionsClosed', 'Count', shard.analytics.sessionsClosed);
        metrics.addMetric('AlertsRaised', 'Count', shard.analytics.alertsRaised);
        metrics.addMetric('LateEvents', 'Count', shard.analytics.lateEvents);
        metrics.addMetric('AnalyticsSnapshotBytes', 'Bytes', shard.analytics.snapshotBytes);
        if (shard.analytics.maxEventTime !== null)
          metrics.addMetric('WatermarkLagMs', 'Milliseconds', Date.now() - shard.analytics.maxEventTime);
      }
    }
    return { batchItemFailures };
  } catch (error) {
    metrics.addMetric('BatchFailures', 'Count', 1);
    logger.error('batch failed; Lambda will retry it', error as Error);
    throw error;
  } finally {
    metrics.publishStoredMetrics();
  }
};
