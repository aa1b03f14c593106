/**
 * The soak: a steady stream of events through the real local pipeline for a long time, sampling memory
 * (RSS of the pipeline process, the consumer's execution environments and each emulator) and lag (the
 * event source mapping's iterator age and records behind), then `shardline verify` over everything.
 *
 *   npm run soak                                   # 1,000,000 events at 1,500 events/s
 *   npm run soak -- --events 200000 --rate 2000    # shorter
 *   npm run soak -- --faults [--events 5000]       # the fault-injection suite at a larger scale
 *
 * Options: --events N, --rate N (events/s), --chunk N (events per producer invocation), --sample-ms N,
 * --out FILE (JSON results, default .shardline/soak/results.json), --keep (keep the data directory).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { Service } from '../../local/emulators';
import { lossAndDuplicates, type PipelineHarness, startHarness } from './harness';

const PROJECT_ROOT = resolve(import.meta.dirname, '..', '..');

interface Sample {
  atMs: number;
  committed: number;
  /** Records offered to the stream so far, from the pacing (the producer reports only when a chunk ends). */
  produced: number;
  iteratorAgeMs: number;
  millisBehindLatest: number;
  bufferedRecords: number;
  invocations: number;
  errors: number;
  rssMb: { pipeline: number; consumer: number } & Record<Service, number>;
}

export class SoakFailedError extends Error {
  constructor(detail: string) {
    super(`soak failed: ${detail}`);
    this.name = 'SoakFailedError';
  }
}

/** Resident set size of a process in MiB, from /proc (Linux); 0 if it is gone. */
function rssMb(pid: number): number {
  try {
    const line = readFileSync(`/proc/${pid}/status`, 'utf8')
      .split('\n')
      .find((l) => l.startsWith('VmRSS:'));
    return line ? Math.round(Number(line.split(/\s+/)[1]) / 1024) : 0;
  } catch {
    return 0;
  }
}

function sample(harness: PipelineHarness, startedAt: number, committed: number, produced: number): Sample {
  const stats = harness.pipeline.mapping.stats();
  const emulatorPids = harness.pipeline.emulators.pids;
  return {
    atMs: Date.now() - startedAt,
    committed,
    produced,
    iteratorAgeMs: Math.max(0, ...stats.shards.map((s) => s.iteratorAgeMs)),
    millisBehindLatest: Math.max(0, ...stats.shards.map((s) => s.millisBehindLatest)),
    bufferedRecords: stats.shards.reduce((sum, s) => sum + s.bufferedRecords, 0),
    invocations: stats.shards.reduce((sum, s) => sum + s.invocations, 0),
    errors: stats.shards.reduce((sum, s) => sum + s.errors, 0),
    rssMb: {
      pipeline: rssMb(process.pid),
      consumer: harness.pipeline.consumerHost.pids.reduce((sum, pid) => sum + rssMb(pid), 0),
      kinesis: rssMb(emulatorPids.kinesis),
      dynamodb: rssMb(emulatorPids.dynamodb),
      s3: rssMb(emulatorPids.s3),
      sqs: rssMb(emulatorPids.sqs),
    },
  };
}

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
};

/** Memory per process: first sample after warm-up, peak, last, and the peak of each half of the run. */
function memorySummary(samples: Sample[]) {
  const warm = samples.slice(Math.min(3, samples.length - 1));
  const half = Math.floor(warm.length / 2);
  const keys = Object.keys(warm[0]?.rssMb ?? {}) as Array<keyof Sample['rssMb']>;
  return Object.fromEntries(
    keys.map((key) => {
      const series = warm.map((s) => s.rssMb[key]);
      return [
        key,
        {
          afterWarmUp: series[0] ?? 0,
          peak: Math.max(...series),
          last: series[series.length - 1] ?? 0,
          peakFirstHalf: Math.max(...series.slice(0, half)),
          peakSecondHalf: Math.max(...series.slice(half)),
        },
      ];
    }),
  );
}

