import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import type { KinesisStreamRecord } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mirrorBucket } from '../../cli/lake/mirror';
import { openLake } from '../../cli/lake/views';
import {
  type AnalyticsOutputs,
  applyEvents,
  canonicalState,
  emptyAnalyticsState,
  loadAnalyticsState,
  type StateSizing,
  snapshotChainKeys,
  toAnalyticsEvent,
} from '../../lambdas/consumer/analytics';
import { readCheckpoint } from '../../lambdas/consumer/checkpoint';
import { readCommitRecords } from '../../lambdas/consumer/commitRecord';
import { decodeRecord } from '../../lambdas/consumer/decode';
import { processKinesisEvent } from '../../lambdas/consumer/processBatch';
import { toRow } from '../../lambdas/consumer/transform';
import { ORPHAN_MIN_AGE_MS, sweepOrphanedSnapshots } from '../../lambdas/publisher/sweepSnapshots';
import { analyticsConfig } from '../../lambdas/shared/analyticsConfig';
import { ANALYTICS_DATASET_NAMES, ANALYTICS_DATASETS } from '../../lambdas/shared/analyticsRows';
import { dynamoClient, s3Client, sqsClient } from '../../lambdas/shared/clients';
import { STATE_PREFIX } from '../../lambdas/shared/lakeLayout';
import { resourceNames } from '../../lambdas/shared/naming';
import { buildApp } from '../../lib/app';
import { clientOptionsFor, type RunningEmulators, startEmulators } from '../../local/emulators';
import { provision } from '../../local/provision';
import { describeStack } from '../../local/template';
import {
  CRASH_POINTS,
  type CrashCall,
  type CrashPlan,
  installCrashPlan,
  SimulatedCrash,
} from '../helpers/crash';
import { bigSequence, kinesisEvent, kinesisRecord } from '../helpers/kinesisEvents';

/**
 * The analytics state and outputs against the real emulators (dynalite, s3rver, fauxqs): crash the
 * consumer after it staged its state snapshot, while it publishes the analytics objects, after it deleted
 * the snapshot its commit replaced (and everywhere else the protocol has a step), crash it again while it
 * finishes a crashed attempt's publication, replay with other batch boundaries, and check that the
 * committed snapshot and every analytics row in the lake equal one fold over all the events.
 */
const names = resourceNames('antest');
const config = {
  bucketName: `${names.bucketNamePrefix}-000000000000-us-east-1`,
  tableName: names.tableName,
  dlqUrl: '',
  streamName: names.streamName,
};
const analytics = analyticsConfig({
  tumblingWindowMs: 60_000,
  hoppingWindowMs: 180_000,
  hoppingStepMs: 60_000,
  watermarkDelayMs: 5_000,
  allowedLatenessMs: 20_000,
  sessionGapMs: 4 * 60_000,
  distinctExactLimit: 2,
  velocity: { maxEventsPerWindow: 3, windowMs: 60_000 },
  amount: { sigmas: 2, minSamples: 3 },
  rapidFire: { events: 3, withinMs: 10_000 },
  paymentFailures: { failures: 2, withinMs: 10 * 60_000 },
});
// Small buckets, so that the state spans several items per part.
const sizing = { splitBytes: 300, maxBucketBytes: 180 * 1024, maxBuckets: 64 };
const T0 = Date.parse('2026-11-01T00:00:00.000Z');
let running: RunningEmulators;
let dataDir: string;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'shardline-analytics-eo-'));
  running = await startEmulators({ dataDir });
  const outdir = join(dataDir, 'cdk.out');
  const { app } = buildApp({ stage: 'antest', outdir, bundling: false, validation: false });
  const stack = app.synth().getStackByName(names.stackName);
  const resolved = await provision(describeStack(stack.template, { cdkOutDir: outdir }), running);
  config.dlqUrl = Object.values(resolved).find((r) => r.type === 'AWS::SQS::Queue')?.ref ?? '';
});

