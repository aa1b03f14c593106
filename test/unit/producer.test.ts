import {
  AccessDeniedException,
  InvalidArgumentException,
  KinesisClient,
  KinesisServiceException,
  KMSAccessDeniedException,
  KMSThrottlingException,
  LimitExceededException,
  ProvisionedThroughputExceededException,
  PutRecordsCommand,
  type PutRecordsCommandInput,
  ResourceNotFoundException,
  ValidationException,
} from '@aws-sdk/client-kinesis';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { generateRecords, INVALID_KINDS } from '../../lambdas/producer/generate';
import { InvalidProduceRequestError, parseProduceRequest, produce } from '../../lambdas/producer/produce';
import {
  chunkRecords,
  isRetryablePutError,
  PUT_RECORDS_MAX_BYTES,
  putChunk,
} from '../../lambdas/producer/putRecords';
import { parseEvent } from '../../lambdas/shared/events';

const options = {
  count: 2_000,
  seed: 7,
  invalidRatio: 0.05,
  tenants: ['acme', 'globex'],
  startTime: Date.parse('2026-11-01T00:00:00Z'),
  spanMinutes: 120,
  usersPerTenant: 50,
};
const decoder = new TextDecoder();
const isValid = (data: Uint8Array) => {
  try {
    return parseEvent(JSON.parse(decoder.decode(data))).success;
  } catch {
    return false;
  }
};

describe('the event generator', () => {
  it('generates the same bytes for the same seed', () => {
    const a = generateRecords(options).map((r) => decoder.decode(r.data));
    const b = generateRecords(options).map((r) => decoder.decode(r.data));
    expect(a).toEqual(b);
  });

  it('generates different events for a different seed', () => {
    const a = generateRecords(options)[0];
    const b = generateRecords({ ...options, seed: 8 })[0];
    expect(decoder.decode(a?.data)).not.toEqual(decoder.decode(b?.data));
  });

  it('makes exactly round(count * invalidRatio) records invalid, of all four kinds', () => {
    const records = generateRecords(options);
    const invalid = records.filter((r) => r.invalidKind);
    expect(invalid).toHaveLength(100);
    expect(new Set(invalid.map((r) => r.invalidKind))).toEqual(new Set(INVALID_KINDS));
  });

  it('produces records that the schema accepts exactly when they are meant to be valid', () => {
    const mismatches = generateRecords(options).filter((r) => isValid(r.data) === Boolean(r.invalidKind));
    expect(mismatches).toEqual([]);
  });

  it('keys each record by tenant_id#user_id so a user stays on one shard', () => {
    for (const record of generateRecords({ ...options, invalidRatio: 0 }).slice(0, 50)) {
      const event = JSON.parse(decoder.decode(record.data));
      expect(record.partitionKey).toBe(`${event.tenant_id}#${event.user_id}`);
    }
  });
});

describe('PutRecords chunking', () => {
  it('keeps chunks within 500 records and in order', () => {
    const records = generateRecords({ ...options, count: 1_234 });
    const chunks = [...chunkRecords(records)];
    expect(chunks.map((c) => c.length)).toEqual([500, 500, 234]);
    expect(chunks.flat()).toEqual(records);
  });

  it('keeps chunks within 5 MiB', () => {
    const big = Array.from({ length: 12 }, (_, i) => ({
      data: new Uint8Array(1024 * 1024),
      partitionKey: `k${i}`,
    }));
    const chunks = [...chunkRecords(big)];
    for (const chunk of chunks) {
      const bytes = chunk.reduce((sum, r) => sum + r.data.byteLength + r.partitionKey.length, 0);
      expect(bytes).toBeLessThanOrEqual(PUT_RECORDS_MAX_BYTES);
    }
    expect(chunks.flat()).toHaveLength(12);
  });
});

