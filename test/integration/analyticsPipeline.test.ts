import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { QueryCommand } from '@aws-sdk/client-dynamodb';
import { ListShardsCommand } from '@aws-sdk/client-kinesis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mirrorBucket } from '../../cli/lake/mirror';
import { LAKE_PREFIXES } from '../../cli/lake/targetLake';
import { type Lake, openLake } from '../../cli/lake/views';
import { waitForPublications } from '../../cli/verify/pendingPublications';
import { countRecordsBehind } from '../../cli/verify/readStream';
import { loadAnalyticsState } from '../../lambdas/consumer/analytics';
import { type CommittedRows, readCheckpoint } from '../../lambdas/consumer/checkpoint';
import { generateRecords, injectedAnomalies } from '../../lambdas/producer/generate';
import { chunkRecords, putChunk } from '../../lambdas/producer/putRecords';
import { dynamoClient, kinesisClient, s3Client } from '../../lambdas/shared/clients';
import { buildApp } from '../../lib/app';
import { clientOptionsFor } from '../../local/emulators';
import { type LocalPipeline, startLocalPipeline } from '../../local/pipeline';

/**
 * End to end on the local pipeline (synthesized stack, bundled consumer behind the local event source
 * mapping, emulators) with the analytics at their defaults: the producer's generator injects one known
 * instance of each anomaly into normal traffic; every one must raise its alert, and nothing else may.
 */
const options = {
  count: 2_000,
  seed: 5,
  invalidRatio: 0.02,
  tenants: ['acme', 'globex', 'initech'],
  startTime: Date.parse('2026-11-01T00:00:00Z'),
  spanMinutes: 60,
  usersPerTenant: 200,
  anomalies: true,
};
let dataDir: string;
let pipeline: LocalPipeline;
let lake: Lake;
const records = generateRecords(options);

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'shardline-analytics-e2e-'));
  // Synthesized in-process without the CloudFormation validator (the demo test covers the CLI's synth):
  // the same bundles and template, in a third of the time.
  const cdkOutDir = join(dataDir, 'cdk.out');
  buildApp({ stage: 'anlytc', outdir: cdkOutDir, bundling: true, validation: false }).app.synth();
  pipeline = await startLocalPipeline({ dataDir, stage: 'anlytc', cdkOutDir, synth: false });
  const { emulators, runtime } = pipeline;
  const kinesis = kinesisClient(clientOptionsFor(emulators, 'kinesis'));
  for (const chunk of chunkRecords(records)) {
    const outcome = await putChunk(kinesis, runtime.resources.streamName, chunk);
    if (outcome.failed > 0) throw new Error(`${outcome.failed} records could not be put`);
  }
  const { Shards = [] } = await kinesis.send(
    new ListShardsCommand({ StreamName: runtime.resources.streamName }),
  );
  const dynamo = dynamoClient(clientOptionsFor(emulators, 'dynamodb'));
  const committed = async () => {
    let total = 0;
    for (const shard of Shards) {
      const checkpoint = await readCheckpoint(dynamo, {
        tableName: runtime.resources.tableName,
        streamName: runtime.resources.streamName,
        shardId: shard.ShardId as string,
      });
      total += checkpoint.committedRecords;
    }
    return total;
  };
  for (const deadline = Date.now() + 150_000; (await committed()) < records.length; ) {
    if (Date.now() > deadline)
      throw new Error(`only ${await committed()}/${records.length} records committed`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  // Committed is not yet readable: each commit's objects are published just after it, and one left owed
  // (a PUT that failed after the commit) waits for the scheduled publisher, which runs now instead.
  if ((await waitForPublications(kinesis, dynamo, runtime.resources, 10_000)).shards.length > 0) {
    await pipeline.schedules.runNow();
  }
  expect(await waitForPublications(kinesis, dynamo, runtime.resources, 10_000)).toEqual({ shards: [] });
  const mirrorDir = join(dataDir, 'mirror');
  await mirrorBucket(
    s3Client(clientOptionsFor(emulators, 's3')),
    runtime.resources.bucketName,
    LAKE_PREFIXES,
    mirrorDir,
  );
  lake = await openLake(mirrorDir);
}, 240_000);