afterAll(async () => {
  await running?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

/** A fresh consumer "process" with analytics on: its own clients, optionally doomed to crash. */
function consumerProcess(plan?: CrashPlan, stateSizing: StateSizing = sizing) {
  const s3 = s3Client(clientOptionsFor(running, 's3'));
  const dynamo = dynamoClient(clientOptionsFor(running, 'dynamodb'));
  const sqs = sqsClient(clientOptionsFor(running, 'sqs'));
  const crash = plan ? installCrashPlan(plan, [s3, dynamo, sqs]) : null;
  const run = (records: KinesisStreamRecord[]) =>
    processKinesisEvent(kinesisEvent(records), {
      s3,
      dynamo,
      sqs,
      config,
      analytics,
      analyticsStateSizing: stateSizing,
    });
  return Object.assign(run, { crashed: () => crash?.dead ?? false });
}

function eventJson(i: number): string {
  const burst = i >= 20 && i < 24;
  const time = burst ? T0 + 500_000 + (i - 20) * 1_000 : i === 30 ? T0 + 180_000 : T0 + i * 25_000;
  const user = burst ? 'u-9' : `u-${i % 3}`;
  const type =
    i % 10 === 0
      ? 'session_start'
      : i % 10 === 9
        ? 'session_end'
        : i % 5 === 2
          ? 'payment_processed'
          : i % 5 === 3
            ? 'add_to_cart'
            : 'page_view';
  const payload = {
    session_start: { device: 'desktop', country: 'FR' },
    session_end: { duration_ms: 60_000 },
    payment_processed: {
      payment_id: `pay-${i}`,
      order_id: `o-${i}`,
      amount: 10 + i * 3,
      currency: 'USD',
      method: 'card',
      status: i === 12 || i === 27 ? 'failed' : 'succeeded',
    },
    add_to_cart: { product_id: 'p-1', quantity: 1 + (i % 3), unit_price: 5 + i, currency: 'eur' },
    page_view: { url: `/p/${i}` },
  }[type];
  return JSON.stringify({
    event_id: `00000000-0000-4000-8000-${(1000 + i).toString(16).padStart(12, '0')}`,
    schema_version: 1,
    tenant_id: i % 4 === 1 && !burst ? 'globex' : 'acme',
    event_type: type,
    occurred_at: new Date(time).toISOString(),
    user_id: user,
    session_id: `s-${user}-${Math.floor(i / 10)}`,
    payload,
  });
}

/** 40 records on one shard: sessions, a burst, failed payments, a late event; every seventh is invalid. */
function shardRecords(shardId: string) {
  return Array.from({ length: 40 }, (_, i) =>
    kinesisRecord(
      shardId,
      bigSequence(i + 1),
      i % 7 === 3 ? `{"broken": ${i}` : eventJson(i),
      `acme#u-${i % 3}`,
    ),
  );
}

function expectedFold(records: KinesisStreamRecord[]) {
  const events = records.flatMap((record) => {
    const decoded = decodeRecord(record);
    if (!decoded.ok) return [];
    const origin = {
      shardId: record.eventID.split(':')[0] as string,
      sequenceNumber: record.kinesis.sequenceNumber,
      partitionKey: record.kinesis.partitionKey,
      arrivalTime: 0,
    };
    return [toAnalyticsEvent(toRow(decoded.event, origin, 0))];
  });
  return applyEvents(emptyAnalyticsState(), events, analytics);
}

const asRows = (list: object[]) => list.map((row) => JSON.stringify(row, Object.keys(row).sort())).sort();

/** The analytics rows of one shard in the lake, through the query views, back in their row shapes. */
async function lakeRows(shardId: string) {
  const mirrorDir = join(dataDir, 'mirror');
  const prefixes = ANALYTICS_DATASET_NAMES.map((name) => `${ANALYTICS_DATASETS[name].prefix}/`);
  await mirrorBucket(s3Client(clientOptionsFor(running, 's3')), config.bucketName, prefixes, mirrorDir);
  const lake = await openLake(mirrorDir);
  try {
    const rows: Record<string, string[]> = {};
    for (const name of ANALYTICS_DATASET_NAMES) {
      const { columns } = ANALYTICS_DATASETS[name];
      const select = columns.map((c) =>
        c.type === 'timestamptz' ? `epoch_ms(${c.name}) AS ${c.name}` : c.name,
      );
      const result = await lake.query(
        `SELECT ${select.join(', ')} FROM ${name} WHERE shard_id = '${shardId}'`,
      );
      rows[name] = asRows(
        result.rows.map((row) => Object.fromEntries(result.columns.map((c, i) => [c, row[i]]))),
      );
    }
    return rows;
  } finally {
    lake.close();
  }
}

/** The snapshots under the shard's state prefix. */
async function snapshotsOf(shardId: string): Promise<string[]> {
  const s3 = s3Client(clientOptionsFor(running, 's3'));
  const listed = await s3.send(
    new ListObjectsV2Command({ Bucket: config.bucketName, Prefix: `${STATE_PREFIX}/${shardId}/` }),
  );
  return (listed.Contents ?? []).map((o) => o.Key ?? '');
}

async function expectExactlyOnce(shardId: string, all: KinesisStreamRecord[]) {
  const expected = expectedFold(all);
  const dynamo = dynamoClient(clientOptionsFor(running, 'dynamodb'));
  const s3 = s3Client(clientOptionsFor(running, 's3'));
  const shard = { ...config, shardId };
  const checkpoint = await readCheckpoint(dynamo, shard);
  expect(checkpoint.lastCommittedSequenceNumber).toBe(all.at(-1)?.kinesis.sequenceNumber);
  expect(checkpoint.pending).toBeNull();
  expect(checkpoint.stateKey).toMatch(new RegExp(`^${STATE_PREFIX}/${shardId}/.+\\.snapshot$`));
  const committed = await loadAnalyticsState(s3, config.bucketName, checkpoint.stateKey, null);
  expect(canonicalState(committed.state)).toBe(canonicalState(expected.state));
  const outputs: AnalyticsOutputs = expected.outputs;
  expect(await lakeRows(shardId)).toEqual({
    windows: asRows(outputs.windows),
    sessions: asRows(outputs.sessions),
    alerts: asRows(outputs.alerts),
    late_events: asRows(outputs.lateEvents),
    engagement: asRows(outputs.engagement),
  });
  // Every committed snapshot that a compaction made obsolete is gone: what is left is the committed
  // chain and the snapshots of attempts that never committed (which no checkpoint refers to).
  const commits = await readCommitRecords(s3, config.bucketName, shardId);
  const snapshots = await snapshotsOf(shardId);
  for (const key of committed.chain.keys) expect(snapshots).toContain(key);
  for (const commit of commits) {
    const key = `${STATE_PREFIX}/${shardId}/${commit.attemptId}.snapshot`;
    if (!committed.chain.keys.includes(key)) expect(snapshots).not.toContain(key);
  }
  return { expected, committed };
}

const isPutUnder = (call: CrashCall, prefix: string) =>
  call.command === 'PutObjectCommand' && String(call.input.Key ?? '').startsWith(prefix);
const isAnalyticsPut = (call: CrashCall) =>
  ANALYTICS_DATASET_NAMES.some((name) => isPutUnder(call, `${ANALYTICS_DATASETS[name].prefix}/`));
const isSnapshotDelete = (call: CrashCall) =>
  call.command === 'DeleteObjectCommand' && String(call.input.Key ?? '').startsWith(`${STATE_PREFIX}/`);

const ANALYTICS_CRASH_POINTS: CrashPlan[] = [
  { name: 'after staging its state snapshot', after: (call) => isPutUnder(call, `${STATE_PREFIX}/`) },
  { name: 'after its first analytics object', after: isAnalyticsPut },
  { name: 'after deleting the replaced snapshot, before the clear', after: isSnapshotDelete },
];

const REPLAYS: Array<{ name: string; batches: (all: KinesisStreamRecord[]) => KinesisStreamRecord[][] }> = [
  { name: 'the same batch', batches: (all) => [all.slice(10, 30)] },
  { name: 'smaller batches, as after a bisect', batches: (all) => [all.slice(10, 20), all.slice(20, 30)] },
  { name: 'a larger batch', batches: (all) => [all.slice(10, 40)] },
  { name: 'a batch starting before the checkpoint', batches: (all) => [all.slice(0, 30)] },
];

let shardNumber = 100;
const nextShard = () => `shardId-${String(++shardNumber).padStart(12, '0')}`;

/** Runs a process doomed to crash: before the commit it rejects, after it returns with its publication pending. */
async function runToCrash(plan: CrashPlan, records: KinesisStreamRecord[], stateSizing = sizing) {
  const process = consumerProcess(plan, stateSizing);
  try {
    const result = await process(records);
    expect(result.shards[0]?.published).toBe(false);
  } catch (error) {
    expect(error).toBeInstanceOf(SimulatedCrash);
  }
  expect(process.crashed()).toBe(true);
}

async function crashThenReplay(
  plan: CrashPlan,
  replay: (typeof REPLAYS)[number],
  {
    stateSizing = sizing,
    before = [[0, 10]],
  }: { stateSizing?: StateSizing; before?: [number, number][] } = {},
) {
  const shardId = nextShard();
  const all = shardRecords(shardId);
  for (const [from, to] of before) await consumerProcess(undefined, stateSizing)(all.slice(from, to));
  await runToCrash(plan, all.slice(10, 30), stateSizing);
  const restarted = consumerProcess(undefined, stateSizing);
  for (const batch of replay.batches(all)) await restarted(batch);
  await restarted(all); // Lambda eventually delivers everything up to the tip.
  return expectExactlyOnce(shardId, all);
}

describe('the records of each shard', () => {
  it('close windows, end sessions, raise three kinds of alert and include a late event', () => {
    const { outputs } = expectedFold(shardRecords('shardId-000000000000'));
    expect(outputs.windows.length).toBeGreaterThan(10);
    expect(new Set(outputs.sessions.map((s) => s.closed_by))).toEqual(new Set(['session_end', 'inactivity']));
    expect(new Set(outputs.alerts.map((a) => a.pattern))).toEqual(
      new Set(['velocity_spike', 'rapid_fire', 'payment_failures']),
    );
    expect(outputs.lateEvents.length).toBeGreaterThanOrEqual(1);
  });
});

describe.each(ANALYTICS_CRASH_POINTS)('a consumer with analytics that crashes $name', (plan) => {
  it.each(REPLAYS)('and is replayed with $name commits state and outputs exactly once', async (replay) => {
    await crashThenReplay(plan, replay);
  });
});

// The other steps of the protocol, each with one replay shape (the events protocol's own test covers
// every shape).
describe.each(CRASH_POINTS)('a consumer with analytics that crashes $name', (plan) => {
  it('and is replayed from before the checkpoint commits state and outputs exactly once', async () => {
    await crashThenReplay(plan, REPLAYS[3] as (typeof REPLAYS)[number]);
  });
});

describe('a consumer with analytics on a snapshot chain', () => {
  it('that crashes after staging a delta, and is replayed from before the checkpoint, commits exactly once', async () => {
    const { committed } = await crashThenReplay(
      { name: 'after staging a delta', after: (call) => isPutUnder(call, `${STATE_PREFIX}/`) },
      REPLAYS[3] as (typeof REPLAYS)[number],
      { stateSizing: { ...sizing, maxDeltas: 8 } },
    );
    expect(committed.chain.keys.length).toBeGreaterThan(1);
  });

  it('that crashes after deleting the first snapshot of the chain it compacted, before the clear, commits exactly once', async () => {
    // A full snapshot and one delta: the crashed batch compacts, and its publication deletes both.
    await crashThenReplay(
      { name: 'after the first obsolete snapshot is deleted', after: isSnapshotDelete },
      REPLAYS[0] as (typeof REPLAYS)[number],
      {
        stateSizing: { ...sizing, maxDeltas: 1 },
        before: [
          [0, 5],
          [5, 10],
        ],
      },
    );
  });
});

describe('the hourly sweep of orphaned snapshots', () => {
  it("deletes a crashed attempt's snapshot once it is old, and never the committed chain", async () => {
    const stateSizing = { ...sizing, maxDeltas: 8 };
    const shardId = nextShard();
    const all = shardRecords(shardId);
    await consumerProcess(undefined, stateSizing)(all.slice(0, 10));
    // Crashes after staging its snapshot: an orphan no commit will ever name.
    await runToCrash(
      { name: 'after staging', after: (call) => isPutUnder(call, `${STATE_PREFIX}/`) },
      all.slice(10, 30),
      stateSizing,
    );
    const restarted = consumerProcess(undefined, stateSizing);
    await restarted(all.slice(10, 30));
    await restarted(all);
    const s3 = s3Client(clientOptionsFor(running, 's3'));
    const dynamo = dynamoClient(clientOptionsFor(running, 'dynamodb'));
    const checkpoint = await readCheckpoint(dynamo, { ...config, shardId });
    const chain = await snapshotChainKeys(s3, config.bucketName, checkpoint.stateKey as string);
    expect(chain.length).toBeGreaterThan(1);
    const before = await snapshotsOf(shardId);
    expect(before.filter((key) => !chain.includes(key)).length).toBeGreaterThan(0);

    // Now, nothing is old enough: the sweep keeps everything.
    const deps = { s3, dynamo, config };
    await sweepOrphanedSnapshots(deps);
    expect((await snapshotsOf(shardId)).sort()).toEqual([...before].sort());
    // Eight days on (s3rver's LastModified, a ranged GET of the head): only the chain is left.
    await sweepOrphanedSnapshots({ ...deps, now: () => Date.now() + ORPHAN_MIN_AGE_MS + 86_400_000 });
    expect((await snapshotsOf(shardId)).sort()).toEqual([...chain].sort());
    await expectExactlyOnce(shardId, all);
  });
});

describe("a consumer that crashes again while finishing a crashed attempt's publication", () => {
  it('leaves the publication pending for the next invocation, which finishes it and commits exactly once', async () => {
    const shardId = nextShard();
    const all = shardRecords(shardId);
    await consumerProcess()(all.slice(0, 10));
    await runToCrash({ name: 'mid-publish', after: isAnalyticsPut }, all.slice(10, 30));
    // The next invocation finishes that publication first, and dies in the middle of it.
    const again = consumerProcess({ name: 'mid-finish', after: isAnalyticsPut });
    await expect(again(all.slice(10, 20))).rejects.toThrowError(SimulatedCrash);
    const dynamo = dynamoClient(clientOptionsFor(running, 'dynamodb'));
    expect((await readCheckpoint(dynamo, { ...config, shardId })).pending).not.toBeNull();
    await consumerProcess()(all);
    const { committed } = await expectExactlyOnce(shardId, all);
    expect(committed.layout.windows + committed.layout.sessions + committed.layout.users).toBeGreaterThan(3);
  });
});

describe('a state snapshot PUT of a crashed attempt that lands after its retry committed', () => {
  it('lands under its own attempt key, which no checkpoint refers to: the state stays exactly once', async () => {
    const shardId = nextShard();
    const all = shardRecords(shardId);
    await consumerProcess()(all.slice(0, 10));
    // The crashed attempt's snapshot PUT is held back and lands only after the retry committed.
    let heldBack: (() => Promise<unknown>) | undefined;
    let heldKey = '';
    const dynamo = dynamoClient(clientOptionsFor(running, 'dynamodb'));
    const s3 = s3Client(clientOptionsFor(running, 's3'));
    const sqs = sqsClient(clientOptionsFor(running, 'sqs'));
    s3.middlewareStack.add(
      (next, context) => async (args) => {
        const call = { command: String(context.commandName), input: args.input as Record<string, unknown> };
        if (isPutUnder(call, `${STATE_PREFIX}/`)) {
          heldBack = () => next(args);
          heldKey = String(call.input.Key);
          throw new SimulatedCrash('a snapshot PUT held in flight');
        }
        return next(args);
      },
      { step: 'initialize', name: 'holdBack' },
    );
    await expect(
      processKinesisEvent(kinesisEvent(all.slice(10, 30)), {
        s3,
        dynamo,
        sqs,
        config,
        analytics,
        analyticsStateSizing: sizing,
      }),
    ).rejects.toThrowError(SimulatedCrash);
    await consumerProcess()(all.slice(10, 30));
    await heldBack?.();
    expect(await snapshotsOf(shardId)).toContain(heldKey);
    await consumerProcess()(all);
    const checkpoint = await readCheckpoint(dynamo, { ...config, shardId });
    expect(checkpoint.stateKey).not.toBe(heldKey);
    await expectExactlyOnce(shardId, all);
  });
});
