import type { ConsumerBatchResult } from './consumer';
import type { CostResults } from './costModel';
import { renderCostSummary, renderCostTables } from './costReport';
import type { DuckDbBatchResult } from './duckdb';
import type { E2eResult } from './e2e';
import type { ProfileSummary } from './lib/cpuProfile';
import type { Spread } from './lib/stats';
import type { MemoryResult } from './memory';
import type { PackagingResult } from './packaging';

/** The results file (bench/results/latest.json) and its Markdown rendering (latest.md). */

export interface MachineInfo {
  cpuModel: string;
  cores: number;
  nodeVersion: string;
  totalMemoryGb: number;
  platform: string;
  loadAverageAtStart: number[];
  loadAverageAtEnd: number[];
  /** The core the consumer and DuckDB benchmarks were pinned to with taskset, if any. */
  pinnedToCore: number | null;
}

/** A CPU profile of the consumer, summarised, and what it ran. */
export type ConsumerProfile = ProfileSummary & { batchSize: number; batches: number; analytics: boolean };

export interface BenchResults {
  generatedAt: string;
  gitCommit: string;
  command: string;
  machine: MachineInfo;
  sectionSeconds: Record<string, number>;
  consumer?: {
    recordBytes: number;
    invalidRatio: number;
    records: string;
    /** The lake path only (analytics off): what the issue's ratio target is about. */
    batches: ConsumerBatchResult[];
    /** As deployed: the handler turns the stream analytics on by default. */
    withAnalytics?: ConsumerBatchResult[];
    /** With analytics, 20,000 users on the shard (batches of 100). */
    withAnalyticsLargeState?: ConsumerBatchResult[];
    duckdb: DuckDbBatchResult[];
    ratios: Array<{ batchSize: number; ratio: number }>;
    /** The core (analytics off) at its largest batches. */
    profile?: ConsumerProfile;
    /** Analytics on, batches of 100. */
    analyticsProfile?: ConsumerProfile;
  };
  e2e?: {
    method: string;
    recordBytes: number;
    results: E2eResult[];
    /** Rates whose run did not complete, with why. */
    failures?: Array<{ label: string; error: string }>;
  };
  packaging?: PackagingResult;
  memory?: MemoryResult;
  cost?: CostResults;
}

const int = (value: number) => Math.round(value).toLocaleString('en-US');
const fixed = (value: number, digits = 1) => value.toFixed(digits);
const mb = (bytes: number) => `${(bytes / 1e6).toFixed(2)} MB`;
const pct = (share: number) => `${(share * 100).toFixed(0)}%`;
const spreadText = (value: Spread, format: (v: number) => string = int) =>
  `${format(value.median)} (${format(value.min)}–${format(value.max)})`;

function table(header: string[], rows: string[][], align?: Array<'l' | 'r'>): string {
  const separator = header.map((_, index) => ((align?.[index] ?? 'r') === 'l' ? ':--' : '--:'));
  return [header, separator, ...rows].map((row) => `| ${row.join(' | ')} |`).join('\n');
}

export interface TargetCheck {
  target: string;
  measured: string;
  met: boolean | null;
}

/**
 * Each target of issue 8 against what this run measured (null when the section did not run).
 *
 * @example
 * ```ts
 * targetChecks(results).filter((check) => check.met === false);
 * ```
 */
