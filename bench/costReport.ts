import type { CostResults, CostScenario } from './costModel';
import type { CostBreakdown } from './lib/cost';

/** The cost section of bench/results/latest.md and docs/COST.md, and its one-table README summary. */

const int = (value: number) => Math.round(value).toLocaleString('en-US');
const usd = (value: number) => (value >= 0.1 ? `$${value.toFixed(2)}` : `$${value.toFixed(4)}`);
const ratio = (value: number) => (value >= 10 ? `${value.toFixed(0)}×` : `${value.toFixed(2)}×`);
const seconds = (value: number) => (value >= 10 ? `${value.toFixed(0)} s` : `${value.toFixed(1)} s`);

function table(header: string[], rows: string[][], align?: Array<'l' | 'r'>): string {
  const separator = header.map((_, index) => ((align?.[index] ?? 'r') === 'l' ? ':--' : '--:'));
  return [header, separator, ...rows].map((row) => `| ${row.join(' | ')} |`).join('\n');
}

/** The stage profiles as the cost model prices them (lib/shardline-stack.ts `STAGE_PROFILES`). */
export const PRICED_PROFILES = [
  { name: 'development', batchingWindowSeconds: 1 },
  { name: 'production', batchingWindowSeconds: 60 },
] as const;

const find = (cost: CostResults, rate: number, window: number, analytics: boolean) =>
  cost.scenarios.find(
    (s) => s.eventsPerSecond === rate && s.batchingWindowSeconds === window && s.analytics === analytics,
  ) as CostScenario;

const lineUsd = (breakdown: CostBreakdown, prefix: string) =>
  breakdown.lines.filter((line) => line.item.startsWith(prefix)).reduce((sum, line) => sum + line.usd, 0);

/**
 * The full cost tables: every rate and window, the requests per batch, the lines of the production
 * profile, the stream, prices and assumptions.
 *
 * @example
 * ```ts
 * writeFileSync('cost.md', renderCostTables(results.cost));
 * ```
 */
