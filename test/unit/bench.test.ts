import { deflateRawSync } from 'node:zlib';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { firstCommitCovering, parseReportLine } from '../../bench/e2e';
import { compact, niceStep, renderChart } from '../../bench/lib/chart';
import {
  AWS_LATENCY,
  awsWaitMs,
  batchingDelaySeconds,
  type DeliveryScenario,
  firehoseCostPerMillion,
  interpolateBatchMs,
  recordsPerBatch,
  shardlineCostPerMillion,
  streamCostPerMillion,
  US_EAST_1_PRICES,
} from '../../bench/lib/cost';
import { type CpuProfile, locationOf, summariseProfile } from '../../bench/lib/cpuProfile';
import {
  emptyUsage,
  itemBytes,
  MeteredAws,
  perBatch,
  readUnits,
  sqsBilledRequests,
  writeUnits,
} from '../../bench/lib/fakes';
import { cpuSecondsFromStat } from '../../bench/lib/procStat';
import { benchRecords, kinesisEvent, payloadBytes, widenEvent } from '../../bench/lib/records';
import { latencySummary, percentile, spread } from '../../bench/lib/stats';
import { naiveConsumer } from '../../bench/naive';
import { zipSize } from '../../bench/packaging';
import { clearPending, commitBatch, readCheckpoint } from '../../lambdas/consumer/checkpoint';
import { parseEvent } from '../../lambdas/shared/events';

// Pure helpers of the benchmarks (bench/). The benchmarks themselves never run in the test suite.

describe('benchmark statistics', () => {
  it('interpolates percentiles between ranks', () => {
    expect(percentile([1, 2, 3, 4], 50)).toBe(2.5);
    expect(percentile([10, 20, 30], 99)).toBeCloseTo(29.8);
    expect(percentile([7], 95)).toBe(7);
  });

  it('summarises samples in any order as median, min and max', () => {
    expect(spread([3, 1, 2])).toEqual({ median: 2, min: 1, max: 3, runs: 3 });
  });

  it('reports p50, p95, p99 and the maximum of latencies', () => {
    const latencies = Array.from({ length: 101 }, (_, index) => 100 - index);
    expect(latencySummary(latencies)).toEqual({ count: 101, p50: 50, p95: 95, p99: 99, max: 100 });
  });
});

describe('benchmark records', () => {
  it('widens valid events to about 500 bytes and keeps every one of them valid', () => {
    const records = benchRecords({ count: 2_000 });
    const valid = records.filter((record) => !record.invalidKind);
    for (const record of valid) {
      expect(parseEvent(JSON.parse(Buffer.from(record.data).toString('utf8'))).success).toBe(true);
    }
    expect(payloadBytes(records) / records.length).toBeGreaterThan(450);
    expect(payloadBytes(records) / records.length).toBeLessThan(550);
    expect(records.length - valid.length).toBe(40);
  });

  it('widens the same event to the same text every time', () => {
    const json = '{"event_id":"e","event_type":"page_view","user_id":"u-1","payload":{"url":"/products/7"}}';
    expect(widenEvent(json)).toBe(widenEvent(json));
  });

  it('builds a Kinesis event with increasing sequence numbers and base64 data', () => {
    const records = benchRecords({ count: 3 });
    const event = kinesisEvent(records, { shardId: 'shardId-000000000007', firstSequenceNumber: 100n });
    expect(event.Records.map((r) => r.kinesis.sequenceNumber)).toEqual(['100', '101', '102']);
    expect(event.Records[1]?.eventID).toBe('shardId-000000000007:101');
    expect(Buffer.from(event.Records[2]?.kinesis.data ?? '', 'base64')).toEqual(
      Buffer.from(records[2]?.data ?? []),
    );
  });
});

