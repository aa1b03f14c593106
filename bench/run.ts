/**
 * `npm run bench`: the benchmarks of issue 8. Writes bench/results/latest.json, latest.md and chart.svg,
 * and prints the Markdown and the JSON.
 *
 *   npm run bench                         every section (about 5 minutes on 2 cores)
 *   npm run bench -- --only consumer,cost one or more of: consumer, e2e, packaging, memory, cost
 *   npm run bench -- --quick              fewer runs and events, for a smoke test
 *
 * With --only, the other sections keep their figures from the previous latest.json. --render redraws
 * latest.md, README-section.md and chart.svg from latest.json without measuring anything.
 */

import { execFile, execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { ShardlineError } from '../lambdas/shared/errors';
import { STAGE_PROFILES } from '../lib/shardline-stack';
import { synthesize } from '../local/pipeline';
import type { ConsumerBatchResult } from './consumer';
import { runCostModel } from './costModel';
import type { DuckDbBatchResult } from './duckdb';
import { type E2eRate, runE2eBench } from './e2e';
import { renderChart } from './lib/chart';
import { tsxImportFlags } from './lib/child';
import { summariseProfile } from './lib/cpuProfile';
import { runMemoryBench } from './memory';
import { runPackagingBench } from './packaging';
import {
  type BenchResults,
  type ConsumerProfile,
  type MachineInfo,
  renderMarkdown,
  renderReadmeSection,
} from './report';

const run = promisify(execFile);
const BENCH_DIR = import.meta.dirname;
const PROJECT_ROOT = resolve(BENCH_DIR, '..');
const RESULTS_DIR = join(BENCH_DIR, 'results');
const SECTIONS = ['consumer', 'e2e', 'packaging', 'memory', 'cost'] as const;
type Section = (typeof SECTIONS)[number];
const STAGE = 'bench';

class UsageError extends ShardlineError {}

function parseArgs(argv: readonly string[]) {
  let only: Section[] = [...SECTIONS];
  let quick = false;
  let renderOnly = false;
  for (let index = 0; index < argv.length; index++) {
    const arg = argv[index];
    if (arg === '--quick') quick = true;
    else if (arg === '--render') renderOnly = true;
    else if (arg === '--only') {
      const list = (argv[++index] ?? '').split(',').filter(Boolean);
      const unknown = list.filter((name) => !SECTIONS.includes(name as Section));
      if (unknown.length > 0 || list.length === 0)
        throw new UsageError(
          `--only takes a comma-separated list of ${SECTIONS.join(', ')} (got ${unknown.join(', ') || 'nothing'})`,
        );
      only = list as Section[];
    } else if (arg === '--help' || arg === '-h') {
      throw new UsageError(
        'usage: npm run bench -- [--only consumer,e2e,packaging,memory,cost] [--quick] | --render (redraw latest.md, README-section.md and chart.svg from latest.json)',
      );
    } else throw new UsageError(`unknown argument ${arg} (try --help)`);
  }
  return { only, quick, renderOnly };
}

const progress = (line: string) => process.stderr.write(`${line}\n`);

function hasTaskset(): boolean {
  try {
    execFileSync('taskset', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function machineInfo(pinnedToCore: number | null): MachineInfo {
  return {
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
    cores: availableParallelism(),
    nodeVersion: process.version,
    totalMemoryGb: Math.round(totalmem() / 2 ** 30),
    platform: `${process.platform} ${process.arch}`,
    loadAverageAtStart: loadavg(),
    loadAverageAtEnd: [],
    pinnedToCore,
  };
}

async function runNodeChild(args: string[], pinnedToCore: number | null, extraFlags: string[] = []) {
  const nodeArgs = [...extraFlags, ...tsxImportFlags(), join(BENCH_DIR, 'worker.ts'), ...args];
  const [command, commandArgs] =
    pinnedToCore === null
      ? [process.execPath, nodeArgs]
      : ['taskset', ['-c', String(pinnedToCore), process.execPath, ...nodeArgs]];
  const { stdout } = await run(command, commandArgs, {
    cwd: PROJECT_ROOT,
    maxBuffer: 64 << 20,
    env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  });
  return JSON.parse(stdout);
}

/** Stages of the consumer the profiles report inclusive time for. */
const PROFILED_STAGES = [
  'decodeRecord',
  'parseEvent',
  'toRow',
  'encodeParquet',
  'buildEventTable',
  'writeParquet',
  'encodeCsv',
  'sendToDeadLetterQueue',
  'foldEvents',
  'prepareSnapshot',
  'encodeDelta',
  'encodeState',
  'planAnalyticsObjects',
  'encodeBundle',
  'commitBatch',
  'publishBundle',
];

/** One `node --cpu-prof` run of the consumer, summarised. */
async function profileConsumer(
  options: { batchSize: number; batches: number; analytics: boolean },
  pinnedToCore: number | null,
): Promise<ConsumerProfile | undefined> {
  progress(
    `profiling the consumer (node --cpu-prof): ${options.batches} batches of ${options.batchSize}, analytics ${options.analytics ? 'on' : 'off'}`,
  );
  const profileDir = await mkdtemp(join(tmpdir(), 'shardline-bench-profile-'));
  await runNodeChild(['profile', JSON.stringify(options)], pinnedToCore, [
    '--cpu-prof',
    `--cpu-prof-dir=${profileDir}`,
    '--cpu-prof-interval=250',
  ]);
  // File names end in <pid>.<thread>.<sequence>.cpuprofile; thread 0 is the main thread.
  const files = (await readdir(profileDir)).filter((name) => /\.\d+\.0\.\d+\.cpuprofile$/.test(name));
  const profileFile = files[0] ? join(profileDir, files[0]) : undefined;
  if (!profileFile) return undefined;
  progress(`  profile kept at ${profileFile} (open it in Chrome DevTools)`);
  const summary = summariseProfile(JSON.parse(await readFile(profileFile, 'utf8')), {
    projectRoot: PROJECT_ROOT,
    top: 15,
    inclusiveOf: PROFILED_STAGES,
    // The benchmark's own set-up and its peer: loading modules, generating the records, the naive consumer.
    exclude: (frame) =>
      frame.url.startsWith('node:internal/modules/') ||
      frame.url.includes('/node_modules/tsx/') ||
      frame.functionName === 'benchRecords' ||
      frame.functionName === 'kinesisEvent' ||
      frame.functionName === 'benchNaive',
  });
  return { ...summary, ...options };
}

async function consumerSection(
  quick: boolean,
  pinnedToCore: number | null,
): Promise<BenchResults['consumer']> {
  const options = {
    batchSizes: [100, 1000, 10_000],
    runs: quick ? 3 : 7,
    recordsPerRun: quick ? 10_000 : 20_000,
    analyticsRuns: quick ? 3 : 5,
    analyticsRecordsPerRun: quick ? 5_000 : 10_000,
    // 3 tenants × 6,667 users: 20,000 users on the shard, all of them in the state before the runs.
    largeState: { usersPerTenant: 6667, warmUpRecords: quick ? 20_000 : 60_000 },
  };
  progress(
    `consumer core, its naive peer and DuckDB: batches of ${options.batchSizes.join(', ')}, ${options.runs} runs each`,
  );
  const { consumer, consumerWithAnalytics, consumerLargeState, duckdb } = (await runNodeChild(
    ['cpu', JSON.stringify(options)],
    pinnedToCore,
  )) as {
    consumer: ConsumerBatchResult[];
    consumerWithAnalytics: ConsumerBatchResult[];
    consumerLargeState: ConsumerBatchResult[];
    duckdb: DuckDbBatchResult[];
  };
  const profile = await profileConsumer(
    { batchSize: 10_000, batches: quick ? 3 : 6, analytics: false },
    pinnedToCore,
  );
  const analyticsProfile = await profileConsumer(
    { batchSize: 100, batches: quick ? 30 : 100, analytics: true },
    pinnedToCore,
  );
  const bytes = consumer.reduce((sum, batch) => sum + batch.recordBytes * batch.batchSize, 0);
  const records = consumer.reduce((sum, batch) => sum + batch.batchSize, 0);
  return {
    recordBytes: bytes / records,
    invalidRatio: 0.02,
    records: `Records: the producer's generator (seeded), 2% invalid (malformed JSON, missing field, wrong type, unknown event type), valid events widened to about 500 bytes (longer ids, tracking URLs; bench/lib/records.ts), ${Math.round(bytes / records)} bytes on average.`,
    batches: consumer,
    withAnalytics: consumerWithAnalytics,
    withAnalyticsLargeState: consumerLargeState,
    duckdb,
    ratios: consumer.map((batch, index) => ({
      batchSize: batch.batchSize,
      ratio: batch.recordsPerSecond.median / (duckdb[index]?.rowsPerSecond.median ?? Number.NaN),
    })),
    ...(profile ? { profile } : {}),
    ...(analyticsProfile ? { analyticsProfile } : {}),
  };
}

function e2eRates(quick: boolean): E2eRate[] {
  if (quick)
    return [
      { label: '2K/S', ratePerSecond: 2000, events: 6000 },
      { label: 'MAX', ratePerSecond: undefined, events: 20_000, producers: 4 },
      { label: '2K/S L', ratePerSecond: 2000, events: 6000, analytics: false },
    ];
  return [
    { label: '1K/S', ratePerSecond: 1000, events: 15_000 },
    { label: '2K/S', ratePerSecond: 2000, events: 30_000 },
    { label: '5K/S', ratePerSecond: 5000, events: 40_000, producers: 2 },
    { label: '20K/S', ratePerSecond: 20_000, events: 60_000, producers: 4 },
    { label: 'MAX', ratePerSecond: undefined, events: 60_000, producers: 4 },
    // The same consumer with SHARDLINE_ANALYTICS=off: the lake path alone, as the issue's targets assume.
    { label: '2K/S L', ratePerSecond: 2000, events: 30_000, analytics: false },
    { label: 'MAX L', ratePerSecond: undefined, events: 60_000, producers: 4, analytics: false },
  ];
}

const e2eMethod = (rates: readonly E2eRate[]) =>
  'Each rate runs on a fresh `startLocalPipeline` (the synthesized stack: kinesalite, dynalite, s3rver, fauxqs, the consumer bundle in its own process behind the local event source mapping: 2 shards, batches of up to 1,000, 1 s batching window), fed by the producer (`produce()` in this process, its own ~300-byte events, 2% invalid) at a fixed rate; one `produce()` has one PutRecords call in flight, so 5K/S runs 2 side by side and 20K/S and MAX 4, each with its share of the events and the rate. ' +
  `Events per rate, fewer than 100,000 to keep the whole run near 5 minutes: ${rates.map((rate) => `${rate.label} ${rate.events.toLocaleString('en-US')}`).join(', ')}. ` +
  "Each run first puts 300 warm-up events and waits for their commit (so that both shards' execution environments have started), then measures; warm-up records are left out. " +
  'Rates marked L run the same bundle with `SHARDLINE_ANALYTICS=off` set in a copy of the template (the lake path alone); the others run the consumer as deployed, analytics on. ' +
  'Latency runs from each record\'s ApproximateArrivalTimestamp to the `committedAt` the consumer wrote on the checkpoint when it committed the batch holding the record (the moment its S3 objects count), polled every 20 ms; arrival times and sequence numbers are read back from the Parquet objects with DuckDB, so the 2% invalid records (DLQ) are not in the latency figures. "To start" is `processed_at`, the start of the invocation. ' +
  'Sustained is events over first arrival to last commit. CPU is user+system time from /proc/<pid>/stat for the four emulators and the consumer\'s processes, and process.cpuUsage() for this process (producer, event source mapping, poller); "machine busy" is the CPU used over what 2 cores give in the same time.';

async function readPrevious(): Promise<Partial<BenchResults>> {
  const file = join(RESULTS_DIR, 'latest.json');
  if (!existsSync(file)) return {};
  try {
    return JSON.parse(await readFile(file, 'utf8')) as Partial<BenchResults>;
  } catch {
    return {};
  }
}

function gitCommit(): string {
  // Set when the bench runs in an exported tree (git archive) rather than a clone.
  if (process.env.SHARDLINE_BENCH_COMMIT) return process.env.SHARDLINE_BENCH_COMMIT;
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], { cwd: PROJECT_ROOT, encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

async function main() {
  const { only, quick, renderOnly } = parseArgs(process.argv.slice(2));
  if (renderOnly) {
    const saved = await readPrevious();
    if (!saved.machine)
      throw new UsageError(`--render needs a ${join(RESULTS_DIR, 'latest.json')} from a run`);
    await writeResults(saved as BenchResults);
    return;
  }
  // Node 20 is what this machine has; the SDK's notice about its future Node 22 floor is noise here.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const pinnedToCore = hasTaskset() ? availableParallelism() - 1 : null;
  const previous = only.length < SECTIONS.length ? await readPrevious() : {};
  const results: BenchResults = {
    ...previous,
    generatedAt: new Date().toISOString(),
    gitCommit: gitCommit(),
    command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
    machine: machineInfo(pinnedToCore),
    sectionSeconds: { ...previous.sectionSeconds },
  };
  const timed = async <T>(name: Section, work: () => Promise<T>) => {
    const started = performance.now();
    const value = await work();
    results.sectionSeconds[name] = (performance.now() - started) / 1000;
    return value;
  };

  let cdkOutDir: string | undefined;
  const workDir = await mkdtemp(join(tmpdir(), 'shardline-bench-'));
  try {
    if (only.includes('consumer'))
      results.consumer = await timed('consumer', () => consumerSection(quick, pinnedToCore));
    if (only.includes('e2e')) {
      cdkOutDir = join(workDir, 'cdk.out');
      progress('end to end: synthesizing the stack, then one fresh pipeline per offered rate');
      const rates = e2eRates(quick);
      results.e2e = await timed('e2e', async () => ({
        method: e2eMethod(rates),
        recordBytes: 300,
        ...(await runE2eBench({ rates, cdkOutDir: cdkOutDir as string, synth: true, log: progress })),
      }));
    }
    if (only.includes('packaging')) {
      results.packaging = await timed('packaging', async () => {
        if (!cdkOutDir) {
          cdkOutDir = join(workDir, 'cdk.out');
          progress('packaging: synthesizing the stack with its bundles');
          await synthesize(STAGE, cdkOutDir);
        }
        progress('packaging: zipping the assets and timing the consumer init');
        return runPackagingBench({ cdkOutDir, stackName: `Shardline-${STAGE}`, initRuns: quick ? 3 : 9 });
      });
    }
    if (only.includes('memory')) {
      progress('memory: peak RSS of single batches in fresh processes');
      results.memory = await timed('memory', () => runMemoryBench({ lambdaMemoryMb: 512 }));
    }
    if (only.includes('cost')) {
      progress('cost: the consumer on batches of each scenario, its requests counted and priced');
      results.cost = await timed('cost', () =>
        runCostModel({ quick, batchSize: STAGE_PROFILES.production.batchSize, log: progress }),
      );
    }
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
  results.machine.loadAverageAtEnd = loadavg();

  await writeResults(results);
}

/** Writes latest.json, latest.md, README-section.md and chart.svg, and prints the Markdown and the JSON. */
async function writeResults(results: BenchResults) {
  await mkdir(RESULTS_DIR, { recursive: true });
  if (results.consumer || results.e2e) {
    const m = results.machine;
    const chart = renderChart({
      title: `Shardline benchmark: ${m.cores} cores, ${m.cpuModel.slice(0, 24)}, Node ${m.nodeVersion}. L = analytics off`,
      throughput: (results.consumer?.batches ?? []).map((batch, index) => ({
        batchSize: batch.batchSize,
        shardline: batch.recordsPerSecond,
        ...(results.consumer?.withAnalytics?.[index]
          ? { withAnalytics: results.consumer.withAnalytics[index].recordsPerSecond }
          : {}),
        ...(results.consumer?.duckdb[index] ? { duckdb: results.consumer.duckdb[index].rowsPerSecond } : {}),
      })),
      latency: (results.e2e?.results ?? []).map((result) => ({
        label: result.label,
        p50Ms: result.latencyToCommitMs.p50,
        p95Ms: result.latencyToCommitMs.p95,
        p99Ms: result.latencyToCommitMs.p99,
        sustainedPerSecond: result.sustainedEventsPerSecond,
        group: result.analytics === false ? 'lake only' : 'as deployed',
      })),
      latencyTargetMs: 2000,
    });
    await writeFile(join(RESULTS_DIR, 'chart.svg'), chart);
  }
  const markdown = renderMarkdown(results);
  const json = `${JSON.stringify(results, null, 2)}\n`;
  await writeFile(join(RESULTS_DIR, 'latest.json'), json);
  await writeFile(join(RESULTS_DIR, 'latest.md'), markdown);
  await writeFile(join(RESULTS_DIR, 'README-section.md'), renderReadmeSection(results));
  process.stdout.write(`${markdown}\n${json}`);
  progress(`wrote ${join(RESULTS_DIR, 'latest.json')}, latest.md, README-section.md and chart.svg`);
}

main().catch((error: unknown) => {
  if (error instanceof UsageError) {
    process.stderr.write(`bench: ${error.message}\n`);
    process.exitCode = 2;
    return;
  }
  process.stderr.write(`bench: ${(error as Error).stack ?? error}\n`);
  process.exitCode = 1;
});
