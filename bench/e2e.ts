import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type AttributeValue, type DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { DuckDBInstance } from '@duckdb/node-api';
import { produce } from '../lambdas/producer/produce';
import { addOutcome } from '../lambdas/producer/putRecords';
import { dynamoClient, kinesisClient } from '../lambdas/shared/clients';
import { ShardlineError } from '../lambdas/shared/errors';
import { listShards } from '../lambdas/shared/kinesisShards';
import { clientOptionsFor, type Service } from '../local/emulators';
import { type LocalPipeline, startLocalPipeline, synthesize } from '../local/pipeline';
import { CpuMeter } from './lib/procStat';
import { type LatencySummary, latencySummary, type Spread, spread } from './lib/stats';

/**
 * End to end on the local emulators: the synthesized stack under `startLocalPipeline` (kinesalite,
 * dynalite, s3rver, fauxqs, the consumer bundle in its own process behind the local event source
 * mapping), the producer putting events at a fixed rate, and for every record the time from its
 * ApproximateArrivalTimestamp to the commit of the batch that wrote it.
 *
 * Commit times come from the checkpoint item, polled every 20 ms: `committedAt` is the time the consumer
 * stamped on its commit, the step after which the batch's S3 objects count (docs/EXACTLY_ONCE.md), so it
 * is the "S3 object committed" instant. A record belongs to the first observed commit at or past its
 * sequence number; if two commits of a shard fall between polls, the earlier one's records get the later
 * commit's time (an over-estimate of at most one invocation; `commitsObserved` says how often). Each
 * record's arrival time and sequence number are read back from the Parquet objects with DuckDB, which
 * also gives `processed_at`, the start of the invocation, as a lower bound.
 */

export interface E2eRate {
  /** `1000/s`, or `max` for as fast as the producer can put. */
  label: string;
  ratePerSecond: number | undefined;
  events: number;
  /** Producers putting side by side, each a share of the events and the rate (default 1). */
  producers?: number;
  /** False runs the consumer with `SHARDLINE_ANALYTICS=off` (the lake only); default as deployed. */
  analytics?: boolean;
}

export interface CpuShare {
  wallSeconds: number;
  emulators: Record<Service, number>;
  emulatorsTotal: number;
  consumer: number;
  /** This process: the producer, the event source mapping (pollers, batching, invoking) and the poller. */
  benchProcess: number;
  total: number;
  /** Shares of the CPU time used, 0-1. */
  emulatorShare: number;
  consumerShare: number;
  benchProcessShare: number;
  /** CPU time used over what the machine's cores could give in the same wall time. */
  machineUtilisation: number;
}

export interface E2eResult {
  label: string;
  /** Whether the consumer ran the stream analytics (as deployed) or the lake only. */
  analytics: boolean;
  offeredRatePerSecond: number | null;
  events: number;
  produced: number;
  produceFailed: number;
  produceSeconds: number;
  /** Rate at which the producer actually put the records. */
  achievedOfferedRate: number;
  /** First record's arrival to the last commit. */
  spanSeconds: number;
  sustainedEventsPerSecond: number;
  /** ApproximateArrivalTimestamp → checkpoint commit, valid records (read back from Parquet). */
  latencyToCommitMs: LatencySummary;
  /** ApproximateArrivalTimestamp → `processed_at` (the invocation's start). */
  latencyToProcessingStartMs: LatencySummary;
  commitsObserved: number;
  commits: number;
  /** Checkpoint polls that failed (and were retried on the next tick). */
  checkpointReadErrors: number;
  invocations: number;
  invocationErrors: number;
  averageBatchSize: number;
  /** Duration of each invocation from the function host's REPORT lines (all, and warm ones only). */
  invocationMs: Spread;
  warmInvocationMs: Spread;
  maxMemoryUsedMb: number;
  cpu: CpuShare;
}

export class E2eBenchError extends ShardlineError {
  constructor(rate: string, problem: string) {
    super(`end-to-end run at ${rate}: ${problem}`);
    this.name = 'E2eBenchError';
  }
}

interface InvocationReport {
  durationMs: number;
  maxMemoryUsedMb: number | undefined;
  initMs: number | undefined;
}

