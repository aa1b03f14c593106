/**
 * The failure store end to end on the real emulators: failed batches written by the event source mapping
 * to the S3 on-failure destination (records included), `dlq list`, `dlq redrive` (idempotent, `--dry-run`,
 * `--since`, never a record a commit covers, each record once across a put that fails part way and its
 * rerun) and `verify`'s failure-store category.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateStreamCommand,
  DeleteStreamCommand,
  DescribeStreamSummaryCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type KinesisClient,
  ListShardsCommand,
  type PutRecordsCommandInput,
  type PutRecordsCommandOutput,
  type PutRecordsRequestEntry,
  ResourceNotFoundException,
} from '@aws-sdk/client-kinesis';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, describe, expect, it } from 'vitest';
import { readFailedBatches } from '../../cli/dlq/failureStore';
import { redriveFailedBatches } from '../../cli/dlq/redrive';
import { ledgerStatus, redrivenIds } from '../../cli/dlq/redriveLedger';
import type { VerifyTargetReport } from '../../cli/verify/verifyTarget';
import { putCommitRecord } from '../../lambdas/consumer/commitRecord';
import { dynamoClient, kinesisClient, s3Client, sqsClient } from '../../lambdas/shared/clients';
import { resourceNames } from '../../lambdas/shared/naming';
import { buildApp } from '../../lib/app';
import { clientOptionsFor, startEmulators } from '../../local/emulators';
import {
  buildOnFailureMessage,
  prepareEventRecord,
  s3OnFailureObject,
  s3OnFailureObjectKey,
} from '../../local/esm';
import { type FaultProxy, startFaultProxy } from '../../local/faultProxy';
import { provision } from '../../local/provision';
import { describeStack } from '../../local/template';
import { runCli } from '../helpers/cli';
import { type PipelineHarness, startHarness } from '../soak/harness';

const root = mkdtempSync(join(tmpdir(), 'shardline-failure-store-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function cliJson(args: string[]) {
  const run = await runCli([...args, '--json']);
  if (run.code !== 0) throw new Error(`shardline ${args.join(' ')} failed (${run.code}): ${run.stderr}`);
  return JSON.parse(run.stdout);
}

async function shardRecords(kinesis: KinesisClient, streamName: string, shardId: string) {
  const { ShardIterator } = await kinesis.send(
    new GetShardIteratorCommand({
      StreamName: streamName,
      ShardId: shardId,
      ShardIteratorType: 'TRIM_HORIZON',
    }),
  );
  const { Records = [] } = await kinesis.send(new GetRecordsCommand({ ShardIterator }));
  return Records.map((record) => new TextDecoder().decode(record.Data));
}

/** Deletes the stream and creates it again, empty, as if its retention had trimmed every record. */
async function recreateStream(kinesis: KinesisClient, streamName: string, shardCount: number) {
  await kinesis.send(new DeleteStreamCommand({ StreamName: streamName }));
  for (;;) {
    try {
      await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: streamName }));
      await sleep(50);
    } catch (error) {
      if (error instanceof ResourceNotFoundException) break;
      throw error;
    }
  }
  await kinesis.send(new CreateStreamCommand({ StreamName: streamName, ShardCount: shardCount }));
  for (;;) {
    const { StreamDescriptionSummary } = await kinesis.send(
      new DescribeStreamSummaryCommand({ StreamName: streamName }),
    );
    if (StreamDescriptionSummary?.StreamStatus === 'ACTIVE') return;
    await sleep(50);
  }
}

/**
 * Refuses, as a throttled shard does, every PutRecords entry whose partition key `refused` holds (the
 * others go to the emulator), while it holds any.
 */
function refuseEntries(kinesis: KinesisClient, refused: Set<string>) {
  kinesis.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as PutRecordsCommandInput;
      if (context.commandName !== 'PutRecordsCommand' || refused.size === 0) return next(args);
      const isRefused = (entry: PutRecordsRequestEntry) => refused.has(entry.PartitionKey ?? '');
      const sent = (input.Records ?? []).filter((entry) => !isRefused(entry));
      const result =
        sent.length > 0
          ? await next({ ...args, input: { ...input, Records: sent } })
          : { response: {}, output: { Records: [], $metadata: {} } };
      const output = result.output as PutRecordsCommandOutput;
      const accepted = [...(output.Records ?? [])];
      const Records = (input.Records ?? []).map((entry) =>
        isRefused(entry)
          ? { ErrorCode: 'ProvisionedThroughputExceededException', ErrorMessage: 'Rate exceeded for shard' }
          : (accepted.shift() ?? {}),
      );
      const FailedRecordCount = Records.filter((entry) => entry.ErrorCode).length;
      return { ...result, output: { ...output, FailedRecordCount, Records } };
    },
    { step: 'initialize', name: 'refuseEntries' },
  );
}