async function soak(options: {
  events: number;
  rate: number;
  chunk: number;
  sampleMs: number;
  out: string;
  keep: boolean;
}) {
  const startedAt = Date.now();
  const log = (text: string) =>
    console.log(`[soak ${((Date.now() - startedAt) / 1000).toFixed(0)} s] ${text}`);
  log(`starting the local pipeline (${options.events} events at ${options.rate}/s)`);
  const harness = await startHarness({ stage: 'soak', keepLogLines: false });
  log(`ready in ${Date.now() - startedAt} ms, data in ${harness.dataDir}`);
  const samples: Sample[] = [];
  let produced = 0;
  let committed = 0;
  let chunk = { startedAt: 0, size: 0 };
  const offered = () =>
    produced + Math.min(chunk.size, Math.floor(((Date.now() - chunk.startedAt) / 1000) * options.rate));
  const sampler = setInterval(async () => {
    committed = await harness.committedRecords().catch(() => committed);
    const s = sample(harness, startedAt, committed, offered());
    samples.push(s);
    if (samples.length % Math.max(1, Math.round(30_000 / options.sampleMs)) === 0) {
      log(
        `produced ${s.produced}, committed ${s.committed}, iterator age ${s.iteratorAgeMs} ms, ` +
          `RSS MiB ${JSON.stringify(s.rssMb)}`,
      );
    }
  }, options.sampleMs);

  const produceStarted = Date.now();
  try {
    for (let seed = 1; produced < options.events; seed++) {
      const count = Math.min(options.chunk, options.events - produced);
      chunk = { startedAt: Date.now(), size: count };
      const put = await harness.produce({ count, seed, invalidRatio: 0.02, ratePerSecond: options.rate });
      if (put.failed > 0 || put.sent !== count)
        throw new SoakFailedError(`producer put ${put.sent}/${count}`);
      produced += count;
      chunk = { startedAt: Date.now(), size: 0 };
    }
    const producedMs = Date.now() - produceStarted;
    log(`produced ${produced} events in ${producedMs} ms (${Math.round(produced / (producedMs / 1000))}/s)`);
    const drainMs = await harness.waitForCommitted(produced, 30 * 60_000);
    const processedMs = Date.now() - produceStarted;
    clearInterval(sampler);
    samples.push(sample(harness, startedAt, await harness.committedRecords(), produced));
    log(`every record committed ${drainMs} ms after the last put; verifying …`);
    const verifyStarted = Date.now();
    const report = await harness.verify();
    const verifyMs = Date.now() - verifyStarted;
    const problems = lossAndDuplicates(report);
    const steady = samples.filter(
      (s) => s.atMs >= produceStarted - startedAt && s.atMs <= producedMs + (produceStarted - startedAt),
    );
    const results = {
      command: process.argv.slice(2).join(' '),
      events: produced,
      targetRatePerSecond: options.rate,
      producedMs,
      achievedPutRatePerSecond: Math.round(produced / (producedMs / 1000)),
      processedMs,
      endToEndRatePerSecond: Math.round(produced / (processedMs / 1000)),
      drainAfterLastPutMs: drainMs,
      lag: {
        iteratorAgeMsP50: percentile(
          steady.map((s) => s.iteratorAgeMs),
          50,
        ),
        iteratorAgeMsP95: percentile(
          steady.map((s) => s.iteratorAgeMs),
          95,
        ),
        iteratorAgeMsMax: Math.max(0, ...steady.map((s) => s.iteratorAgeMs)),
        recordsBehindMax: Math.max(0, ...steady.map((s) => s.produced - s.committed)),
      },
      consumerErrors: samples[samples.length - 1]?.errors ?? 0,
      invocations: samples[samples.length - 1]?.invocations ?? 0,
      memoryMb: memorySummary(samples),
      verify: {
        ok: report.ok,
        streamRecords: report.streamRecords,
        valid: report.valid,
        invalid: report.invalid,
        problems,
        dlqDuplicateCopies: report.dlqDuplicateCopies,
        ms: verifyMs,
      },
      loadAverage: readFileSync('/proc/loadavg', 'utf8').trim(),
      samples,
    };
    mkdirSync(dirname(options.out), { recursive: true });
    writeFileSync(options.out, JSON.stringify(results, null, 2));
    const { samples: _, ...summary } = results;
    console.log(JSON.stringify(summary, null, 2));
    log(`results in ${options.out}`);
    if (!report.ok || problems.length > 0 || report.streamRecords !== produced) {
      throw new SoakFailedError(
        `verify: ${problems.join('; ') || `${report.streamRecords}/${produced} records`}`,
      );
    }
  } finally {
    clearInterval(sampler);
    await harness.stop({ keep: options.keep });
  }
}

function faults(events: number) {
  const report = resolve(PROJECT_ROOT, '.shardline', 'soak', `faults-${events}.json`);
  mkdirSync(dirname(report), { recursive: true });
  const run = spawnSync('npx', ['vitest', 'run', 'test/integration/faults.test.ts'], {
    cwd: PROJECT_ROOT,
    stdio: 'inherit',
    env: { ...process.env, SHARDLINE_FAULT_EVENTS: String(events), SHARDLINE_FAULT_REPORT: report },
  });
  console.log(`fault figures in ${report}`);
  process.exitCode = run.status ?? 1;
}

const { values } = parseArgs({
  options: {
    events: { type: 'string' },
    rate: { type: 'string', default: '1500' },
    chunk: { type: 'string', default: '100000' },
    'sample-ms': { type: 'string', default: '5000' },
    out: { type: 'string', default: join(PROJECT_ROOT, '.shardline', 'soak', 'results.json') },
    keep: { type: 'boolean', default: false },
    faults: { type: 'boolean', default: false },
  },
});

if (values.faults) {
  faults(Number(values.events ?? 5_000));
} else {
  await soak({
    events: Number(values.events ?? 1_000_000),
    rate: Number(values.rate),
    chunk: Number(values.chunk),
    sampleMs: Number(values['sample-ms']),
    out: resolve(values.out),
    keep: values.keep,
  });
}
