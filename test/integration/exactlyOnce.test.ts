import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import type { KinesisStreamRecord } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readDeadLetters } from '../../cli/deadLetters';
import { mirrorBucket } from '../../cli/lake/mirror';
import { openLake } from '../../cli/lake/views';
import { processKinesisEvent } from '../../lambdas/consumer/processBatch';
import { SWEEP_DELAY_MS } from '../../lambdas/consumer/sweep';
import { dynamoClient, s3Client, sqsClient } from '../../lambdas/shared/clients';
import { resourceNames } from '../../lambdas/shared/naming';
import { buildApp } from '../../lib/app';
import { clientOptionsFor, type RunningEmulators, startEmulators } from '../../local/emulators';
import { provision } from '../../local/provision';
import { describeStack } from '../../local/template';
import { CRASH_POINTS, type CrashPlan, installCrashPlan, SimulatedCrash } from '../helpers/crash';
import { bigSequence, kinesisEvent, kinesisRecord, validEventJson } from '../helpers/kinesisEvents';

/**
 * Crash the consumer at every step of the commit protocol against the real emulators, replay with
 * different batch boundaries, and check that the lake and the DLQ hold every record exactly once.
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

afterAll(async () => {
  await running?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

/** A fresh consumer "process": its own clients, optionally doomed to crash, optionally at another time. */
function consumerProcess(plan?: CrashPlan, now?: () => number) {
  const s3 = s3Client(clientOptionsFor(running, 's3'));
  const dynamo = dynamoClient(clientOptionsFor(running, 'dynamodb'));
  const sqs = sqsClient(clientOptionsFor(running, 'sqs'));
  if (plan) installCrashPlan(plan, [s3, dynamo, sqs]);
  return (records: KinesisStreamRecord[]) =>
    processKinesisEvent(kinesisEvent(records), { s3, dynamo, sqs, config, ...(now ? { now } : {}) });
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

let shardNumber = 0;

describe.each(CRASH_POINTS)('a consumer that crashes $name', (plan) => {
  it.each(REPLAYS)('and is replayed with $name loses nothing and duplicates nothing', async (replay) => {
    const shardId = `shardId-${String(++shardNumber).padStart(12, '0')}`;
    const all = shardRecords(shardId);

    await consumerProcess()(all.slice(0, 10));
    const crashed = consumerProcess(plan)(all.slice(10, 30));
    await expect(crashed).rejects.toThrowError(SimulatedCrash);

    const restarted = consumerProcess();
    for (const batch of replay.batches(all)) await restarted(batch);
    await restarted(all); // Lambda eventually delivers everything up to the tip.

    const valid = all.filter((_, i) => i % 7 !== 3).map(idOf);
    const invalid = all.filter((_, i) => i % 7 === 3).map(idOf);
    const { parquet, csv } = await lakeCounts(shardId);
    expect([...parquet.keys()].sort()).toEqual([...valid].sort());
    expect([...parquet.values()].every((n) => n === 1)).toBe(true);
    expect([...csv.keys()].sort()).toEqual([...valid].sort());
    expect([...csv.values()].every((n) => n === 1)).toBe(true);

    const dlq = await readDeadLetters(sqsClient(clientOptionsFor(running, 'sqs')), config.dlqUrl);
    const dlqIds = dlq.invalidRecords.map((m) => m.recordId).filter((id) => id.startsWith(`${shardId}:`));
    expect(dlqIds.sort()).toEqual([...invalid].sort());
  });
});

describe('two invocations racing for one shard', () => {
  it('never both commit, and the loser leaves no objects behind', async () => {
    const shardId = 'shardId-000000000900';
    const all = shardRecords(shardId);
    const [a, b] = await Promise.allSettled([
      consumerProcess()(all.slice(0, 20)),
      consumerProcess()(all.slice(0, 25)),
    ]);
    const winners = [a, b].filter((r) => r.status === 'fulfilled');
    expect(winners.length).toBeGreaterThanOrEqual(1);
    await consumerProcess()(all);

    const valid = all.filter((_, i) => i % 7 !== 3).map(idOf);
    const { parquet } = await lakeCounts(shardId);
    expect([...parquet.keys()].sort()).toEqual([...valid].sort());
    expect([...parquet.values()].every((n) => n === 1)).toBe(true);
  });
});

describe('a PUT of a rolled-back attempt that lands after the rollback deleted its objects', () => {
  it('is deleted again by the late-PUT sweep once no request of that attempt can still be running', async () => {
    const shardId = 'shardId-000000000901';
    const all = shardRecords(shardId);
    const t0 = Date.now();
    const [afterAllPuts] = CRASH_POINTS.filter((p) => p.name === 'after all puts, before the commit');
    await expect(consumerProcess(afterAllPuts)(all.slice(0, 20))).rejects.toThrowError(SimulatedCrash);

    const rollback = await consumerProcess(undefined, () => t0)(all.slice(0, 20));
    const [orphanKey] = rollback.shards[0]?.rolledBack?.objectKeys ?? [];
    expect(orphanKey).toMatch(/^events\/(parquet|csv)\//);
    // The crashed attempt's PUT, still on the wire, lands now: an object no checkpoint covers.
    const s3 = s3Client(clientOptionsFor(running, 's3'));
    await s3.send(new PutObjectCommand({ Bucket: config.bucketName, Key: orphanKey, Body: 'late' }));
    const present = () =>
      s3.send(new HeadObjectCommand({ Bucket: config.bucketName, Key: orphanKey })).then(
        () => true,
        () => false,
      );

    const early = await consumerProcess(undefined, () => t0 + SWEEP_DELAY_MS - 60_000)(all);
    expect(early.shards[0]?.swept).toBe(0);
    expect(await present()).toBe(true);

    const due = await consumerProcess(undefined, () => t0 + SWEEP_DELAY_MS + 1)(all);
    expect(due.shards[0]?.swept).toBe(rollback.shards[0]?.rolledBack?.objectKeys.length);
    expect(await present()).toBe(false);
    const again = await consumerProcess(undefined, () => t0 + 2 * SWEEP_DELAY_MS)(all);
    expect(again.shards[0]?.swept).toBe(0);

    const valid = all.filter((_, i) => i % 7 !== 3).map(idOf);
    const { parquet, csv } = await lakeCounts(shardId);
    expect([...parquet.keys()].sort()).toEqual([...valid].sort());
    expect([...parquet.values(), ...csv.values()].every((n) => n === 1)).toBe(true);
  });
});
