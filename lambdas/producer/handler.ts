import type { Context } from 'aws-lambda';
import { kinesisClient } from '../shared/clients';
import { producerConfig } from '../shared/config';
import { createObservability } from '../shared/observability';
import { produce } from './produce';

const { logger, metrics, tracer } = createObservability('shardline-producer');
const kinesis = tracer.captureAWSv3Client(kinesisClient());

/**
 * The producer Lambda: `{ count, seed, invalidRatio, tenants, ratePerSecond? }` (generate) or
 * `{ records: [...], ratePerSecond? }` (your own events) in, `{ sent, failed, shards }` out.
 */
export const handler = async (event: unknown, context?: Context) => {
  if (context) logger.addContext(context);
  const { streamName } = producerConfig();
  try {
    const outcome = await produce(kinesis, streamName, event);
    metrics.addMetric('RecordsSent', 'Count', outcome.sent);
    metrics.addMetric('RecordsFailed', 'Count', outcome.failed);
    metrics.addMetric('RecordsRetried', 'Count', outcome.retried);
    logger.info('produced', {
      sent: outcome.sent,
      failed: outcome.failed,
      retried: outcome.retried,
      wholeCallFailures: outcome.wholeCallFailures ?? 0,
    });
    // Failed records are reported, not thrown, so that the records already sent are not put twice by a retry.
    if (outcome.failed > 0)
      logger.error('records not put on the stream after every retry', {
        failed: outcome.failed,
        lastWholeCallError: outcome.lastWholeCallError,
      });
    return { sent: outcome.sent, failed: outcome.failed, shards: outcome.shards };
  } finally {
    metrics.publishStoredMetrics();
  }
};