export function targetChecks(results: BenchResults): TargetCheck[] {
  const checks: TargetCheck[] = [];
  const consumer = results.consumer;
  const ratio = consumer?.ratios.at(-1);
  checks.push({
    target: 'Consumer core ≥ 0.25× DuckDB at batches of 10,000 (records/s, one core)',
    measured: ratio ? `${fixed(ratio.ratio, 2)}× at ${int(ratio.batchSize)} records per batch` : 'not run',
    met: ratio ? ratio.ratio >= 0.25 : null,
  });
  const core = (size: number) => consumer?.batches.find((b) => b.batchSize === size);
  const [at1k, at10k] = [core(1000), core(10_000)];
  checks.push({
    target: 'Core records/s no lower at 10,000 than at 1,000 per batch',
    measured:
      at1k && at10k
        ? `${int(at10k.recordsPerSecond.median)} vs ${int(at1k.recordsPerSecond.median)} (CPU time: ${int(at10k.cpuRecordsPerSecond.median)} vs ${int(at1k.cpuRecordsPerSecond.median)})`
        : 'not run',
    met: at1k && at10k ? at10k.recordsPerSecond.median >= at1k.recordsPerSecond.median : null,
  });
  for (const [label, list] of [
    ["the demo's state", consumer?.withAnalytics],
    ['20,000 users per shard', consumer?.withAnalyticsLargeState],
  ] as const) {
    const at100 = list?.find((b) => b.batchSize === 100);
    checks.push({
      target: `Analytics on, batches of 100, ${label}: ≥ 8,500 records/s`,
      measured: at100
        ? `${int(at100.recordsPerSecond.median)} records/s (${int(at100.cpuRecordsPerSecond.median)} per CPU-second)`
        : 'not run',
      met: at100 ? at100.recordsPerSecond.median >= 8500 : null,
    });
  }
  const cost = results.cost;
  const production = (rate: number) =>
    cost?.scenarios.find((s) => s.eventsPerSecond === rate && s.batchingWindowSeconds === 60 && s.analytics);
  const costRatios = [20, 200, 2000].map((rate) => {
    const s = production(rate);
    return s ? s.shardline.totalUsd / s.firehose.totalUsd : Number.NaN;
  });
  checks.push({
    target: 'Production profile, analytics on: ≤ 0.1× Firehose at 200 and 2,000 events/s, ≤ 1× at 20',
    measured: cost
      ? costRatios.map((r, i) => `${fixed(r, 3)}× at ${int([20, 200, 2000][i] ?? 0)}/s`).join(', ')
      : 'not run',
    met: cost
      ? (costRatios[0] ?? 2) <= 1 && (costRatios[1] ?? 1) <= 0.1 && (costRatios[2] ?? 1) <= 0.1
      : null,
  });
  const e2e = results.e2e?.results ?? [];
  const best = e2e.reduce<E2eResult | undefined>(
    (top, result) => (!top || result.sustainedEventsPerSecond > top.sustainedEventsPerSecond ? result : top),
    undefined,
  );
  checks.push({
    target: '≥ 10,000 events/s sustained end to end on 2 cores, emulators included',
    measured: best ? `${int(best.sustainedEventsPerSecond)} events/s (offered ${best.label})` : 'not run',
    met: best ? best.sustainedEventsPerSecond >= 10_000 : null,
  });
  const at2k = e2e.find((result) => result.offeredRatePerSecond === 2000 && result.analytics !== false);
  const at2kLake = e2e.find((result) => result.offeredRatePerSecond === 2000 && result.analytics === false);
  const p99 = (result: E2eResult) => `${fixed(result.latencyToCommitMs.p99 / 1000, 2)} s`;
  checks.push({
    target: 'p99 ≤ 2 s at 2,000 events/s offered',
    measured: at2k
      ? `p99 ${p99(at2k)} as deployed (analytics on)${at2kLake ? `; ${p99(at2kLake)} with analytics off` : ''}`
      : 'not run',
    met: at2k ? at2k.latencyToCommitMs.p99 <= 2000 : null,
  });
  const consumerBundle = results.packaging?.bundles.find((bundle) => /consumer/.test(bundle.functionName));
  checks.push({
    target: 'Consumer bundle ≤ 3 MB zipped',
    measured: consumerBundle
      ? `${mb(consumerBundle.zippedBytes)} (${(consumerBundle.zippedBytes / 2 ** 20).toFixed(2)} MiB); ${mb(consumerBundle.zippedBytesWithoutSourceMap)} without the source map`
      : 'not run',
    met: consumerBundle ? consumerBundle.zippedBytes <= 3_000_000 : null,
  });
  const init = results.packaging?.init[0];
  checks.push({
    target: 'Consumer init (module load incl. wasm) ≤ 250 ms',
    measured: init
      ? `${fixed(init.requireMs.median, 0)} ms median (NODE_OPTIONS="${init.nodeOptions}")`
      : 'not run',
    met: init ? init.requireMs.median <= 250 : null,
  });
  const cap = results.memory?.cases.filter((entry) => entry.name.startsWith('6 MB')) ?? [];
  const bundleRss = init?.rssAfterLoadMb.median;
  if (cap.length > 0) {
    const worst = Math.max(...cap.map((entry) => (bundleRss ?? entry.rssLoadedMb) + entry.batchRssMb));
    checks.push({
      target: 'A 6 MB batch fits comfortably in a 512 MB Lambda',
      measured: `≈ ${int(worst)} MB peak (bundle after load + what the batch adds)`,
      met: worst <= 512 * 0.6,
    });
  } else {
    checks.push({
      target: 'A 6 MB batch fits comfortably in a 512 MB Lambda',
      measured: 'not run',
      met: null,
    });
  }
  return checks;
}

