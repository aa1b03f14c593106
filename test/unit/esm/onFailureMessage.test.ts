import { describe, expect, test } from 'vitest';
import { buildOnFailureMessage } from '../../../local/esm/onFailureDestination';

// Lambda developer guide, "Retain discarded batch records for a Kinesis Data Streams event source":
// the example invocation record, field for field.
const records = [
  {
    sequenceNumber: '49601189658422359378836298521827638475320189012309704722',
    partitionKey: 'a',
    data: Buffer.from('x'),
    approximateArrivalTimestampMs: Date.parse('2019-11-14T00:38:04.835Z'),
  },
  {
    sequenceNumber: '49601189658422359378836298522902373528957594348623495186',
    partitionKey: 'b',
    data: Buffer.from('y'),
    approximateArrivalTimestampMs: Date.parse('2019-11-14T00:38:05.580Z'),
  },
];

describe('on-failure message for a Kinesis batch', () => {
  test('has exactly the fields and values of the AWS example invocation record', () => {
    const message = buildOnFailureMessage({
      requestId: 'c9b8fa9f-5a7f-xmpl-af9c-0c604cde93a5',
      functionArn: 'arn:aws:lambda:us-east-2:123456789012:function:myfunction',
      condition: 'RetryAttemptsExhausted',
      approximateInvokeCount: 1,
      response: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
      discardedAt: new Date('2019-11-14T00:38:06.021Z'),
      shardId: 'shardId-000000000001',
      streamArn: 'arn:aws:kinesis:us-east-2:123456789012:stream/mystream',
      records,
    });
    expect(JSON.parse(JSON.stringify(message))).toEqual({
      requestContext: {
        requestId: 'c9b8fa9f-5a7f-xmpl-af9c-0c604cde93a5',
        functionArn: 'arn:aws:lambda:us-east-2:123456789012:function:myfunction',
        condition: 'RetryAttemptsExhausted',
        approximateInvokeCount: 1,
      },
      responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
      version: '1.0',
      timestamp: '2019-11-14T00:38:06.021Z',
      KinesisBatchInfo: {
        shardId: 'shardId-000000000001',
        startSequenceNumber: '49601189658422359378836298521827638475320189012309704722',
        endSequenceNumber: '49601189658422359378836298522902373528957594348623495186',
        approximateArrivalOfFirstRecord: '2019-11-14T00:38:04.835Z',
        approximateArrivalOfLastRecord: '2019-11-14T00:38:05.580Z',
        batchSize: 2,
        streamArn: 'arn:aws:kinesis:us-east-2:123456789012:stream/mystream',
      },
    });
    expect(Object.keys(message)).toEqual([
      'requestContext',
      'responseContext',
      'version',
      'timestamp',
      'KinesisBatchInfo',
    ]);
  });

  test('records discarded for age before any invocation carry RecordAgeExceeded and no responseContext', () => {
    const message = buildOnFailureMessage({
      functionArn: 'arn:aws:lambda:us-east-1:000000000000:function:f',
      condition: 'RecordAgeExceeded',
      approximateInvokeCount: 0,
      discardedAt: new Date(),
      shardId: 'shardId-000000000000',
      streamArn: 'arn:aws:kinesis:us-east-1:000000000000:stream/s',
      records: records.slice(0, 1),
    });
    expect(message.requestContext.condition).toBe('RecordAgeExceeded');
    expect(message.requestContext.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(message).not.toHaveProperty('responseContext');
    expect(message.KinesisBatchInfo.startSequenceNumber).toBe(message.KinesisBatchInfo.endSequenceNumber);
    expect(message.KinesisBatchInfo.batchSize).toBe(1);
  });

  test('fits easily in an SQS message (256 KiB): it carries metadata only, never the records', () => {
    const message = buildOnFailureMessage({
      functionArn: 'arn:aws:lambda:us-east-1:000000000000:function:f',
      condition: 'RetryAttemptsExhausted',
      approximateInvokeCount: 3,
      discardedAt: new Date(),
      shardId: 'shardId-000000000000',
      streamArn: 'arn:aws:kinesis:us-east-1:000000000000:stream/s',
      records: [{ ...records[0], data: Buffer.alloc(1024 * 1024) } as (typeof records)[0]],
    });
    expect(Buffer.byteLength(JSON.stringify(message))).toBeLessThan(2_000);
  });
});
