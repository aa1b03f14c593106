import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  PutObjectCommand,
  paginateListObjectsV2,
} from '@aws-sdk/client-s3';
import type { KinesisStreamRecord } from 'aws-lambda';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { readDeadLetters } from '../../cli/deadLetters';
import { mirrorBucket } from '../../cli/lake/mirror';
import { openLake } from '../../cli/lake/views';
import { decodeBundle } from '../../lambdas/consumer/bundle';
import { readCheckpoint } from '../../lambdas/consumer/checkpoint';
import { readCommitRecords } from '../../lambdas/consumer/commitRecord';
import { processKinesisEvent } from '../../lambdas/consumer/processBatch';
import { publishPendingCommits } from '../../lambdas/publisher/publishPending';
import { dynamoClient, s3Client, sqsClient } from '../../lambdas/shared/clients';
import { resourceNames } from '../../lambdas/shared/naming';
import { buildApp } from '../../lib/app';
import { clientOptionsFor, type RunningEmulators, startEmulators } from '../../local/emulators';
import { provision } from '../../local/provision';
import { describeStack } from '../../local/template';
import { CRASH_POINTS, type CrashPlan, installCrashPlan, SimulatedCrash } from '../helpers/crash';
import { bigSequence, kinesisEvent, kinesisRecord, validEventJson } from '../helpers/kinesisEvents';
import { checkAfterEveryWrite, PlainLakeReader } from '../helpers/plainReader';

/**
 * Crash the consumer at every step of the commit protocol against the real emulators, replay with the
 * same, smaller, larger and earlier batch boundaries, and check that the lake and the DLQ hold every
 * record exactly once. A plain reader of the bucket (list the events prefix, read every object) looks
 * at the lake after every AWS call of every process and never sees a duplicate or an uncommitted row.
 */
const names = resourceNames('eotest');
const config = {
  bucketName: `${names.bucketNamePrefix}-000000000000-us-east-1`,
  tableName: names.tableName,
  dlqUrl: '',
  streamName: names.streamName,
};
let running: RunningEmulators;
let dataDir: string;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'shardline-eo-'));
  running = await startEmulators({ dataDir });
  const outdir = join(dataDir, 'cdk.out');
  const { app } = buildApp({ stage: 'eotest', outdir, bundling: false, validation: false });
  const stack = app.synth().getStackByName(names.stackName);
  const resolved = await provision(describeStack(stack.template, { cdkOutDir: outdir }), running);
  const queue = Object.values(resolved).find((r) => r.type === 'AWS::SQS::Queue');
  config.dlqUrl = queue?.ref ?? '';
});

/**
 * Each case has a shard of its own, so the bucket it leaves behind only slows the next: every reader check
 * lists the whole events prefix, and s3rver lists by walking its directory tree (cases took 2 s at the start
 * of the file and 9 s at its end). Checkpoints stay in the table; they are per shard.
 */
afterEach(async () => {
  const s3 = s3Client(clientOptionsFor(running, 's3'));
  for await (const page of paginateListObjectsV2({ client: s3 }, { Bucket: config.bucketName })) {
    for (const { Key } of page.Contents ?? []) {
      await s3.send(new DeleteObjectCommand({ Bucket: config.bucketName, Key }));
    }
  }
});

