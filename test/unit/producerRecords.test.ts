import { KinesisClient, PutRecordsCommand, type PutRecordsCommandInput } from '@aws-sdk/client-kinesis';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InvalidProduceRequestError, parseProduceRequest, produce } from '../../lambdas/producer/produce';
import { defaultPartitionKey } from '../../lambdas/producer/records';

const kinesis = mockClient(KinesisClient);
const decoder = new TextDecoder();
const noWait = { retryPolicy: { maxAttempts: 3, baseDelayMs: 0, maxDelayMs: 0 }, sleep: async () => {} };

/** Accepts every entry, on one shard per partition key's first letter. */
function acceptAll() {
  kinesis.on(PutRecordsCommand).callsFake((input: PutRecordsCommandInput) => ({
    FailedRecordCount: 0,
    Records: (input.Records ?? []).map((entry, i) => ({
      SequenceNumber: String(i + 1),
      ShardId: `shardId-${String(entry.PartitionKey).slice(0, 1)}`,
    })),
  }));
}

const sentEntries = () =>
  kinesis.commandCalls(PutRecordsCommand).flatMap((call) => call.args[0].input.Records ?? []);

const event = (userId: string) => ({
  event_id: '0b8a6a9e-3f8e-4a53-9a7e-2d0c2b1f4c11',
  schema_version: 1,
  tenant_id: 'Acme',
  event_type: 'page_view',
  occurred_at: '2026-11-01T00:00:00Z',
  user_id: userId,
  payload: { url: '/' },
});

describe("the producer's records mode", () => {
  beforeEach(() => kinesis.reset());
  afterEach(() => kinesis.reset());

  it('is chosen by a request with records, and keeps its own limits', () => {
    expect(parseProduceRequest({ records: [] }).mode).toBe('records');
    expect(parseProduceRequest({}).mode).toBe('generate');
    expect(() => parseProduceRequest({ records: [42] })).toThrowError(InvalidProduceRequestError);
    expect(() => parseProduceRequest({ records: [], count: 3 })).toThrowError(/count/);
    expect(() => parseProduceRequest({ records: [{ data: 'x', partitionKey: '' }] })).toThrowError(
      /partitionKey/,
    );
  });

  it('passes a raw string through byte for byte, unvalidated', async () => {
    acceptAll();
    const raw = '{"tenant_id":"acme","user_id":"u-1", "broken": ';
    const outcome = await produce(
      new KinesisClient({}),
      'stream',
      { records: [raw, 'plain text ✓'] },
      noWait,
    );
    expect(outcome.sent).toBe(2);
    expect(sentEntries().map((e) => decoder.decode(e.Data))).toEqual([raw, 'plain text ✓']);
  });

  it('sends an event object as its compact JSON', async () => {
    acceptAll();
    await produce(new KinesisClient({}), 'stream', { records: [event('u-1')] }, noWait);
    expect(JSON.parse(decoder.decode(sentEntries()[0]?.Data))).toEqual(event('u-1'));
  });

  it('keys records by tenant_id#user_id by default, by an explicit key when given, and by content otherwise', async () => {
    acceptAll();
    await produce(
      new KinesisClient({}),
      'stream',
      {
        records: [
          event('u-1'),
          JSON.stringify(event('u-2')),
          { data: event('u-3'), partitionKey: 'my-key' },
          'not json',
          '{"tenant_id":"acme"}',
        ],
      },
      noWait,
    );
    const keys = sentEntries().map((e) => e.PartitionKey);
    expect(keys.slice(0, 3)).toEqual(['acme#u-1', 'acme#u-2', 'my-key']);
    expect(keys[3]).toMatch(/^raw#[0-9a-f]{16}$/);
    expect(keys[4]).toMatch(/^raw#[0-9a-f]{16}$/);
    expect(defaultPartitionKey('not json')).toBe(keys[3]);
  });

  it('falls back to a content key when tenant and user would make a key longer than Kinesis allows', () => {
    expect(defaultPartitionKey({ tenant_id: 'acme', user_id: 'u'.repeat(300) })).toMatch(/^raw#/);
  });

  it('chunks 1,200 records into PutRecords calls of at most 500, in order', async () => {
    acceptAll();
    const records = Array.from({ length: 1_200 }, (_, i) => JSON.stringify({ n: i }));
    const outcome = await produce(new KinesisClient({}), 'stream', { records }, noWait);
    expect(outcome.sent).toBe(1_200);
    expect(kinesis.commandCalls(PutRecordsCommand).map((c) => c.args[0].input.Records?.length)).toEqual([
      500, 500, 200,
    ]);
    expect(sentEntries().map((e) => JSON.parse(decoder.decode(e.Data)).n)).toEqual(records.map((_, i) => i));
  });

  it('retries the entries that failed and reports those that never went through', async () => {
    let call = 0;
    kinesis.on(PutRecordsCommand).callsFake((input: PutRecordsCommandInput) => {
      call++;
      return {
        FailedRecordCount: 1,
        Records: (input.Records ?? []).map((entry, i) =>
          // 'stuck' fails on every attempt; 'flaky' only on the first.
          decoder.decode(entry.Data) === 'stuck' || (call === 1 && decoder.decode(entry.Data) === 'flaky')
            ? { ErrorCode: 'ProvisionedThroughputExceededException', ErrorMessage: 'slow down' }
            : { SequenceNumber: String(i + 1), ShardId: 'shardId-0' },
        ),
      };
    });
    const outcome = await produce(
      new KinesisClient({}),
      'stream',
      { records: ['ok', 'flaky', 'stuck'] },
      noWait,
    );
    expect(outcome).toMatchObject({ sent: 2, failed: 1, shards: { 'shardId-0': 2 } });
    expect(kinesis.commandCalls(PutRecordsCommand)).toHaveLength(3);
  });
});
