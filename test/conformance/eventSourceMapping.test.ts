/**
 * The local event source mapping against a real kinesalite and fauxqs, invoking fixture handlers through
 * the real function host. Each test cites the Lambda behaviour it checks (Lambda developer guide: "Using
 * Lambda with Kinesis", "Lambda event source mappings", "Retain discarded batch records for a Kinesis
 * Data Streams event source", "Configuring partial batch response with Kinesis Data Streams",
 * "Implementing stateful Kinesis Data Streams processing in Lambda", "Control which events Lambda sends
 * to your function", "Using event filtering with a Kinesis event source"). One file, so that the
 * emulators start once: the suite runs its files one after another.
 */
import { SplitShardCommand } from '@aws-sdk/client-kinesis';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import {
  eventPayloadBytes,
  formatWindowTime,
  InvalidFilterCriteriaError,
  type KinesisTimeWindowEvent,
  MAX_INVOCATION_PAYLOAD_BYTES,
  MAX_WINDOW_STATE_BYTES,
  StateDirMismatchError,
  StreamUnavailableError,
  UnsupportedOnFailureDestinationError,
} from '../../local/esm';
import {
  awayFromWindowBoundary,
  createQueue,
  createStream,
  delay,
  type Emulators,
  eventually,
  type MappingUnderTest,
  type MappingUnderTestOptions,
  putRecords,
  type RecordedInvocation,
  receiveOnFailureMessages,
  startEmulators,
  startMappingUnderTest,
  waitForActiveStream,
} from './harness';

let emulators: Emulators;
const running: MappingUnderTest[] = [];

beforeAll(async () => {
  emulators = await startEmulators();
});

afterAll(async () => {
  await emulators?.stop();
});

afterEach(async () => {
  await Promise.all(running.splice(0).map((under) => under.stop()));
});

async function start(options: Omit<MappingUnderTestOptions, 'emulators'>): Promise<MappingUnderTest> {
  const under = await startMappingUnderTest({ emulators, ...options });
  running.push(under);
  return under;
}

function successfulSequenceNumbers(under: MappingUnderTest): string[] {
  return under.invocations
    .filter((invocation) => invocation.outcome.ok)
    .flatMap((invocation) => invocation.sequenceNumbers);
}

describe('event shape', () => {
  test('records reach the handler in the exact KinesisStreamEvent shape Lambda sends', async () => {
    const stream = await createStream(emulators.kinesis);
    const before = Date.now();
    const [sequenceNumber] = await putRecords(emulators.kinesis, stream.streamName, [
      { data: 'héllo', partitionKey: 'customer-1' },
    ]);
    const under = await start({ stream, handler: 'succeed.handler' });
    await under.mapping.waitUntilIdle();
    const [record] = under.invocations[0]?.event.Records ?? [];
    expect(Object.keys(record ?? {})).toEqual([
      'kinesis',
      'eventSource',
      'eventVersion',
      'eventID',
      'eventName',
      'invokeIdentityArn',
      'awsRegion',
      'eventSourceARN',
    ]);
    expect(record).toEqual({
      kinesis: {
        kinesisSchemaVersion: '1.0',
        partitionKey: 'customer-1',
        sequenceNumber,
        data: Buffer.from('héllo').toString('base64'),
        approximateArrivalTimestamp: expect.any(Number),
      },
      eventSource: 'aws:kinesis',
      eventVersion: '1.0',
      eventID: `shardId-000000000000:${sequenceNumber}`,
      eventName: 'aws:kinesis:record',
      invokeIdentityArn: 'arn:aws:iam::000000000000:role/conformance-role',
      awsRegion: 'us-east-1',
      eventSourceARN: stream.streamArn,
    });
    // Seconds since the epoch, as a float with millisecond precision.
    const arrival = record?.kinesis.approximateArrivalTimestamp ?? 0;
    expect(arrival * 1000).toBeGreaterThanOrEqual(before - 1_000);
    expect(arrival * 1000).toBeLessThanOrEqual(Date.now());
  });
});

describe('batching: BatchSize, MaximumBatchingWindowInSeconds and the 6 MB payload limit', () => {
  test('BatchSize caps the records of each invocation, in shard order', async () => {
    const stream = await createStream(emulators.kinesis);
    const sequenceNumbers = await putRecords(
      emulators.kinesis,
      stream.streamName,
      Array.from({ length: 10 }, (_, index) => `r${index}`),
    );
    const under = await start({ stream, handler: 'succeed.handler', settings: { BatchSize: 4 } });
    await under.mapping.waitUntilIdle();
    expect(under.invocations.map((invocation) => invocation.sequenceNumbers.length)).toEqual([4, 4, 2]);
    expect(successfulSequenceNumbers(under)).toEqual(sequenceNumbers);
    expect(under.mapping.stats().shards[0]?.lastProcessedSequenceNumber).toBe(sequenceNumbers[9]);
  });

  test('with a batching window, records are gathered until the window (which starts when the previous invocation completed) expires', async () => {
    const stream = await createStream(emulators.kinesis);
    const under = await start({
      stream,
      handler: 'succeed.handler',
      settings: { BatchSize: 100, MaximumBatchingWindowInSeconds: 1 },
    });
    const started = performance.now();
    for (const data of ['a', 'b', 'c']) {
      await putRecords(emulators.kinesis, stream.streamName, [data]);
      await delay(200);
    }
    await under.mapping.waitUntilIdle();
    expect(under.invocations.map((invocation) => invocation.data)).toEqual([['a', 'b', 'c']]);
    expect((under.invocations[0]?.startedAt ?? 0) - started).toBeGreaterThanOrEqual(900);
  });

  test('a full batch is invoked at once, before the batching window expires', async () => {
    const stream = await createStream(emulators.kinesis);
    const under = await start({
      stream,
      handler: 'succeed.handler',
      settings: { BatchSize: 3, MaximumBatchingWindowInSeconds: 30 },
    });
    await putRecords(emulators.kinesis, stream.streamName, ['a', 'b', 'c']);
    await eventually(() => under.invocations.length === 1, 5_000);
    expect(under.invocations[0]?.data).toEqual(['a', 'b', 'c']);
  });

  test('a batch stops growing before its serialized event would exceed the 6 MB invocation payload limit', async () => {
    const stream = await createStream(emulators.kinesis);
    // 1,000 KiB of data becomes 1.33 MiB of base64: five of them cannot share one 6 MiB event.
    const records = Array.from({ length: 6 }, (_, index) => Buffer.alloc(1000 * 1024, 97 + index));
    const sequenceNumbers = await putRecords(
      emulators.kinesis,
      stream.streamName,
      records.map((data) => ({ data })),
    );
    const under = await start({ stream, handler: 'succeed.handler', settings: { BatchSize: 100 } });
    await under.mapping.waitUntilIdle();
    const sizes = under.invocations.map((invocation) => Buffer.byteLength(JSON.stringify(invocation.event)));
    expect(sizes.every((size) => size <= MAX_INVOCATION_PAYLOAD_BYTES)).toBe(true);
    expect(under.invocations.map((invocation) => invocation.sequenceNumbers.length)).toEqual([4, 2]);
    // The first batch could not take one more record.
    const recordBytes = Buffer.byteLength(JSON.stringify(under.invocations[0]?.event.Records[0]));
    expect(eventPayloadBytes(Array.from({ length: 5 }, () => ({ bytes: recordBytes })))).toBeGreaterThan(
      MAX_INVOCATION_PAYLOAD_BYTES,
    );
    expect(successfulSequenceNumbers(under)).toEqual(sequenceNumbers);
  });
});