describe('the metered fake AWS of the benchmarks', () => {
  const shard = { tableName: 't', streamName: 's', shardId: 'shardId-000000000000' };
  const commit = (attemptId: string, lastSequenceNumber: string) => ({
    attemptId,
    lastSequenceNumber,
    bundle: `staging/${attemptId}`,
    stateKey: null,
    records: 11,
  });

  it('bills DynamoDB as AWS does: 1 KB write steps on the larger item, 4 KB read steps, half when eventual', () => {
    expect(writeUnits(0, 10)).toBe(1);
    expect(writeUnits(900, 1100)).toBe(2);
    expect(writeUnits(3000, 100)).toBe(3);
    expect(readUnits(5000, true)).toBe(2);
    expect(readUnits(100, false)).toBe(0.5);
    expect(sqsBilledRequests(70_000)).toBe(2);
    expect(itemBytes({ pk: { S: 'abc' } })).toBe(5);
  });

  it('counts the commit protocol: a consistent read, the commit and the clear, each 1 WRU', async () => {
    const aws = new MeteredAws();
    await readCheckpoint(aws.clients.dynamo, shard);
    await commitBatch(aws.clients.dynamo, shard, 0, [], commit('a-1', '20'));
    await clearPending(aws.clients.dynamo, shard, 'a-1');
    expect(await readCheckpoint(aws.clients.dynamo, shard)).toMatchObject({
      version: 1,
      lastCommittedSequenceNumber: '20',
      pending: null,
    });
    expect(aws.usage).toMatchObject({
      dynamoWrites: 2,
      writeRequestUnits: 2,
      dynamoReads: 2,
      readRequestUnits: 2,
    });
  });

  it('bills a failed conditional write too, and keeps the real condition semantics', async () => {
    const aws = new MeteredAws();
    await commitBatch(aws.clients.dynamo, shard, 0, [], commit('a-1', '20'));
    aws.resetUsage();
    // A stale version: DynamoDB refuses it and still bills the write.
    await expect(commitBatch(aws.clients.dynamo, shard, 0, [], commit('a-2', '30'))).rejects.toThrow(
      /another invocation owns the shard/,
    );
    expect(aws.usage.writeRequestUnits).toBe(1);
  });

  it('counts S3 requests by price class and calls issued together as one round', async () => {
    const aws = new MeteredAws();
    const put = (key: string, bytes: number) =>
      aws.clients.s3.send(new PutObjectCommand({ Bucket: 'b', Key: key, Body: new Uint8Array(bytes) }));
    await Promise.all([put('a', 100), put('b', 300)]);
    await put('c', 50);
    expect(aws.usage).toMatchObject({ s3Puts: 3, s3BytesPut: 450, s3Rounds: 2, s3RoundBytes: 350 });
    expect(perBatch(aws.usage, 2).s3Puts).toBe(1.5);
  });

  it('runs the naive peer: one Parquet object per batch, whatever its partitions', async () => {
    const aws = new MeteredAws();
    const rows = await naiveConsumer(kinesisEvent(benchRecords({ count: 200 })), aws.clients.s3, 'lake');
    expect(rows).toBeGreaterThanOrEqual(190);
    expect(aws.usage.s3Puts).toBe(1);
    expect([...aws.world.s3.objects.keys()][0]).toMatch(/^naive\/shardId-000000000000-\d+-\d+\.parquet$/);
  });
});