describe('PutRecords partial-failure retry', () => {
  const kinesis = mockClient(KinesisClient);
  const fastPolicy = { maxAttempts: 4, baseDelayMs: 1, maxDelayMs: 2 };
  const records = ['a', 'b', 'c', 'd'].map((k) => ({ data: new TextEncoder().encode(k), partitionKey: k }));
  beforeEach(() => kinesis.reset());

  it('retries only the entries that failed, until they succeed', async () => {
    kinesis
      .on(PutRecordsCommand)
      .resolvesOnce({
        FailedRecordCount: 2,
        Records: [
          { SequenceNumber: '1', ShardId: 'shardId-0' },
          { ErrorCode: 'ProvisionedThroughputExceededException', ErrorMessage: 'slow down' },
          { SequenceNumber: '2', ShardId: 'shardId-1' },
          { ErrorCode: 'InternalFailure', ErrorMessage: 'oops' },
        ],
      })
      .resolvesOnce({
        FailedRecordCount: 0,
        Records: [
          { SequenceNumber: '3', ShardId: 'shardId-0' },
          { SequenceNumber: '4', ShardId: 'shardId-1' },
        ],
      });
    const outcome = await putChunk(new KinesisClient({}), 'stream', records, fastPolicy);
    const calls = kinesis.commandCalls(PutRecordsCommand);
    expect(calls).toHaveLength(2);
    expect(calls[1]?.args[0].input.Records?.map((r) => r.PartitionKey)).toEqual(['b', 'd']);
    expect(outcome).toEqual({ sent: 4, failed: 0, retried: 2, shards: { 'shardId-0': 2, 'shardId-1': 2 } });
  });

  it('tells the caller the sequence number of each accepted record, by its index in the chunk', async () => {
    kinesis
      .on(PutRecordsCommand)
      .resolvesOnce({
        FailedRecordCount: 1,
        Records: [
          { SequenceNumber: '1', ShardId: 'shardId-0' },
          { ErrorCode: 'ProvisionedThroughputExceededException', ErrorMessage: 'slow down' },
          { SequenceNumber: '2', ShardId: 'shardId-1' },
          { SequenceNumber: '3', ShardId: 'shardId-1' },
        ],
      })
      .resolvesOnce({ FailedRecordCount: 0, Records: [{ SequenceNumber: '4', ShardId: 'shardId-0' }] });
    const sequenceNumbers: string[] = [];
    await putChunk(new KinesisClient({}), 'stream', records, fastPolicy, (index, sequenceNumber) => {
      sequenceNumbers[index] = sequenceNumber;
    });
    expect(sequenceNumbers).toEqual(['1', '4', '2', '3']);
  });

  it('reports entries as failed after the bounded number of attempts', async () => {
    kinesis.on(PutRecordsCommand).resolves({
      FailedRecordCount: 1,
      Records: [{ ErrorCode: 'ProvisionedThroughputExceededException', ErrorMessage: 'slow down' }],
    });
    const outcome = await putChunk(new KinesisClient({}), 'stream', records.slice(0, 1), fastPolicy);
    expect(kinesis.commandCalls(PutRecordsCommand)).toHaveLength(4);
    expect(outcome.failed).toBe(1);
    expect(outcome.sent).toBe(0);
  });
});

const $metadata = (httpStatusCode: number) => ({ httpStatusCode, attempts: 3 });
const throttled = () =>
  new ProvisionedThroughputExceededException({ message: 'Rate exceeded', $metadata: $metadata(400) });
const internalFailure = () =>
  new KinesisServiceException({
    name: 'InternalFailure',
    $fault: 'server',
    message: 'We encountered an internal error. Please try again.',
    $metadata: $metadata(500),
  });
const networkError = (code: string) =>
  Object.assign(new Error('socket hang up'), { name: 'TimeoutError', code, $metadata: { attempts: 3 } });
/** Accepts every entry of a call, on shardId-0. */
const acceptAll = (input: PutRecordsCommandInput) => ({
  FailedRecordCount: 0,
  Records: (input.Records ?? []).map((_, i) => ({ SequenceNumber: String(i + 1), ShardId: 'shardId-0' })),
});

