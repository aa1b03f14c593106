import {
  KinesisClient,
  ProvisionedThroughputExceededException,
  PutRecordsCommand,
  type PutRecordsCommandInput,
  ValidationException,
} from '@aws-sdk/client-kinesis';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { putBack, RecordsNotAcceptedError } from '../../../cli/dlq/redrive';
import { exitStatusOf } from '../../../lambdas/shared/errors';

const kinesis = mockClient(KinesisClient);
afterEach(() => kinesis.reset());

/** No waiting between attempts: a delay of 0 ms. */
const context = {
  kinesis: kinesis as unknown as KinesisClient,
  streamName: 's',
  retryPolicy: { maxAttempts: 3, baseDelayMs: 0, maxDelayMs: 0 },
};
const recordsKeyed = (...keys: string[]) =>
  keys.map((partitionKey) => ({ data: new TextEncoder().encode(partitionKey), partitionKey }));
/** The partition keys of each PutRecords call, in order. */
const entriesPerCall = () =>
  kinesis
    .commandCalls(PutRecordsCommand)
    .map((call) => call.args[0].input.Records?.map((e) => e.PartitionKey));

/**
 * Answers each PutRecords call entry by entry, as Kinesis does: `refuse(key, call)` entries get
 * ProvisionedThroughputExceededException, the others the sequence number `<key>@<call>` (calls from 1).
 */
function answerEntries(refuse: (partitionKey: string, call: number) => boolean) {
  let call = 0;
  return (input: PutRecordsCommandInput) => {
    call++;
    const Records = (input.Records ?? []).map(({ PartitionKey = '' }) =>
      refuse(PartitionKey, call)
        ? { ErrorCode: 'ProvisionedThroughputExceededException', ErrorMessage: 'Rate exceeded for shard' }
        : { SequenceNumber: `${PartitionKey}@${call}`, ShardId: 'shardId-000000000000' },
    );
    return { FailedRecordCount: Records.filter((r) => r.ErrorCode).length, Records };
  };
}

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
    const sequenceNumbers = await putBack(context, records);

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
    await putBack(context, records);
    expect(kinesis.commandCalls(PutRecordsCommand).map((c) => c.args[0].input.Records?.length)).toEqual([
      500, 500, 1,
    ]);
  });

  it('sends again only the entries Kinesis refused, so each record goes on the stream once', async () => {
    kinesis
      .on(PutRecordsCommand)
      .callsFake(answerEntries((key, call) => call === 1 && (key === 'b' || key === 'd')));
    const sequenceNumbers = await putBack(context, recordsKeyed('a', 'b', 'c', 'd', 'e'));

    expect(entriesPerCall()).toEqual([
      ['a', 'b', 'c', 'd', 'e'],
      ['b', 'd'],
    ]);
    expect(sequenceNumbers).toEqual(['a@1', 'b@2', 'c@1', 'd@2', 'e@1']);
  });

  it('throws, saying how many records were not accepted, when Kinesis refuses one on every attempt', async () => {
    kinesis.on(PutRecordsCommand).callsFake(answerEntries((key) => key === 'c'));
    const error = await putBack(context, recordsKeyed('a', 'b', 'c', 'd')).catch((e: unknown) => e);

    // The accepted records were sent once; only the refused one was tried again, up to maxAttempts.
    expect(entriesPerCall()).toEqual([['a', 'b', 'c', 'd'], ['c'], ['c']]);
    expect((error as Error).message).toBe(
      '1 of 4 record(s) were not accepted by Kinesis; the ledger was not marked redriven, so run the redrive again',
    );
    expect(error).toBeInstanceOf(RecordsNotAcceptedError);
    expect(exitStatusOf(error)).toBe(2);
    expect((error as RecordsNotAcceptedError).sequenceNumbers).toEqual(['a@1', 'b@1', undefined, 'd@1']);
  });

  it('does not send the next call while an earlier one still has refused entries', async () => {
    kinesis.on(PutRecordsCommand).callsFake(answerEntries((key) => key === 'k0'));
    const records = recordsKeyed(...Array.from({ length: 501 }, (_, i) => `k${i}`));
    await expect(putBack(context, records)).rejects.toThrow(/^2 of 501 record\(s\) were not accepted/);
    expect(entriesPerCall().map((keys) => keys?.length)).toEqual([500, 1, 1]);
  });

  it('retries a call that Kinesis throttled as a whole', async () => {
    kinesis
      .on(PutRecordsCommand)
      .rejectsOnce(new ProvisionedThroughputExceededException({ message: 'Rate exceeded', $metadata: {} }))
      .callsFake(answerEntries(() => false));
    const sequenceNumbers = await putBack(context, recordsKeyed('a', 'b'));

    expect(entriesPerCall()).toEqual([
      ['a', 'b'],
      ['a', 'b'],
    ]);
    expect(sequenceNumbers).toEqual(['a@1', 'b@1']);
  });

  it('names the error when a call fails outright, as not worth retrying', async () => {
    kinesis.on(PutRecordsCommand).rejects(new ValidationException({ message: 'bad entry', $metadata: {} }));
    const error = await putBack(context, recordsKeyed('a')).catch((e: unknown) => e);

    expect((error as Error).message).toMatch(
      /^1 of 1 record\(s\) were not accepted by Kinesis \(ValidationException: bad entry\); the ledger was not marked/,
    );
    expect(error).toBeInstanceOf(RecordsNotAcceptedError);
    expect((error as Error).cause).toBeInstanceOf(ValidationException);
    expect(entriesPerCall()).toHaveLength(1);
  });
});
