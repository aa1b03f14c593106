import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import {
  eventPayloadBytes,
  MAX_INVOCATION_PAYLOAD_BYTES,
  planBatch,
  shouldInvoke,
} from '../../../local/esm/batcher';
import { kinesisStreamEvent, prepareEventRecord } from '../../../local/esm/eventShape';

const source = {
  shardId: 'shardId-000000000000',
  streamArn: 'arn:aws:kinesis:us-east-1:000000000000:stream/events',
  awsRegion: 'us-east-1',
  invokeIdentityArn: 'arn:aws:iam::000000000000:role/consumer',
};

function record(index: number, dataBytes = 10) {
  return prepareEventRecord(
    {
      sequenceNumber: String(49_000_000_000n + BigInt(index)),
      partitionKey: `key-${index}`,
      data: Buffer.alloc(dataBytes, 'a'),
      approximateArrivalTimestampMs: 1_700_000_000_000 + index,
    },
    source,
  );
}

const limits = { batchSize: 100, maxPayloadBytes: MAX_INVOCATION_PAYLOAD_BYTES };

describe('batcher: Lambda invokes at BatchSize, at the end of the batching window, or at the 6 MB payload limit', () => {
  test('the measured payload equals the size of the serialized event Lambda would send', () => {
    const records = [record(1, 3), record(2, 2_000), record(3, 0)];
    expect(eventPayloadBytes(records)).toBe(Buffer.byteLength(JSON.stringify(kinesisStreamEvent(records))));
    expect(eventPayloadBytes([])).toBe(Buffer.byteLength(JSON.stringify({ Records: [] })));
  });

  test('a batch takes at most BatchSize records', () => {
    const queue = Array.from({ length: 250 }, (_, index) => record(index));
    expect(planBatch(queue, limits)).toMatchObject({ count: 100, limitReached: 'BatchSize' });
    expect(planBatch(queue.slice(0, 100), limits)).toMatchObject({ count: 100, limitReached: 'BatchSize' });
  });

  test('a batch below BatchSize with room left has reached no limit (it may wait for the window)', () => {
    expect(planBatch([record(1), record(2)], limits)).toMatchObject({ count: 2, limitReached: undefined });
  });

  test('a batch stops before the record that would take the serialized event over 6 MB', () => {
    // 1,000 KiB of data is 1.33 MiB of base64: four fit in 6 MiB, five do not.
    const queue = Array.from({ length: 6 }, (_, index) => record(index, 1_000 * 1024));
    const plan = planBatch(queue, limits);
    expect(plan).toMatchObject({ count: 4, limitReached: 'PayloadLimit' });
    expect(plan.payloadBytes).toBe(eventPayloadBytes(queue.slice(0, 4)));
    expect(eventPayloadBytes(queue.slice(0, 5))).toBeGreaterThan(MAX_INVOCATION_PAYLOAD_BYTES);
  });

  test('a single record larger than the payload limit still goes alone, so the shard is never stuck', () => {
    const plan = planBatch([record(1, 200), record(2)], { batchSize: 10, maxPayloadBytes: 100 });
    expect(plan).toMatchObject({ count: 1, limitReached: 'PayloadLimit' });
  });

  test('planned batches never exceed either limit and take records from the head in order', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 5_000 }), { minLength: 1, maxLength: 60 }),
        fc.integer({ min: 1, max: 20 }),
        fc.integer({ min: 100, max: 50_000 }),
        (sizes, batchSize, maxPayloadBytes) => {
          const queue = sizes.map((bytes) => ({ bytes }));
          const plan = planBatch(queue, { batchSize, maxPayloadBytes });
          expect(plan.count).toBeGreaterThanOrEqual(1);
          expect(plan.count).toBeLessThanOrEqual(batchSize);
          expect(plan.payloadBytes).toBe(eventPayloadBytes(queue.slice(0, plan.count)));
          if (plan.count > 1) expect(plan.payloadBytes).toBeLessThanOrEqual(maxPayloadBytes);
          if (plan.limitReached === undefined) expect(plan.count).toBe(queue.length);
        },
      ),
    );
  });

  test('with records and no limit reached, the batch waits until the batching window closes', () => {
    const plan = planBatch([record(1)], limits);
    expect(shouldInvoke(plan, { nowMs: 1_000, windowEndsAtMs: 2_000, sourceExhausted: false })).toBe(false);
    expect(shouldInvoke(plan, { nowMs: 2_000, windowEndsAtMs: 2_000, sourceExhausted: false })).toBe(true);
  });

  test('a batching window of 0 (the default for streams) invokes as soon as records are available', () => {
    const plan = planBatch([record(1)], limits);
    expect(shouldInvoke(plan, { nowMs: 5_000, windowEndsAtMs: 5_000, sourceExhausted: false })).toBe(true);
  });

  test('a full batch or a closed shard does not wait for the window; an empty batch never invokes', () => {
    const full = planBatch([record(1), record(2)], {
      batchSize: 2,
      maxPayloadBytes: MAX_INVOCATION_PAYLOAD_BYTES,
    });
    expect(shouldInvoke(full, { nowMs: 0, windowEndsAtMs: 300_000, sourceExhausted: false })).toBe(true);
    const partial = planBatch([record(1)], limits);
    expect(shouldInvoke(partial, { nowMs: 0, windowEndsAtMs: 300_000, sourceExhausted: true })).toBe(true);
    expect(shouldInvoke(planBatch([], limits), { nowMs: 9, windowEndsAtMs: 0, sourceExhausted: true })).toBe(
      false,
    );
  });
});
