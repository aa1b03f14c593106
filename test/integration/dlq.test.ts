import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetRecordsCommand, GetShardIteratorCommand, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, describe, expect, it } from 'vitest';
import { holdDeadLetters, readDeadLetters } from '../../cli/deadLetters';
import { redrive } from '../../cli/dlq/redrive';
import { dynamoClient, kinesisClient, s3Client, sqsClient } from '../../lambdas/shared/clients';
import { resourceNames } from '../../lambdas/shared/naming';
import { buildApp } from '../../lib/app';
import { clientOptionsFor, startEmulators } from '../../local/emulators';
import { provision } from '../../local/provision';
import { describeStack } from '../../local/template';
import { runCli } from '../helpers/cli';
import { startUp, type UpProcess } from '../helpers/upProcess';

const root = mkdtempSync(join(tmpdir(), 'shardline-dlq-'));
let up: UpProcess | undefined;
afterAll(async () => {
  await up?.stop();
  rmSync(root, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const json = async (args: string[]) => {
  const run = await runCli([...args, '--json']);
  if (run.code !== 0) throw new Error(`shardline ${args.join(' ')} failed: ${run.stderr}`);
  return JSON.parse(run.stdout);
};

async function waitForCommitted(dataDir: string, target: number) {
  for (const deadline = Date.now() + 90_000; Date.now() < deadline; await sleep(300)) {
    const status = await json(['status', '--data-dir', dataDir]);
    const committed = status.shards.reduce(
      (sum: number, s: { committedRecords: number }) => sum + s.committedRecords,
      0,
    );
    if (committed >= target) return committed;
  }
  throw new Error(`fewer than ${target} records committed`);
}

describe('shardline dlq on a running pipeline', () => {
  it('lists and shows invalid records, redrives the fixable ones exactly once, and verify stays clean', async () => {
    const dataDir = join(root, 'up');
    up = await startUp(dataDir);
    await json([
      'produce',
      '--events',
      '400',
      '--invalid-ratio',
      '0.1',
      '--seed',
      '5',
      '--data-dir',
      dataDir,
    ]);
    await waitForCommitted(dataDir, 400);

    const listed = await json(['dlq', 'list', '--limit', '1000', '--data-dir', dataDir]);
    expect(listed.entries).toHaveLength(40);
    expect(new Set(listed.entries.map((e: { kind: string }) => e.kind))).toEqual(new Set(['invalid-record']));

    const missingField = listed.entries.find((e: { reason: string }) => /user_id/.test(e.reason));
    const shown = await json(['dlq', 'show', missingField.id, '--data-dir', dataDir]);
    expect(shown.recordId).toBe(missingField.id);
    expect(JSON.parse(shown.payload).user_id).toBeUndefined();

    // Fixes two of the four broken kinds; leaves truncated JSON and unknown event types alone.
    const fix = join(root, 'fix.mjs');
    writeFileSync(
      fix,
      `export default (record) => {
        if (typeof record !== 'object' || record === null || record.event_type === 'teleport') return null;
        if (typeof record.occurred_at === 'number') record.occurred_at = new Date(record.occurred_at * 1000).toISOString();
        if (record.schema_version === 'one') record.schema_version = 1;
        if (record.user_id === undefined) record.user_id = 'u-redriven';
        return record;
      };`,
    );
    const first = await json(['dlq', 'redrive', '--fix', fix, '--data-dir', dataDir]);
    expect(first.summary.redriven).toBe(20);
    expect(first.summary['left: fix returned null']).toBe(20);

    await waitForCommitted(dataDir, 420);
    const second = await json(['dlq', 'redrive', '--fix', fix, '--data-dir', dataDir]);
    expect(second.summary.redriven ?? 0).toBe(0);
    expect((await json(['dlq', 'list', '--data-dir', dataDir])).entries).toHaveLength(20);

    const rows = await json([
      'query',
      "SELECT count(*) AS n, count(*) FILTER (WHERE user_id = 'u-redriven') AS fixed FROM events",
      '--data-dir',
      dataDir,
    ]);
    expect(rows[0]).toEqual({ n: 380, fixed: 10 });

    const verify = await runCli(['verify', '--json', '--data-dir', dataDir]);
    const report = JSON.parse(verify.stdout);
    expect(verify.code).toBe(0);
    expect(report.outputs.find((o: { output: string }) => o.output.startsWith('DLQ')).excused).toBe(20);
  }, 240_000);
});

describe('redriving an on-failure batch', () => {
  it('re-reads its sequence range from the stream, puts it back once, and deletes the message', async () => {
    const running = await startEmulators({ dataDir: join(root, 'emulators') });
    try {
      const outdir = join(root, 'cdk.out');
      const names = resourceNames('dlqtest');
      const stack = buildApp({ stage: 'dlqtest', outdir, bundling: false, validation: false })
        .app.synth()
        .getStackByName(names.stackName);
      const resolved = await provision(describeStack(stack.template, { cdkOutDir: outdir }), running);
      const dlqUrl = Object.values(resolved).find((r) => r.type === 'AWS::SQS::Queue')?.ref ?? '';
      const kinesis = kinesisClient(clientOptionsFor(running, 'kinesis'));
      const sqs = sqsClient(clientOptionsFor(running, 'sqs'));
      const put = await kinesis.send(
        new PutRecordsCommand({
          StreamName: names.streamName,
          Records: Array.from({ length: 6 }, (_, i) => ({
            Data: new TextEncoder().encode(`{"n":${i}}`),
            PartitionKey: 'same-key',
          })),
        }),
      );
      const shardId = put.Records?.[0]?.ShardId ?? '';
      const seqs = (put.Records ?? []).map((r) => r.SequenceNumber ?? '');
      const message = {
        requestContext: {
          requestId: 'r',
          functionArn: 'arn',
          condition: 'RetryAttemptsExhausted',
          approximateInvokeCount: 4,
        },
        responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
        version: '1.0',
        timestamp: new Date().toISOString(),
        KinesisBatchInfo: {
          shardId,
          startSequenceNumber: seqs[1],
          endSequenceNumber: seqs[3],
          approximateArrivalOfFirstRecord: new Date().toISOString(),
          approximateArrivalOfLastRecord: new Date().toISOString(),
          batchSize: 3,
          streamArn: 'arn:aws:kinesis:us-east-1:000000000000:stream/x',
        },
      };
      await sqs.send(new SendMessageCommand({ QueueUrl: dlqUrl, MessageBody: JSON.stringify(message) }));
      const context = {
        kinesis,
        dynamo: dynamoClient(clientOptionsFor(running, 'dynamodb')),
        s3: s3Client(clientOptionsFor(running, 's3')),
        sqs,
        streamName: names.streamName,
        tableName: names.tableName,
        bucketName: `${names.bucketNamePrefix}-000000000000-us-east-1`,
        dlqUrl,
      };

      const reports = await redrive(context, await holdDeadLetters(sqs, dlqUrl), { kind: 'all' });
      expect(reports).toEqual([
        { id: `${shardId}:${seqs[1]}-${seqs[3]}`, kind: 'on-failure', outcome: 'redriven', records: 3 },
      ]);
      expect((await readDeadLetters(sqs, dlqUrl)).onFailure).toHaveLength(0);

      const { ShardIterator } = await kinesis.send(
        new GetShardIteratorCommand({
          StreamName: names.streamName,
          ShardId: shardId,
          ShardIteratorType: 'TRIM_HORIZON',
        }),
      );
      const all = await kinesis.send(new GetRecordsCommand({ ShardIterator }));
      const payloads = (all.Records ?? []).map((r) => new TextDecoder().decode(r.Data));
      expect(payloads).toEqual([
        '{"n":0}',
        '{"n":1}',
        '{"n":2}',
        '{"n":3}',
        '{"n":4}',
        '{"n":5}',
        '{"n":1}',
        '{"n":2}',
        '{"n":3}',
      ]);

      // The same message delivered again (a redrive that crashed before deleting it) is not put back twice.
      await sqs.send(new SendMessageCommand({ QueueUrl: dlqUrl, MessageBody: JSON.stringify(message) }));
      const again = await redrive(context, await holdDeadLetters(sqs, dlqUrl), { kind: 'all' });
      expect(again.map((r) => r.outcome)).toEqual(['already-redriven']);
      expect((await readDeadLetters(sqs, dlqUrl)).onFailure).toHaveLength(0);
    } finally {
      await running.stop();
    }
  });
});