/** The emulators with the stack of `stage` provisioned, a context to redrive with, and failed batches to store. */
async function provisionedStage(stage: string) {
  const running = await startEmulators({ dataDir: join(root, `emulators-${stage}`) });
  const kinesis = kinesisClient(clientOptionsFor(running, 'kinesis'));
  const s3 = s3Client(clientOptionsFor(running, 's3'));
  const outdir = join(root, 'cdk.out');
  const names = resourceNames(stage);
  const stack = buildApp({ stage, outdir, bundling: false, validation: false })
    .app.synth()
    .getStackByName(names.stackName);
  const resolved = await provision(describeStack(stack.template, { cdkOutDir: outdir }), running);
  const bucketOf = (prefix: string) =>
    Object.values(resolved).find((r) => r.type === 'AWS::S3::Bucket' && r.ref.startsWith(prefix))?.ref ?? '';
  const lakeBucket = bucketOf(names.bucketNamePrefix);
  const failuresBucket = bucketOf(`${names.prefix}-fail-`);
  const streamArn = `arn:aws:kinesis:us-east-1:000000000000:stream/${names.streamName}`;
  const shardId = 'shardId-000000000000';
  const source = { shardId, streamArn, awsRegion: 'us-east-1', invokeIdentityArn: 'arn:aws:iam::0:role/r' };
  // Records the stream no longer has: only the failure store does (sequence numbers of a past stream).
  const recordsNumbered = (...numbers: number[]) =>
    numbers.map((n) =>
      prepareEventRecord(
        {
          sequenceNumber: `4960000000000000000000000000000000000000000000000000${n}`,
          partitionKey: `k${n}`,
          data: new TextEncoder().encode(`{"n":${n}}`),
          approximateArrivalTimestampMs: Date.parse('2026-11-01T00:00:00Z') + n,
        },
        source,
      ),
    );
  const storeBatch = async (batch: ReturnType<typeof recordsNumbered>, failedAt: Date) => {
    const message = buildOnFailureMessage({
      functionArn: 'arn:aws:lambda:us-east-1:000000000000:function:consumer',
      condition: 'RecordAgeExceeded',
      approximateInvokeCount: 1,
      discardedAt: failedAt,
      shardId,
      streamArn,
      records: batch.map((record) => record.source),
    });
    await s3.send(
      new PutObjectCommand({
        Bucket: failuresBucket,
        Key: s3OnFailureObjectKey('mapping-uuid', shardId, failedAt),
        Body: JSON.stringify(
          s3OnFailureObject(
            message,
            batch.map((record) => record.event),
          ),
        ),
      }),
    );
  };
  const context = {
    kinesis,
    dynamo: dynamoClient(clientOptionsFor(running, 'dynamodb')),
    s3,
    sqs: sqsClient(clientOptionsFor(running, 'sqs')),
    streamName: names.streamName,
    tableName: names.tableName,
    bucketName: lakeBucket,
    dlqUrl: '',
  };
  const { Shards = [] } = await kinesis.send(new ListShardsCommand({ StreamName: names.streamName }));
  const onStream = async () =>
    (await Promise.all(Shards.map((s) => shardRecords(kinesis, names.streamName, s.ShardId ?? '')))).flat();
  const stop = async () => {
    kinesis.destroy();
    s3.destroy();
    await running.stop();
  };
  return { names, shardId, lakeBucket, failuresBucket, recordsNumbered, storeBatch, context, onStream, stop };
}

