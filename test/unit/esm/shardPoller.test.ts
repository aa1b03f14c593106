import { GetRecordsCommand, GetShardIteratorCommand, KinesisClient } from '@aws-sdk/client-kinesis';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, test } from 'vitest';
import { InvalidCheckpointError, ShardPoller } from '../../../local/esm/shardPoller';

// The Kinesis GetRecords/GetShardIterator contract as the poller relies on it: iterators expire after
// five minutes, NextShardIterator is null once a closed shard is read to its end.
const kinesis = mockClient(KinesisClient);
const client = new KinesisClient({ region: 'us-east-1' });
const shardId = 'shardId-000000000000';

function record(sequenceNumber: string, arrivalMs: number) {
  return {
    SequenceNumber: sequenceNumber,
    PartitionKey: 'k',
    Data: Buffer.from(sequenceNumber),
    ApproximateArrivalTimestamp: new Date(arrivalMs),
  };
}

function expiredIterator() {
  return Object.assign(new Error('Iterator expired'), { name: 'ExpiredIteratorException' });
}

beforeEach(() => {
  kinesis.reset();
  kinesis.on(GetShardIteratorCommand).resolves({ ShardIterator: 'iterator-1' });
});

describe('shard poller', () => {
  test('after an expired iterator it asks for a new one after the last record read, so nothing is skipped or repeated', async () => {
    kinesis
      .on(GetRecordsCommand)
      .resolvesOnce({ Records: [record('10', 1), record('11', 2)], NextShardIterator: 'iterator-2' })
      .rejectsOnce(expiredIterator())
      .resolves({ Records: [record('12', 3)], NextShardIterator: 'iterator-3' });
    const poller = new ShardPoller(client, 'events', shardId, { type: 'TRIM_HORIZON' });
    expect((await poller.poll(100)).records.map((r) => r.sequenceNumber)).toEqual(['10', '11']);
    expect(await poller.poll(100)).toMatchObject({ records: [], moreAvailable: true, shardEnded: false });
    expect((await poller.poll(100)).records.map((r) => r.sequenceNumber)).toEqual(['12']);
    const iteratorRequests = kinesis.commandCalls(GetShardIteratorCommand).map((call) => call.args[0].input);
    expect(iteratorRequests).toEqual([
      { StreamName: 'events', ShardId: shardId, ShardIteratorType: 'TRIM_HORIZON' },
      {
        StreamName: 'events',
        ShardId: shardId,
        ShardIteratorType: 'AFTER_SEQUENCE_NUMBER',
        StartingSequenceNumber: '11',
      },
    ]);
  });

  test('a checkpoint resumes with AFTER_SEQUENCE_NUMBER', async () => {
    kinesis.on(GetRecordsCommand).resolves({ Records: [], NextShardIterator: 'iterator-2' });
    await new ShardPoller(client, 'events', shardId, {
      type: 'AFTER_SEQUENCE_NUMBER',
      sequenceNumber: '42',
    }).poll(10);
    expect(kinesis.commandCalls(GetShardIteratorCommand)[0]?.args[0].input).toMatchObject({
      ShardIteratorType: 'AFTER_SEQUENCE_NUMBER',
      StartingSequenceNumber: '42',
    });
  });

  test('a checkpoint the stream rejects is reported as an invalid checkpoint', async () => {
    kinesis
      .on(GetShardIteratorCommand)
      .rejects(
        Object.assign(new Error('did not come from this stream'), { name: 'InvalidArgumentException' }),
      );
    const poller = new ShardPoller(client, 'events', shardId, {
      type: 'AFTER_SEQUENCE_NUMBER',
      sequenceNumber: '42',
    });
    await expect(poller.poll(10)).rejects.toThrow(InvalidCheckpointError);
  });

  test('AT_TIMESTAMP delivers from the first record that arrived at or after the timestamp', async () => {
    kinesis
      .on(GetRecordsCommand)
      .resolvesOnce({ Records: [record('1', 1_000), record('2', 1_999)], NextShardIterator: 'i2' })
      .resolvesOnce({ Records: [record('3', 2_000), record('4', 1_500)], NextShardIterator: 'i3' })
      .resolves({ Records: [record('5', 1_000)], NextShardIterator: 'i4' });
    const poller = new ShardPoller(client, 'events', shardId, { type: 'AT_TIMESTAMP', timestampMs: 2_000 });
    expect((await poller.poll(2)).records).toEqual([]);
    // Once the position is found, every later record is delivered, whatever its timestamp.
    expect((await poller.poll(2)).records.map((r) => r.sequenceNumber)).toEqual(['3', '4']);
    expect((await poller.poll(2)).records.map((r) => r.sequenceNumber)).toEqual(['5']);
    expect(kinesis.commandCalls(GetShardIteratorCommand)[0]?.args[0].input.ShardIteratorType).toBe(
      'TRIM_HORIZON',
    );
  });

  test('a full page means more records are waiting; a null NextShardIterator means the closed shard ended', async () => {
    kinesis
      .on(GetRecordsCommand)
      .resolvesOnce({ Records: [record('1', 1), record('2', 2)], NextShardIterator: 'i2' })
      .resolvesOnce({ Records: [record('3', 3)], NextShardIterator: 'i3' })
      .resolves({ Records: [], NextShardIterator: undefined, MillisBehindLatest: 0 });
    const poller = new ShardPoller(client, 'events', shardId, { type: 'TRIM_HORIZON' });
    expect(await poller.poll(2)).toMatchObject({ moreAvailable: true, shardEnded: false });
    expect(await poller.poll(2)).toMatchObject({ moreAvailable: false, shardEnded: false });
    expect(await poller.poll(2)).toMatchObject({ moreAvailable: false, shardEnded: true });
  });

  test('records keep their arrival time and bytes', async () => {
    kinesis
      .on(GetRecordsCommand)
      .resolves({ Records: [record('7', 1_545_084_650_987)], NextShardIterator: 'i2' });
    const [polled] = (await new ShardPoller(client, 'events', shardId, { type: 'TRIM_HORIZON' }).poll(10))
      .records;
    expect(polled).toEqual({
      sequenceNumber: '7',
      partitionKey: 'k',
      data: Buffer.from('7'),
      approximateArrivalTimestampMs: 1_545_084_650_987,
    });
  });
});