describe('PutRecords whole-call failure retry', () => {
  const kinesis = mockClient(KinesisClient);
  const fastPolicy = { maxAttempts: 4, baseDelayMs: 1, maxDelayMs: 2 };
  const records = ['a', 'b', 'c'].map((k) => ({ data: new TextEncoder().encode(k), partitionKey: k }));
  beforeEach(() => kinesis.reset());

  it('retries every entry after a throttled call, then sends them all', async () => {
    kinesis.on(PutRecordsCommand).rejectsOnce(throttled()).callsFake(acceptAll);
    const outcome = await putChunk(new KinesisClient({}), 'stream', records, fastPolicy);
    const calls = kinesis.commandCalls(PutRecordsCommand);
    expect(calls).toHaveLength(2);
    expect(calls[1]?.args[0].input.Records?.map((r) => r.PartitionKey)).toEqual(['a', 'b', 'c']);
    expect(outcome).toMatchObject({ sent: 3, failed: 0, retried: 3, wholeCallFailures: 1 });
  });

  it('retries after a 500 InternalFailure', async () => {
    kinesis.on(PutRecordsCommand).rejectsOnce(internalFailure()).callsFake(acceptAll);
    const outcome = await putChunk(new KinesisClient({}), 'stream', records, fastPolicy);
    expect(kinesis.commandCalls(PutRecordsCommand)).toHaveLength(2);
    expect(outcome).toMatchObject({ sent: 3, failed: 0, retried: 3, wholeCallFailures: 1 });
  });

  it('retries after a connection reset', async () => {
    kinesis.on(PutRecordsCommand).rejectsOnce(networkError('ECONNRESET')).callsFake(acceptAll);
    const outcome = await putChunk(new KinesisClient({}), 'stream', records, fastPolicy);
    expect(kinesis.commandCalls(PutRecordsCommand)).toHaveLength(2);
    expect(outcome).toMatchObject({ sent: 3, failed: 0, retried: 3, wholeCallFailures: 1 });
  });

  it('counts whole-call and partial failures against the same attempt budget', async () => {
    kinesis
      .on(PutRecordsCommand)
      .rejectsOnce(throttled())
      .resolvesOnce({
        FailedRecordCount: 1,
        Records: [
          { SequenceNumber: '1', ShardId: 'shardId-0' },
          { ErrorCode: 'ProvisionedThroughputExceededException', ErrorMessage: 'slow down' },
          { SequenceNumber: '2', ShardId: 'shardId-0' },
        ],
      })
      .rejectsOnce(throttled())
      .callsFake(acceptAll);
    const outcome = await putChunk(new KinesisClient({}), 'stream', records, fastPolicy);
    expect(kinesis.commandCalls(PutRecordsCommand)).toHaveLength(4);
    // 3 entries after the first throttle, then the one refused entry twice.
    expect(outcome).toMatchObject({ sent: 3, failed: 0, retried: 5, wholeCallFailures: 2 });
  });

  it('throws a ValidationException at once, after one call, unchanged', async () => {
    const invalid = new ValidationException({ message: 'bad request', $metadata: $metadata(400) });
    kinesis.on(PutRecordsCommand).rejects(invalid);
    await expect(putChunk(new KinesisClient({}), 'stream', records, fastPolicy)).rejects.toBe(invalid);
    expect(kinesis.commandCalls(PutRecordsCommand)).toHaveLength(1);
  });

  it('counts the whole chunk as failed, with the last error, when throttling outlasts the budget', async () => {
    kinesis.on(PutRecordsCommand).rejects(throttled());
    const outcome = await putChunk(new KinesisClient({}), 'stream', records, fastPolicy);
    expect(kinesis.commandCalls(PutRecordsCommand)).toHaveLength(fastPolicy.maxAttempts);
    expect(outcome).toEqual({
      sent: 0,
      failed: 3,
      shards: {},
      retried: 3 * (fastPolicy.maxAttempts - 1),
      wholeCallFailures: fastPolicy.maxAttempts,
      lastWholeCallError: 'ProvisionedThroughputExceededException: Rate exceeded',
    });
  });

  it('reports the failed records from produce rather than losing them', async () => {
    kinesis.on(PutRecordsCommand).rejects(throttled());
    const outcome = await produce(
      new KinesisClient({}),
      'stream',
      { count: 600, invalidRatio: 0 },
      { retryPolicy: fastPolicy },
    );
    expect(outcome).toMatchObject({ sent: 0, failed: 600, wholeCallFailures: 2 * fastPolicy.maxAttempts });
  });
});