describe('redriving from the failure store', () => {
  it('puts back only the records no commit covers, once, with --dry-run and --since honoured', async () => {
    const stage = await provisionedStage('fstore');
    const { names, shardId, lakeBucket, failuresBucket, storeBatch, context, onStream } = stage;
    const { s3 } = context;
    try {
      const records = stage.recordsNumbered(11, 12, 13, 14);
      await storeBatch(records, new Date('2026-12-01T10:00:00Z'));
      await storeBatch(records.slice(0, 1), new Date('2026-11-20T10:00:00Z'));
      // The consumer committed records 11 and 12 after the mapping gave up on them (the response was lost).
      await putCommitRecord(s3, lakeBucket, {
        format: 1,
        streamName: names.streamName,
        shardId,
        attemptId: 'lost-response',
        firstSequenceNumber: records[0]?.source.sequenceNumber as string,
        lastSequenceNumber: records[1]?.source.sequenceNumber as string,
        records: 2,
        keys: [],
        rows: { events: 2, invalid: 0, windows: 0, sessions: 0, alerts: 0, lateEvents: 0, engagement: 0 },
        committedAt: Date.now(),
      });

      const since = new Date('2026-11-25T00:00:00Z');
      const recent = await readFailedBatches(s3, failuresBucket, { since });
      expect(recent.map((batch) => batch.records.length)).toEqual([4]);
      expect(await readFailedBatches(s3, failuresBucket)).toHaveLength(2);

      const dryRun = await redriveFailedBatches(context, recent, { dryRun: true });
      expect(dryRun.map((r) => [r.outcome, r.records, r.committed])).toEqual([['would redrive', 2, 2]]);
      expect(await onStream()).toEqual([]);

      const first = await redriveFailedBatches(context, recent);
      expect(first.map((r) => [r.outcome, r.records, r.committed])).toEqual([['redriven', 2, 2]]);
      expect((await onStream()).sort()).toEqual(['{"n":13}', '{"n":14}']);

      const all = await readFailedBatches(s3, failuresBucket);
      const second = await redriveFailedBatches(context, all);
      expect(second.map((r) => r.outcome).sort()).toEqual(['already-redriven', 'skipped: already committed']);
      expect((await onStream()).sort()).toEqual(['{"n":13}', '{"n":14}']);
    } finally {
      await stage.stop();
    }
  }, 120_000);

  it('marks nothing after a put that fails part way, and the rerun puts back only what is missing', async () => {
    const stage = await provisionedStage('fpartial');
    const { failuresBucket, storeBatch, onStream } = stage;
    const context = { ...stage.context, retryPolicy: { maxAttempts: 3, baseDelayMs: 0, maxDelayMs: 0 } };
    try {
      await storeBatch(stage.recordsNumbered(21, 22, 23, 24), new Date('2026-12-01T10:00:00Z'));
      const batches = await readFailedBatches(context.s3, failuresBucket);
      const refused = new Set(['k22', 'k24']);
      refuseEntries(context.kinesis, refused);

      await expect(redriveFailedBatches(context, batches)).rejects.toThrow(
        /^2 of 4 record\(s\) were not accepted by Kinesis; the ledger was not marked redriven/,
      );
      expect((await onStream()).sort()).toEqual(['{"n":21}', '{"n":23}']);
      const ledger = { dynamo: context.dynamo, tableName: context.tableName };
      expect(await ledgerStatus(ledger, batches[0]?.id ?? '')).toBe('putting');
      expect(await redrivenIds(ledger)).toEqual(new Set());

      refused.clear();
      const rerun = await redriveFailedBatches(context, batches);
      expect(rerun.map((r) => [r.outcome, r.records])).toEqual([['redriven', 4]]);
      expect((await onStream()).sort()).toEqual(['{"n":21}', '{"n":22}', '{"n":23}', '{"n":24}']);
      expect(await redrivenIds(ledger)).toEqual(new Set([batches[0]?.id]));
    } finally {
      await stage.stop();
    }
  }, 120_000);
});