export function renderCostTables(cost: CostResults): string {
  const out: string[] = [];
  const rates = [...new Set(cost.scenarios.map((s) => s.eventsPerSecond))];
  const windows = [...new Set(cost.scenarios.map((s) => s.batchingWindowSeconds))];
  out.push(
    `Per million events of ${int(cost.recordBytes)} bytes, ${cost.stack.shards} shards, batch size ${int(cost.stack.batchSize)} (at most ${int(cost.stack.maxRecordsPerInvocation)} such records fit the 6 MB invocation payload), consumer at ${cost.stack.consumerMemoryMb} MB arm64. "Delay" is the longest a record waits for its batch to be invoked. Firehose converts to Parquet at a buffer interval of max(60 s, the window), 128 MB buffers; "+ DP" adds dynamic partitioning (event-time partitions, as Shardline writes). The stream is apart below: both need it.`,
  );
  out.push('');
  out.push(
    table(
      [
        'events/s',
        'window',
        'records a batch',
        'delay',
        'Shardline, analytics on',
        'analytics off',
        'Firehose Parquet',
        'Firehose + DP',
        'Shardline (on) / Firehose',
      ],
      rates.flatMap((rate) =>
        windows.map((window) => {
          const on = find(cost, rate, window, true);
          const off = find(cost, rate, window, false);
          return [
            int(rate),
            `${window} s`,
            int(on.recordsPerBatch),
            seconds(on.batchingDelaySeconds),
            usd(on.shardline.totalUsd),
            usd(off.shardline.totalUsd),
            usd(on.firehose.totalUsd),
            usd(on.firehosePartitioned.totalUsd),
            ratio(on.shardline.totalUsd / on.firehose.totalUsd),
          ];
        }),
      ),
    ),
  );
  out.push('');
  out.push('### The stream (both options)');
  out.push('');
  out.push(
    table(
      ['events/s', ...(cost.stream[0]?.cost.lines.map((line) => line.item) ?? []), 'total'],
      cost.stream.map((s) => [
        int(s.eventsPerSecond),
        ...s.cost.lines.map((line) => usd(line.usd)),
        usd(s.cost.totalUsd),
      ]),
    ),
  );
  out.push('');
  out.push('### Requests per batch (counted)');
  out.push('');
  out.push(
    "The real consumer against the metered fake, after a warm-up batch; the median batch's CPU time on this machine, and the billed duration the model derives from it. K is the number of final objects (Parquet and CSV per partition, analytics datasets): S3 PUTs are K + 3 with analytics (bundle, snapshot, commit record) and K + 2 without. DynamoDB: one strongly consistent GetItem, the commit and the clear; the old snapshot's DELETE is free.",
  );
  out.push('');
  out.push(
    table(
      [
        'records',
        'analytics',
        'S3 PUT',
        'K',
        'S3 GET + LIST',
        'WRU',
        'RRU',
        'SQS',
        'snapshot',
        'CPU ms',
        'billed ms',
      ],
      [...cost.measured]
        .sort((a, b) => a.records - b.records || Number(b.analytics) - Number(a.analytics))
        .map((m) => [
          int(m.records),
          m.analytics ? 'on' : 'off',
          m.perBatch.s3Puts.toFixed(2),
          (m.perBatch.s3Puts - (m.analytics ? 3 : 2)).toFixed(2),
          (m.perBatch.s3Gets + m.perBatch.s3Lists).toFixed(2),
          m.perBatch.writeRequestUnits.toFixed(2),
          m.perBatch.readRequestUnits.toFixed(2),
          m.perBatch.sqsBilledRequests.toFixed(2),
          m.snapshotBytes ? `${int(m.snapshotBytes / 1024)} KB` : '–',
          m.cpuMs.toFixed(0),
          int(m.billedMs),
        ]),
    ),
  );
  out.push('');
  out.push('### Where the money goes, production profile (60 s), analytics on');
  out.push('');
  const production = rates.map((rate) => find(cost, rate, 60, true));
  const prefixes = [
    ['consumer Lambda', 'consumer Lambda'],
    ['consumer S3', 'consumer S3'],
    ['consumer DynamoDB', 'consumer DynamoDB'],
    ['consumer SQS (DLQ)', 'consumer SQS'],
    ['publisher (schedule, Lambda, Scan)', 'publisher'],
  ] as const;
  out.push(
    table(
      ['per million events', ...production.map((s) => `${int(s.eventsPerSecond)} events/s`)],
      [
        ...prefixes.map(([label, prefix]) => [
          label,
          ...production.map((s) => usd(lineUsd(s.shardline, prefix))),
        ]),
        ['**Shardline total**', ...production.map((s) => `**${usd(s.shardline.totalUsd)}**`)],
      ],
      ['l', ...production.map(() => 'r' as const)],
    ),
  );
  out.push('');
  out.push(
    `Prices (${cost.prices.name}, read ${cost.prices.readOn}): ${cost.prices.sources.map((s) => `${s.item} (${s.source})`).join('; ')}.`,
  );
  out.push('');
  out.push(
    `Model: Lambda duration = CPU ms × 1,769 / ${cost.stack.consumerMemoryMb} (a ${cost.stack.consumerMemoryMb} MB function gets that share of a vCPU; Graviton taken as equal to this core) + the wait on AWS: each sequential round of calls (calls issued together count once) at ${cost.latency.s3RequestMs} ms for S3, ${cost.latency.dynamoRequestMs} ms for DynamoDB, ${cost.latency.sqsRequestMs} ms for SQS, plus the bytes the critical path uploads at ${int(cost.latency.s3BytesPerMs / 1000)} MB/s. The publisher runs once a minute (${cost.stack.publisherMemoryMb} MB, ${cost.stack.publisherDurationMs} ms modelled), its Scan of the checkpoint items counted (${cost.publisherPerRun.readRequestUnits} RRU with ${cost.stack.shards} shards). Not counted, as alike on both sides or small: S3 storage, CloudWatch, data transfer, the stream's storage beyond 7 days.`,
  );
  return out.join('\n');
}

/**
 * The README's cost table: each stage profile against Firehose, by rate, with the latency it costs.
 *
 * @example
 * ```ts
 * renderCostSummary(results.cost);
 * ```
 */
export function renderCostSummary(cost: CostResults): string {
  const rates = [...new Set(cost.scenarios.map((s) => s.eventsPerSecond))];
  return table(
    ['per million events', ...rates.map((rate) => `${int(rate)} events/s`)],
    [
      ...PRICED_PROFILES.map((profile) => [
        `Shardline ${profile.name} (${profile.batchingWindowSeconds} s window), analytics on`,
        ...rates.map((rate) => {
          const s = find(cost, rate, profile.batchingWindowSeconds, true);
          return `${usd(s.shardline.totalUsd)} (${ratio(s.shardline.totalUsd / s.firehose.totalUsd)}, ≤ ${seconds(s.batchingDelaySeconds)})`;
        }),
      ]),
      [
        'Firehose, Parquet conversion',
        ...rates.map((rate) => usd(find(cost, rate, 60, true).firehose.totalUsd)),
      ],
      [
        'the stream (both)',
        ...rates.map((rate) => usd(cost.stream.find((s) => s.eventsPerSecond === rate)?.cost.totalUsd ?? 0)),
      ],
    ],
    ['l', ...rates.map(() => 'r' as const)],
  );
}
