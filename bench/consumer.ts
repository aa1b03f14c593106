import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { S3Client } from '@aws-sdk/client-s3';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { type ConsumerDeps, processKinesisEvent } from '../lambdas/consumer/processBatch';
import { FakeDynamoDB, FakeS3, FakeSqs } from './lib/fakes';
import { benchRecords, kinesisEvent, payloadBytes } from './lib/records';
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
}

export interface ConsumerBatchResult {
  batchSize: number;
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
  };
}

export const CONSUMER_CONFIG = {
  bucketName: 'shardline-bench-lake',
  tableName: 'shardline-bench-state',
  dlqUrl: 'http://sqs.local/000000000000/shardline-bench-dlq',
  streamName: 'shardline-bench-events',
};

/** Fresh fakes and the dependencies the consumer takes; no logging, as the handler's logger is I/O. */
export function fakeDeps() {
  const s3 = new FakeS3();
  const dynamo = new FakeDynamoDB();
  const sqs = new FakeSqs();
  const deps: ConsumerDeps = {
    s3: s3 as unknown as S3Client,
    dynamo: dynamo as unknown as DynamoDBClient,
    sqs: sqs as unknown as SQSClient,
    config: CONSUMER_CONFIG,
  };
  return { s3, dynamo, sqs, deps };
}

export class BenchSanityError extends Error {
  constructor(what: string) {
    super(`the consumer benchmark did not do the work it claims: ${what}`);
    this.name = 'BenchSanityError';
  }
}

/**
 * Times one batch size: `runs` timed runs (plus a warm-up) of enough batches to reach `recordsPerRun`.
 * Each batch starts from an empty checkpoint, so every record is new work.
 */
export async function benchBatchSize(
  batchSize: number,
  options: Pick<ConsumerBenchOptions, 'runs' | 'recordsPerRun'>,
): Promise<ConsumerBatchResult> {
  const records = benchRecords({ count: batchSize, seed: batchSize });
  const event = kinesisEvent(records);
  const bytes = payloadBytes(records);
  const expectedInvalid = records.filter((record) => record.invalidKind).length;
  const batchesPerRun = Math.max(1, Math.ceil(options.recordsPerRun / batchSize));
  const { s3, dynamo, sqs, deps } = fakeDeps();

  // One checked batch first: counts per batch for the cost model, and proof the work was done.
  const result = await processKinesisEvent(event, deps);
  const shard = result.shards[0];
  if (!shard || shard.invalid !== expectedInvalid || shard.valid !== batchSize - expectedInvalid)
    throw new BenchSanityError(
      `expected ${expectedInvalid} invalid of ${batchSize}, got ${JSON.stringify(shard)}`,
    );
  if (sqs.messages !== expectedInvalid) throw new BenchSanityError(`${sqs.messages} DLQ messages`);
  if (shard.committedSequenceNumber !== event.Records.at(-1)?.kinesis.sequenceNumber)
    throw new BenchSanityError('the checkpoint did not move to the last record');
  const perBatch = {
    valid: shard.valid,
    invalid: shard.invalid,
    s3Puts: s3.puts,
    sqsRequests: sqs.billedRequests,
    dynamoWrites: dynamo.writes,
    writeRequestUnits: dynamo.writeRequestUnits,
    readRequestUnits: dynamo.readRequestUnits,
    bytesWritten: shard.bytesWritten,
  };

  const rates: number[] = [];
  const batchMs: number[] = [];
  for (let run = 0; run <= options.runs; run++) {
    let elapsedNs = 0n;
    for (let batch = 0; batch < batchesPerRun; batch++) {
      dynamo.reset();
      const started = process.hrtime.bigint();
      await processKinesisEvent(event, deps);
      const took = process.hrtime.bigint() - started;
      elapsedNs += took;
      if (run > 0) batchMs.push(Number(took) / 1e6);
    }
    if (run > 0) rates.push((batchSize * batchesPerRun) / (Number(elapsedNs) / 1e9));
  }
  return {
    batchSize,
    recordsPerSecond: spread(rates),
    megabytesPerSecond: spread(rates.map((rate) => (rate * bytes) / batchSize / 1e6)),
    msPerBatch: spread(batchMs),
    recordBytes: bytes / batchSize,
    batchesPerRun,
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
