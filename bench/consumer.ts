import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { S3Client } from '@aws-sdk/client-s3';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { StateSizing } from '../lambdas/consumer/analytics';
import { type ConsumerDeps, processKinesisEvent } from '../lambdas/consumer/processBatch';
import type { AnalyticsConfig } from '../lambdas/shared/analyticsConfig';
import { ShardlineError } from '../lambdas/shared/errors';
import { FakeDynamoDB, FakeS3, FakeSqs } from './lib/fakes';
import {
  BENCH_START_TIME,
  benchBatches,
  FIRST_SEQUENCE_NUMBER,
  kinesisEvent,
  payloadBytes,
} from './lib/records';
import { type Spread, spread } from './lib/stats';

/**
 * The consumer core: the real `processKinesisEvent` (decode, validate, transform, Parquet and CSV, DLQ
 * messages, the checkpoint's conditional writes) against in-memory fakes of S3, SQS and DynamoDB.
 */

export interface ConsumerBenchOptions {
  batchSizes: readonly number[];
  /** Timed runs per batch size, after one warm-up run. */
  runs: number;
  /** Each run processes at least this many records (several batches when the batch is small). */
  recordsPerRun: number;
  /** The stream analytics, as the handler turns them on by default; null or absent: the lake only. */
  analytics?: AnalyticsConfig | null;
  /** How the analytics state is cut into items; absent: the consumer's default. */
  analyticsStateSizing?: StateSizing;
}

export interface ConsumerBatchResult {
  batchSize: number;
  /** Whether the stream analytics ran too. */
  analytics: boolean;
  recordsPerSecond: Spread;
  megabytesPerSecond: Spread;
  /** Wall time of one `processKinesisEvent` call. */
  msPerBatch: Spread;
  /** Average size of a record's data, bytes. */
  recordBytes: number;
  batchesPerRun: number;
  perBatch: {
    valid: number;
    invalid: number;
    s3Puts: number;
    sqsRequests: number;
    dynamoWrites: number;
    writeRequestUnits: number;
    readRequestUnits: number;
    bytesWritten: number;
    analyticsStateItems: number;
  };
}

export const CONSUMER_CONFIG = {
  bucketName: 'shardline-bench-lake',
  tableName: 'shardline-bench-state',
  dlqUrl: 'http://sqs.local/000000000000/shardline-bench-dlq',
  streamName: 'shardline-bench-events',
};

/** Fresh fakes and the dependencies the consumer takes; no logging, as the handler's logger is I/O. */
export function fakeDeps(analytics: AnalyticsConfig | null = null) {
  const s3 = new FakeS3();
  const dynamo = new FakeDynamoDB();
  const sqs = new FakeSqs();
  const deps: ConsumerDeps = {
    s3: s3 as unknown as S3Client,
    dynamo: dynamo as unknown as DynamoDBClient,
    sqs: sqs as unknown as SQSClient,
    config: CONSUMER_CONFIG,
    analytics,
  };
  return { s3, dynamo, sqs, deps };
}

export class BenchSanityError extends ShardlineError {
  constructor(what: string) {
    super(`the consumer benchmark did not do the work it claims: ${what}`);
    this.name = 'BenchSanityError';
  }
}

/**
 * Times one batch size: `runs` timed runs (plus a warm-up) of consecutive batches that add up to
 * `recordsPerRun`. Each run starts from an empty table, then the checkpoint (and the analytics state, when
 * on) carries from batch to batch as it does on a shard.
 */
export async function benchBatchSize(
  batchSize: number,
  options: Pick<ConsumerBenchOptions, 'runs' | 'recordsPerRun' | 'analytics' | 'analyticsStateSizing'>,
): Promise<ConsumerBatchResult> {
  const batches = benchBatches(batchSize, options.recordsPerRun);
  const events = batches.map((records, index) =>
    kinesisEvent(records, {
      firstSequenceNumber: FIRST_SEQUENCE_NUMBER + BigInt(index * batchSize),
      arrivalMs: BENCH_START_TIME + 60_000 + index * batchSize,
    }),
  );
  const bytes = batches.reduce((sum, records) => sum + payloadBytes(records), 0);
  const { s3, dynamo, sqs, deps } = fakeDeps(options.analytics ?? null);
  if (options.analyticsStateSizing) deps.analyticsStateSizing = options.analyticsStateSizing;

  // One checked pass first: what each batch costs in requests, and proof the work was done.
  let expectedInvalid = 0;
  let stateItems = 0;
  for (const [index, event] of events.entries()) {
    const invalid = (batches[index] ?? []).filter((record) => record.invalidKind).length;
    expectedInvalid += invalid;
    const shard = (await processKinesisEvent(event, deps)).shards[0];
    if (!shard || shard.invalid !== invalid || shard.valid !== batchSize - invalid)
      throw new BenchSanityError(`expected ${invalid} invalid of ${batchSize}, got ${JSON.stringify(shard)}`);
    if (shard.committedSequenceNumber !== event.Records.at(-1)?.kinesis.sequenceNumber)
      throw new BenchSanityError('the checkpoint did not move to the last record');
    if (options.analytics && !shard.analytics)
      throw new BenchSanityError('analytics were on but did not run');
    stateItems += shard.analytics ? 1 : 0;
  }
  if (sqs.messages !== expectedInvalid) throw new BenchSanityError(`${sqs.messages} DLQ messages`);
  const perBatch = {
    valid: (batchSize * events.length - expectedInvalid) / events.length,
    invalid: expectedInvalid / events.length,
    s3Puts: s3.puts / events.length,
    sqsRequests: sqs.billedRequests / events.length,
    dynamoWrites: dynamo.writes / events.length,
    writeRequestUnits: dynamo.writeRequestUnits / events.length,
    readRequestUnits: dynamo.readRequestUnits / events.length,
    bytesWritten: s3.bytesPut / events.length,
    analyticsStateItems: stateItems / events.length,
  };

  const rates: number[] = [];
  const batchMs: number[] = [];
  for (let run = 0; run <= options.runs; run++) {
    dynamo.reset();
    let elapsedNs = 0n;
    for (const event of events) {
      const started = process.hrtime.bigint();
      await processKinesisEvent(event, deps);
      const took = process.hrtime.bigint() - started;
      elapsedNs += took;
      if (run > 0) batchMs.push(Number(took) / 1e6);
    }
    if (run > 0) rates.push((batchSize * events.length) / (Number(elapsedNs) / 1e9));
  }
  const recordBytes = bytes / (batchSize * events.length);
  return {
    batchSize,
    analytics: Boolean(options.analytics),
    recordsPerSecond: spread(rates),
    megabytesPerSecond: spread(rates.map((rate) => (rate * recordBytes) / 1e6)),
    msPerBatch: spread(batchMs),
    recordBytes,
    batchesPerRun: events.length,
    perBatch,
  };
}

/**
 * Runs the consumer core benchmark for each batch size.
 *
 * @example
 * ```ts
 * const results = await runConsumerBench({ batchSizes: [100, 1000], runs: 5, recordsPerRun: 20_000 });
 * ```
 */
export async function runConsumerBench(options: ConsumerBenchOptions): Promise<ConsumerBatchResult[]> {
  const results: ConsumerBatchResult[] = [];
  for (const batchSize of options.batchSizes) results.push(await benchBatchSize(batchSize, options));
  return results;
}