describe('a consumer that fails longer than the stream keeps its records', () => {
  let harness: PipelineHarness | undefined;
  let proxy: FaultProxy | undefined;
  afterAll(async () => {
    await harness?.stop();
    await proxy?.close();
  });

  it('loses nothing: the failed batches wait in S3, and a redrive restores every record exactly once', async () => {
    const dataDir = join(root, 'pipeline');
    const EVENTS = 6;
    harness = await startHarness({
      stage: 'fstore',
      dataDir,
      pollIntervalMs: 200,
      retryBackoffMs: 100,
      functionEndpoints: async (emulators) => {
        proxy = await startFaultProxy({ upstream: emulators.endpoints, seed: 7 });
        return proxy.endpoints;
      },
    });
    // The consumer's bucket is unwritable: every batch fails until the mapping gives up on it.
    proxy?.setRules([
      {
        service: 's3',
        fault: { kind: 'error', status: 403, code: 'AccessDenied', message: 'the lake is not writable' },
        rate: 1,
      },
    ]);
    const { sent } = await harness.produce({ count: EVENTS, seed: 3, invalidRatio: 0.34 });
    expect(sent).toBe(EVENTS);
    // A batch of invalid records only still commits (they go to the SQS DLQ, not the lake): every other
    // record ends in the failure store once the mapping gives up (RetryAttemptsExhausted, after bisecting).
    const mapping = harness.pipeline.mapping;
    const discarded = () => mapping.stats().shards.reduce((sum, s) => sum + s.recordsSentToOnFailure, 0);
    for (const deadline = Date.now() + 90_000; Date.now() < deadline; await sleep(200)) {
      if (discarded() + (await harness.committedRecords()) >= EVENTS) break;
    }
    const failed = discarded();
    expect(failed + (await harness.committedRecords())).toBe(EVENTS);
    expect(failed).toBeGreaterThan(0);
    proxy?.setRules([]);
    const { runtime } = harness.pipeline;
    const failuresBucket = runtime.resources.failuresBucketName as string;
    expect(failuresBucket).toMatch(/-fail-/);

    // The stream's copy goes away (as after its retention), and with it the mapping's checkpoints.
    await harness.stop({ keep: true });
    harness = undefined;
    const emulators = await startEmulators({ dataDir });
    const kinesis = kinesisClient(clientOptionsFor(emulators, 'kinesis'));
    await recreateStream(kinesis, runtime.resources.streamName, 2);
    kinesis.destroy();
    await emulators.stop();
    await rm(join(dataDir, 'esm'), { recursive: true, force: true });

    harness = await startHarness({ stage: 'fstore', dataDir, pollIntervalMs: 200, retryBackoffMs: 100 });
    const before = (await harness.verify()) as VerifyTargetReport;
    expect(before.streamRecords).toBe(0);
    expect(before.failureStore).toEqual({
      batches: expect.any(Number),
      records: failed,
      beyondStream: failed,
    });

    const listed = await cliJson(['dlq', 'list', '--kind', 'on-failure', '--data-dir', dataDir]);
    const failedBatches = listed.entries.filter((e: { kind: string }) => e.kind === 'failed-batch');
    expect(failedBatches.reduce((sum: number, e: { records: number }) => sum + e.records, 0)).toBe(failed);
    expect(failedBatches.every((e: { ageMs: number }) => e.ageMs >= 0 && e.ageMs < 600_000)).toBe(true);

    // The checkpoints still count what was committed before the stream was recreated.
    const committedBefore = await harness.committedRecords();
    const dryRun = await cliJson(['dlq', 'redrive', '--dry-run', '--data-dir', dataDir]);
    expect(dryRun.summary['would redrive']).toBe(failedBatches.length);
    const redriven = await cliJson(['dlq', 'redrive', '--data-dir', dataDir]);
    expect(redriven.summary.redriven).toBe(failedBatches.length);
    await harness.waitForCommitted(committedBefore + failed, 60_000);
    const again = await cliJson(['dlq', 'redrive', '--data-dir', dataDir]);
    expect(again.summary.redriven ?? 0).toBe(0);
    expect(again.summary['already-redriven']).toBe(failedBatches.length);

    const after = (await harness.verify()) as VerifyTargetReport;
    expect(after.streamRecords).toBe(failed);
    expect(after.failureStore).toMatchObject({ records: 0 });
    for (const output of after.outputs) {
      expect(output, output.output).toMatchObject({ missing: 0, duplicated: 0, unexpected: 0 });
      // Rows of the old stream (its invalid records, committed before it was recreated) are beyond retention.
      expect(output.found - output.beyondRetention, output.output).toBe(output.expected);
    }
    expect(after.outputs[0]?.expected).toBe(after.valid);
    expect(after.valid).toBeGreaterThan(0);
    expect(after.ok).toBe(true);
  }, 240_000);
});
