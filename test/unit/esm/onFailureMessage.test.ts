import { describe, expect, test } from 'vitest';
import { isS3BucketArn } from '../../../local/esm/arn';
import { buildOnFailureMessage, s3OnFailureObjectKey } from '../../../local/esm/onFailureDestination';

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

describe('the S3 on-failure destination', () => {
  test('names each object as the Lambda guide documents: aws/lambda/<ESM-UUID>/<shardID>/YYYY/MM/DD/YYYY-MM-DDTHH.MM.SS-<UUID>', () => {
    const key = s3OnFailureObjectKey(
      '6d2c9a6e-0000-4000-8000-000000000001',
      'shardId-000000000003',
      new Date('2026-12-02T20:10:05.123Z'),
      'f0f0f0f0-1111-4222-8333-444444444444',
    );
    expect(key).toBe(
      'aws/lambda/6d2c9a6e-0000-4000-8000-000000000001/shardId-000000000003/2026/12/02/' +
        '2026-12-02T20.10.05-f0f0f0f0-1111-4222-8333-444444444444',
    );
  });

  test.each([
    ['arn:aws:s3:::shardline-dev-fail-000000000000-us-east-1', true],
    ['arn:aws:s3:::Bad_Name', false],
    ['arn:aws:sqs:us-east-1:000000000000:dlq', false],
    ['arn:aws:s3:::bucket/key', false],
  ])('%s is an S3 bucket ARN: %s', (arn, expected) => {
    expect(isS3BucketArn(arn)).toBe(expected);
  });
});
