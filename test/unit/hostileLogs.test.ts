import { DynamoDBClient, GetItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { DeleteObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { KinesisStreamEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { kinesisEvent, kinesisRecord, validEventJson } from '../helpers/kinesisEvents';

/**
 * Secrets and payload contents never appear in the consumer's logs at INFO, the level the stack sets
 * (POWERTOOLS_LOG_LEVEL): the real handler module, its Powertools logger writing to stdout and stderr as
 * in Lambda, with the AWS clients mocked. The same is checked end to end on the local pipeline's log
 * files in test/integration/securityHostileInput.test.ts.
 */
const SECRETS = ['AKIAIOSFODNN7EXAMPLE', 'sk_live_51Hh4rdS3cretValue', 'hunter2-correct-horse-battery'];
const shard = 'shardId-000000000000';
const dynamo = mockClient(DynamoDBClient);
const s3 = mockClient(S3Client);
const sqs = mockClient(SQSClient);

const batch: KinesisStreamEvent = kinesisEvent([
  kinesisRecord(shard, '1', validEventJson(1, { user_id: `user-${SECRETS[0]}` }), `acme#${SECRETS[0]}`),
  kinesisRecord(
    shard,
    '2',
    validEventJson(2, { event_type: 'page_view', payload: { url: `/login?token=${SECRETS[1]}` } }),
  ),
  kinesisRecord(shard, '3', `{"password":"${SECRETS[2]}","api_key":"${SECRETS[0]}"`),
  kinesisRecord(shard, '4', validEventJson(4, { user_id: SECRETS[2], occurred_at: '1970-01-01T00:00:00Z' })),
]);

let handler: (event: KinesisStreamEvent) => Promise<unknown>;
let written: string[] = [];

beforeAll(async () => {
  vi.stubEnv('POWERTOOLS_LOG_LEVEL', 'INFO');
  vi.stubEnv('POWERTOOLS_SERVICE_NAME', 'shardline-consumer');
  vi.stubEnv('POWERTOOLS_DEV', '');
  vi.stubEnv('AWS_REGION', 'us-east-1');
  vi.stubEnv('BUCKET_NAME', 'lake');
  vi.stubEnv('TABLE_NAME', 'state');
  vi.stubEnv('DLQ_URL', 'http://127.0.0.1/000000000000/dlq');
  vi.stubEnv('STREAM_NAME', 'events');
  vi.stubEnv('SHARDLINE_STAGE', 'test');
  for (const stream of [process.stdout, process.stderr]) {
    const original = stream.write.bind(stream);
    vi.spyOn(stream, 'write').mockImplementation(((chunk: string | Uint8Array, ...rest: unknown[]) => {
      written.push(String(chunk));
      return (original as (...args: unknown[]) => boolean)(chunk, ...rest);
    }) as typeof stream.write);
  }
  ({ handler } = await import('../../lambdas/consumer/handler'));
});

beforeEach(() => {
  written = [];
  for (const mock of [dynamo, s3, sqs]) mock.reset();
  dynamo.on(GetItemCommand).resolves({});
  dynamo.on(UpdateItemCommand).resolves({});
  s3.on(PutObjectCommand).resolves({});
  s3.on(DeleteObjectCommand).resolves({});
  // A fresh shard: no commit records, so its missing checkpoint is not a lost one.
  s3.on(ListObjectsV2Command).resolves({ KeyCount: 0, Contents: [] });
  sqs.on(SendMessageBatchCommand).resolves({ Successful: [], Failed: [] });
});

afterAll(() => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
  for (const mock of [dynamo, s3, sqs]) mock.restore();
});

/** The structured log lines the handler wrote (Powertools JSON), not the EMF metric documents. */
function logLines(): Array<Record<string, unknown>> {
  return written
    .flatMap((chunk) => chunk.split('\n'))
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((entry) => !('_aws' in entry));
}

describe('the consumer logs at INFO', () => {
  it('name no secret from a payload, a partition key or an invalid record when a batch commits', async () => {
    await handler(batch);

    const lines = logLines();
    expect(lines.map((line) => line.message)).toContain('committed');
    expect(lines.every((line) => line.level !== 'DEBUG')).toBe(true);
    for (const secret of SECRETS) expect(written.join('').includes(secret), secret).toBe(false);
  });

  it('name no secret when the batch fails and the error is logged', async () => {
    s3.on(PutObjectCommand).rejects(
      Object.assign(new Error('We encountered an internal error'), { name: 'InternalError' }),
    );

    await expect(handler(batch)).rejects.toThrow();

    const levels = logLines().map((line) => line.level);
    expect(levels).toContain('ERROR');
    for (const secret of SECRETS) expect(written.join('').includes(secret), secret).toBe(false);
  });

  it('send the secrets only where they belong: the lake objects and the DLQ message', async () => {
    await handler(batch);

    const objects = s3
      .commandCalls(PutObjectCommand)
      .map((call) => Buffer.from(call.args[0].input.Body as Uint8Array));
    const messages = sqs
      .commandCalls(SendMessageBatchCommand)
      .flatMap((call) => call.args[0].input.Entries ?? []);
    expect(objects.some((body) => body.includes(SECRETS[1] as string))).toBe(true);
    expect(messages).toHaveLength(2);
  });
});

describe('the consumer handler', () => {
  it('refuses a ParallelizationFactor above 1 before any AWS call, with the reason in an ERROR log', async () => {
    vi.stubEnv('SHARDLINE_PARALLELIZATION_FACTOR', '2');
    try {
      await expect(handler(batch)).rejects.toThrow(/ParallelizationFactor is 2/);
    } finally {
      vi.stubEnv('SHARDLINE_PARALLELIZATION_FACTOR', '');
    }
    expect(dynamo.calls()).toHaveLength(0);
    expect(s3.calls()).toHaveLength(0);
    expect(logLines().some((line) => line.level === 'ERROR')).toBe(true);
  });
});