describe('polling', () => {
  // Lambda developer guide, "How Lambda processes records from Kinesis Data Streams": "Lambda polls each
  // shard in your Kinesis stream for records at a base rate of once per second."
  test('a caught-up shard is polled about once a second, never faster', async () => {
    const stream = await createStream(emulators.kinesis);
    const calls: number[] = [];
    emulators.kinesis.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'GetRecordsCommand') calls.push(performance.now());
        return next(args);
      },
      { step: 'initialize', name: 'countGetRecords' },
    );
    try {
      const under = await start({ stream, handler: 'succeed.handler', defaultPolling: true });
      // Two polls of the caught-up shard: the second about a second after the first, never sooner.
      await eventually(() => calls.length >= 2, 5_000);
      const [first = 0, second = 0] = calls;
      expect(second - first).toBeGreaterThanOrEqual(990);
      expect(second - first).toBeLessThan(2_500);
      expect(under.invocations).toEqual([]);
    } finally {
      emulators.kinesis.middlewareStack.remove('countGetRecords');
    }
  });
});

describe('starting position and checkpoints', () => {
  test('LATEST skips the records already in the stream and processes those written after the start', async () => {
    const stream = await createStream(emulators.kinesis);
    await putRecords(emulators.kinesis, stream.streamName, ['old-1', 'old-2']);
    const under = await start({
      stream,
      handler: 'succeed.handler',
      settings: { StartingPosition: 'LATEST' },
    });
    await putRecords(emulators.kinesis, stream.streamName, ['new-1']);
    await under.mapping.waitUntilIdle();
    expect(under.invocations.flatMap((invocation) => invocation.data)).toEqual(['new-1']);
  });

  test('AT_TIMESTAMP starts at the first record that arrived at or after StartingPositionTimestamp', async () => {
    const stream = await createStream(emulators.kinesis);
    await putRecords(emulators.kinesis, stream.streamName, ['before-1', 'before-2']);
    await delay(50);
    const timestamp = Date.now() / 1000;
    await delay(50);
    await putRecords(emulators.kinesis, stream.streamName, ['after-1', 'after-2']);
    const under = await start({
      stream,
      handler: 'succeed.handler',
      settings: { StartingPosition: 'AT_TIMESTAMP', StartingPositionTimestamp: timestamp },
    });
    await under.mapping.waitUntilIdle();
    expect(under.invocations.flatMap((invocation) => invocation.data)).toEqual(['after-1', 'after-2']);
  });

  test('a restarted mapping resumes after its persisted checkpoint, like Lambda’s own mapping', async () => {
    const stream = await createStream(emulators.kinesis);
    await putRecords(emulators.kinesis, stream.streamName, ['first-1', 'first-2']);
    const first = await start({ stream, handler: 'succeed.handler' });
    await first.mapping.waitUntilIdle();
    await first.stop();
    running.splice(running.indexOf(first), 1);
    await putRecords(emulators.kinesis, stream.streamName, ['second-1']);
    const second = await start({ stream, handler: 'succeed.handler', stateDir: first.stateDir });
    await second.mapping.waitUntilIdle();
    expect(second.invocations.flatMap((invocation) => invocation.data)).toEqual(['second-1']);
  });

  test('a LATEST mapping restarted before it processed anything still sees the records written while it was down', async () => {
    const stream = await createStream(emulators.kinesis);
    const first = await start({
      stream,
      handler: 'succeed.handler',
      settings: { StartingPosition: 'LATEST' },
    });
    await first.mapping.waitUntilIdle();
    await first.stop();
    running.splice(running.indexOf(first), 1);
    await putRecords(emulators.kinesis, stream.streamName, ['while-down']);
    const second = await start({
      stream,
      handler: 'succeed.handler',
      settings: { StartingPosition: 'LATEST' },
      stateDir: first.stateDir,
    });
    await second.mapping.waitUntilIdle();
    expect(second.invocations.flatMap((invocation) => invocation.data)).toEqual(['while-down']);
  });

  test('a disabled mapping (Enabled: false) polls nothing', async () => {
    const stream = await createStream(emulators.kinesis);
    await putRecords(emulators.kinesis, stream.streamName, ['ignored']);
    const under = await start({ stream, handler: 'succeed.handler', settings: { Enabled: false } });
    await delay(200);
    expect(under.invocations).toEqual([]);
    expect(under.mapping.stats()).toEqual({ idle: true, shards: [] });
  });
});

