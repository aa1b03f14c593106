import { processKinesisEvent } from '../lambdas/consumer/processBatch';
import { DEFAULT_ANALYTICS_CONFIG } from '../lambdas/shared/analyticsConfig';
import { benchEvents, fakeDeps, meteredPass, meterPublisherRun } from './consumer';
import {
  AWS_LATENCY,
  awsWaitMs,
  type BatchingSettings,
  batchingDelaySeconds,
  type CostBreakdown,
  firehoseCostPerMillion,
  INVOCATION_PAYLOAD_BYTES,
  recordsPerBatch,
  shardlineCostPerMillion,
  streamCostPerMillion,
  type Traffic,
  US_EAST_1_PRICES,
} from './lib/cost';
import type { Usage } from './lib/fakes';
import { BENCH_START_TIME, kinesisEvent } from './lib/records';
import { percentile } from './lib/stats';

/**
 * The cost section of `npm run bench` (docs/COST.md): for each rate, batching window and analytics
 * setting, runs the real consumer on batches of the size the mapping would hand it, counts every request
 * with the metered fake, times its CPU, and prices it with lib/cost.ts beside Firehose and the stream.
 */

export const COST_RATES = [20, 200, 2000] as const;
export const COST_WINDOWS = [1, 60, 300] as const;

/** The stack's settings the model needs (lib/shardline-stack.ts and its stage profiles). */
export const COST_STACK = {
  shards: 2,
  consumerMemoryMb: 1024,
  publisherMemoryMb: 256,
  /** The publisher's billed time on a quiet stream: one Scan and its start-up, modelled. */
  publisherDurationMs: 100,
  extendedRetention: true,
};

/** Lambda gives a function one vCPU's worth of CPU at 1,769 MB, proportionally less below. */
const FULL_VCPU_MB = 1769;

export interface StageProfileSettings {
  batchSize: number;
  batchingWindowSeconds: number;
}

export interface MeasuredBatch {
  records: number;
  analytics: boolean;
  perBatch: Usage;
  /** Median CPU time of one batch on this machine (user + system), ms. */
  cpuMs: number;
  /** CPU ms × the Lambda's share of a vCPU + the modelled wait on AWS. */
  billedMs: number;
  snapshotBytes: number;
}

export interface CostScenario {
  eventsPerSecond: number;
  batchingWindowSeconds: number;
  batchSize: number;
  analytics: boolean;
  recordsPerBatch: number;
  /** Longest wait a record has in the mapping before its batch is invoked, seconds. */
  batchingDelaySeconds: number;
  shardline: CostBreakdown;
  /** Firehose, Parquet conversion, at a buffer interval of max(60 s, the window). */
  firehose: CostBreakdown;
  /** The same with dynamic partitioning, to partition by event time as Shardline does. */
  firehosePartitioned: CostBreakdown;
  firehoseBufferSeconds: number;
}

export interface CostResults {
  prices: typeof US_EAST_1_PRICES;
  latency: typeof AWS_LATENCY;
  stack: typeof COST_STACK & { maxRecordsPerInvocation: number; batchSize: number };
  recordBytes: number;
  measured: MeasuredBatch[];
  publisherPerRun: Usage;
  stream: Array<{ eventsPerSecond: number; cost: CostBreakdown }>;
  scenarios: CostScenario[];
}

/** Bytes one record adds to the invocation payload (base64 data and its metadata), from a real event. */
function invocationBytesPerRecord(records: number): { perRecord: number; recordBytes: number } {
  const { batches, events } = benchEvents(records, records);
  const event = events[0];
  const data = (batches[0] ?? []).reduce((sum, r) => sum + r.data.byteLength, 0);
  return { perRecord: Buffer.byteLength(JSON.stringify(event)) / records, recordBytes: data / records };
}

/**
 * Runs the consumer on batches of `records` (event time advancing at `perShardRate`), after a warm-up
 * that gives the analytics state its users, and returns requests per batch and the median CPU time.
 */