const targetsTable = (results: BenchResults) =>
  table(
    ['target', 'measured', 'met'],
    targetChecks(results).map((check) => [
      check.target,
      check.measured,
      check.met === null ? '–' : check.met ? 'yes' : '**no**',
    ]),
    ['l', 'l', 'l'],
  );

/**
 * Renders the results as Markdown: the targets first, then one section per benchmark.
 *
 * @example
 * ```ts
 * writeFileSync('bench/results/latest.md', renderMarkdown(results));
 * ```
 */
export function renderMarkdown(results: BenchResults): string {
  const out: string[] = [];
  const m = results.machine;
  out.push('# Shardline benchmarks');
  out.push('');
  out.push(
    `Run ${results.generatedAt} at ${results.gitCommit.slice(0, 7)} with \`${results.command}\`. Machine: ${m.cores} cores, ${m.cpuModel}, ${m.totalMemoryGb} GB, Node ${m.nodeVersion}, ${m.platform}; load average ${m.loadAverageAtStart.map((v) => v.toFixed(2)).join(' ')} at the start and ${m.loadAverageAtEnd.map((v) => v.toFixed(2)).join(' ')} at the end (other work on the machine shows up as noise). Figures are medians of several runs with (min–max).`,
  );
  out.push('');
  out.push('## Targets');
  out.push('');
  out.push(targetsTable(results));
  out.push('');
  out.push('![throughput by batch size and latency by offered load](chart.svg)');

  const consumer = results.consumer;
  if (consumer) {
    out.push('');
    out.push('## Consumer core against DuckDB');
    out.push('');
    out.push(
      `${consumer.records} The consumer is the real \`processKinesisEvent\` with in-memory S3, SQS and DynamoDB (conditions evaluated); DuckDB (threads=1) converts the same records as NDJSON to one Snappy Parquet file per batch with an explicit schema (envelope columns plus the payload as JSON) and \`ignore_errors\`, which keeps the 2% it cannot parse as rows of NULLs. Both in one process${m.pinnedToCore === null ? '' : ` pinned to core ${m.pinnedToCore} (taskset)`}.`,
    );
    out.push('');
    out.push(
      table(
        [
          'records per batch',
          'Shardline records/s',
          'MB/s',
          'ms per batch',
          'with analytics records/s',
          'DuckDB rows/s',
          'Shardline / DuckDB',
        ],
        consumer.batches.map((batch, index) => {
          const duck = consumer.duckdb[index];
          const analytics = consumer.withAnalytics?.[index];
          return [
            int(batch.batchSize),
            spreadText(batch.recordsPerSecond),
            spreadText(batch.megabytesPerSecond, (v) => fixed(v)),
            spreadText(batch.msPerBatch, (v) => fixed(v, 1)),
            analytics ? spreadText(analytics.recordsPerSecond) : '–',
            duck ? spreadText(duck.rowsPerSecond) : '–',
            `${fixed(consumer.ratios[index]?.ratio ?? Number.NaN, 2)}×`,
          ];
        }),
      ),
    );
    out.push('');
    const perBatchText = (list: readonly ConsumerBatchResult[]) =>
      list
        .map(
          (b) =>
            `${int(b.batchSize)} records → ${fixed(b.perBatch.s3Puts)} S3 PUTs, ${fixed(b.perBatch.dynamoWrites)} DynamoDB writes (${fixed(b.perBatch.writeRequestUnits)} WRU), ${fixed(b.perBatch.readRequestUnits)} RRU, ${fixed(b.perBatch.sqsRequests)} SQS requests, ${mb(b.perBatch.s3BytesPut)} written`,
        )
        .join('; ');
    out.push(
      `"With analytics" is the consumer as the handler runs it by default (windows, sessions, alerts; the state one snapshot object per commit). Each run is ${consumer.batches.map((b) => `${b.batchesPerRun} × ${int(b.batchSize)}`).join(', ')} consecutive batches (with analytics ${(consumer.withAnalytics ?? []).map((b) => `${b.batchesPerRun} × ${int(b.batchSize)}`).join(', ')}, ${consumer.withAnalytics?.[0]?.recordsPerSecond.runs ?? 0} runs) whose event time advances at 2,000 events/s; the checkpoint and the analytics state carry from batch to batch. Per batch, lake only: ${perBatchText(consumer.batches)}.` +
        (consumer.withAnalytics ? ` With analytics: ${perBatchText(consumer.withAnalytics)}.` : ''),
    );
    for (const profile of [consumer.profile, consumer.analyticsProfile]) {
      if (!profile) continue;
      out.push('');
      out.push(
        `### Where the consumer's time goes (\`node --cpu-prof\`, ${profile.batches} batches of ${int(profile.batchSize)}, analytics ${profile.analytics ? 'on' : 'off'})`,
      );
      out.push('');
      out.push(
        `${fixed(profile.busyMs, 0)} ms of CPU profiled after leaving out ${fixed(profile.excludedMs, 0)} ms of set-up (module loading, generating the records); garbage collection ${pct(profile.garbageCollectorMs / profile.busyMs)}. Inclusive shares are by function name: a function V8 inlined into its caller has no frame of its own and shows less than it costs (a small wrapper can show 0%); the self-time tables do not have that problem.`,
      );
      out.push('');
      out.push(
        table(
          ['stage (inclusive)', 'share'],
          profile.inclusive.map((entry) => [`\`${entry.functionName}\``, pct(entry.share)]),
          ['l', 'r'],
        ),
      );
      out.push('');
      out.push(
        table(
          ['top functions (self time)', 'where', 'share'],
          profile.topSelf
            .slice(0, 12)
            .map((entry) => [`\`${entry.functionName.slice(0, 60)}\``, entry.location, pct(entry.selfShare)]),
          ['l', 'l', 'r'],
        ),
      );
      out.push('');
      out.push(
        table(
          ['by area (self time)', 'share'],
          profile.byArea.filter((area) => area.share >= 0.01).map((area) => [area.area, pct(area.share)]),
          ['l', 'r'],
        ),
      );
    }
  }

  const e2e = results.e2e;
  if (e2e) {
    out.push('');
    out.push('## End to end on the local emulators');
    out.push('');
    out.push(e2e.method);
    out.push('');
    out.push(
      table(
        [
          'offered',
          'events',
          'put at',
          'sustained',
          'p50',
          'p95',
          'p99',
          'to start p50',
          'batches (avg size)',
          'invocation ms',
          'CPU: emulators / consumer / bench',
          'machine busy',
        ],
        e2e.results.map((result) => [
          result.label,
          int(result.produced),
          `${int(result.achievedOfferedRate)}/s`,
          `${int(result.sustainedEventsPerSecond)}/s`,
          `${fixed(result.latencyToCommitMs.p50 / 1000, 2)} s`,
          `${fixed(result.latencyToCommitMs.p95 / 1000, 2)} s`,
          `${fixed(result.latencyToCommitMs.p99 / 1000, 2)} s`,
          `${fixed(result.latencyToProcessingStartMs.p50 / 1000, 2)} s`,
          `${result.invocations} (${int(result.averageBatchSize)})`,
          spreadText(result.warmInvocationMs),
          `${pct(result.cpu.emulatorShare)} / ${pct(result.cpu.consumerShare)} / ${pct(result.cpu.benchProcessShare)}`,
          pct(result.cpu.machineUtilisation),
        ]),
      ),
    );
    for (const failure of e2e.failures ?? [])
      out.push('', `**${failure.label} did not complete:** ${failure.error}`);
    out.push('');
    out.push(
      'Emulator CPU seconds per run (kinesis / dynamodb / s3 / sqs): ' +
        e2e.results
          .map(
            (r) =>
              `${r.label} ${fixed(r.cpu.emulators.kinesis)} / ${fixed(r.cpu.emulators.dynamodb)} / ${fixed(r.cpu.emulators.s3)} / ${fixed(r.cpu.emulators.sqs)} of ${fixed(r.cpu.total)} s total in ${fixed(r.cpu.wallSeconds)} s`,
          )
          .join('; ') +
        '. Commits observed by the poller: ' +
        e2e.results.map((r) => `${r.commitsObserved}/${r.commits}`).join(', ') +
        '.',
    );
  }

  const packaging = results.packaging;
  if (packaging) {
    out.push('');
    out.push('## Lambda packaging');
    out.push('');
    out.push(
      table(
        ['function', 'files', 'unzipped', 'zipped', 'zipped without .map'],
        packaging.bundles.map((bundle) => [
          bundle.functionName,
          bundle.files.map((file) => `${file.name} ${mb(file.bytes)} → ${mb(file.zippedBytes)}`).join('<br>'),
          mb(bundle.bytes),
          mb(bundle.zippedBytes),
          mb(bundle.zippedBytesWithoutSourceMap),
        ]),
        ['l', 'l', 'r', 'r', 'r'],
      ),
    );
    out.push('');
    out.push(
      table(
        ['consumer init', 'require(bundle) ms', 'process start → loaded ms', 'RSS after load MB'],
        packaging.init.map((init) => [
          `NODE_OPTIONS="${init.nodeOptions}"`,
          spreadText(init.requireMs),
          spreadText(init.processStartToLoadedMs),
          spreadText(init.rssAfterLoadMb),
        ]),
        ['l', 'r', 'r', 'r'],
      ),
    );
  }

  const memory = results.memory;
  if (memory) {
    out.push('');
    out.push('## Memory');
    out.push('');
    out.push(
      `Each case in a fresh Node process with \`--max-old-space-size=${memory.maxOldSpaceSizeMb}\` (what the function host gives a ${memory.lambdaMemoryMb} MB function); the event is read as JSON text and parsed, as the Lambda runtime does. "Loaded" includes tsx, which the bundle does not carry: the packaging section has the bundle's own RSS after load.`,
    );
    out.push('');
    out.push(
      table(
        ['batch', 'records', 'payload', 'RSS loaded', 'peak RSS', 'added by the batch'],
        memory.cases.map((entry) => [
          entry.name,
          int(entry.records),
          mb(entry.payloadBytes),
          `${int(entry.rssLoadedMb)} MB`,
          `${int(entry.peakRssMb)} MB`,
          `${int(entry.batchRssMb)} MB`,
        ]),
        ['l', 'r', 'r', 'r', 'r', 'r'],
      ),
    );
  }

  const cost = results.cost;
  if (cost) {
    out.push('');
    out.push('## Cost per million events');
    out.push('');
    out.push(renderCostTables(cost));
  }
  out.push('');
  out.push(
    `Section times: ${Object.entries(results.sectionSeconds)
      .map(([name, seconds]) => `${name} ${fixed(seconds, 0)} s`)
      .join(', ')}.`,
  );
  out.push('');
  return out.join('\n');
}