describe('failure policy and the on-failure destination', () => {
  test('a poison pill is isolated by bisecting, sent on-failure alone with its KinesisBatchInfo, and the shard keeps going', async () => {
    const stream = await createStream(emulators.kinesis);
    const queue = await createQueue(emulators.sqs);
    const data = ['r0', 'r1', 'r2', 'r3', 'r4', 'r5', 'poison', 'r7', 'r8', 'r9'];
    const sequenceNumbers = await putRecords(emulators.kinesis, stream.streamName, data);
    const under = await start({
      stream,
      queue,
      handler: 'poisonPill.handler',
      settings: { BatchSize: 10, BisectBatchOnFunctionError: true, MaximumRetryAttempts: 1 },
    });
    await under.mapping.waitUntilIdle();
    const later = await putRecords(emulators.kinesis, stream.streamName, ['after-1', 'after-2']);
    await under.mapping.waitUntilIdle();

    const poisonSequence = sequenceNumbers[6] as string;
    const messages = await receiveOnFailureMessages(emulators.sqs, queue.queueUrl);
    expect(messages).toHaveLength(1);
    const [message] = messages;
    const invocationsWithPoison = under.invocations.filter((invocation) =>
      invocation.sequenceNumbers.includes(poisonSequence),
    );
    const lastPoisonInvocation = invocationsWithPoison[invocationsWithPoison.length - 1];
    const arrival = under.invocations[0]?.event.Records[6]?.kinesis.approximateArrivalTimestamp ?? 0;
    expect(message).toEqual({
      requestContext: {
        requestId: lastPoisonInvocation?.outcome.requestId,
        functionArn: under.host.functionArn,
        condition: 'RetryAttemptsExhausted',
        approximateInvokeCount: invocationsWithPoison.length,
      },
      responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
      version: '1.0',
      timestamp: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/),
      KinesisBatchInfo: {
        shardId: 'shardId-000000000000',
        startSequenceNumber: poisonSequence,
        endSequenceNumber: poisonSequence,
        approximateArrivalOfFirstRecord: new Date(Math.round(arrival * 1000)).toISOString(),
        approximateArrivalOfLastRecord: new Date(Math.round(arrival * 1000)).toISOString(),
        batchSize: 1,
        streamArn: stream.streamArn,
      },
    });
    // The poison alone was tried once and retried once (MaximumRetryAttempts: 1); splits were free.
    const alone = invocationsWithPoison.filter((invocation) => invocation.sequenceNumbers.length === 1);
    expect(alone).toHaveLength(2);
    // Every other record was processed exactly once, in order, and the shard went on.
    const expected = [...sequenceNumbers.filter((sequence) => sequence !== poisonSequence), ...later];
    expect(successfulSequenceNumbers(under)).toEqual(expected);
    expect(under.mapping.stats().shards[0]).toMatchObject({
      lastProcessedSequenceNumber: later[1],
      recordsSentToOnFailure: 1,
      retries: 1,
    });
  });

  test('without bisecting, a failing batch is retried MaximumRetryAttempts times, then sent on-failure whole', async () => {
    const stream = await createStream(emulators.kinesis);
    const queue = await createQueue(emulators.sqs);
    const sequenceNumbers = await putRecords(emulators.kinesis, stream.streamName, ['a', 'poison', 'c']);
    const under = await start({
      stream,
      queue,
      handler: 'poisonPill.handler',
      settings: { BatchSize: 10, MaximumRetryAttempts: 2 },
    });
    await under.mapping.waitUntilIdle();
    const next = await putRecords(emulators.kinesis, stream.streamName, ['d']);
    await under.mapping.waitUntilIdle();

    expect(under.invocations.slice(0, 3).every((invocation) => invocation.outcome.ok === false)).toBe(true);
    expect(under.invocations.slice(0, 3).map((invocation) => invocation.sequenceNumbers)).toEqual([
      sequenceNumbers,
      sequenceNumbers,
      sequenceNumbers,
    ]);
    const [message] = await receiveOnFailureMessages(emulators.sqs, queue.queueUrl);
    expect(message?.requestContext).toMatchObject({
      condition: 'RetryAttemptsExhausted',
      approximateInvokeCount: 3,
    });
    expect(message?.KinesisBatchInfo).toMatchObject({
      startSequenceNumber: sequenceNumbers[0],
      endSequenceNumber: sequenceNumbers[2],
      batchSize: 3,
    });
    expect(successfulSequenceNumbers(under)).toEqual(next);
    expect(under.mapping.stats().shards[0]).toMatchObject({
      invocations: 4,
      errors: 3,
      retries: 2,
      recordsSentToOnFailure: 3,
    });
  });

  test('records older than MaximumRecordAgeInSeconds stop being retried and go on-failure with RecordAgeExceeded', async () => {
    const stream = await createStream(emulators.kinesis);
    const queue = await createQueue(emulators.sqs);
    const [poison] = await putRecords(emulators.kinesis, stream.streamName, ['poison']);
    const under = await start({
      stream,
      queue,
      handler: 'poisonPill.handler',
      // MaximumRetryAttempts -1: only the age limit ends the retries.
      settings: { MaximumRecordAgeInSeconds: 60, MaximumRetryAttempts: -1 },
    });
    await eventually(() => under.invocations.length >= 2);
    under.advanceClock(61_000);
    await under.mapping.waitUntilIdle();
    const [message] = await receiveOnFailureMessages(emulators.sqs, queue.queueUrl);
    expect(message?.requestContext.condition).toBe('RecordAgeExceeded');
    expect(message?.requestContext.approximateInvokeCount).toBe(under.invocations.length);
    // AWS sends no responseContext with RecordAgeExceeded, even after invocations (test/fixtures/aws/).
    expect(message).not.toHaveProperty('responseContext');
    expect(message?.KinesisBatchInfo).toMatchObject({
      startSequenceNumber: poison,
      endSequenceNumber: poison,
      batchSize: 1,
    });
  });

  test('records already too old when read are discarded without invoking the function', async () => {
    const stream = await createStream(emulators.kinesis);
    const queue = await createQueue(emulators.sqs);
    await putRecords(emulators.kinesis, stream.streamName, ['stale-1', 'stale-2']);
    const under = await start({
      stream,
      queue,
      handler: 'succeed.handler',
      settings: { MaximumRecordAgeInSeconds: 60, StartingPosition: 'TRIM_HORIZON' },
    });
    under.advanceClock(3_600_000);
    await under.mapping.waitUntilIdle();
    expect(under.invocations).toEqual([]);
    const [message] = await receiveOnFailureMessages(emulators.sqs, queue.queueUrl);
    expect(message?.requestContext).toMatchObject({
      condition: 'RecordAgeExceeded',
      approximateInvokeCount: 1,
    });
    expect(message).not.toHaveProperty('responseContext');
    expect(message?.KinesisBatchInfo.batchSize).toBe(2);
  });

  test('a function timeout is a function error: retried, then sent on-failure, and the next invocation is a cold start', async () => {
    const stream = await createStream(emulators.kinesis);
    const queue = await createQueue(emulators.sqs);
    await putRecords(emulators.kinesis, stream.streamName, ['sleep:5000']);
    const under = await start({
      stream,
      queue,
      handler: 'slowRecord.handler',
      timeoutSeconds: 1,
      settings: { MaximumRetryAttempts: 0 },
    });
    await under.mapping.waitUntilIdle();
    await putRecords(emulators.kinesis, stream.streamName, ['sleep:0']);
    await under.mapping.waitUntilIdle();
    expect(under.invocations[0]?.outcome).toMatchObject({ ok: false, reason: 'timeout' });
    expect(under.invocations[1]?.outcome.ok).toBe(true);
    expect(under.host.restarts).toBe(1);
    const [message] = await receiveOnFailureMessages(emulators.sqs, queue.queueUrl);
    expect(message?.responseContext?.functionError).toBe('Unhandled');
  });

  test('a consumer process killed mid-invocation is a crash; the batch is retried in a fresh process', async () => {
    const stream = await createStream(emulators.kinesis);
    await putRecords(emulators.kinesis, stream.streamName, ['sleep:800']);
    const under = await start({ stream, handler: 'slowRecord.handler' });
    await eventually(() => under.mapping.stats().shards[0]?.inFlight === 1);
    const victim = under.host.pid as number;
    process.kill(victim, 'SIGKILL');
    await under.mapping.waitUntilIdle();
    expect(under.invocations.map((invocation) => invocation.outcome.ok)).toEqual([false, true]);
    expect(under.invocations[0]?.outcome).toMatchObject({ reason: 'crash', errorType: 'Runtime.ExitError' });
    expect(under.host.pid).not.toBe(victim);
    expect(under.mapping.stats().shards[0]).toMatchObject({ errors: 1, retries: 1 });
  });
});

