import type { KinesisStreamEvent } from 'aws-lambda';
import type { StateSizing } from '../lambdas/consumer/analytics';
import { WarmStateCache } from '../lambdas/consumer/analytics';
import { type ConsumerDeps, processKinesisEvent } from '../lambdas/consumer/processBatch';
import { publishPendingCommits } from '../lambdas/publisher/publishPending';
import type { AnalyticsConfig } from '../lambdas/shared/analyticsConfig';
import { ShardlineError } from '../lambdas/shared/errors';
import { MeteredAws, perBatch, type Usage } from './lib/fakes';
import {
  BENCH_START_TIME,
  type BenchBatchOptions,
  benchBatches,
  FIRST_SEQUENCE_NUMBER,
  kinesisEvent,
  payloadBytes,
} from './lib/records';
import { type Spread, spread } from './lib/stats';
import { naiveConsumer } from './naive';

/**
 * The consumer core: the real `processKinesisEvent` (decode, validate, transform, Parquet and CSV, DLQ
 * messages, the staged bundle, the state snapshot, the commit, the publication) against the metered
 * in-memory AWS of lib/fakes.ts; and, on the same records, the naive at-least-once peer (bench/naive.ts).
 */

export interface ConsumerBenchOptions extends BenchBatchOptions {
  batchSizes: readonly number[];
  /** Timed runs per batch size, after one warm-up run. */
  runs: number;
  /** Each run processes at least this many records (several batches when the batch is small). */
  recordsPerRun: number;
  /** The stream analytics, as the handler turns them on by default; null or absent: the lake only. */
  analytics?: AnalyticsConfig | null;
  /** How the analytics state is cut into buckets; absent: the consumer's default. */
  analyticsStateSizing?: StateSizing;
  /** Records processed (untimed, batches of 1,000) before the runs, so the state holds its users. */
  warmUpRecords?: number;
}

export interface ConsumerBatchResult {
  batchSize: number;
  /** Whether the stream analytics ran too. */
  analytics: boolean;
  /** Users per tenant of the records (3 tenants); 200 is the demo's. */
  usersPerTenant: number;
  recordsPerSecond: Spread;
  /** Records per second of CPU time (user + system): what a busy machine distorts least. */
  cpuRecordsPerSecond: Spread;
  megabytesPerSecond: Spread;
  /** Wall time of one `processKinesisEvent` call. */
  msPerBatch: Spread;
  /** Average size of a record's data, bytes. */
  recordBytes: number;
  batchesPerRun: number;
  valid: number;
  invalid: number;
  /** Requests and bytes of one batch, from the checked pass. */
  perBatch: Usage;
  /** The analytics state snapshot of the last batch, bytes (0: analytics off). */
  snapshotBytes: number;
  /** The naive at-least-once consumer on the same batches. */
  naive?: { recordsPerSecond: Spread; cpuRecordsPerSecond: Spread; perBatch: Usage };
}

export const CONSUMER_CONFIG = {
  bucketName: 'shardline-bench-lake',
  tableName: 'shardline-bench-state',
  dlqUrl: 'http://sqs.local/000000000000/shardline-bench-dlq',
  streamName: 'shardline-bench-events',
};

/** A fresh metered AWS and the dependencies the consumer takes; no logging, as the logger is I/O. */
export function fakeDeps(analytics: AnalyticsConfig | null = null) {
  const aws = new MeteredAws();
  const deps: ConsumerDeps = {
    ...aws.clients,
    config: CONSUMER_CONFIG,
    analytics,
    warmStates: new WarmStateCache(),
  };
  return { aws, deps };
}

export class BenchSanityError extends ShardlineError {
  constructor(what: string) {
    super(`the consumer benchmark did not do the work it claims: ${what}`);
    this.name = 'BenchSanityError';
  }
}

/** The events of a run: consecutive batches of one shard, arrival one millisecond per record. */
export function benchEvents(batchSize: number, recordsPerRun: number, options: BenchBatchOptions = {}) {
  const batches = benchBatches(batchSize, recordsPerRun, options);
  const events = batches.map((records, index) =>
    kinesisEvent(records, {
      firstSequenceNumber: FIRST_SEQUENCE_NUMBER + BigInt(index * batchSize),
      arrivalMs: BENCH_START_TIME + 60_000 + index * batchSize,
    }),
  );
  return { batches, events };
}

/**
 * Runs the consumer over `events` on a shard (checkpoint and state carrying over), checks that every
 * batch was committed and published with the counts the records imply, and returns the usage per batch.
 */
export async function meteredPass(
  events: readonly KinesisStreamEvent[],
  invalidPerBatch: readonly number[],
  deps: ConsumerDeps,
  aws: MeteredAws,
): Promise<{ perBatch: Usage; snapshotBytes: number }> {
  aws.resetUsage();
  let snapshotBytes = 0;
  for (const [index, event] of events.entries()) {
    const invalid = invalidPerBatch[index] ?? 0;
    const shard = (await processKinesisEvent(event, deps)).shards[0];
    if (!shard || shard.invalid !== invalid || shard.valid !== event.Records.length - invalid)
      throw new BenchSanityError(`expected ${invalid} invalid, got ${JSON.stringify(shard)}`);
    if (shard.committedSequenceNumber !== event.Records.at(-1)?.kinesis.sequenceNumber || !shard.published)
      throw new BenchSanityError('the batch was not committed and published');
    if (deps.analytics && !shard.analytics) throw new BenchSanityError('analytics were on but did not run');
    snapshotBytes = shard.analytics?.snapshotBytes ?? 0;
  }
  return { perBatch: perBatch(aws.usage, events.length), snapshotBytes };
}

