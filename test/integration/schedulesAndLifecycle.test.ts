import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { s3Client } from '../../lambdas/shared/clients';
import { STAGING_EXPIRATION_DAYS } from '../../lambdas/shared/lakeLayout';
import { resourceNames } from '../../lambdas/shared/naming';
import { buildApp } from '../../lib/app';
import { clientOptionsFor } from '../../local/emulators';
import { createFunctionHost } from '../../local/lambda';
import { type LocalPipeline, startLocalPipeline } from '../../local/pipeline';
import { describeScheduleRules, startScheduleRunner } from '../../local/resources/eventsRule';
import { readRuntime } from '../../local/runtimeState';

/**
 * The template's scheduled rule and the lake bucket's lifecycle rule, run by the local runtime on the
 * real emulators: EventBridge and S3 lifecycle have no emulator, so `shardline up` does their part.
 */
const PROJECT_ROOT = resolve(import.meta.dirname, '../..');
const STAGE = 'sched';
const names = resourceNames(STAGE);
const DAY_MS = 86_400_000;

describe('a scheduled rule read from a template, with a real function host', () => {
  it('invokes its target with the event EventBridge sends', async () => {
    const template = {
      Resources: {
        Echo: { Type: 'AWS::Lambda::Function', Properties: {} },
        EveryMinute: {
          Type: 'AWS::Events::Rule',
          Properties: {
            ScheduleExpression: 'rate(1 minute)',
            Targets: [{ Id: 'Target0', Arn: { 'Fn::GetAtt': ['Echo', 'Arn'] } }],
          },
        },
      },
    };
    const host = createFunctionHost({
      functionName: 'echo',
      assetPath: join(PROJECT_ROOT, 'test/fixtures/handlers'),
      handler: 'echo.handler',
      environment: { AWS_REGION: 'us-east-1' },
      timeoutSeconds: 10,
      memoryMb: 128,
    });
    const runner = startScheduleRunner({
      rules: describeScheduleRules(template as never, 'Fixture'),
      region: 'us-east-1',
      accountId: '000000000000',
      invoke: (logicalId, event) => {
        expect(logicalId).toBe('Echo');
        return host.invoke(event);
      },
    });
    try {
      const [run] = await runner.runNow();
      expect(run?.outcome.ok).toBe(true);
      const echoed = (run?.outcome as { result?: { event: unknown } } | undefined)?.result?.event;
      expect(echoed).toEqual(run?.event);
      expect(echoed).toMatchObject({
        'detail-type': 'Scheduled Event',
        source: 'aws.events',
        resources: ['arn:aws:events:us-east-1:000000000000:rule/Fixture-EveryMinute'],
        detail: {},
      });
    } finally {
      await runner.stop();
      await host.stop();
    }
  }, 30_000);
});

describe('the Shardline stack on the local pipeline', () => {
  let dataDir: string;
  let pipeline: LocalPipeline;
  let s3: S3Client;
  let bucket: string;
  let clockOffsetMs = 0;
  const logs: string[] = [];

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'shardline-schedules-'));
    const cdkOutDir = join(dataDir, 'cdk.out');
    buildApp({ stage: STAGE, outdir: cdkOutDir, bundling: true, validation: false }).app.synth();
    pipeline = await startLocalPipeline({
      dataDir,
      stage: STAGE,
      cdkOutDir,
      synth: false,
      now: () => Date.now() + clockOffsetMs,
      log: (line) => logs.push(line),
    });
    s3 = s3Client(clientOptionsFor(pipeline.emulators, 's3'));
    bucket = pipeline.runtime.resources.bucketName;
  }, 180_000);

  afterAll(async () => {
    s3?.destroy();
    await pipeline?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('lists the publisher in runtime.json', () => {
    expect(readRuntime(dataDir).functions.publisher).toMatchObject({
      name: names.publisherFunctionName,
      environment: expect.objectContaining({ BUCKET_NAME: bucket }),
    });
  });

  it('runs the publisher from the template’s schedule rule when asked to run it now', async () => {
    const runs = await pipeline.schedules.runNow();
    expect(runs).toHaveLength(1);
    const [run] = runs;
    expect(run?.event).toMatchObject({ 'detail-type': 'Scheduled Event', source: 'aws.events' });
    const requestId = run?.outcome.requestId;
    expect(requestId).toBeDefined();
    // The handler ran in the publisher's own execution environment and finished its (empty) scan.
    expect(logs).toContain(`[${names.publisherFunctionName}] START RequestId: ${requestId} Version: $LATEST`);
    expect(run?.outcome.ok).toBe(true);
  }, 60_000);

  it('expires only staged bundles, and only once the staging rule’s days have passed', async () => {
    const keys = [
      'staging/shardId-000000000000/attempt-a.bundle',
      'state/shardId-000000000000/attempt-a.snapshot',
      'events/parquet/dt=2026-12-01/hour=12/shardId-000000000000-1-2.parquet',
      '_commits/shardId-000000000000/00000000000000000000000000000000000000000000000000000002.json',
    ];
    for (const key of keys) await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: key }));
    const listed = async () =>
      ((await s3.send(new ListObjectsV2Command({ Bucket: bucket }))).Contents ?? []).map((o) => o.Key).sort();

    clockOffsetMs = (STAGING_EXPIRATION_DAYS - 1) * DAY_MS;
    expect(await pipeline.lifecycle.sweepNow()).toEqual([]);

    clockOffsetMs = (STAGING_EXPIRATION_DAYS + 1) * DAY_MS;
    expect(await pipeline.lifecycle.sweepNow()).toEqual([`${bucket}/${keys[0]}`]);
    expect(await listed()).toEqual(keys.slice(1).sort());

    // A year on, nothing else has a rule: snapshots, final objects and commit records stay.
    clockOffsetMs = 365 * DAY_MS;
    expect(await pipeline.lifecycle.sweepNow()).toEqual([]);
    expect(await listed()).toEqual(keys.slice(1).sort());
  }, 60_000);
});