describe('the cost model', () => {
  const traffic = { eventsPerSecond: 2000, shards: 2, recordBytes: 500 };
  const batching = { batchSize: 1000, batchingWindowSeconds: 1, maxRecordsPerInvocation: 5000 };
  const perRun = { ...emptyUsage(), readRequestUnits: 1 };
  const scenario: DeliveryScenario = {
    traffic,
    batching,
    lambdaMemoryMb: 1024,
    perBatch: {
      ...emptyUsage(),
      s3Puts: 5,
      s3Gets: 1,
      writeRequestUnits: 2,
      readRequestUnits: 1,
      sqsBilledRequests: 2,
    },
    batchDurationMs: 100,
    publisher: { perRun, memoryMb: 256, durationMs: 100, runsPerMinute: 1 },
  };

  it('fills batches from one window of a shard, capped by the batch size and the 6 MB payload', () => {
    expect(recordsPerBatch(traffic, batching)).toBe(1000);
    expect(recordsPerBatch({ ...traffic, eventsPerSecond: 20 }, batching)).toBe(10);
    expect(recordsPerBatch({ ...traffic, eventsPerSecond: 0.1 }, batching)).toBe(1);
    expect(recordsPerBatch(traffic, { ...batching, batchSize: 10_000, batchingWindowSeconds: 60 })).toBe(
      5000,
    );
  });

  it('says how long a record waits for its batch: the window, or less when the batch fills first', () => {
    expect(
      batchingDelaySeconds({ ...traffic, eventsPerSecond: 20 }, { ...batching, batchingWindowSeconds: 60 }),
    ).toBe(60);
    expect(batchingDelaySeconds(traffic, { ...batching, batchSize: 10_000, batchingWindowSeconds: 60 })).toBe(
      5,
    );
  });

  it('models the wait on AWS from sequential rounds and uploaded bytes', () => {
    expect(awsWaitMs({ s3Rounds: 4, dynamoRounds: 3, sqsRounds: 1, s3RoundBytes: 0 }, AWS_LATENCY)).toBe(153);
    expect(
      awsWaitMs({ s3Rounds: 0, dynamoRounds: 0, sqsRounds: 0, s3RoundBytes: 500_000 }, AWS_LATENCY),
    ).toBe(10);
  });

  it('prices a million events at 2,000/s line by line, the publisher once a minute', () => {
    const cost = shardlineCostPerMillion(scenario, US_EAST_1_PRICES);
    const line = (item: string) => cost.lines.find((l) => l.item === item);
    expect(line('consumer Lambda requests')?.quantity).toBe(1000);
    expect(line('consumer Lambda duration (arm64)')?.quantity).toBeCloseTo(100); // 1,000 batches × 0.1 s × 1 GB
    expect(line('consumer S3 PUT, COPY, LIST')?.usd).toBeCloseTo(0.025);
    expect(line('consumer S3 GET')?.usd).toBeCloseTo(0.0004);
    expect(line('consumer DynamoDB writes')?.quantity).toBe(2000);
    expect(line('consumer SQS')?.quantity).toBe(2000);
    // A million events at 2,000/s take 500 s: 8⅓ publisher runs.
    expect(line('publisher EventBridge schedule')?.quantity).toBeCloseTo(500 / 60);
    expect(line('publisher DynamoDB reads')?.quantity).toBeCloseTo(500 / 60);
    expect(cost.totalUsd).toBeCloseTo(cost.lines.reduce((sum, l) => sum + l.usd, 0));
  });

  it('prices the stream apart: shard-hours, 25 KB payload units, extended retention', () => {
    const stream = streamCostPerMillion(traffic, true, US_EAST_1_PRICES);
    expect(stream.lines.map((l) => l.item)).toEqual([
      'Kinesis shard-hours',
      'Kinesis extended retention',
      'Kinesis PUT payload units',
    ]);
    expect(stream.lines[0]?.quantity).toBeCloseTo((2 * 500) / 3600);
    expect(stream.lines[2]?.usd).toBeCloseTo(0.014);
  });

  it('bills Firehose on each record rounded up to 5 KB, and its objects per buffer flush', () => {
    const settings = {
      bufferIntervalSeconds: 60,
      bufferSizeMb: 128,
      dynamicPartitioning: false,
      activePartitions: 1,
    };
    const small = firehoseCostPerMillion(traffic, settings, US_EAST_1_PRICES);
    const large = firehoseCostPerMillion({ ...traffic, recordBytes: 5000 }, settings, US_EAST_1_PRICES);
    expect(large.lines[0]?.usd).toBeCloseTo(small.lines[0]?.usd ?? 0);
    expect(small.lines[0]?.quantity).toBeCloseTo((1e6 * 5120) / 2 ** 30);
    // 500 s of data, flushed every 60 s.
    expect(small.lines.find((l) => l.item === 'Firehose S3 PUTs')?.quantity).toBeCloseTo(500 / 60);
    const partitioned = firehoseCostPerMillion(
      traffic,
      { ...settings, dynamicPartitioning: true },
      US_EAST_1_PRICES,
    );
    expect(partitioned.totalUsd).toBeGreaterThan(small.totalUsd);
  });

  it('interpolates batch durations between measured sizes and extends the nearest segment', () => {
    const duration = interpolateBatchMs([
      [1000, 21],
      [100, 3],
      [10_000, 201],
    ]);
    expect(duration(550)).toBeCloseTo(12);
    expect(duration(10)).toBeCloseTo(1.2);
    expect(duration(20_000)).toBeCloseTo(401);
    expect(duration(1)).toBeGreaterThanOrEqual(0);
  });
});

describe('CPU profile summaries', () => {
  const frame = (functionName: string, url = 'file:///repo/lambdas/consumer/decode.ts') => ({
    functionName,
    url,
    lineNumber: 0,
    columnNumber: 0,
  });
  const profile: CpuProfile = {
    startTime: 0,
    endTime: 5000,
    nodes: [
      { id: 1, callFrame: frame('(root)', ''), children: [2, 5, 6] },
      { id: 2, callFrame: frame('decodeRecord'), children: [3] },
      { id: 3, callFrame: frame('parse', ''), children: [4] },
      { id: 4, callFrame: frame('decodeRecord'), children: [] },
      { id: 5, callFrame: frame('benchRecords', 'file:///repo/bench/lib/records.ts'), children: [] },
      { id: 6, callFrame: frame('(garbage collector)', ''), children: [] },
    ],
    samples: [2, 3, 4, 5, 6],
    timeDeltas: [0, 1000, 1000, 1000, 1000],
  };

  it('counts a recursive function once in its inclusive time and leaves out excluded set-up', () => {
    const summary = summariseProfile(profile, {
      projectRoot: '/repo',
      inclusiveOf: ['decodeRecord'],
      exclude: (f) => f.functionName === 'benchRecords',
    });
    expect(summary.excludedMs).toBe(1);
    expect(summary.busyMs).toBe(4);
    expect(summary.inclusive[0]).toEqual({ functionName: 'decodeRecord', ms: 3, share: 0.75 });
    expect(summary.garbageCollectorMs).toBe(1);
    expect(summary.topSelf[0]).toMatchObject({
      functionName: 'decodeRecord',
      location: 'lambdas/consumer/decode.ts',
      selfMs: 2,
    });
  });

  it('names dependencies by package', () => {
    expect(locationOf('file:///repo/node_modules/zod/v4/core/schemas.js', '/repo')).toBe(
      'node_modules/zod/…/schemas.js',
    );
    expect(locationOf('', '/repo')).toBe('(V8 built-in)');
  });
});