/**
 * Times one batch size: `runs` timed runs (plus a warm-up) of consecutive batches that add up to
 * `recordsPerRun`. Each run starts from an empty lake, then the checkpoint (and the analytics state, when
 * on) carries from batch to batch as it does on a shard. The naive peer runs on the same events.
 */
export async function benchBatchSize(
  batchSize: number,
  options: Omit<ConsumerBenchOptions, 'batchSizes'>,
): Promise<ConsumerBatchResult> {
  const { batches, events } = benchEvents(batchSize, options.recordsPerRun, options);
  const invalidPerBatch = batches.map((records) => records.filter((r) => r.invalidKind).length);
  const invalid = invalidPerBatch.reduce((a, b) => a + b, 0);
  const bytes = batches.reduce((sum, records) => sum + payloadBytes(records), 0);
  const records = batchSize * events.length;
  const { aws, deps } = fakeDeps(options.analytics ?? null);
  if (options.analyticsStateSizing) deps.analyticsStateSizing = options.analyticsStateSizing;

  // The warm-up puts the run's users into the state first, on sequence numbers below the run's.
  const warmUp = async () => {
    aws.clear();
    deps.warmStates = new WarmStateCache();
    if (!options.warmUpRecords) return;
    // Event time before the run's, so that the run's events are not late.
    const span = (options.warmUpRecords / (options.eventsPerSecond ?? 2000)) * 1000;
    const warm = benchBatches(1000, options.warmUpRecords, {
      ...options,
      seed: 7,
      startTime: BENCH_START_TIME - span,
    });
    const first = FIRST_SEQUENCE_NUMBER - BigInt(warm.length * 1000);
    for (const [index, records] of warm.entries())
      await processKinesisEvent(
        kinesisEvent(records, {
          firstSequenceNumber: first + BigInt(index * 1000),
          arrivalMs: BENCH_START_TIME - span + index * 1000,
        }),
        deps,
      );
  };

  await warmUp();
  const checked = await meteredPass(events, invalidPerBatch, deps, aws);

  const rates: number[] = [];
  const cpuRates: number[] = [];
  const batchMs: number[] = [];
  for (let run = 0; run <= options.runs; run++) {
    await warmUp();
    let elapsedNs = 0n;
    const cpuBefore = process.cpuUsage();
    for (const event of events) {
      const started = process.hrtime.bigint();
      await processKinesisEvent(event, deps);
      const took = process.hrtime.bigint() - started;
      elapsedNs += took;
      if (run > 0) batchMs.push(Number(took) / 1e6);
    }
    const cpu = process.cpuUsage(cpuBefore);
    if (run > 0) {
      rates.push(records / (Number(elapsedNs) / 1e9));
      cpuRates.push(records / ((cpu.user + cpu.system) / 1e6));
    }
  }
  const recordBytes = bytes / records;
  return {
    batchSize,
    analytics: Boolean(options.analytics),
    usersPerTenant: options.usersPerTenant ?? 200,
    recordsPerSecond: spread(rates),
    cpuRecordsPerSecond: spread(cpuRates),
    megabytesPerSecond: spread(rates.map((rate) => (rate * recordBytes) / 1e6)),
    msPerBatch: spread(batchMs),
    recordBytes,
    batchesPerRun: events.length,
    valid: (records - invalid) / events.length,
    invalid: invalid / events.length,
    perBatch: checked.perBatch,
    snapshotBytes: checked.snapshotBytes,
    naive: await benchNaive(events, options.runs),
  };
}

/** The naive at-least-once peer on the same events: one Parquet object per batch, nothing else. */
async function benchNaive(events: readonly KinesisStreamEvent[], runs: number) {
  const aws = new MeteredAws();
  const rates: number[] = [];
  const cpuRates: number[] = [];
  let usage: Usage | null = null;
  for (let run = 0; run <= runs; run++) {
    aws.clear();
    aws.resetUsage();
    let records = 0;
    const started = process.hrtime.bigint();
    const cpuBefore = process.cpuUsage();
    for (const event of events) {
      await naiveConsumer(event, aws.clients.s3, CONSUMER_CONFIG.bucketName);
      records += event.Records.length;
    }
    const cpu = process.cpuUsage(cpuBefore);
    const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
    if (run > 0) {
      rates.push(records / elapsed);
      cpuRates.push(records / ((cpu.user + cpu.system) / 1e6));
    }
    usage ??= perBatch(aws.usage, events.length);
  }
  return { recordsPerSecond: spread(rates), cpuRecordsPerSecond: spread(cpuRates), perBatch: usage as Usage };
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

/**
 * The publisher's scheduled run on a quiet stream (nothing pending): its requests per invocation.
 *
 * @example
 * ```ts
 * const usage = await meterPublisherRun(2);
 * usage.readRequestUnits; // 1
 * ```
 */
export async function meterPublisherRun(shards: number): Promise<Usage> {
  const { aws, deps } = fakeDeps();
  for (let shard = 0; shard < shards; shard++) {
    const { events } = benchEvents(10, 10);
    const event = events[0] as KinesisStreamEvent;
    for (const record of event.Records)
      record.eventID = record.eventID.replace(/-\d+:/, `-00000000000${shard}:`);
    await processKinesisEvent(event, deps);
  }
  aws.resetUsage();
  await publishPendingCommits({ s3: deps.s3, dynamo: deps.dynamo, config: CONSUMER_CONFIG });
  return aws.usage;
}
