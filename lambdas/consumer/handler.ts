import type { Context, KinesisStreamEvent } from 'aws-lambda';
import { dynamoClient, s3Client, sqsClient } from '../shared/clients';
import { consumerConfig } from '../shared/config';
import { createObservability } from '../shared/observability';
import { processKinesisEvent } from './processBatch';

const { logger, metrics } = createObservability('shardline-consumer');
// Created once per execution environment and reused while warm, as Lambda intends.
const deps = {
  s3: s3Client(),
  dynamo: dynamoClient(),
  sqs: sqsClient(),
  config: consumerConfig(),
  log: (message: string, fields: Record<string, unknown>) => logger.info(message, fields),
};

/** The consumer Lambda: a Kinesis batch in, the partial batch response out. */
export const handler = async (event: KinesisStreamEvent, context?: Context) => {
  if (context) logger.addContext(context);
  try {
    const { batchItemFailures, shards } = await processKinesisEvent(event, deps);
    for (const shard of shards) {
      metrics.addMetric('RecordsReceived', 'Count', shard.received);
      metrics.addMetric('RecordsSkippedAsCommitted', 'Count', shard.skipped);
      metrics.addMetric('ValidRecords', 'Count', shard.valid);
      metrics.addMetric('InvalidRecords', 'Count', shard.invalid);
      metrics.addMetric('ObjectsWritten', 'Count', shard.objectsWritten);
      metrics.addMetric('BytesWritten', 'Bytes', shard.bytesWritten);
      if (shard.rolledBack) metrics.addMetric('IntentsRolledBack', 'Count', 1);
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