afterAll(async () => {
  await running?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

/** A fresh consumer "process": its own clients, optionally doomed to crash, observed by `reader`. */
function consumerProcess(reader: PlainLakeReader | null, plan?: CrashPlan) {
  const s3 = s3Client(clientOptionsFor(running, 's3'));
  const dynamo = dynamoClient(clientOptionsFor(running, 'dynamodb'));
  const sqs = sqsClient(clientOptionsFor(running, 'sqs'));
  const crash = plan ? installCrashPlan(plan, [s3, dynamo, sqs]) : null;
  if (reader) checkAfterEveryWrite([s3, dynamo, sqs], () => reader.check());
  const run = (records: KinesisStreamRecord[]) =>
    processKinesisEvent(kinesisEvent(records), { s3, dynamo, sqs, config });
  return Object.assign(run, { crashed: () => crash?.dead ?? false });
}

/** The plain reader of one shard's objects, with clients of its own. */
const readerOf = (shardId: string) =>
  new PlainLakeReader({
    s3: s3Client(clientOptionsFor(running, 's3')),
    dynamo: dynamoClient(clientOptionsFor(running, 'dynamodb')),
    bucketName: config.bucketName,
    tableName: config.tableName,
    streamName: config.streamName,
    accept: (key) => key.includes(`/${shardId}-`),
  });

/** Runs a process doomed to crash: before the commit it rejects, after it returns with its publication pending. */
async function runToCrash(process: ReturnType<typeof consumerProcess>, records: KinesisStreamRecord[]) {
  try {
    const result = await process(records);
    expect(result.shards[0]?.published).toBe(false);
  } catch (error) {
    expect(error).toBeInstanceOf(SimulatedCrash);
  }
  expect(process.crashed()).toBe(true);
}

/** 40 records on one shard; every seventh is invalid. */
function shardRecords(shardId: string) {
  return Array.from({ length: 40 }, (_, i) =>
    kinesisRecord(
      shardId,
      bigSequence(i + 1),
      i % 7 === 3 ? `{"broken": ${i}` : validEventJson(i, { occurred_at: `2026-11-01T0${i % 3}:30:00Z` }),
    ),
  );
}

const idOf = (r: KinesisStreamRecord) => `${r.eventID}`;

async function lakeCounts(shardId: string) {
  const mirrorDir = join(dataDir, 'mirror');
  await mirrorBucket(s3Client(clientOptionsFor(running, 's3')), config.bucketName, ['events/'], mirrorDir);
  const lake = await openLake(mirrorDir);
  const counts = async (view: string) => {
    const result = await lake.query(
      `SELECT shard_id || ':' || sequence_number AS id, count(*) AS n FROM ${view} WHERE shard_id = '${shardId}' GROUP BY ALL`,
    );
    return new Map(result.rows.map(([id, n]) => [String(id), Number(n)]));
  };
  try {
    return { parquet: await counts('events'), csv: await counts('events_csv') };
  } finally {
    lake.close();
  }
}

const REPLAYS: Array<{ name: string; batches: (all: KinesisStreamRecord[]) => KinesisStreamRecord[][] }> = [
  { name: 'the same batch', batches: (all) => [all.slice(10, 30)] },
  { name: 'smaller batches, as after a bisect', batches: (all) => [all.slice(10, 20), all.slice(20, 30)] },
  { name: 'a larger batch', batches: (all) => [all.slice(10, 40)] },
  { name: 'a batch starting before the checkpoint', batches: (all) => [all.slice(0, 30)] },
];

const valid = (all: KinesisStreamRecord[]) => all.filter((_, i) => i % 7 !== 3).map(idOf);
const invalid = (all: KinesisStreamRecord[]) => all.filter((_, i) => i % 7 === 3).map(idOf);

/** The lake holds every valid record of the shard once in each format, and the DLQ every invalid one. */
async function expectExactlyOnce(shardId: string, all: KinesisStreamRecord[], reader: PlainLakeReader) {
  const { parquet, csv } = await lakeCounts(shardId);
  expect([...parquet.keys()].sort()).toEqual([...valid(all)].sort());
  expect([...parquet.values()].every((n) => n === 1)).toBe(true);
  expect([...csv.keys()].sort()).toEqual([...valid(all)].sort());
  expect([...csv.values()].every((n) => n === 1)).toBe(true);

  const dlq = await readDeadLetters(sqsClient(clientOptionsFor(running, 'sqs')), config.dlqUrl);
  const dlqIds = dlq.invalidRecords.map((m) => m.recordId).filter((id) => id.startsWith(`${shardId}:`));
  expect([...new Set(dlqIds)].sort()).toEqual([...invalid(all)].sort());

  // The plain reader agrees, and saw nothing wrong at any step.
  await reader.check();
  expect(reader.violations).toEqual([]);
  expect([...reader.visible.parquet.keys()].sort()).toEqual([...valid(all)].sort());
  const checkpoint = await readCheckpoint(dynamoClient(clientOptionsFor(running, 'dynamodb')), {
    tableName: config.tableName,
    streamName: config.streamName,
    shardId,
  });
  expect(checkpoint).toMatchObject({ lastCommittedSequenceNumber: bigSequence(40), pending: null });
}

let shardNumber = 0;

/**
 * Each crash point meets two replay shapes, and each shape three crash points: 12 cases of about 2.5 s
 * each in the default suite. `SHARDLINE_CRASH_MATRIX=full` runs all 24. The property test
 * (test/property/exactlyOnce.test.ts) crashes every step of random interleavings with random replays
 * on every run; this file adds the real emulators and their files to the picture.
 */
const FULL_MATRIX = process.env.SHARDLINE_CRASH_MATRIX === 'full';
const replaysFor = (point: number) =>
  FULL_MATRIX ? REPLAYS : REPLAYS.filter((_, shape) => shape === point % 4 || shape === (point + 2) % 4);

describe.each(CRASH_POINTS.map((plan, point) => ({ ...plan, replays: replaysFor(point) })))(
  'a consumer that crashes $name',
  ({ replays, ...plan }) => {
    it.each(replays)(
      'and is replayed with $name loses nothing and duplicates nothing, at any step',
      async (replay) => {
        const shardId = `shardId-${String(++shardNumber).padStart(12, '0')}`;
        const all = shardRecords(shardId);
        const reader = readerOf(shardId);

        await consumerProcess(reader)(all.slice(0, 10));
        await runToCrash(consumerProcess(reader, plan), all.slice(10, 30));

        const restarted = consumerProcess(reader);
        for (const batch of replay.batches(all)) await restarted(batch);
        await restarted(all); // Lambda eventually delivers everything up to the tip.

        await expectExactlyOnce(shardId, all, reader);
        expect(reader.checks).toBeGreaterThan(20);
      },
    );
  },
);

describe('two invocations racing for one shard', () => {
  it('never both commit, and the loser publishes nothing', async () => {
    const shardId = 'shardId-000000000900';
    const all = shardRecords(shardId);
    const reader = readerOf(shardId);
    const [a, b] = await Promise.allSettled([
      consumerProcess(reader)(all.slice(0, 20)),
      consumerProcess(reader)(all.slice(0, 25)),
    ]);
    const winners = [a, b].filter((r) => r.status === 'fulfilled');
    expect(winners.length).toBeGreaterThanOrEqual(1);
    await consumerProcess(reader)(all);

    await expectExactlyOnce(shardId, all, reader);
  });
});

describe('a crashed invocation on a shard that then goes quiet', () => {
  it('has its publication finished by the scheduled publisher alone', async () => {
    const shardId = 'shardId-000000000901';
    const all = shardRecords(shardId);
    const reader = readerOf(shardId);
    await consumerProcess(reader)(all.slice(0, 10));
    const [midPublish] = CRASH_POINTS.filter((p) => p.name.startsWith('mid-publish'));
    await runToCrash(consumerProcess(reader, midPublish as CrashPlan), all.slice(10, 40));

    const s3 = s3Client(clientOptionsFor(running, 's3'));
    const dynamo = dynamoClient(clientOptionsFor(running, 'dynamodb'));
    const shard = { tableName: config.tableName, streamName: config.streamName, shardId };
    expect((await readCheckpoint(dynamo, shard)).pending).not.toBeNull();
    checkAfterEveryWrite([s3, dynamo], () => reader.check());
    const summary = await publishPendingCommits({ s3, dynamo, config });

    expect(summary.finished).toBeGreaterThanOrEqual(1);
    expect((await readCheckpoint(dynamo, shard)).pending).toBeNull();
    const records = await readCommitRecords(s3, config.bucketName, shardId);
    expect(records.map((r) => [r.firstSequenceNumber, r.lastSequenceNumber])).toEqual([
      [bigSequence(1), bigSequence(10)],
      [bigSequence(11), bigSequence(40)],
    ]);
    await expectExactlyOnce(shardId, all, reader);
  });
});

describe('a final PUT of a crashed attempt that lands after another process published', () => {
  it('writes the same bytes to the same key: no duplicate, nothing to delete', async () => {
    const shardId = 'shardId-000000000902';
    const all = shardRecords(shardId);
    const reader = readerOf(shardId);
    const [midPublish] = CRASH_POINTS.filter((p) => p.name.startsWith('mid-publish'));
    await runToCrash(consumerProcess(reader, midPublish as CrashPlan), all.slice(0, 20));
    await consumerProcess(reader)(all);

    // The crashed attempt's PUTs, still on the wire, land now: the bundle's objects, again.
    const s3 = s3Client(clientOptionsFor(running, 's3'));
    const shard = { tableName: config.tableName, streamName: config.streamName, shardId };
    const [first] = await readCommitRecords(s3, config.bucketName, shardId);
    const staged = await s3.send(
      new GetObjectCommand({
        Bucket: config.bucketName,
        Key: `staging/${shardId}/${first?.attemptId}.bundle`,
      }),
    );
    const bundle = decodeBundle('staged', (await staged.Body?.transformToByteArray()) ?? new Uint8Array());
    expect(bundle.objects.length).toBeGreaterThan(0);
    for (const object of bundle.objects) {
      await s3.send(new PutObjectCommand({ Bucket: config.bucketName, Key: object.key, Body: object.body }));
      await reader.check();
    }
    expect(
      (await readCheckpoint(dynamoClient(clientOptionsFor(running, 'dynamodb')), shard)).pending,
    ).toBeNull();
    await expectExactlyOnce(shardId, all, reader);
  });
});