describe('which whole-call PutRecords errors are retried', () => {
  it.each([
    ['ProvisionedThroughputExceededException', throttled()],
    ['KMSThrottlingException', new KMSThrottlingException({ message: 'slow', $metadata: $metadata(400) })],
    ['LimitExceededException', new LimitExceededException({ message: 'slow', $metadata: $metadata(400) })],
    ['a ThrottlingException', Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' })],
    [
      'an HTTP 429',
      Object.assign(new Error('Too Many Requests'), { name: 'Unknown', $metadata: $metadata(429) }),
    ],
    ['an InternalFailure (500)', internalFailure()],
    ['an HTTP 503', Object.assign(new Error(''), { name: 'Unknown', $metadata: $metadata(503) })],
    ['an error the SDK marks $retryable', Object.assign(new Error('x'), { name: 'X', $retryable: {} })],
    ['ECONNRESET', networkError('ECONNRESET')],
    ['ECONNREFUSED', Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })],
    ['ETIMEDOUT', Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })],
  ])('retries %s', (_, error) => {
    expect(isRetryablePutError(error)).toBe(true);
  });

  it.each([
    ['ValidationException', new ValidationException({ message: 'bad', $metadata: $metadata(400) })],
    [
      'ResourceNotFoundException',
      new ResourceNotFoundException({ message: 'gone', $metadata: $metadata(400) }),
    ],
    ['AccessDeniedException', new AccessDeniedException({ message: 'no', $metadata: $metadata(400) })],
    ['KMSAccessDeniedException', new KMSAccessDeniedException({ message: 'no', $metadata: $metadata(400) })],
    ['InvalidArgumentException', new InvalidArgumentException({ message: 'bad', $metadata: $metadata(400) })],
    ['any other 4xx', Object.assign(new Error('Forbidden'), { name: 'Unknown', $metadata: $metadata(403) })],
    ['a programming error', new TypeError('cannot read properties of undefined')],
    ['an abort', Object.assign(new Error('aborted'), { name: 'AbortError', code: 'ECONNRESET' })],
    ['a thrown string', 'boom'],
  ])('does not retry %s', (_, error) => {
    expect(isRetryablePutError(error)).toBe(false);
  });
});

describe('the producer request', () => {
  it('rejects a bad request with every problem named', () => {
    expect(() => parseProduceRequest({ count: -1, invalidRatio: 2 })).toThrowError(
      InvalidProduceRequestError,
    );
    expect(() => parseProduceRequest({ count: -1, invalidRatio: 2 })).toThrowError(/count.*invalidRatio/);
  });

  it('rejects unknown fields rather than ignoring them', () => {
    expect(() => parseProduceRequest({ cout: 5 })).toThrowError(/cout/);
  });

  it('paces PutRecords calls to ratePerSecond', async () => {
    const kinesis = mockClient(KinesisClient);
    kinesis.on(PutRecordsCommand).callsFake((input) => ({
      FailedRecordCount: 0,
      Records: input.Records.map((_: unknown, i: number) => ({
        SequenceNumber: String(i + 1),
        ShardId: 'shardId-0',
      })),
    }));
    let clock = 0;
    const waits: number[] = [];
    const outcome = await produce(
      new KinesisClient({}),
      'stream',
      { count: 1_000, ratePerSecond: 500, invalidRatio: 0 },
      {
        now: () => clock,
        sleep: async (ms) => {
          waits.push(ms);
          clock += ms;
        },
      },
    );
    expect(outcome.sent).toBe(1_000);
    // 1,000 records at 500/s: the last chunk starts after 1.9 s of simulated time, in 50-record chunks.
    expect(kinesis.commandCalls(PutRecordsCommand)).toHaveLength(20);
    expect(clock).toBe(1_900);
    kinesis.restore();
  });
});