describe('measurement helpers', () => {
  it('reads user plus system time from a /proc/<pid>/stat line, even with spaces in the name', () => {
    expect(cpuSecondsFromStat('42 (node (a b)) S 1 42 42 0 -1 4194304 0 0 0 0 250 50 0 0', 100)).toBe(3);
  });

  it('reads the function host REPORT line', () => {
    const line =
      '[fn] REPORT RequestId: 1\tDuration: 12.50 ms\tBilled Duration: 13 ms\tMax Memory Used: 80 MB';
    expect(parseReportLine(line)).toEqual({ durationMs: 12.5, maxMemoryUsedMb: 80, initMs: undefined });
    expect(parseReportLine('[fn] START RequestId: 1')).toBeUndefined();
  });

  it('finds the first commit at or past a sequence number', () => {
    const commits = [
      { lastSequenceNumber: 5n, committedAt: 1 },
      { lastSequenceNumber: 9n, committedAt: 2 },
    ];
    expect(firstCommitCovering(commits, 7n)?.committedAt).toBe(2);
    expect(firstCommitCovering(commits, 5n)?.committedAt).toBe(1);
    expect(firstCommitCovering(commits, 10n)).toBeUndefined();
  });
});

describe('the chart and the package size', () => {
  it("sizes a ZIP from each file deflated at level 9 plus the format's fixed headers", () => {
    const data = Buffer.from('exports.handler = async () => 1;\n'.repeat(50));
    const { bytes, entries } = zipSize([{ name: 'index.js', data }]);
    const deflated = deflateRawSync(data, { level: 9 }).byteLength;
    expect(entries).toEqual([{ name: 'index.js', size: data.byteLength, compressedSize: deflated }]);
    // local header 30 + name, central directory entry 46 + name, end of central directory 22
    expect(bytes).toBe(deflated + 30 + 46 + 2 * 'index.js'.length + 22);
  });

  it('counts a file that deflate would enlarge at its stored size', () => {
    const random = Buffer.from(Array.from({ length: 64 }, (_, i) => (i * 151 + 7) % 256));
    const { entries } = zipSize([{ name: 'noise.bin', data: random }]);
    expect(entries[0]?.compressedSize).toBe(Math.min(random.byteLength, deflateRawSync(random).byteLength));
    expect(entries[0]?.compressedSize).toBeLessThanOrEqual(random.byteLength);
  });

  it('draws the chart as an SVG document: one bar per measured series, labels escaped as text', () => {
    const svg = renderChart({
      title: 'Bench <2 cores> & Node 20',
      throughput: [
        {
          batchSize: 100,
          shardline: { median: 40_000, min: 38_000, max: 42_000 },
          duckdb: { median: 90_000, min: 85_000, max: 95_000 },
        },
        { batchSize: 1000, shardline: { median: 60_000, min: 55_000, max: 65_000 } },
      ],
      latency: [
        { label: '500', p50Ms: 300, p95Ms: 600, p99Ms: 900, sustainedPerSecond: 500 },
        { label: '2000', p50Ms: 500, p95Ms: 1200, p99Ms: 1800, sustainedPerSecond: 2000 },
      ],
      latencyTargetMs: 2000,
    });
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg" width="1400" height="620"')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    expect(svg).toContain('Bench &lt;2 cores&gt; &amp; Node 20');
    expect(svg.match(/fill="#1f77b4"\/>/g)).toHaveLength(2 + 1); // two Shardline bars and the legend
    expect(svg.match(/fill="#969696"\/>/g)).toHaveLength(1 + 1); // one DuckDB bar and the legend
    expect(svg).toContain('stroke-dasharray="8 6"'); // the p99 target
    expect(svg).toContain('>1,000</text>');
    expect(svg).not.toMatch(/NaN|undefined/);
  });

  it('picks round axis steps and short labels', () => {
    expect(niceStep(47_000, 5)).toBe(10_000);
    expect(niceStep(4.4, 5)).toBe(1);
    expect(compact(250_000)).toBe('250K');
    expect(compact(1500)).toBe('1.5K');
  });
});