describe('ReportBatchItemFailures', () => {
  test('a partial batch response checkpoints before the lowest failed sequence number and retries from it', async () => {
    const stream = await createStream(emulators.kinesis);
    const data = ['d0', 'd1', 'd2', 'fail-3', 'd4', 'd5', 'fail-6', 'd7'];
    const sequenceNumbers = await putRecords(emulators.kinesis, stream.streamName, data);
    const under = await start({
      stream,
      handler: 'partialFailure.handler',
      settings: { BatchSize: 10, FunctionResponseTypes: ['ReportBatchItemFailures'] },
    });
    await under.mapping.waitUntilIdle();
    expect(under.invocations.map((invocation) => invocation.sequenceNumbers)).toEqual([
      sequenceNumbers,
      sequenceNumbers.slice(3),
    ]);
    expect(under.mapping.stats().shards[0]).toMatchObject({
      lastProcessedSequenceNumber: sequenceNumbers[7],
      retries: 1,
      errors: 0,
    });
  });

  test('a malformed item identifier fails the whole batch, which is retried whole', async () => {
    const stream = await createStream(emulators.kinesis);
    const sequenceNumbers = await putRecords(emulators.kinesis, stream.streamName, ['d0', 'fail-1', 'd2']);
    const under = await start({
      stream,
      handler: 'partialFailure.handler',
      environment: { FAILURE_MODE: 'malformed' },
      settings: { FunctionResponseTypes: ['ReportBatchItemFailures'] },
    });
    await under.mapping.waitUntilIdle();
    expect(under.invocations.map((invocation) => invocation.sequenceNumbers)).toEqual([
      sequenceNumbers,
      sequenceNumbers,
    ]);
    expect(under.mapping.stats().shards[0]).toMatchObject({ errors: 1, retries: 1 });
  });

  test('when the retries of a partial failure run out, only the records from the lowest failure on go on-failure', async () => {
    const stream = await createStream(emulators.kinesis);
    const queue = await createQueue(emulators.sqs);
    const sequenceNumbers = await putRecords(emulators.kinesis, stream.streamName, [
      'd0',
      'd1',
      'fail-2',
      'd3',
    ]);
    const under = await start({
      stream,
      queue,
      handler: 'partialFailure.handler',
      settings: { FunctionResponseTypes: ['ReportBatchItemFailures'], MaximumRetryAttempts: 0 },
    });
    await under.mapping.waitUntilIdle();
    expect(under.invocations).toHaveLength(1);
    const [message] = await receiveOnFailureMessages(emulators.sqs, queue.queueUrl);
    // The function answered: functionError null, unlike an error, a timeout or a crash.
    expect(message?.responseContext).toEqual({
      statusCode: 200,
      executedVersion: '$LATEST',
      functionError: null,
    });
    expect(message?.requestContext).toMatchObject({
      condition: 'RetryAttemptsExhausted',
      approximateInvokeCount: 1,
    });
    expect(message?.KinesisBatchInfo).toMatchObject({
      startSequenceNumber: sequenceNumbers[2],
      endSequenceNumber: sequenceNumbers[3],
      batchSize: 2,
    });
    expect(under.mapping.stats().shards[0]?.lastProcessedSequenceNumber).toBe(sequenceNumbers[3]);
  });

  test('without ReportBatchItemFailures in FunctionResponseTypes, a partial batch response is ignored', async () => {
    const stream = await createStream(emulators.kinesis);
    await putRecords(emulators.kinesis, stream.streamName, ['d0', 'fail-1', 'd2']);
    const under = await start({ stream, handler: 'partialFailure.handler' });
    await under.mapping.waitUntilIdle();
    expect(under.invocations).toHaveLength(1);
  });
});

describe('function host behaviour seen through the mapping', () => {
  test('module state survives between the warm invocations of consecutive batches', async () => {
    const stream = await createStream(emulators.kinesis);
    await putRecords(emulators.kinesis, stream.streamName, ['a', 'b', 'c']);
    const under = await start({ stream, handler: 'succeed.handler', settings: { BatchSize: 1 } });
    await under.mapping.waitUntilIdle();
    const results = under.invocations.map(
      (invocation) => (invocation.outcome as { result: { invocations: number; pid: number } }).result,
    );
    expect(results.map((result) => result.invocations)).toEqual([1, 2, 3]);
    expect(new Set(results.map((result) => result.pid)).size).toBe(1);
  });
});

describe('ParallelizationFactor', () => {
  test('with a factor of 3, batches of one shard run concurrently while each partition key stays in order', async () => {
    const stream = await createStream(emulators.kinesis);
    const records = Array.from({ length: 24 }, (_, index) => ({
      data: `sleep:100`,
      partitionKey: `key-${index % 6}`,
    }));
    const sequenceNumbers = await putRecords(emulators.kinesis, stream.streamName, records);
    const under = await start({
      stream,
      handler: 'slowRecord.handler',
      settings: { BatchSize: 2, ParallelizationFactor: 3 },
      host: { maxConcurrency: 3 },
    });
    await under.mapping.waitUntilIdle();
    expect(Math.max(...under.invocations.map((invocation) => invocation.concurrency))).toBeGreaterThan(1);
    const keyOf = new Map(sequenceNumbers.map((sequence, index) => [sequence, records[index]?.partitionKey]));
    const delivered = [...under.invocations]
      .sort((a, b) => a.startedAt - b.startedAt)
      .flatMap((invocation) => invocation.sequenceNumbers);
    for (const key of new Set(records.map((record) => record.partitionKey))) {
      const ofKey = delivered.filter((sequence) => keyOf.get(sequence) === key);
      expect(ofKey).toEqual(sequenceNumbers.filter((sequence) => keyOf.get(sequence) === key));
    }
    expect(under.mapping.stats().shards[0]?.lastProcessedSequenceNumber).toBe(sequenceNumbers[23]);
  });
});

describe('resharding', () => {
  test('after a split, the parent shard is processed completely before its children', async () => {
    const stream = await createStream(emulators.kinesis);
    const parentRecords = await putRecords(emulators.kinesis, stream.streamName, ['p1', 'p2', 'p3']);
    await emulators.kinesis.send(
      new SplitShardCommand({
        StreamName: stream.streamName,
        ShardToSplit: 'shardId-000000000000',
        NewStartingHashKey: (2n ** 127n).toString(),
      }),
    );
    await waitForActiveStream(emulators.kinesis, stream.streamName);
    const childRecords = await putRecords(
      emulators.kinesis,
      stream.streamName,
      Array.from({ length: 6 }, (_, index) => ({ data: `c${index}`, partitionKey: `k${index}` })),
    );
    const under = await start({ stream, handler: 'succeed.handler' });
    await under.mapping.waitUntilIdle();
    const delivered = under.invocations.flatMap((invocation) => invocation.sequenceNumbers);
    expect(delivered.slice(0, 3)).toEqual(parentRecords);
    expect(new Set(delivered.slice(3))).toEqual(new Set(childRecords));
    expect(under.mapping.stats().shards.map((shard) => shard.status)).toEqual([
      'ended',
      'processing',
      'processing',
    ]);
  });
});

