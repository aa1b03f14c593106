import {
  ConditionalCheckFailedException,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { DeleteObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { KinesisStreamRecord } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { CheckpointConflictError } from '../../lambdas/consumer/checkpoint';
import { processKinesisEvent } from '../../lambdas/consumer/processBatch';
import { SWEEP_DELAY_MS } from '../../lambdas/consumer/sweep';
import { kinesisEvent, kinesisRecord, validEventJson } from '../helpers/kinesisEvents';

/**
 * The consumer's AWS calls, step by step, with every client mocked. The crash-and-replay behaviour of the
 * protocol is tested against the real emulators in test/integration/exactlyOnce.test.ts.
 */
const dynamo = mockClient(DynamoDBClient);
const s3 = mockClient(S3Client);
const sqs = mockClient(SQSClient);
const shard = 'shardId-000000000000';
const deps = () => ({
  s3: new S3Client({}),
  dynamo: new DynamoDBClient({}),
  sqs: new SQSClient({}),
  config: { bucketName: 'lake', tableName: 'state', dlqUrl: 'http://sqs/dlq', streamName: 'events' },
  now: () => Date.parse('2026-11-01T04:00:00Z'),
  newId: () => 'intent-1',
});
const batch = kinesisEvent([
  kinesisRecord(shard, '100', validEventJson(1)),
  kinesisRecord(shard, '101', '{broken'),
  kinesisRecord(shard, '102', validEventJson(2, { occurred_at: '2026-11-01T05:00:00Z' })),
]);

beforeEach(() => {
  dynamo.reset();
  s3.reset();
  sqs.reset();
  s3.on(PutObjectCommand).resolves({});
  s3.on(DeleteObjectCommand).resolves({});
  sqs
    .on(SendMessageBatchCommand)
    .resolves({ Successful: [{ Id: '0', MessageId: 'm', MD5OfMessageBody: '' }], Failed: [] });
  dynamo.on(UpdateItemCommand).resolves({});
  dynamo.on(PutItemCommand).resolves({});
  dynamo.on(QueryCommand).resolves({ Items: [] });
});
afterAll(() => {
  dynamo.restore();
  s3.restore();
  sqs.restore();
});

describe('processing a batch on a fresh shard', () => {
  it('records an intent, writes Parquet and CSV per partition, dead-letters the invalid record, then commits', async () => {
    dynamo.on(GetItemCommand).resolves({});
    const result = await processKinesisEvent(batch, deps());

    expect(result.batchItemFailures).toEqual([]);
    const updates = dynamo.commandCalls(UpdateItemCommand).map((c) => c.args[0].input);
    expect(updates).toHaveLength(2);
    expect(updates[0]?.ConditionExpression).toBe('attribute_not_exists(pk)');
    expect(updates[0]?.UpdateExpression).toMatch(/SET intent = :intent/);
    expect(updates[1]?.UpdateExpression).toMatch(/SET lastSeq = :last/);
    expect(updates[1]?.ConditionExpression).toMatch(/version = :expected AND intent.id = :intentId/);
    expect(updates[1]?.ExpressionAttributeValues?.[':last']).toEqual({ S: '102' });
    expect(updates[1]?.UpdateExpression).toMatch(
      /ADD committedRecords :count, committedEvents :events, committedInvalid :invalid REMOVE intent$/,
    );
    expect(updates[1]?.ExpressionAttributeValues).toMatchObject({
      ':count': { N: '3' },
      ':events': { N: '2' },
      ':invalid': { N: '1' },
    });

    const keys = s3
      .commandCalls(PutObjectCommand)
      .map((c) => c.args[0].input.Key)
      .sort();
    expect(keys).toEqual([
      `events/csv/dt=2026-11-01/hour=03/${shard}-100-102-v1.csv`,
      `events/csv/dt=2026-11-01/hour=05/${shard}-100-102-v1.csv`,
      `events/parquet/dt=2026-11-01/hour=03/${shard}-100-102-v1.parquet`,
      `events/parquet/dt=2026-11-01/hour=05/${shard}-100-102-v1.parquet`,
    ]);
    const dlqEntries = sqs
      .commandCalls(SendMessageBatchCommand)
      .flatMap((c) => c.args[0].input.Entries ?? []);
    expect(dlqEntries.map((e) => JSON.parse(e.MessageBody ?? '{}').recordId)).toEqual([`${shard}:101`]);
    expect(result.shards[0]).toMatchObject({
      received: 3,
      valid: 2,
      invalid: 1,
      skipped: 0,
      objectsWritten: 4,
    });
  });
});

describe('processing a replayed batch', () => {
  it('skips records at or below the committed checkpoint and writes only the rest', async () => {
    dynamo.on(GetItemCommand).resolves({ Item: { version: { N: '6' }, lastSeq: { S: '101' } } });
    const result = await processKinesisEvent(batch, deps());

    expect(result.shards[0]).toMatchObject({ skipped: 2, valid: 1, invalid: 0 });
    expect(sqs.commandCalls(SendMessageBatchCommand)).toHaveLength(0);
    const keys = s3.commandCalls(PutObjectCommand).map((c) => c.args[0].input.Key);
    expect(keys).toContain(`events/parquet/dt=2026-11-01/hour=05/${shard}-102-102-v7.parquet`);
  });

  it('writes a sequence number that appears twice in the batch once', async () => {
    dynamo.on(GetItemCommand).resolves({});
    const [first, , third] = batch.Records as [KinesisStreamRecord, KinesisStreamRecord, KinesisStreamRecord];
    const twice = kinesisEvent([first, first, third, first, third].map((r) => structuredClone(r)));
    const result = await processKinesisEvent(twice, deps());

    expect(result.shards[0]).toMatchObject({ received: 5, repeated: 3, skipped: 0, valid: 2 });
    const csv = s3
      .commandCalls(PutObjectCommand)
      .filter((c) => c.args[0].input.Key?.endsWith('.csv'))
      .map((c) => Buffer.from(c.args[0].input.Body as Uint8Array).toString());
    expect(csv.join('').match(/,100,/g)).toHaveLength(1);
  });

  it('writes nothing at all when every record is already committed', async () => {
    dynamo.on(GetItemCommand).resolves({ Item: { version: { N: '6' }, lastSeq: { S: '102' } } });
    const result = await processKinesisEvent(batch, deps());
    expect(result.shards[0]?.skipped).toBe(3);
    expect(dynamo.commandCalls(UpdateItemCommand)).toHaveLength(0);
    expect(s3.commandCalls(PutObjectCommand)).toHaveLength(0);
  });

  it('rolls back an unfinished intent before doing anything else', async () => {
    dynamo.on(GetItemCommand).resolves({
      Item: {
        version: { N: '3' },
        lastSeq: { S: '99' },
        intent: {
          M: {
            id: { S: 'old' },
            first: { S: '100' },
            last: { S: '105' },
            keys: { L: [{ S: 'events/a' }, { S: 'events/b' }] },
            startedAt: { N: '0' },
          },
        },
      },
    });
    const result = await processKinesisEvent(batch, deps());

    const deleted = s3.commandCalls(DeleteObjectCommand).map((c) => c.args[0].input.Key);
    expect(deleted).toEqual(['events/a', 'events/b']);
    const updates = dynamo.commandCalls(UpdateItemCommand).map((c) => c.args[0].input);
    // First the fence (the old attempt can no longer commit), then the deletes, then the clear.
    expect(updates[0]?.UpdateExpression).toBe('SET version = :next, fencedBy = :fencer, updatedAt = :now');
    expect(updates[0]?.ConditionExpression).toBe('version = :expected AND intent.id = :intentId');
    expect(updates[0]?.ExpressionAttributeValues?.[':intentId']).toEqual({ S: 'old' });
    expect(updates[1]?.UpdateExpression).toMatch(/REMOVE intent/);
    expect(updates[1]?.ExpressionAttributeValues?.[':expected']).toEqual({ N: '4' });
    expect(result.shards[0]?.rolledBack?.id).toBe('old');
    // The keys are recorded for the late-PUT sweep before they are deleted.
    const sweep = dynamo.commandCalls(PutItemCommand).map((c) => c.args[0].input.Item);
    expect(sweep).toHaveLength(1);
    expect(sweep[0]?.sk).toEqual({ S: 'sweep#old' });
    expect(sweep[0]?.keys).toEqual({ L: [{ S: 'events/a' }, { S: 'events/b' }] });
    expect(Number(sweep[0]?.dueAt?.N)).toBe(Date.parse('2026-11-01T04:00:00Z') + SWEEP_DELAY_MS);
    // The new attempt's token comes after the rollback's write.
    expect(s3.commandCalls(PutObjectCommand)[0]?.args[0].input.Key).toMatch(/-v6\./);
  });
});

describe('the late-PUT sweep', () => {
  it('is not looked for on a shard that never cleared an intent', async () => {
    dynamo.on(GetItemCommand).resolves({ Item: { version: { N: '6' }, lastSeq: { S: '99' } } });
    await processKinesisEvent(batch, deps());
    expect(dynamo.commandCalls(QueryCommand)).toHaveLength(0);
  });

  it('deletes the keys of a due sweep item again on a shard that cleared one', async () => {
    dynamo
      .on(GetItemCommand)
      .resolves({ Item: { version: { N: '6' }, lastSeq: { S: '99' }, rolledBack: { N: '1' } } });
    dynamo
      .on(QueryCommand)
      .resolves({ Items: [{ sk: { S: 'sweep#old' }, keys: { L: [{ S: 'events/late' }] } }] });
    const result = await processKinesisEvent(batch, deps());
    expect(
      dynamo.commandCalls(QueryCommand)[0]?.args[0].input.ExpressionAttributeValues?.[':prefix'],
    ).toEqual({
      S: 'sweep#',
    });
    expect(s3.commandCalls(DeleteObjectCommand).map((c) => c.args[0].input.Key)).toEqual(['events/late']);
    expect(result.shards[0]?.swept).toBe(1);
  });
});

describe('a failing attempt', () => {
  it('deletes what it wrote, clears its intent and throws so that Lambda retries', async () => {
    dynamo.on(GetItemCommand).resolves({});
    s3.on(PutObjectCommand).rejects(new Error('S3 is down'));

    await expect(processKinesisEvent(batch, deps())).rejects.toThrowError('S3 is down');
    expect(s3.commandCalls(DeleteObjectCommand)).toHaveLength(4);
    const last = dynamo.commandCalls(UpdateItemCommand).at(-1)?.args[0].input;
    expect(last?.UpdateExpression).toMatch(/REMOVE intent/);
  });

  it('that loses the checkpoint to another invocation deletes its own objects and does not commit', async () => {
    dynamo.on(GetItemCommand).resolves({});
    dynamo
      .on(UpdateItemCommand)
      .resolvesOnce({})
      .rejects(new ConditionalCheckFailedException({ message: 'conditional', $metadata: {} }));

    await expect(processKinesisEvent(batch, deps())).rejects.toThrowError(CheckpointConflictError);
    expect(s3.commandCalls(DeleteObjectCommand).map((c) => c.args[0].input.Key)).toHaveLength(4);
  });

  it('whose commit landed although its response was lost keeps its objects and succeeds', async () => {
    dynamo
      .on(GetItemCommand)
      .resolvesOnce({})
      .resolves({ Item: { version: { N: '2' }, lastSeq: { S: '102' }, lastIntentId: { S: 'intent-1' } } });
    dynamo
      .on(UpdateItemCommand)
      .resolvesOnce({})
      .rejects(new ConditionalCheckFailedException({ message: 'conditional', $metadata: {} }));

    const result = await processKinesisEvent(batch, deps());
    expect(result.batchItemFailures).toEqual([]);
    expect(s3.commandCalls(DeleteObjectCommand)).toHaveLength(0);
  });
});

describe('a conditional write whose response was lost', () => {
  const conditional = () => new ConditionalCheckFailedException({ message: 'conditional', $metadata: {} });

  it('recording the intent: the re-read item shows its own intent id at the next version, so it goes on', async () => {
    dynamo
      .on(GetItemCommand)
      .resolvesOnce({})
      .resolves({
        Item: { version: { N: '1' }, intent: { M: { id: { S: 'intent-1' }, keys: { L: [] } } } },
      });
    dynamo.on(UpdateItemCommand).rejectsOnce(conditional()).resolves({});

    const result = await processKinesisEvent(batch, deps());
    expect(result.shards[0]?.committedSequenceNumber).toBe('102');
    expect(s3.commandCalls(PutObjectCommand)).toHaveLength(4);
    const commit = dynamo.commandCalls(UpdateItemCommand).at(-1)?.args[0].input;
    expect(commit?.ExpressionAttributeValues?.[':expected']).toEqual({ N: '1' });
  });

  it("recording the intent: another invocation's intent at that version is a conflict, and nothing is written", async () => {
    dynamo
      .on(GetItemCommand)
      .resolvesOnce({})
      .resolves({ Item: { version: { N: '1' }, intent: { M: { id: { S: 'rival' }, keys: { L: [] } } } } });
    dynamo.on(UpdateItemCommand).rejects(conditional());

    await expect(processKinesisEvent(batch, deps())).rejects.toThrowError(CheckpointConflictError);
    expect(s3.commandCalls(PutObjectCommand)).toHaveLength(0);
  });

  it('clearing a rolled-back intent: no intent at the next version means the clear landed', async () => {
    const old = { M: { id: { S: 'old' }, first: { S: '1' }, last: { S: '2' }, keys: { L: [{ S: 'k' }] } } };
    dynamo
      .on(GetItemCommand)
      .resolvesOnce({ Item: { version: { N: '4' }, lastSeq: { S: '99' }, intent: old } })
      .resolves({ Item: { version: { N: '6' }, lastSeq: { S: '99' } } });
    // fenceIntent (4 → 5) answers; clearIntent (5 → 6) lands but its response is lost; then the new attempt.
    dynamo.on(UpdateItemCommand).resolvesOnce({}).rejectsOnce(conditional()).resolves({});

    const result = await processKinesisEvent(batch, deps());
    expect(result.shards[0]?.rolledBack?.id).toBe('old');
    const intent = dynamo.commandCalls(UpdateItemCommand)[2]?.args[0].input;
    expect(intent?.UpdateExpression).toMatch(/SET intent = :intent/);
    expect(intent?.ExpressionAttributeValues?.[':expected']).toEqual({ N: '6' });
  });

  it('fencing an intent to roll back: its own rollback id at the next version means the fence landed', async () => {
    const old = { M: { id: { S: 'old' }, first: { S: '1' }, last: { S: '2' }, keys: { L: [{ S: 'k' }] } } };
    dynamo
      .on(GetItemCommand)
      .resolvesOnce({ Item: { version: { N: '4' }, lastSeq: { S: '99' }, intent: old } })
      .resolves({
        Item: { version: { N: '5' }, lastSeq: { S: '99' }, intent: old, fencedBy: { S: 'intent-1' } },
      });
    dynamo.on(UpdateItemCommand).rejectsOnce(conditional()).resolves({});

    const result = await processKinesisEvent(batch, deps());
    expect(result.shards[0]?.rolledBack?.id).toBe('old');
    expect(s3.commandCalls(DeleteObjectCommand).map((c) => c.args[0].input.Key)).toEqual(['k']);
    const clear = dynamo.commandCalls(UpdateItemCommand)[1]?.args[0].input;
    expect(clear?.UpdateExpression).toMatch(/REMOVE intent/);
    expect(clear?.ExpressionAttributeValues?.[':expected']).toEqual({ N: '5' });
  });

  it("fencing an intent to roll back: a rival's fence is a conflict, and nothing is deleted", async () => {
    const old = { M: { id: { S: 'old' }, first: { S: '1' }, last: { S: '2' }, keys: { L: [{ S: 'k' }] } } };
    dynamo
      .on(GetItemCommand)
      .resolvesOnce({ Item: { version: { N: '4' }, lastSeq: { S: '99' }, intent: old } })
      .resolves({
        Item: { version: { N: '5' }, lastSeq: { S: '99' }, intent: old, fencedBy: { S: 'rival' } },
      });
    dynamo.on(UpdateItemCommand).rejects(conditional());

    await expect(processKinesisEvent(batch, deps())).rejects.toThrowError(CheckpointConflictError);
    expect(s3.commandCalls(DeleteObjectCommand)).toHaveLength(0);
  });

  it('clearing a rolled-back intent: an intent still there means a rival fenced it first, a conflict', async () => {
    const old = { M: { id: { S: 'old' }, first: { S: '1' }, last: { S: '2' }, keys: { L: [{ S: 'k' }] } } };
    dynamo
      .on(GetItemCommand)
      .resolvesOnce({ Item: { version: { N: '4' }, lastSeq: { S: '99' }, intent: old } })
      .resolves({ Item: { version: { N: '6' }, lastSeq: { S: '99' }, intent: old } });
    dynamo.on(UpdateItemCommand).resolvesOnce({}).rejects(conditional());

    await expect(processKinesisEvent(batch, deps())).rejects.toThrowError(CheckpointConflictError);
    expect(s3.commandCalls(PutObjectCommand)).toHaveLength(0);
  });
});
