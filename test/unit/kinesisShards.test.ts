import {
  GetRecordsCommand,
  GetShardIteratorCommand,
  KinesisClient,
  ListShardsCommand,
} from '@aws-sdk/client-kinesis';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { listShards, readSequenceRange, readShardToTip } from '../../lambdas/shared/kinesisShards';

const kinesis = mockClient(KinesisClient);
beforeEach(() => kinesis.reset());
afterAll(() => kinesis.restore());

const record = (sequenceNumber: string) => ({
  SequenceNumber: sequenceNumber,
  Data: new Uint8Array(),
  PartitionKey: 'k',
});

describe('listShards', () => {
  it('follows NextToken, sending the stream name only on the first page, as ListShards requires', async () => {
    kinesis
      .on(ListShardsCommand)
      .resolvesOnce({
        Shards: [
          {
            ShardId: 'shardId-000000000001',
            HashKeyRange: undefined,
            SequenceNumberRange: { StartingSequenceNumber: '200' },
          },
        ],
        NextToken: 'page-2',
      })
      .resolvesOnce({
        Shards: [
          {
            ShardId: 'shardId-000000000000',
            HashKeyRange: undefined,
            SequenceNumberRange: { StartingSequenceNumber: '100', EndingSequenceNumber: '199' },
          },
          {
            ShardId: 'shardId-000000000002',
            ParentShardId: 'shardId-000000000000',
            HashKeyRange: undefined,
            SequenceNumberRange: { StartingSequenceNumber: '300' },
          },
        ],
      });

    const shards = await listShards(new KinesisClient({}), 'shardline-dev-events');

    expect(kinesis.commandCalls(ListShardsCommand).map((call) => call.args[0].input)).toEqual([
      { StreamName: 'shardline-dev-events' },
      { NextToken: 'page-2' },
    ]);
    expect(shards).toEqual([
      { shardId: 'shardId-000000000000', startingSequenceNumber: '100', closed: true },
      { shardId: 'shardId-000000000001', startingSequenceNumber: '200', closed: false },
      {
        shardId: 'shardId-000000000002',
        parentShardId: 'shardId-000000000000',
        startingSequenceNumber: '300',
        closed: false,
      },
    ]);
  });
});

describe('readShardToTip', () => {
  it('reads an open shard until an empty page with nothing behind', async () => {
    kinesis.on(GetShardIteratorCommand).resolves({ ShardIterator: 'it-0' });
    kinesis
      .on(GetRecordsCommand)
      .resolvesOnce({
        Records: [record('1'), record('2')],
        NextShardIterator: 'it-1',
        MillisBehindLatest: 500,
      })
      .resolvesOnce({ Records: [], NextShardIterator: 'it-2', MillisBehindLatest: 100 })
      .resolvesOnce({ Records: [record('3')], NextShardIterator: 'it-3', MillisBehindLatest: 0 })
      .resolvesOnce({ Records: [], NextShardIterator: 'it-4', MillisBehindLatest: 0 })
      .resolves({ Records: [record('never')], NextShardIterator: 'it-5', MillisBehindLatest: 0 });

    const pages: string[][] = [];
    for await (const records of readShardToTip(new KinesisClient({}), 'stream', 'shardId-000000000000', {
      ShardIteratorType: 'AFTER_SEQUENCE_NUMBER',
      StartingSequenceNumber: '0',
    }))
      pages.push(records.map((r) => r.SequenceNumber ?? ''));

    expect(pages).toEqual([['1', '2'], [], ['3'], []]);
    expect(kinesis.commandCalls(GetShardIteratorCommand)[0]?.args[0].input).toEqual({
      StreamName: 'stream',
      ShardId: 'shardId-000000000000',
      ShardIteratorType: 'AFTER_SEQUENCE_NUMBER',
      StartingSequenceNumber: '0',
    });
  });

  it('ends a closed shard when it returns no next iterator, and asks limit() before every page', async () => {
    kinesis.on(GetShardIteratorCommand).resolves({ ShardIterator: 'it-0' });
    kinesis
      .on(GetRecordsCommand)
      .resolvesOnce({ Records: [record('1')], NextShardIterator: 'it-1', MillisBehindLatest: 900 })
      .resolvesOnce({ Records: [record('2')], MillisBehindLatest: 0 });
    const limits = [10, 5];

    const pages: number[] = [];
    for await (const records of readShardToTip(
      new KinesisClient({}),
      'stream',
      'shardId-000000000000',
      { ShardIteratorType: 'TRIM_HORIZON' },
      () => limits.shift() ?? 0,
    ))
      pages.push(records.length);

    expect(pages).toEqual([1, 1]);
    expect(kinesis.commandCalls(GetRecordsCommand).map((call) => call.args[0].input.Limit)).toEqual([10, 5]);
  });
});

describe('readSequenceRange', () => {
  it('reads from the first sequence number and stops at the first record after the last, compared as numbers', async () => {
    kinesis.on(GetShardIteratorCommand).resolves({ ShardIterator: 'it-0' });
    kinesis
      .on(GetRecordsCommand)
      .resolvesOnce({
        Records: [record('9'), record('10')],
        NextShardIterator: 'it-1',
        MillisBehindLatest: 5,
      })
      .resolvesOnce({
        Records: [record('11'), record('100')],
        NextShardIterator: 'it-2',
        MillisBehindLatest: 0,
      })
      .resolves({ Records: [record('never')], NextShardIterator: 'it-3', MillisBehindLatest: 0 });

    const records = await readSequenceRange(new KinesisClient({}), 'stream', 'shardId-000000000000', {
      first: '9',
      last: '11',
    });

    expect(records.map((r) => r.SequenceNumber)).toEqual(['9', '10', '11']);
    expect(kinesis.commandCalls(GetShardIteratorCommand)[0]?.args[0].input).toEqual({
      StreamName: 'stream',
      ShardId: 'shardId-000000000000',
      ShardIteratorType: 'AT_SEQUENCE_NUMBER',
      StartingSequenceNumber: '9',
    });
    expect(kinesis.commandCalls(GetRecordsCommand)).toHaveLength(2);
  });

  it('returns what the shard still holds when the range runs past its tip', async () => {
    kinesis.on(GetShardIteratorCommand).resolves({ ShardIterator: 'it-0' });
    kinesis
      .on(GetRecordsCommand)
      .resolvesOnce({ Records: [record('5')], NextShardIterator: 'it-1', MillisBehindLatest: 0 })
      .resolvesOnce({ Records: [], NextShardIterator: 'it-2', MillisBehindLatest: 0 });

    const records = await readSequenceRange(new KinesisClient({}), 'stream', 'shardId-000000000000', {
      first: '5',
      last: '50',
    });

    expect(records.map((r) => r.SequenceNumber)).toEqual(['5']);
  });
});