describe('startup errors', () => {
  test('a stream that does not exist fails the start with a message that says what to do', async () => {
    await expect(
      start({
        stream: {
          streamName: 'no-such-stream',
          streamArn: 'arn:aws:kinesis:us-east-1:000000000000:stream/no-such-stream',
        },
        handler: 'succeed.handler',
      }),
    ).rejects.toThrow(StreamUnavailableError);
  });
});

describe('on-failure destinations', () => {
  // Lambda sends Kinesis on-failure records to SQS, SNS or S3; the local mapping sends them to SQS or S3
  // (test/conformance/onFailureRecords.test.ts) and refuses the others at start rather than dropping them.
  test.each([
    ['an SNS topic', 'arn:aws:sns:us-east-1:000000000000:failures'],
    ['a Lambda function', 'arn:aws:lambda:us-east-1:000000000000:function:failures'],
  ])('%s as on-failure destination is refused at start, not silently dropped', async (_kind, destination) => {
    const stream = await createStream(emulators.kinesis);
    await expect(
      start({
        stream,
        handler: 'succeed.handler',
        settings: { DestinationConfig: { OnFailure: { Destination: destination } } },
      }),
    ).rejects.toThrow(UnsupportedOnFailureDestinationError);
  });
});

describe('state directory', () => {
  test('a state directory written for another stream is refused rather than misread', async () => {
    const first = await createStream(emulators.kinesis);
    const under = await start({ stream: first, handler: 'succeed.handler' });
    const second = await createStream(emulators.kinesis);
    await expect(
      start({ stream: second, handler: 'succeed.handler', stateDir: under.stateDir }),
    ).rejects.toThrow(StateDirMismatchError);
  });
});

describe('observability', () => {
  test('each decision is one structured log entry: invoke, bisect, retry, and the discard to on-failure with its KinesisBatchInfo', async () => {
    const stream = await createStream(emulators.kinesis);
    const queue = await createQueue(emulators.sqs);
    const [, poison] = await putRecords(emulators.kinesis, stream.streamName, ['a', 'poison', 'c', 'd']);
    const under = await start({
      stream,
      queue,
      handler: 'poisonPill.handler',
      settings: { BatchSize: 4, BisectBatchOnFunctionError: true, MaximumRetryAttempts: 1 },
    });
    await under.mapping.waitUntilIdle();
    const byDecision = (decision: string) => under.logs.filter((entry) => entry.decision === decision);
    expect(byDecision('invoke').length).toBe(under.invocations.length);
    expect(byDecision('invoke')[0]).toMatchObject({
      level: 'debug',
      shardId: 'shardId-000000000000',
      records: 4,
      result: 'function-error',
      requestId: under.invocations[0]?.outcome.requestId,
    });
    expect(byDecision('bisect')[0]).toMatchObject({ level: 'info', records: 4, firstHalf: 2, secondHalf: 2 });
    expect(byDecision('retry')[0]).toMatchObject({
      level: 'warn',
      records: 1,
      retry: 1,
      maximumRetryAttempts: 1,
      failure: expect.stringMatching(/PoisonPillError/),
    });
    expect(byDecision('discard')).toEqual([
      expect.objectContaining({
        level: 'warn',
        condition: 'RetryAttemptsExhausted',
        shardId: 'shardId-000000000000',
        startSequenceNumber: poison,
        endSequenceNumber: poison,
        batchSize: 1,
        streamArn: stream.streamArn,
      }),
    ]);
    // Every entry is plain data: it serializes as one JSON line.
    for (const entry of under.logs) expect(JSON.parse(JSON.stringify(entry))).toEqual(entry);
  });

  test('properties the template sets but the mapping does not emulate are each logged at start, never ignored silently', async () => {
    const stream = await createStream(emulators.kinesis);
    const under = await start({
      stream,
      handler: 'succeed.handler',
      settings: { ignoredProperties: ['MetricsConfig', 'KmsKeyArn'] },
    });
    const warnings = under.logs.filter((entry) => entry.level === 'warn');
    expect(warnings.map((entry) => entry.setting)).toEqual(['MetricsConfig', 'KmsKeyArn']);
    expect(warnings[0]?.message).toMatch(/^MetricsConfig is not emulated locally/);
  });

  test('stats() carry, per shard, the iterator age and the invocation, error, retry, on-failure and filtered counts', async () => {
    const stream = await createStream(emulators.kinesis);
    await putRecords(emulators.kinesis, stream.streamName, ['a', 'b']);
    const under = await start({ stream, handler: 'succeed.handler' });
    await under.mapping.waitUntilIdle();
    expect(under.mapping.stats()).toEqual({
      idle: true,
      shards: [
        {
          shardId: 'shardId-000000000000',
          status: 'processing',
          lastProcessedSequenceNumber: expect.any(String),
          millisBehindLatest: 0,
          iteratorAgeMs: expect.any(Number),
          inFlight: 0,
          bufferedRecords: 0,
          invocations: 1,
          errors: 0,
          retries: 0,
          recordsSentToOnFailure: 0,
          recordsFilteredOut: 0,
        },
      ],
    });
  });
});

// Tumbling windows: the Lambda developer guide, "Implementing stateful Kinesis Data Streams processing in
// Lambda" (quoted as "Stateful processing"), and the Lambda event definitions (`TimeWindowProperties`) for
// what the two flags mean.

interface WindowSumResult {
  state: { sum: number; records: number; invocations: number; padding?: string };
  report?: { window: { start: string; end: string }; total: number };
}

function windowEvent(invocation: RecordedInvocation | undefined): KinesisTimeWindowEvent {
  return invocation?.event as KinesisTimeWindowEvent;
}

function resultOf(invocation: RecordedInvocation | undefined): WindowSumResult {
  if (!invocation?.outcome.ok)
    throw new Error(`not a successful invocation: ${JSON.stringify(invocation?.outcome)}`);
  return invocation.outcome.result as WindowSumResult;
}

function flags(under: MappingUnderTest): Array<[boolean, boolean]> {
  return under.invocations.map((invocation) => {
    const event = windowEvent(invocation);
    return [event.isFinalInvokeForWindow, event.isWindowTerminatedEarly];
  });
}

function amounts(values: Array<Record<string, unknown>>, partitionKey = 'key') {
  return values.map((value) => ({ data: JSON.stringify(value), partitionKey }));
}

const decisions = (under: MappingUnderTest) => under.logs.map((entry) => entry.decision).filter(Boolean);

// The mapping's clock starts an hour behind, so that no window ends by time while a test writes and
// aggregates, however slow the machine: a window ends when a later record is read, when its shard ends,
// or when the test moves the clock past it with endWindowsByTime.
const CLOCK_BEHIND_MS = 3_600_000;

