import { KinesisClient, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { putBack } from '../../../cli/dlq/redrive';

const kinesis = mockClient(KinesisClient);
afterEach(() => kinesis.reset());

/** Answers each PutRecords call with one sequence number per record, numbered across calls. */
function acceptEverything() {
  let next = 0;
  kinesis.on(PutRecordsCommand).callsFake((input) => ({
    FailedRecordCount: 0,
    Records: input.Records.map(() => ({ SequenceNumber: String(next++), ShardId: 'shardId-000000000000' })),
  }));
}

describe('putting a failed batch back on the stream', () => {
  it('splits large records so that no PutRecords call carries more than 5 MiB', async () => {
    acceptEverything();
    const megabyte = new Uint8Array(1024 * 1024 - 16);
    const records = Array.from({ length: 12 }, (_, i) => ({ data: megabyte, partitionKey: `key-${i}` }));
    const sequenceNumbers = await putBack(
      { kinesis: kinesis as unknown as KinesisClient, streamName: 's' },
      records,
    );

    const calls = kinesis.commandCalls(PutRecordsCommand).map((call) => call.args[0].input.Records ?? []);
    expect(calls.length).toBe(3);
    for (const entries of calls) {
      const bytes = entries.reduce(
        (sum, e) => sum + (e.Data?.byteLength ?? 0) + (e.PartitionKey?.length ?? 0),
        0,
      );
      expect(bytes).toBeLessThanOrEqual(5 * 1024 * 1024);
    }
    expect(calls.flat().map((e) => e.PartitionKey)).toEqual(records.map((r) => r.partitionKey));
    expect(sequenceNumbers).toEqual(records.map((_, i) => String(i)));
  });

  it('splits small records at 500 per call', async () => {
    acceptEverything();
    const records = Array.from({ length: 1001 }, (_, i) => ({
      data: new Uint8Array(10),
      partitionKey: `k${i}`,
    }));
    await putBack({ kinesis: kinesis as unknown as KinesisClient, streamName: 's' }, records);
    expect(kinesis.commandCalls(PutRecordsCommand).map((c) => c.args[0].input.Records?.length)).toEqual([
      500, 500, 1,
    ]);
  });

  it('stops with a message saying to run the redrive again when Kinesis refuses a record', async () => {
    kinesis
      .on(PutRecordsCommand)
      .resolves({ FailedRecordCount: 1, Records: [{ ErrorCode: 'InternalFailure' }] });
    await expect(
      putBack({ kinesis: kinesis as unknown as KinesisClient, streamName: 's' }, [
        { data: new Uint8Array(1), partitionKey: 'k' },
      ]),
    ).rejects.toThrow(/1 record\(s\) were not accepted by Kinesis; run the redrive again/);
  });
});