/**
 * Reads the function host's `REPORT RequestId: … Duration: 12.34 ms … Max Memory Used: 80 MB` line.
 *
 * @example
 * ```ts
 * parseReportLine('[fn] REPORT RequestId: 1\tDuration: 12.50 ms\tMax Memory Used: 80 MB')?.durationMs; // 12.5
 * ```
 */
export function parseReportLine(line: string): InvocationReport | undefined {
  if (!line.includes('REPORT RequestId:')) return undefined;
  const duration = /Duration: ([\d.]+) ms/.exec(line);
  if (!duration) return undefined;
  const memory = /Max Memory Used: (\d+) MB/.exec(line);
  const init = /Init Duration: ([\d.]+) ms/.exec(line);
  return {
    durationMs: Number(duration[1]),
    maxMemoryUsedMb: memory ? Number(memory[1]) : undefined,
    initMs: init ? Number(init[1]) : undefined,
  };
}

export interface Commit {
  lastSequenceNumber: bigint;
  committedAt: number;
}

const POLL_INTERVAL_MS = 20;

/**
 * Runs one fixed-rate end-to-end measurement on a fresh pipeline per rate (fresh emulators and data, so
 * no rate inherits another's backlog), synthesizing once into `cdkOutDir`.
 *
 * @example
 * ```ts
 * const { results, failures } = await runE2eBench({ rates: [{ label: '2000/s', ratePerSecond: 2000, events: 30_000 }],
 *   cdkOutDir: '/tmp/cdk.out', synth: true });
 * ```
 */
export async function runE2eBench(options: {
  rates: readonly E2eRate[];
  cdkOutDir: string;
  synth: boolean;
  log?: (line: string) => void;
}): Promise<{ results: E2eResult[]; failures: Array<{ label: string; error: string }> }> {
  const results: E2eResult[] = [];
  const failures: Array<{ label: string; error: string }> = [];
  let synth = options.synth;
  let lakeOnlyOutDir: string | undefined;
  for (const rate of options.rates) {
    try {
      if (rate.analytics === false && !lakeOnlyOutDir) {
        if (synth) await synthesize(STAGE, options.cdkOutDir, options.log);
        synth = false;
        lakeOnlyOutDir = await withConsumerEnvironment(options.cdkOutDir, { SHARDLINE_ANALYTICS: 'off' });
      }
      const outDir = rate.analytics === false ? (lakeOnlyOutDir as string) : options.cdkOutDir;
      results.push(await runRate(rate, outDir, synth, options.log ?? (() => {})));
    } catch (error) {
      // One rate failing (a timeout on a loaded machine, say) leaves the others' figures standing.
      failures.push({ label: rate.label, error: (error as Error).message });
    }
    synth = false;
  }
  if (lakeOnlyOutDir) await rm(lakeOnlyOutDir, { recursive: true, force: true });
  return { results, failures };
}

const STAGE = 'bench';

/**
 * A copy of a cloud assembly whose consumer function has extra environment variables: the local runtime
 * reads the function's environment from the template, so this is how to run a variant of it locally.
 */
async function withConsumerEnvironment(
  cdkOutDir: string,
  variables: Record<string, string>,
): Promise<string> {
  const copy = `${cdkOutDir}-variant`;
  await cp(cdkOutDir, copy, { recursive: true });
  const templateFile = join(copy, `Shardline-${STAGE}.template.json`);
  const template = JSON.parse(await readFile(templateFile, 'utf8')) as {
    Resources: Record<
      string,
      {
        Type: string;
        Properties?: { FunctionName?: unknown; Environment?: { Variables?: Record<string, unknown> } };
      }
    >;
  };
  const consumer = Object.values(template.Resources).find(
    (resource) =>
      resource.Type === 'AWS::Lambda::Function' &&
      String(resource.Properties?.FunctionName ?? '').endsWith('-consumer'),
  );
  const environment = consumer?.Properties?.Environment?.Variables;
  if (!environment)
    throw new E2eBenchError('setup', 'the template has no consumer function with an environment');
  Object.assign(environment, variables);
  await writeFile(templateFile, JSON.stringify(template));
  return copy;
}