function endWindowsByTime(under: MappingUnderTest, windowSeconds: number) {
  under.advanceClock(CLOCK_BEHIND_MS + windowSeconds * 2_000);
}

describe('TumblingWindowInSeconds: aggregation and processing', () => {
  // Stateful processing: "You can receive these records in multiple batches, each as a separate
  // invocation. Each invocation receives a state." and "At the end of the window, the flag
  // isFinalInvokeForWindow is set to true to indicate that this is the final state".
  test('a window is aggregated over several invocations, each receiving the state the previous one returned, and the final invocation reports the total', async () => {
    const stream = await createStream(emulators.kinesis);
    const under = await start({
      stream,
      handler: 'windowSum.handler',
      clockOffsetMs: -CLOCK_BEHIND_MS,
      settings: { TumblingWindowInSeconds: 60, BatchSize: 2 },
    });
    await awayFromWindowBoundary(60);
    const sequenceNumbers = await putRecords(
      emulators.kinesis,
      stream.streamName,
      amounts([1, 2, 3, 4, 5].map((amount) => ({ amount }))),
    );
    await eventually(
      () => under.invocations.flatMap((invocation) => invocation.sequenceNumbers).length === 5,
    );
    // The window has not ended: no final invocation yet, and the checkpoint waits for the window.
    expect(flags(under).every(([final]) => !final)).toBe(true);
    expect(under.mapping.stats().shards[0]).toMatchObject({
      lastProcessedSequenceNumber: undefined,
      openWindow: { stateBytes: expect.any(Number) },
    });

    endWindowsByTime(under, 60);
    await under.mapping.waitUntilIdle();

    const aggregates = under.invocations.slice(0, -1);
    const final = under.invocations[under.invocations.length - 1];
    expect(aggregates.length).toBeGreaterThanOrEqual(3);
    // Each invocation received the state the previous invocation of the window returned; `{}` at first.
    expect(windowEvent(aggregates[0]).state).toEqual({});
    for (let index = 1; index < under.invocations.length; index += 1) {
      expect(windowEvent(under.invocations[index]).state).toEqual(
        resultOf(under.invocations[index - 1]).state,
      );
    }
    // The final invocation carries no records (all were aggregated) and the final state.
    expect(windowEvent(final)).toMatchObject({
      Records: [],
      state: { sum: 15, records: 5, invocations: aggregates.length },
      isFinalInvokeForWindow: true,
      isWindowTerminatedEarly: false,
    });
    expect(resultOf(final).report?.total).toBe(15);
    // One window for all, aligned on the arrival time, with the shard and stream named.
    const arrivalMs = (aggregates[0]?.event.Records[0]?.kinesis.approximateArrivalTimestamp ?? 0) * 1000;
    const startMs = Math.floor(arrivalMs / 60_000) * 60_000;
    for (const invocation of under.invocations) {
      expect(windowEvent(invocation)).toMatchObject({
        window: { start: formatWindowTime(startMs), end: formatWindowTime(startMs + 60_000) },
        shardId: 'shardId-000000000000',
        eventSourceARN: stream.streamArn,
      });
    }
    // "After successful invocation, your function checkpoints the sequence number".
    expect(under.mapping.stats().shards[0]?.lastProcessedSequenceNumber).toBe(sequenceNumbers[4]);
    expect(under.mapping.stats().shards[0]?.openWindow).toBeUndefined();
    expect(decisions(under)).toEqual(
      expect.arrayContaining(['window-open', 'invoke', 'window-final-invoke', 'window-complete']),
    );
  });

  // Stateful processing: "Lambda determines tumbling window boundaries based on the time when records
  // were inserted into the stream."
  test('records that arrive after the window end start the next window with a fresh state, once the earlier window had its final invocation', async () => {
    const stream = await createStream(emulators.kinesis);
    const under = await start({
      stream,
      handler: 'windowSum.handler',
      clockOffsetMs: -CLOCK_BEHIND_MS,
      settings: { TumblingWindowInSeconds: 1 },
    });
    await putRecords(emulators.kinesis, stream.streamName, amounts([{ amount: 1 }]));
    await eventually(() => under.invocations.length === 1);
    // Write the next record once the first record's window is over.
    const firstEndMs = Date.parse(windowEvent(under.invocations[0]).window.end);
    await delay(Math.max(0, firstEndMs - Date.now()) + 50);
    await putRecords(emulators.kinesis, stream.streamName, amounts([{ amount: 10 }]));
    await eventually(() => under.invocations.length === 3);
    endWindowsByTime(under, 1);
    await eventually(
      () =>
        under.invocations.filter((invocation) => windowEvent(invocation).isFinalInvokeForWindow).length === 2,
    );

    const windows = under.invocations.map((invocation) => windowEvent(invocation).window.start);
    expect(new Set(windows).size).toBe(2);
    const [firstWindow, secondWindow] = [...new Set(windows)];
    const ofWindow = (start: string | undefined) =>
      under.invocations.filter((invocation) => windowEvent(invocation).window.start === start);
    // The first window ends (final invocation) before anything of the second is invoked.
    expect(flags({ ...under, invocations: ofWindow(firstWindow) })).toEqual([
      [false, false],
      [true, false],
    ]);
    expect(windowEvent(ofWindow(firstWindow)[1]).state.sum).toBe(1);
    expect(windowEvent(ofWindow(secondWindow)[0]).state).toEqual({});
    expect(windowEvent(ofWindow(secondWindow)[1]).state.sum).toBe(10);
    expect(under.invocations.indexOf(ofWindow(secondWindow)[0] as RecordedInvocation)).toBe(2);
  });

  // Stateful processing: "If the response does not contain a state property, Lambda considers this a
  // failed invocation."
  test('a response without a state property is a failed invocation, retried and then sent on-failure', async () => {
    const stream = await createStream(emulators.kinesis);
    const queue = await createQueue(emulators.sqs);
    const [sequenceNumber] = await putRecords(emulators.kinesis, stream.streamName, amounts([{ amount: 1 }]));
    const under = await start({
      stream,
      queue,
      handler: 'windowSum.handler',
      environment: { OMIT_STATE: '1' },
      settings: { TumblingWindowInSeconds: 60, MaximumRetryAttempts: 1 },
      clockOffsetMs: -CLOCK_BEHIND_MS,
    });
    await under.mapping.waitUntilIdle();
    expect(under.invocations.map((invocation) => invocation.outcome.ok)).toEqual([true, true]);
    expect(under.mapping.stats().shards[0]).toMatchObject({
      errors: 2,
      retries: 1,
      recordsSentToOnFailure: 1,
    });
    const [message] = await receiveOnFailureMessages(emulators.sqs, queue.queueUrl);
    // The function answered, so functionError is null: the answer itself was unusable.
    expect(message?.responseContext).toEqual({
      statusCode: 200,
      executedVersion: '$LATEST',
      functionError: null,
    });
    expect(message?.KinesisBatchInfo).toMatchObject({ startSequenceNumber: sequenceNumber, batchSize: 1 });
    expect(under.logs.find((entry) => entry.decision === 'retry')?.failure).toMatch(/no state property/);
  });

  // Partial batch responses ("TimeWindowEventResponse ... batchItemFailures") with Lambda's rule that it
  // "retries processing the batch from the lowest failed sequence number".
  test('with ReportBatchItemFailures, a partial response keeps the state it returned and the retry starts at the failed record', async () => {
    const stream = await createStream(emulators.kinesis);
    const under = await start({
      stream,
      handler: 'windowSum.handler',
      clockOffsetMs: -CLOCK_BEHIND_MS,
      settings: {
        TumblingWindowInSeconds: 60,
        BatchSize: 10,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
      },
    });
    await awayFromWindowBoundary(60);
    const sequenceNumbers = await putRecords(
      emulators.kinesis,
      stream.streamName,
      amounts([{ amount: 1 }, { amount: 2 }, { amount: 4, fail: true }, { amount: 8 }]),
    );
    await eventually(() => under.invocations.length === 2);
    endWindowsByTime(under, 60);
    await under.mapping.waitUntilIdle();

    expect(under.invocations.map((invocation) => invocation.sequenceNumbers)).toEqual([
      sequenceNumbers,
      sequenceNumbers.slice(2),
      [],
    ]);
    expect(windowEvent(under.invocations[1]).state).toMatchObject({ sum: 3, records: 2 });
    expect(windowEvent(under.invocations[2]).state).toMatchObject({ sum: 15, records: 4 });
    expect(under.mapping.stats().shards[0]).toMatchObject({
      retries: 1,
      errors: 0,
      lastProcessedSequenceNumber: sequenceNumbers[3],
    });
  });

  // Stateful processing: "Lambda will process each record at least once"; the checkpoint follows the
  // final invocation, so an unfinished window is read again after a restart.
  test('a mapping restarted before its window ended reads the window again from its start, with a fresh state', async () => {
    const stream = await createStream(emulators.kinesis);
    const settings = { TumblingWindowInSeconds: 60 };
    const first = await start({
      stream,
      handler: 'windowSum.handler',
      settings,
      clockOffsetMs: -CLOCK_BEHIND_MS,
    });
    await awayFromWindowBoundary(60);
    const sequenceNumbers = await putRecords(
      emulators.kinesis,
      stream.streamName,
      amounts([{ amount: 1 }, { amount: 2 }]),
    );
    await eventually(() => first.invocations.length > 0);
    await first.mapping.waitUntilIdle();
    await first.stop();
    running.splice(running.indexOf(first), 1);

    const second = await start({
      stream,
      handler: 'windowSum.handler',
      settings,
      stateDir: first.stateDir,
      clockOffsetMs: -CLOCK_BEHIND_MS,
    });
    await eventually(() => second.invocations.length > 0);
    endWindowsByTime(second, 60);
    await eventually(() =>
      second.invocations.some((invocation) => windowEvent(invocation).isFinalInvokeForWindow),
    );
    expect(second.invocations[0]?.sequenceNumbers).toEqual(sequenceNumbers);
    expect(windowEvent(second.invocations[0]).state).toEqual({});
    expect(windowEvent(second.invocations[1]).state).toMatchObject({ sum: 3 });
  });
});

