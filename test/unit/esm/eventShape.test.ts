import { describe, expect, test } from 'vitest';
import { kinesisStreamEvent, prepareEventRecord, toKinesisEventRecord } from '../../../local/esm/eventShape';

// Lambda developer guide, "Using Lambda with Kinesis": the example Kinesis record event.
describe('Kinesis event shape', () => {
  const source = {
    shardId: 'shardId-000000000006',
    streamArn: 'arn:aws:kinesis:us-east-2:123456789012:stream/lambda-stream',
    awsRegion: 'us-east-2',
    invokeIdentityArn: 'arn:aws:iam::123456789012:role/lambda-role',
  };
  const streamRecord = {
    sequenceNumber: '49590338271490256608559692538361571095921575989136588898',
    partitionKey: '1',
    data: Buffer.from('Hello, this is a test.'),
    approximateArrivalTimestampMs: 1545084650987,
  };

  test('a record serializes exactly like the AWS example, field order included', () => {
    expect(JSON.stringify(toKinesisEventRecord(streamRecord, source))).toBe(
      JSON.stringify({
        kinesis: {
          kinesisSchemaVersion: '1.0',
          partitionKey: '1',
          sequenceNumber: '49590338271490256608559692538361571095921575989136588898',
          data: 'SGVsbG8sIHRoaXMgaXMgYSB0ZXN0Lg==',
          approximateArrivalTimestamp: 1545084650.987,
        },
        eventSource: 'aws:kinesis',
        eventVersion: '1.0',
        eventID: 'shardId-000000000006:49590338271490256608559692538361571095921575989136588898',
        eventName: 'aws:kinesis:record',
        invokeIdentityArn: 'arn:aws:iam::123456789012:role/lambda-role',
        awsRegion: 'us-east-2',
        eventSourceARN: 'arn:aws:kinesis:us-east-2:123456789012:stream/lambda-stream',
      }),
    );
  });

  test('binary data is base64-encoded byte for byte', () => {
    const bytes = Uint8Array.from([0, 255, 10, 13, 0x80]);
    const record = toKinesisEventRecord({ ...streamRecord, data: bytes }, source);
    expect(Buffer.from(record.kinesis.data, 'base64')).toEqual(Buffer.from(bytes));
  });

  test('the event wraps the records in Records, and each prepared record knows its serialized size', () => {
    const prepared = prepareEventRecord(streamRecord, source);
    expect(prepared.bytes).toBe(Buffer.byteLength(JSON.stringify(prepared.event)));
    expect(kinesisStreamEvent([prepared])).toEqual({ Records: [prepared.event] });
  });
});