afterAll(async () => {
  lake?.close();
  await pipeline?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

const rowsOf = async (sql: string) => (await lake.query(sql)).rows;

describe('analytics on the local pipeline with injected anomalies', () => {
  it('raises exactly one alert per injected anomaly, of its kind and for its user, and none for normal traffic', async () => {
    const alerts = await rowsOf('SELECT pattern, tenant_id, user_id FROM alerts ORDER BY ALL');
    const expected = injectedAnomalies(options)
      .map((a) => [a.kind, a.tenantId, a.userId])
      .sort((a, b) => String(a).localeCompare(String(b)));
    expect(alerts).toEqual(expected);
  });

  it('names in each alert only events of the anomaly it reports, all of them in the lake', async () => {
    const stray = await rowsOf(`
      SELECT a.alert_id, id FROM (SELECT alert_id, user_id, unnest(event_ids) AS id FROM alerts) a
      ANTI JOIN events e ON e.event_id = a.id AND e.user_id = a.user_id`);
    expect(stray).toEqual([]);
    const velocity = await rowsOf(
      "SELECT len(event_ids), evidence::JSON->>'events' FROM alerts WHERE pattern = 'velocity_spike'",
    );
    expect(velocity).toEqual([[21, '21']]);
  });

  it('counts the velocity spike in the merged tumbling window of its minute', async () => {
    const [velocityUser] = injectedAnomalies(options);
    const spike = await rowsOf(`
      SELECT m.event_count >= 25, m.shards >= 1 FROM windows_merged m
      JOIN (SELECT date_trunc('minute', min(occurred_at)) AS minute FROM events WHERE user_id = '${velocityUser?.userId}') v
        ON m.window_start = v.minute
      WHERE m.window_kind = 'tumbling' AND m.tenant_id = 'acme' AND m.event_type = 'page_view'`);
    expect(spike).toEqual([[true, true]]);
  });

  it('closes windows on every shard, sessions for every tenant, and sends no event late', async () => {
    expect(await rowsOf('SELECT count(DISTINCT shard_id) FROM windows')).toEqual([[2]]);
    expect(await rowsOf('SELECT count(*) FROM session_stats WHERE sessions > 0')).toEqual([[3]]);
    expect(await rowsOf('SELECT count(*) FROM late_events')).toEqual([[0]]);
  });

  it('keeps exactly-once row counters in the checkpoints that match the lake (what status shows)', async () => {
    const dynamo = dynamoClient(clientOptionsFor(pipeline.emulators, 'dynamodb'));
    const { resources } = pipeline.runtime;
    const checkpoints = await Promise.all(
      ['shardId-000000000000', 'shardId-000000000001'].map((shardId) =>
        readCheckpoint(dynamo, { tableName: resources.tableName, streamName: resources.streamName, shardId }),
      ),
    );
    const sum = (dataset: keyof CommittedRows) =>
      checkpoints.reduce((total, c) => total + c.committedRows[dataset], 0);
    const [counts = []] = await rowsOf(`SELECT
      (SELECT count(*) FROM events), (SELECT count(*) FROM windows), (SELECT count(*) FROM sessions),
      (SELECT count(*) FROM alerts), (SELECT count(*) FROM late_events),
      (SELECT epoch_ms(max(window_end)) FROM windows)`);
    const [events, windows, sessions, alerts, late, windowEnd] = counts.map(Number);
    expect([sum('events'), sum('windows'), sum('sessions'), sum('alerts'), sum('lateEvents')]).toEqual([
      events,
      windows,
      sessions,
      alerts,
      late,
    ]);
    expect(sum('events') + sum('invalid')).toBe(records.length);
    expect(sum('alerts')).toBe(injectedAnomalies(options).length);
    expect(Math.max(...checkpoints.map((c) => c.latestWindowEnd ?? 0))).toBe(windowEnd);
  });

  it('counts the records behind a checkpoint on the real stream, all of a shard from none, and stops at a cap', async () => {
    const kinesis = kinesisClient(clientOptionsFor(pipeline.emulators, 'kinesis'));
    const dynamo = dynamoClient(clientOptionsFor(pipeline.emulators, 'dynamodb'));
    const { resources } = pipeline.runtime;
    let retained = 0;
    for (const shardId of ['shardId-000000000000', 'shardId-000000000001']) {
      const checkpoint = await readCheckpoint(dynamo, {
        tableName: resources.tableName,
        streamName: resources.streamName,
        shardId,
      });
      const behind = (after: string | null, cap?: number) =>
        countRecordsBehind(kinesis, resources.streamName, shardId, after, cap);
      expect(await behind(checkpoint.lastCommittedSequenceNumber)).toEqual({ count: 0, complete: true });
      const all = await behind(null);
      expect(all.count).toBe(checkpoint.committedRecords);
      expect(await behind(null, 10)).toEqual({ count: 10, complete: false });
      retained += all.count;
    }
    expect(retained).toBe(records.length);
  });

  it("keeps each shard's state in one S3 snapshot that its checkpoint refers to, and nothing but the checkpoint in the table", async () => {
    const dynamo = dynamoClient(clientOptionsFor(pipeline.emulators, 'dynamodb'));
    const s3 = s3Client(clientOptionsFor(pipeline.emulators, 's3'));
    const { resources } = pipeline.runtime;
    const shardId = 'shardId-000000000000';
    const { Items = [] } = await dynamo.send(
      new QueryCommand({
        TableName: resources.tableName,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': { S: `${resources.streamName}#${shardId}` } },
      }),
    );
    expect(Items.map((i) => i.sk?.S)).toEqual(['checkpoint']);
    const checkpoint = await readCheckpoint(dynamo, {
      tableName: resources.tableName,
      streamName: resources.streamName,
      shardId,
    });
    expect(checkpoint.stateKey).toMatch(new RegExp(`^state/${shardId}/.+\\.snapshot$`));
    const loaded = await loadAnalyticsState(s3, resources.bucketName, checkpoint.stateKey, null);
    expect(loaded.state.users.size).toBeGreaterThan(0);
    expect(loaded.state.counters.events).toBeGreaterThan(0);
  });
});
