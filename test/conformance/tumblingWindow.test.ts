/**
 * Tumbling windows (TumblingWindowInSeconds) against a real kinesalite and fauxqs, through the real function
 * host. Each test cites the Lambda developer guide, "Implementing stateful Kinesis Data Streams processing
 * in Lambda" (quoted as "Stateful processing"), and the Go/Rust event definitions
 * (`TimeWindowProperties`) for what the two flags mean.
 */
import { SplitShardCommand } from '@aws-sdk/client-kinesis';
import { describe, expect, test } from 'vitest';
import { formatWindowTime, type KinesisTimeWindowEvent, MAX_WINDOW_STATE_BYTES } from '../../local/esm';
import {
  awayFromWindowBoundary,
  conformanceSuite,
  createQueue,
  createStream,
  delay,
  eventually,
  type MappingUnderTest,
  putRecords,
  type RecordedInvocation,
  receiveOnFailureMessages,
  waitForActiveStream,
} from './harness';

const suite = conformanceSuite();

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

describe('aggregation and processing', () => {
  // Stateful processing: "You can receive these records in multiple batches, each as a separate
  // invocation. Each invocation receives a state." and "At the end of the window, the flag
  // isFinalInvokeForWindow is set to true to indicate that this is the final state".
  test('a window is aggregated over several invocations, each receiving the state the previous one returned, and the final invocation reports the total', async () => {
    const stream = await createStream(suite.emulators.kinesis);
    await awayFromWindowBoundary(60);
    const under = await suite.start({
      stream,
      handler: 'windowSum.handler',
      settings: { TumblingWindowInSeconds: 60, BatchSize: 2 },
    });
    const sequenceNumbers = await putRecords(
      suite.emulators.kinesis,
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

    under.advanceClock(60_000);
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
    const stream = await createStream(suite.emulators.kinesis);
    const under = await suite.start({
      stream,
      handler: 'windowSum.handler',
      settings: { TumblingWindowInSeconds: 1 },
    });
    await putRecords(suite.emulators.kinesis, stream.streamName, amounts([{ amount: 1 }]));
    await eventually(() => under.invocations.length === 1);
    // Write the next record once the first record's window is over.
    const firstEndMs = Date.parse(windowEvent(under.invocations[0]).window.end);
    await delay(Math.max(0, firstEndMs - Date.now()) + 50);
    await putRecords(suite.emulators.kinesis, stream.streamName, amounts([{ amount: 10 }]));
    await eventually(() => under.invocations.length === 3);
    under.advanceClock(2_000);
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
    const stream = await createStream(suite.emulators.kinesis);
    const queue = await createQueue(suite.emulators.sqs);
    const [sequenceNumber] = await putRecords(
      suite.emulators.kinesis,
      stream.streamName,
      amounts([{ amount: 1 }]),
    );
    const under = await suite.start({
      stream,
      queue,
      handler: 'windowSum.handler',
      environment: { OMIT_STATE: '1' },
      settings: { TumblingWindowInSeconds: 60, MaximumRetryAttempts: 1 },
      clockOffsetMs: -3_600_000,
    });
    await under.mapping.waitUntilIdle();
    expect(under.invocations.map((invocation) => invocation.outcome.ok)).toEqual([true, true]);
    expect(under.mapping.stats().shards[0]).toMatchObject({
      errors: 2,
      retries: 1,
      recordsSentToOnFailure: 1,
    });
    const [message] = await receiveOnFailureMessages(suite.emulators.sqs, queue.queueUrl);
    // The function answered, so no functionError: the answer itself was unusable.
    expect(message?.responseContext).toEqual({ statusCode: 200, executedVersion: '$LATEST' });
    expect(message?.KinesisBatchInfo).toMatchObject({ startSequenceNumber: sequenceNumber, batchSize: 1 });
    expect(under.logs.find((entry) => entry.decision === 'retry')?.failure).toMatch(/no state property/);
  });

  // Partial batch responses ("TimeWindowEventResponse ... batchItemFailures") with Lambda's rule that it
  // "retries processing the batch from the lowest failed sequence number".
  test('with ReportBatchItemFailures, a partial response keeps the state it returned and the retry starts at the failed record', async () => {
    const stream = await createStream(suite.emulators.kinesis);
    await awayFromWindowBoundary(60);
    const under = await suite.start({
      stream,
      handler: 'windowSum.handler',
      settings: {
        TumblingWindowInSeconds: 60,
        BatchSize: 10,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
      },
    });
    const sequenceNumbers = await putRecords(
      suite.emulators.kinesis,
      stream.streamName,
      amounts([{ amount: 1 }, { amount: 2 }, { amount: 4, fail: true }, { amount: 8 }]),
    );
    await eventually(() => under.invocations.length === 2);
    under.advanceClock(60_000);
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
    const stream = await createStream(suite.emulators.kinesis);
    await awayFromWindowBoundary(60);
    const settings = { TumblingWindowInSeconds: 60 };
    const first = await suite.start({ stream, handler: 'windowSum.handler', settings });
    const sequenceNumbers = await putRecords(
      suite.emulators.kinesis,
      stream.streamName,
      amounts([{ amount: 1 }, { amount: 2 }]),
    );
    await eventually(() => first.invocations.length > 0);
    await first.mapping.waitUntilIdle();
    await suite.stopEarly(first);

    const second = await suite.start({
      stream,
      handler: 'windowSum.handler',
      settings,
      stateDir: first.stateDir,
    });
    await eventually(() => second.invocations.length > 0);
    second.advanceClock(60_000);
    await eventually(() =>
      second.invocations.some((invocation) => windowEvent(invocation).isFinalInvokeForWindow),
    );
    expect(second.invocations[0]?.sequenceNumbers).toEqual(sequenceNumbers);
    expect(windowEvent(second.invocations[0]).state).toEqual({});
    expect(windowEvent(second.invocations[1]).state).toMatchObject({ sum: 3 });
  });
});

describe('windows terminated early', () => {
  // Stateful processing: "Your state can be a maximum of 1 MB per shard. If it exceeds that size, Lambda
  // terminates the window early." TimeWindowProperties: isWindowTerminatedEarly is "set to true if window
  // is terminated prematurely. Subsequent invoke will continue the same window with a fresh state."
  test('a state over 1 MB terminates the window early: one invocation flags it with that state, then the same window continues with a fresh state', async () => {
    const stream = await createStream(suite.emulators.kinesis);
    await awayFromWindowBoundary(60);
    const under = await suite.start({
      stream,
      handler: 'windowSum.handler',
      settings: { TumblingWindowInSeconds: 60, BatchSize: 1 },
    });
    await putRecords(
      suite.emulators.kinesis,
      stream.streamName,
      amounts([{ amount: 1 }, { amount: 2, grow: true }, { amount: 4 }]),
    );
    await eventually(() => under.invocations.length === 4);
    under.advanceClock(60_000);
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
    const stream = await createStream(suite.emulators.kinesis);
    await putRecords(suite.emulators.kinesis, stream.streamName, amounts([{ amount: 1 }, { amount: 2 }]));
    await suite.emulators.kinesis.send(
      new SplitShardCommand({
        StreamName: stream.streamName,
        ShardToSplit: 'shardId-000000000000',
        NewStartingHashKey: (2n ** 127n).toString(),
      }),
    );
    await waitForActiveStream(suite.emulators.kinesis, stream.streamName);
    await putRecords(
      suite.emulators.kinesis,
      stream.streamName,
      Array.from({ length: 4 }, (_, index) => ({
        data: JSON.stringify({ amount: 100 }),
        partitionKey: `k${index}`,
      })),
    );
    const under = await suite.start({
      stream,
      handler: 'windowSum.handler',
      settings: { TumblingWindowInSeconds: 900 },
      // The mapping's clock is an hour behind: no window ends by time, only the end of the parent shard.
      clockOffsetMs: -3_600_000,
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