describe('TumblingWindowInSeconds: windows terminated early', () => {
  // Stateful processing: "Your state can be a maximum of 1 MB per shard. If it exceeds that size, Lambda
  // terminates the window early." TimeWindowProperties: isWindowTerminatedEarly is "set to true if window
  // is terminated prematurely. Subsequent invoke will continue the same window with a fresh state."
  test('a state over 1 MB terminates the window early: one invocation flags it with that state, then the same window continues with a fresh state', async () => {
    const stream = await createStream(emulators.kinesis);
    const under = await start({
      stream,
      handler: 'windowSum.handler',
      clockOffsetMs: -CLOCK_BEHIND_MS,
      settings: { TumblingWindowInSeconds: 60, BatchSize: 1 },
    });
    await awayFromWindowBoundary(60);
    await putRecords(
      emulators.kinesis,
      stream.streamName,
      amounts([{ amount: 1 }, { amount: 2, grow: true }, { amount: 4 }]),
    );
    await eventually(() => under.invocations.length === 4);
    endWindowsByTime(under, 60);
    await under.mapping.waitUntilIdle();

    // [isFinalInvokeForWindow, isWindowTerminatedEarly] per invocation.
    expect(flags(under)).toEqual([
      [false, false],
      [false, false],
      [false, true],
      [false, false],
      [true, false],
    ]);
    const terminated = windowEvent(under.invocations[2]);
    expect(terminated.Records).toEqual([]);
    expect(terminated.state).toMatchObject({ sum: 3, records: 2 });
    expect(Buffer.byteLength(JSON.stringify(terminated.state))).toBeGreaterThan(MAX_WINDOW_STATE_BYTES);
    expect(windowEvent(under.invocations[3]).state).toEqual({});
    expect(windowEvent(under.invocations[4]).state).toMatchObject({ sum: 4, records: 1 });
    expect(new Set(under.invocations.map((invocation) => windowEvent(invocation).window.start)).size).toBe(1);
    expect(decisions(under)).toContain('window-terminated-early');
  });

  // Stateful processing: "Tumbling window aggregations do not support resharding. When a shard ends,
  // Lambda considers the current window to be closed, and any child shards will start their own window in
  // a fresh state."
  test('a shard that ends before its window (resharding) closes it with a final invocation flagged terminated early; children start fresh windows', async () => {
    const stream = await createStream(emulators.kinesis);
    await putRecords(emulators.kinesis, stream.streamName, amounts([{ amount: 1 }, { amount: 2 }]));
    await emulators.kinesis.send(
      new SplitShardCommand({
        StreamName: stream.streamName,
        ShardToSplit: 'shardId-000000000000',
        NewStartingHashKey: (2n ** 127n).toString(),
      }),
    );
    await waitForActiveStream(emulators.kinesis, stream.streamName);
    await putRecords(
      emulators.kinesis,
      stream.streamName,
      Array.from({ length: 4 }, (_, index) => ({
        data: JSON.stringify({ amount: 100 }),
        partitionKey: `k${index}`,
      })),
    );
    const under = await start({
      stream,
      handler: 'windowSum.handler',
      settings: { TumblingWindowInSeconds: 900 },
      // No window ends by time: only the end of the parent shard closes its window.
      clockOffsetMs: -CLOCK_BEHIND_MS,
    });
    await under.mapping.waitUntilIdle();

    const ofShard = (shardId: string) =>
      under.invocations.filter((invocation) => windowEvent(invocation).shardId === shardId);
    const parent = ofShard('shardId-000000000000');
    const parentFlags = flags({ ...under, invocations: parent });
    // The records may reach the final invocation itself if the shard's end was read with them.
    expect(parentFlags[parentFlags.length - 1]).toEqual([true, true]);
    expect(parentFlags.slice(0, -1).every(([final, early]) => !final && !early)).toBe(true);
    expect(resultOf(parent[parent.length - 1]).state).toMatchObject({ sum: 3, records: 2 });
    for (const child of ['shardId-000000000001', 'shardId-000000000002']) {
      const invocations = ofShard(child);
      if (invocations.length === 0) continue;
      expect(windowEvent(invocations[0]).state).toEqual({});
      expect(flags({ ...under, invocations }).every(([final]) => !final)).toBe(true);
    }
    expect(ofShard('shardId-000000000001').length + ofShard('shardId-000000000002').length).toBeGreaterThan(
      0,
    );
  });
});