async function measureBatch(
  records: number,
  analytics: boolean,
  perShardRate: number,
  quick: boolean,
): Promise<MeasuredBatch> {
  const batches = Math.max(3, Math.min(quick ? 20 : 60, Math.ceil((quick ? 2000 : 6000) / records)));
  const span = ((batches * records) / perShardRate) * 1000;
  const { batches: recordBatches, events } = benchEvents(records, batches * records, {
    eventsPerSecond: perShardRate,
  });
  const { aws, deps } = fakeDeps(analytics ? DEFAULT_ANALYTICS_CONFIG : null);
  // The warm-up: one batch of each kind before the run, so the first timed batch is not the shard's first.
  const warmRecords = benchEvents(records, records, {
    eventsPerSecond: perShardRate,
    seed: 11,
    startTime: BENCH_START_TIME - span,
  }).batches[0];
  if (warmRecords)
    await processKinesisEvent(
      kinesisEvent(warmRecords, {
        firstSequenceNumber: 1n,
        arrivalMs: BENCH_START_TIME - span,
      }),
      deps,
    );
  const invalid = recordBatches.map((batch) => batch.filter((r) => r.invalidKind).length);
  const checked = await meteredPass(events, invalid, deps, aws);
  // Timed again on a fresh shard: CPU time, which a busy machine inflates far less than wall time.
  const timed = fakeDeps(analytics ? DEFAULT_ANALYTICS_CONFIG : null);
  const cpu: number[] = [];
  for (const event of events) {
    const before = process.cpuUsage();
    await processKinesisEvent(event, timed.deps);
    const used = process.cpuUsage(before);
    cpu.push((used.user + used.system) / 1000);
  }
  const cpuMs = percentile(cpu.slice(1), 50);
  const cpuScale = Math.max(1, FULL_VCPU_MB / COST_STACK.consumerMemoryMb);
  return {
    records,
    analytics,
    perBatch: checked.perBatch,
    cpuMs,
    billedMs: Math.ceil(cpuMs * cpuScale + awsWaitMs(checked.perBatch, AWS_LATENCY)),
    snapshotBytes: checked.snapshotBytes,
  };
}

/**
 * Measures and prices every scenario.
 *
 * @example
 * ```ts
 * const cost = await runCostModel({ quick: true, batchSize: 10_000, log: console.error });
 * ```
 */
export async function runCostModel(options: {
  quick: boolean;
  batchSize: number;
  log: (line: string) => void;
}): Promise<CostResults> {
  const { perRecord, recordBytes } = invocationBytesPerRecord(1000);
  const maxRecordsPerInvocation = Math.floor(INVOCATION_PAYLOAD_BYTES / perRecord);
  const batchingFor = (window: number): BatchingSettings => ({
    batchSize: options.batchSize,
    batchingWindowSeconds: window,
    maxRecordsPerInvocation,
  });
  const trafficAt = (eventsPerSecond: number): Traffic => ({
    eventsPerSecond,
    shards: COST_STACK.shards,
    recordBytes,
  });

  const measured = new Map<string, MeasuredBatch>();
  const measure = async (records: number, analytics: boolean, eventsPerSecond: number) => {
    const id = `${records}/${analytics}`;
    let result = measured.get(id);
    if (!result) {
      options.log(`  cost: ${records} records a batch, analytics ${analytics ? 'on' : 'off'}`);
      result = await measureBatch(records, analytics, eventsPerSecond / COST_STACK.shards, options.quick);
      measured.set(id, result);
    }
    return result;
  };

  const publisherPerRun = await meterPublisherRun(COST_STACK.shards);
  const publisher = {
    perRun: publisherPerRun,
    memoryMb: COST_STACK.publisherMemoryMb,
    durationMs: COST_STACK.publisherDurationMs,
    runsPerMinute: 1,
  };
  const scenarios: CostScenario[] = [];
  for (const eventsPerSecond of COST_RATES)
    for (const window of COST_WINDOWS)
      for (const analytics of [true, false]) {
        const traffic = trafficAt(eventsPerSecond);
        const batching = batchingFor(window);
        const records = recordsPerBatch(traffic, batching);
        const batch = await measure(records, analytics, eventsPerSecond);
        const firehoseBufferSeconds = Math.max(60, window);
        const firehose = {
          bufferIntervalSeconds: firehoseBufferSeconds,
          bufferSizeMb: 128,
          activePartitions: 1,
        };
        scenarios.push({
          eventsPerSecond,
          batchingWindowSeconds: window,
          batchSize: options.batchSize,
          analytics,
          recordsPerBatch: records,
          batchingDelaySeconds: batchingDelaySeconds(traffic, batching),
          shardline: shardlineCostPerMillion(
            {
              traffic,
              batching,
              lambdaMemoryMb: COST_STACK.consumerMemoryMb,
              perBatch: batch.perBatch,
              batchDurationMs: batch.billedMs,
              publisher,
            },
            US_EAST_1_PRICES,
          ),
          firehose: firehoseCostPerMillion(
            traffic,
            { ...firehose, dynamicPartitioning: false },
            US_EAST_1_PRICES,
          ),
          firehosePartitioned: firehoseCostPerMillion(
            traffic,
            { ...firehose, dynamicPartitioning: true },
            US_EAST_1_PRICES,
          ),
          firehoseBufferSeconds,
        });
      }
  return {
    prices: US_EAST_1_PRICES,
    latency: AWS_LATENCY,
    stack: { ...COST_STACK, maxRecordsPerInvocation, batchSize: options.batchSize },
    recordBytes,
    measured: [...measured.values()],
    publisherPerRun,
    stream: COST_RATES.map((eventsPerSecond) => ({
      eventsPerSecond,
      cost: streamCostPerMillion(trafficAt(eventsPerSecond), COST_STACK.extendedRetention, US_EAST_1_PRICES),
    })),
    scenarios,
  };
}