/**
 * The README's benchmark section: how to run, the machine, the targets, the chart and the headline
 * tables, pointing at bench/results/latest.md for the rest.
 *
 * @example
 * ```ts
 * writeFileSync('bench/results/README-section.md', renderReadmeSection(results));
 * ```
 */
export function renderReadmeSection(results: BenchResults): string {
  const m = results.machine;
  const out: string[] = [];
  out.push('## Benchmarks');
  out.push('');
  out.push(
    '`npm run bench` measures the consumer core against native DuckDB, the whole pipeline on the local emulators, the Lambda bundles, memory and the AWS cost per million events. It takes about 5 minutes on 2 cores and writes [`bench/results/latest.md`](bench/results/latest.md), `latest.json` and the chart below; `npm run bench -- --only consumer,cost` runs a part of it. Benchmarks never run in `npm test`.',
  );
  out.push('');
  out.push(
    `Last run: ${results.generatedAt.slice(0, 10)}, ${m.cores} cores (${m.cpuModel}), Node ${m.nodeVersion}, load average ${m.loadAverageAtStart[0]?.toFixed(1)} at the start. Medians with (min–max).`,
  );
  out.push('');
  out.push(targetsTable(results));
  out.push('');
  out.push(
    '![Consumer throughput by batch size, and end-to-end latency by offered load](bench/results/chart.svg)',
  );
  const consumer = results.consumer;
  if (consumer) {
    out.push('');
    out.push(
      table(
        [
          'records per batch',
          'Shardline records/s (1 core)',
          'MB/s',
          'with analytics',
          'DuckDB NDJSON → Parquet rows/s',
          'ratio',
        ],
        consumer.batches.map((batch, index) => [
          int(batch.batchSize),
          spreadText(batch.recordsPerSecond),
          fixed(batch.megabytesPerSecond.median),
          consumer.withAnalytics?.[index] ? spreadText(consumer.withAnalytics[index].recordsPerSecond) : '–',
          consumer.duckdb[index] ? spreadText(consumer.duckdb[index].rowsPerSecond) : '–',
          `${fixed(consumer.ratios[index]?.ratio ?? Number.NaN, 2)}×`,
        ]),
      ),
    );
    const profile = consumer.profile;
    if (profile) {
      const share = (name: string) =>
        profile.inclusive.find((entry) => entry.functionName === name)?.share ?? 0;
      out.push('');
      out.push(
        `Where the consumer's time goes (CPU profile, batches of ${int(profile.batchSize)}, analytics ${profile.analytics ? 'on' : 'off'}): decoding ${pct(share('decodeRecord'))} (of which zod validation ${pct(share('parseEvent'))}), Parquet ${pct(share('encodeParquet'))} (Arrow vectors ${pct(share('buildEventTable'))}, the wasm writer ${pct(share('writeParquet'))}), CSV ${pct(share('encodeCsv'))}, building rows ${pct(share('toRow'))}, the analytics code ${pct(profile.byArea.filter((area) => area.area.startsWith('lambdas/consumer/analytics/')).reduce((sum, area) => sum + area.share, 0))} of self time (plus its zlib), garbage collection ${pct(profile.garbageCollectorMs / profile.busyMs)}. DuckDB parses JSON and writes one format natively; Shardline validates every event, enriches it and writes two formats in JavaScript and WebAssembly.`,
      );
    }
  }
  const e2e = results.e2e;
  if (e2e) {
    out.push('');
    out.push(
      table(
        [
          'offered events/s',
          'sustained',
          'p50',
          'p95',
          'p99',
          'emulators / consumer / producer+ESM CPU',
          'machine busy',
        ],
        e2e.results.map((r) => [
          r.label,
          `${int(r.sustainedEventsPerSecond)}/s`,
          `${fixed(r.latencyToCommitMs.p50 / 1000, 2)} s`,
          `${fixed(r.latencyToCommitMs.p95 / 1000, 2)} s`,
          `${fixed(r.latencyToCommitMs.p99 / 1000, 2)} s`,
          `${pct(r.cpu.emulatorShare)} / ${pct(r.cpu.consumerShare)} / ${pct(r.cpu.benchProcessShare)}`,
          pct(r.cpu.machineUtilisation),
        ]),
      ),
    );
    out.push('');
    out.push(
      "Latency is from each record's ApproximateArrivalTimestamp to the checkpoint commit of its batch (when its S3 objects count). The local stack is the synthesized one: 2 shards, batches of up to 1,000, a 1 s batching window; rows marked L run it with `SHARDLINE_ANALYTICS=off`. In AWS two shards accept at most 2,000 records/s; the emulators do not enforce that limit.",
    );
  }
  const cost = results.cost;
  if (cost) {
    out.push('');
    out.push(renderCostSummary(cost));
  }
  out.push('');
  return out.join('\n');
}