// Event filtering: the Lambda developer guide, "Control which events Lambda sends to your function"
// (quoted as "Event filtering") and "Using event filtering with a Kinesis event source" (quoted as
// "Kinesis filtering").

function filters(...patterns: unknown[]) {
  return { Filters: patterns.map((pattern) => ({ Pattern: JSON.stringify(pattern) })) };
}

function delivered(under: MappingUnderTest): string[] {
  return under.invocations.flatMap((invocation) => invocation.data);
}

const json = (value: unknown, partitionKey = 'key') => ({ data: JSON.stringify(value), partitionKey });

describe('FilterCriteria: event filtering', () => {
  // Kinesis filtering: "As long as the data the producer puts into the stream is valid JSON, you can use
  // event filtering to filter records using the data key." Event filtering: "If none of your filters are
  // satisfied, Lambda discards the record."
  test('only records whose JSON data matches the filter reach the function', async () => {
    const stream = await createStream(emulators.kinesis);
    await putRecords(emulators.kinesis, stream.streamName, [
      json({ order: { type: 'buy', quantity: 1000 } }),
      json({ order: { type: 'sell', quantity: 5 } }),
      json({ order: { type: 'buy', quantity: 10 } }),
    ]);
    const under = await start({
      stream,
      handler: 'succeed.handler',
      settings: {
        FilterCriteria: filters({ data: { order: { type: ['buy'], quantity: [{ numeric: ['>=', 100] }] } } }),
      },
    });
    await under.mapping.waitUntilIdle();
    expect(delivered(under)).toEqual([JSON.stringify({ order: { type: 'buy', quantity: 1000 } })]);
    expect(under.mapping.stats().shards[0]?.recordsFilteredOut).toBe(2);
  });

  // Kinesis filtering: "Kinesis event source mappings only support filtering on the data key": a pattern
  // on partitionKey is refused at start rather than guessed at (docs/ESM.md, "Event filtering").
  test('a filter on the partition key is refused at start: Lambda filters Kinesis records on data only', async () => {
    const stream = await createStream(emulators.kinesis);
    await expect(
      start({
        stream,
        handler: 'succeed.handler',
        settings: { FilterCriteria: filters({ partitionKey: [{ prefix: 'eu-' }] }) },
      }),
    ).rejects.toThrow(/data key only/);
  });

  // Event filtering: "Once your filter criteria processes a Kinesis or DynamoDB record, the streams
  // iterator advances past this record ... you don't have to manually delete the record".
  test('a record that matches no filter counts as processed: the checkpoint moves past it, even when nothing is invoked', async () => {
    const stream = await createStream(emulators.kinesis);
    const sequenceNumbers = await putRecords(emulators.kinesis, stream.streamName, [
      json({ type: 'buy' }),
      json({ type: 'sell' }),
    ]);
    const under = await start({
      stream,
      handler: 'succeed.handler',
      settings: { FilterCriteria: filters({ data: { type: ['buy'] } }) },
    });
    await under.mapping.waitUntilIdle();
    expect(delivered(under)).toEqual([JSON.stringify({ type: 'buy' })]);
    expect(under.mapping.stats().shards[0]).toMatchObject({
      lastProcessedSequenceNumber: sequenceNumbers[1],
      recordsFilteredOut: 1,
    });

    const [onlyFiltered] = await putRecords(emulators.kinesis, stream.streamName, [json({ type: 'hold' })]);
    await under.mapping.waitUntilIdle();
    expect(under.invocations).toHaveLength(1);
    expect(under.mapping.stats().shards[0]).toMatchObject({
      lastProcessedSequenceNumber: onlyFiltered,
      recordsFilteredOut: 2,
    });
    expect(under.logs.some((entry) => entry.decision === 'filter-out')).toBe(true);
  });

  // Event filtering: "Your filters are logically ORed together", and $or inside a pattern (EventBridge
  // pattern syntax) ORs its patterns. Kinesis data that is not JSON never matches a data pattern.
  test('filters are ORed, $or ORs within a pattern, and data that is not JSON never passes', async () => {
    const stream = await createStream(emulators.kinesis);
    await putRecords(emulators.kinesis, stream.streamName, [
      json({ type: 'buy' }, 'orders'),
      { data: 'buy', partitionKey: 'orders' },
      json({ type: 'sell', quantity: 500 }, 'orders'),
      json({ type: 'sell', quantity: 5 }, 'orders'),
      json({ type: 'hold' }, 'orders'),
    ]);
    const under = await start({
      stream,
      handler: 'succeed.handler',
      settings: {
        FilterCriteria: filters(
          { data: { type: ['buy'] } },
          { data: { $or: [{ type: ['hold'] }, { quantity: [{ numeric: ['>', 100] }] }] } },
        ),
      },
    });
    await under.mapping.waitUntilIdle();
    expect(delivered(under)).toEqual([
      JSON.stringify({ type: 'buy' }),
      JSON.stringify({ type: 'sell', quantity: 500 }),
      JSON.stringify({ type: 'hold' }),
    ]);
  });

  // Event filtering: "If you're using batching windows, Lambda applies your filter criteria to each new
  // event to determine whether to add it to the current batch."
  test('filtering comes before batching: BatchSize counts only the records that pass', async () => {
    const stream = await createStream(emulators.kinesis);
    await putRecords(
      emulators.kinesis,
      stream.streamName,
      ['buy', 'sell', 'sell', 'buy', 'sell', 'buy'].map((type) => json({ type })),
    );
    const under = await start({
      stream,
      handler: 'succeed.handler',
      settings: { BatchSize: 2, FilterCriteria: filters({ data: { type: [{ 'anything-but': ['sell'] }] } }) },
    });
    await under.mapping.waitUntilIdle();
    expect(under.invocations.map((invocation) => invocation.data.length)).toEqual([2, 1]);
  });

  // Kinesis filtering: a data pattern that is not valid JSON makes "Lambda [throw] an exception at the
  // time of the event source mapping creation or update".
  test('an invalid filter pattern is refused at start with InvalidFilterCriteriaError, before anything is polled', async () => {
    const stream = await createStream(emulators.kinesis);
    await expect(
      start({
        stream,
        handler: 'succeed.handler',
        settings: { FilterCriteria: filters({ data: ['buy'] }) },
      }),
    ).rejects.toThrow(InvalidFilterCriteriaError);
  });
});