async function runRate(
  rate: E2eRate,
  cdkOutDir: string,
  synth: boolean,
  log: (line: string) => void,
): Promise<E2eResult> {
  const dataDir = await mkdtemp(join(tmpdir(), 'shardline-bench-e2e-'));
  const pipelineLog: string[] = [];
  const reports: InvocationReport[] = [];
  const pipeline = await startLocalPipeline({
    dataDir,
    stage: STAGE,
    cdkOutDir,
    synth,
    log: (line) => {
      const report = parseReportLine(line);
      if (report) reports.push(report);
      pipelineLog.push(line);
      if (pipelineLog.length > 200) pipelineLog.shift();
    },
  });
  try {
    return await measure(rate, pipeline, dataDir, log, reports);
  } catch (error) {
    const tail = pipelineLog.slice(-8).map((line) => `    ${line.slice(0, 300)}`);
    log(`  ${rate.label} failed: ${(error as Error).message}; last pipeline lines:\n${tail.join('\n')}`);
    throw error;
  } finally {
    await pipeline.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

async function measure(
  rate: E2eRate,
  pipeline: LocalPipeline,
  dataDir: string,
  log: (line: string) => void,
  reports: InvocationReport[],
) {
  const { runtime, emulators } = pipeline;
  const kinesis = kinesisClient(clientOptionsFor(emulators, 'kinesis'));
  const dynamo = dynamoClient(clientOptionsFor(emulators, 'dynamodb'));
  const { streamName, tableName, bucketName } = runtime.resources;
  const shardIds = (await listShards(kinesis, streamName)).map((shard) => shard.shardId);

  const consumerMeter = new CpuMeter();

  const commits = new Map<string, Commit[]>(shardIds.map((id) => [id, []]));
  const committedRecords = new Map<string, number>();
  // Fresh data: every shard starts at version 0, and each committed batch moves it by 1 (the commit).
  const versions = new Map<string, { first: number; last: number }>(
    shardIds.map((id) => [id, { first: 0, last: 0 }]),
  );
  let polling = true;
  let pollErrors = 0;
  const pollOnce = () =>
    Promise.all(
      shardIds.map(async (shardId) => {
        const item = await readCheckpointItem(dynamo, tableName, streamName, shardId);
        if (!item) return;
        const lastSeq = item.lastSeq?.S;
        versions.set(shardId, { first: 0, last: Number(item.version?.N ?? 0) });
        committedRecords.set(shardId, Number(item.committedRecords?.N ?? 0));
        const list = commits.get(shardId) as Commit[];
        if (lastSeq && (list.length === 0 || BigInt(lastSeq) > (list.at(-1) as Commit).lastSequenceNumber)) {
          list.push({ lastSequenceNumber: BigInt(lastSeq), committedAt: Number(item.committedAt?.N ?? 0) });
        }
      }),
    );
  const poller = (async () => {
    while (polling) {
      try {
        await pollOnce();
      } catch {
        pollErrors++; // a slow or busy emulator: the next tick reads the same item again
      }
      consumerMeter.sample(pipeline.consumerHost.pids);
      await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
    }
  })();

  const committed = () => [...committedRecords.values()].reduce((sum, count) => sum + count, 0);
  const sentToOnFailure = () =>
    pipeline.mapping.stats().shards.reduce((sum, shard) => sum + shard.recordsSentToOnFailure, 0);
  const waitForCommits = async (target: number, timeoutMs: number) => {
    const deadline = Date.now() + timeoutMs;
    while (committed() < target) {
      if (sentToOnFailure() > 0)
        throw new E2eBenchError(
          rate.label,
          `${sentToOnFailure()} records went to the on-failure destination`,
        );
      if (Date.now() > deadline)
        throw new E2eBenchError(rate.label, `only ${committed()} of ${target} records committed in time`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };

  let emulatorMeters: Record<Service, { meter: CpuMeter; pid: number }>;
  let benchCpuStart: NodeJS.CpuUsage;
  let wallStart: number;
  let measureFromMs: number;
  let warmUp: Awaited<ReturnType<typeof produce>>;
  let before: { invocations: number; reports: number; commits: number };
  let produced: Awaited<ReturnType<typeof produce>>;
  let produceSeconds: number;
  try {
    // Warm-up: a few hundred events so that each shard's execution environment has started (its cold
    // start is not what the rates measure); their records are left out of every figure.
    warmUp = await produce(kinesis, streamName, { count: 300, seed: 7, invalidRatio: 0.02, tenants: 3 });
    await waitForCommits(warmUp.sent, 90_000);
    await pollOnce();
    before = {
      invocations: pipeline.mapping.stats().shards.reduce((sum, shard) => sum + shard.invocations, 0),
      reports: reports.length,
      commits: [...versions.values()].reduce((sum, v) => sum + v.last, 0) / 2,
    };
    emulatorMeters = Object.fromEntries(
      Object.entries(emulators.pids).map(([service, pid]) => {
        const meter = new CpuMeter();
        meter.start([pid]);
        return [service, { meter, pid }];
      }),
    ) as Record<Service, { meter: CpuMeter; pid: number }>;
    consumerMeter.start(pipeline.consumerHost.pids);
    benchCpuStart = process.cpuUsage();
    wallStart = performance.now();
    measureFromMs = Date.now();

    const produceStarted = performance.now();
    const spanMinutes = Math.max(1, Math.ceil(rate.events / (rate.ratePerSecond ?? 20_000) / 60));
    // One producer puts one PutRecords call at a time, so its rate is bounded by the call's latency;
    // high rates split the events and the rate over several producers running side by side.
    const producers = Math.max(1, rate.producers ?? 1);
    const startTime = new Date().toISOString();
    const outcomes = await Promise.all(
      Array.from({ length: producers }, (_, index) =>
        produce(kinesis, streamName, {
          count: Math.ceil(rate.events / producers),
          seed: 8 + index,
          invalidRatio: 0.02,
          tenants: 3,
          startTime,
          spanMinutes,
          ...(rate.ratePerSecond === undefined ? {} : { ratePerSecond: rate.ratePerSecond / producers }),
        }),
      ),
    );
    produced = outcomes.reduce((total, outcome) => addOutcome(total, outcome), {
      sent: 0,
      failed: 0,
      shards: {},
      retried: 0,
    });
    produceSeconds = (performance.now() - produceStarted) / 1000;
    log(
      `  ${rate.label}: put ${produced.sent} events in ${produceSeconds.toFixed(1)} s, waiting for the commits`,
    );

    await waitForCommits(warmUp.sent + produced.sent, Math.max(90_000, rate.events * 3));
  } finally {
    polling = false;
    await poller;
  }
  await pollOnce(); // the final state, with every commit
  const wallSeconds = (performance.now() - wallStart) / 1000;
  const benchCpu = process.cpuUsage(benchCpuStart);
  for (const { meter, pid } of Object.values(emulatorMeters)) meter.sample([pid]);
  consumerMeter.sample(pipeline.consumerHost.pids);
  const stats = pipeline.mapping.stats();
  kinesis.destroy();
  dynamo.destroy();

  const rows = await readLakeRows(join(dataDir, 's3', bucketName, 'events', 'parquet'));
  const toCommit: number[] = [];
  const toStart: number[] = [];
  let firstArrival = Number.POSITIVE_INFINITY;
  let lastCommit = 0;
  for (const row of rows) {
    if (row.arrivalTime < measureFromMs) continue; // a warm-up record
    const list = commits.get(row.shardId) ?? [];
    const commit = firstCommitCovering(list, BigInt(row.sequenceNumber));
    if (!commit) throw new Error(`no observed commit covers ${row.shardId} ${row.sequenceNumber}`);
    toCommit.push(commit.committedAt - row.arrivalTime);
    toStart.push(row.processedAt - row.arrivalTime);
    firstArrival = Math.min(firstArrival, row.arrivalTime);
    lastCommit = Math.max(lastCommit, commit.committedAt);
  }
  const spanSeconds = (lastCommit - firstArrival) / 1000;

  const emulatorSeconds = Object.fromEntries(
    Object.entries(emulatorMeters).map(([service, { meter }]) => [service, sumValues(meter.used())]),
  ) as Record<Service, number>;
  const emulatorsTotal = sumValues(new Map(Object.entries(emulatorSeconds)));
  const consumer = sumValues(consumerMeter.used());
  const benchProcess = (benchCpu.user + benchCpu.system) / 1e6;
  const total = emulatorsTotal + consumer + benchProcess;
  const invocations = stats.shards.reduce((sum, shard) => sum + shard.invocations, 0) - before.invocations;
  const measured = reports.slice(before.reports);
  const warm = measured.filter((report) => report.initMs === undefined);
  const commitCount = [...versions.values()].reduce((sum, v) => sum + v.last, 0) / 2 - before.commits;
  return {
    label: rate.label,
    analytics: rate.analytics !== false,
    offeredRatePerSecond: rate.ratePerSecond ?? null,
    events: rate.events,
    produced: produced.sent,
    produceFailed: produced.failed,
    produceSeconds,
    achievedOfferedRate: produced.sent / produceSeconds,
    spanSeconds,
    sustainedEventsPerSecond: produced.sent / spanSeconds,
    latencyToCommitMs: latencySummary(toCommit),
    latencyToProcessingStartMs: latencySummary(toStart),
    commitsObserved: [...commits.values()].reduce(
      (sum, list) => sum + list.filter((commit) => commit.committedAt >= measureFromMs).length,
      0,
    ),
    checkpointReadErrors: pollErrors,
    commits: Math.round(commitCount),
    invocations,
    invocationErrors: stats.shards.reduce((sum, shard) => sum + shard.errors, 0),
    averageBatchSize: produced.sent / Math.max(1, invocations),
    invocationMs: spread(measured.map((report) => report.durationMs)),
    warmInvocationMs: spread(warm.map((report) => report.durationMs)),
    maxMemoryUsedMb: Math.max(0, ...measured.map((report) => report.maxMemoryUsedMb ?? 0)),
    cpu: {
      wallSeconds,
      emulators: emulatorSeconds,
      emulatorsTotal,
      consumer,
      benchProcess,
      total,
      emulatorShare: emulatorsTotal / total,
      consumerShare: consumer / total,
      benchProcessShare: benchProcess / total,
      machineUtilisation: total / (wallSeconds * (await cores())),
    },
  };
}

async function cores() {
  const { availableParallelism } = await import('node:os');
  return availableParallelism();
}

function sumValues(values: Map<unknown, number>) {
  let sum = 0;
  for (const value of values.values()) sum += value;
  return sum;
}

/**
 * The first commit at or past a sequence number, by binary search over commits in sequence order.
 *
 * @example
 * ```ts
 * firstCommitCovering([{ lastSequenceNumber: 5n, committedAt: 1 }, { lastSequenceNumber: 9n, committedAt: 2 }], 7n);
 * // { lastSequenceNumber: 9n, committedAt: 2 }
 * ```
 */
export function firstCommitCovering(commits: readonly Commit[], sequenceNumber: bigint): Commit | undefined {
  let low = 0;
  let high = commits.length;
  while (low < high) {
    const middle = (low + high) >> 1;
    if ((commits[middle] as Commit).lastSequenceNumber >= sequenceNumber) high = middle;
    else low = middle + 1;
  }
  return commits[low];
}

async function readCheckpointItem(
  dynamo: DynamoDBClient,
  tableName: string,
  streamName: string,
  shardId: string,
): Promise<Record<string, AttributeValue> | undefined> {
  const { Item } = await dynamo.send(
    new GetItemCommand({
      TableName: tableName,
      Key: { pk: { S: `${streamName}#${shardId}` }, sk: { S: 'checkpoint' } },
      ConsistentRead: true,
    }),
  );
  return Item;
}

interface LakeRow {
  shardId: string;
  sequenceNumber: string;
  arrivalTime: number;
  processedAt: number;
}

/** Every Parquet row s3rver holds on disk (`<key>._S3rver_object` files), read with DuckDB. */
async function readLakeRows(parquetDir: string): Promise<LakeRow[]> {
  const instance = await DuckDBInstance.create(':memory:', { threads: '2' });
  const connection = await instance.connect();
  try {
    const reader = await connection.runAndReadAll(
      `SELECT shard_id, sequence_number, epoch_ms(arrival_time)::DOUBLE, epoch_ms(processed_at)::DOUBLE
       FROM read_parquet('${parquetDir}/**/*._S3rver_object')`,
    );
    return reader.getRows().map((row) => ({
      shardId: String(row[0]),
      sequenceNumber: String(row[1]),
      arrivalTime: Number(row[2]),
      processedAt: Number(row[3]),
    }));
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}
