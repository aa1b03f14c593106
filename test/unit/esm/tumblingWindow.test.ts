import { describe, expect, test } from 'vitest';
import { prepareEventRecord } from '../../../local/esm/eventShape';
import {
  formatWindowTime,
  MAX_WINDOW_STATE_BYTES,
  readWindowState,
  stateBytes,
  tumblingWindowEvent,
  windowEnvelopeBytes,
  windowFor,
} from '../../../local/esm/tumblingWindow';

// Lambda developer guide, "Implementing stateful Kinesis Data Streams processing in Lambda".

const streamArn = 'arn:aws:kinesis:us-east-1:123456789012:stream/lambda-stream';
const source = {
  shardId: 'shardId-000000000006',
  streamArn,
  awsRegion: 'us-east-1',
  invokeIdentityArn: 'arn:aws:iam::123456789012:role/lambda-kinesis-role',
};
const example = prepareEventRecord(
  {
    sequenceNumber: '49590338271490256608559692538361571095921575989136588898',
    partitionKey: '1',
    data: Buffer.from('Hello, this is a test.'),
    approximateArrivalTimestampMs: 1_607_497_475_000,
  },
  source,
);

describe('tumbling window boundaries', () => {
  test('windows are aligned on the record arrival time, like the AWS example 07:04:00Z to 07:06:00Z for 120 s', () => {
    expect(windowFor(Date.parse('2020-12-09T07:04:35Z'), 120)).toEqual({
      startMs: Date.parse('2020-12-09T07:04:00Z'),
      endMs: Date.parse('2020-12-09T07:06:00Z'),
    });
  });

  test('windows are distinct and contiguous: a record at the end time belongs to the next window', () => {
    const first = windowFor(Date.parse('2020-12-09T07:05:59.999Z'), 120);
    const second = windowFor(Date.parse('2020-12-09T07:06:00.000Z'), 120);
    expect(second.startMs).toBe(first.endMs);
  });

  test('boundaries are written as ISO 8601 UTC to the second, as in the example event', () => {
    expect(formatWindowTime(Date.parse('2020-12-09T07:04:00Z'))).toBe('2020-12-09T07:04:00Z');
  });
});

describe('tumbling window event and response', () => {
  test('the event has the fields of the AWS example KinesisTimeWindowEvent, in order', () => {
    const event = tumblingWindowEvent([example], {
      bounds: windowFor(1_607_497_475_000, 120),
      state: { '1': 282, '2': 715 },
      shardId: source.shardId,
      streamArn,
      isFinalInvokeForWindow: false,
      isWindowTerminatedEarly: false,
    });
    expect(Object.keys(event)).toEqual([
      'Records',
      'window',
      'state',
      'shardId',
      'eventSourceARN',
      'isFinalInvokeForWindow',
      'isWindowTerminatedEarly',
    ]);
    expect(event).toEqual({
      Records: [example.event],
      window: { start: '2020-12-09T07:04:00Z', end: '2020-12-09T07:06:00Z' },
      state: { '1': 282, '2': 715 },
      shardId: 'shardId-000000000006',
      eventSourceARN: streamArn,
      isFinalInvokeForWindow: false,
      isWindowTerminatedEarly: false,
    });
  });

  test('the window fields add exactly the bytes the batcher reserves for them', () => {
    const invocation = {
      bounds: windowFor(1_607_497_475_000, 120),
      state: { sum: 12345, keys: ['a', 'é'] },
      shardId: source.shardId,
      streamArn,
      isFinalInvokeForWindow: false,
      isWindowTerminatedEarly: false,
    };
    const withWindow = Buffer.byteLength(JSON.stringify(tumblingWindowEvent([example], invocation)));
    const plain = Buffer.byteLength(JSON.stringify({ Records: [example.event] }));
    expect(withWindow - plain).toBe(windowEnvelopeBytes(invocation));
  });

  test('a response must contain a state property, or Lambda considers the invocation failed', () => {
    expect(readWindowState({ state: { '1': 282 }, batchItemFailures: [] })).toEqual({
      ok: true,
      state: { '1': 282 },
    });
    expect(readWindowState({ batchItemFailures: [] })).toMatchObject({ ok: false });
    expect(readWindowState(undefined)).toMatchObject({ ok: false });
    expect(readWindowState(null)).toMatchObject({ ok: false });
  });

  test('a state that is not a JSON object is refused too', () => {
    expect(readWindowState({ state: 5 })).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/not a JSON object/),
    });
    expect(readWindowState({ state: null })).toMatchObject({ ok: false });
    expect(readWindowState({ state: [1] })).toMatchObject({ ok: false });
  });

  test('the state limit is 1 MB, measured on the serialized state', () => {
    expect(MAX_WINDOW_STATE_BYTES).toBe(1_048_576);
    expect(stateBytes({ sum: 42 })).toBe('{"sum":42}'.length);
    expect(stateBytes({ padding: 'x'.repeat(MAX_WINDOW_STATE_BYTES) })).toBeGreaterThan(
      MAX_WINDOW_STATE_BYTES,
    );
  });
});
