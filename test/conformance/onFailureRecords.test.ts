/**
 * On-failure records and invocation events of the local mapping against the bodies real AWS produced
 * (test/fixtures/aws/, recorded in LocalStack's AWS-validated snapshot tests). Each test sets the mapping
 * up as the recorded test did (same retries, same number of records), so that every value that does not
 * differ by nature must be equal, and compares field for field, keys and their order included.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import type { KinesisOnFailureMessage } from '../../local/esm';
import { differencesFromRecording, recordedBody } from './awsRecording';
import {
  CONFORMANCE_MAPPING_UUID,
  createBucket,
  createQueue,
  createStream,
  type Emulators,
  eventually,
  type MappingUnderTest,
  type MappingUnderTestOptions,
  putRecords,
  readS3OnFailureObjects,
  receiveOnFailureMessages,
  startEmulators,
  startMappingUnderTest,
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

/** Runs a mapping to idle over `records` with an SQS destination and returns the one on-failure message. */
async function onFailureMessageOf(
  records: string[],
  options: Omit<MappingUnderTestOptions, 'emulators' | 'stream' | 'queue'>,
  beforeIdle?: (under: MappingUnderTest) => Promise<void>,
): Promise<{ message: KinesisOnFailureMessage; under: MappingUnderTest }> {
  const stream = await createStream(emulators.kinesis);
  const queue = await createQueue(emulators.sqs);
  await putRecords(emulators.kinesis, stream.streamName, records);
  const under = await start({ stream, queue, ...options });
  await beforeIdle?.(under);
  await under.mapping.waitUntilIdle();
  const messages = await receiveOnFailureMessages(emulators.sqs, queue.queueUrl);
  expect(messages).toHaveLength(1);
  return { message: messages[0] as KinesisOnFailureMessage, under };
}

describe('RetryAttemptsExhausted, as AWS sends it to SQS', () => {
  test('after a function error: responseContext with functionError "Unhandled", one invocation per attempt', async () => {
    const { message } = await onFailureMessageOf(['poison'], {
      handler: 'poisonPill.handler',
      settings: { MaximumRetryAttempts: 1 },
    });
    expect(
      differencesFromRecording(message, recordedBody('sqs-retry-attempts-exhausted-function-error.json')),
    ).toEqual([]);
  });

  test('after an unhandled exception with ReportBatchItemFailures on', async () => {
    const { message } = await onFailureMessageOf(['poison'], {
      handler: 'poisonPill.handler',
      settings: { MaximumRetryAttempts: 2, FunctionResponseTypes: ['ReportBatchItemFailures'] },
    });
    expect(
      differencesFromRecording(
        message,
        recordedBody('sqs-retry-attempts-exhausted-unhandled-exception.json'),
      ),
    ).toEqual([]);
  });

  test('after a function timeout: Lambda reports a timeout as "Unhandled", like an exception', async () => {
    const { message } = await onFailureMessageOf(['sleep:3000'], {
      handler: 'slowRecord.handler',
      timeoutSeconds: 1,
      settings: { MaximumRetryAttempts: 1 },
    });
    expect(
      differencesFromRecording(message, recordedBody('sqs-retry-attempts-exhausted-function-error.json')),
    ).toEqual([]);
  });

  test('after partial batch responses: functionError is null, and only the failed record goes on-failure', async () => {
    const { message } = await onFailureMessageOf(['d0', 'fail-1'], {
      handler: 'partialFailure.handler',
      environment: { FAIL_EVERY_TIME: '1' },
      settings: {
        BatchSize: 10,
        MaximumRetryAttempts: 3,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
      },
    });
    expect(
      differencesFromRecording(message, recordedBody('sqs-retry-attempts-exhausted-partial-response.json')),
    ).toEqual([]);
  });

  test('after malformed batch responses: functionError is null (the function answered)', async () => {
    const { message } = await onFailureMessageOf(['fail-0'], {
      handler: 'partialFailure.handler',
      environment: { FAIL_EVERY_TIME: '1', FAILURE_MODE: 'malformed' },
      settings: { MaximumRetryAttempts: 2, FunctionResponseTypes: ['ReportBatchItemFailures'] },
    });
    expect(
      differencesFromRecording(message, recordedBody('sqs-retry-attempts-exhausted-invalid-response.json')),
    ).toEqual([]);
  });

  // No AWS recording of a tumbling window exists; a response without state is an answer Lambda cannot
  // use, like a malformed batch response, so it is compared with that recording.
  test('after tumbling-window responses without state: functionError is null, as for any unusable answer', async () => {
    const { message } = await onFailureMessageOf([JSON.stringify({ amount: 1 })], {
      handler: 'windowSum.handler',
      environment: { OMIT_STATE: '1' },
      settings: { TumblingWindowInSeconds: 60, MaximumRetryAttempts: 2 },
    });
    expect(
      differencesFromRecording(message, recordedBody('sqs-retry-attempts-exhausted-invalid-response.json')),
    ).toEqual([]);
  });
});

describe('RecordAgeExceeded, as AWS sends it to SQS', () => {
  test('while retrying: no responseContext, however many invocations came before', async () => {
    const { message, under } = await onFailureMessageOf(
      ['poison'],
      {
        handler: 'poisonPill.handler',
        settings: { MaximumRecordAgeInSeconds: 60, MaximumRetryAttempts: -1 },
      },
      async (mapping) => {
        await eventually(() => mapping.invocations.length >= 2);
        mapping.advanceClock(61_000);
      },
    );
    // The count depends on how many retries fit in the age limit (8 in the recording): the one value of
    // this body that differs by timing. It is the number of invocations.
    const recorded = recordedBody('sqs-record-age-exceeded-while-retrying.json') as KinesisOnFailureMessage;
    expect(message.requestContext.approximateInvokeCount).toBe(under.invocations.length);
    const sameCount = {
      ...recorded,
      requestContext: {
        ...recorded.requestContext,
        approximateInvokeCount: message.requestContext.approximateInvokeCount,
      },
    };
    expect(differencesFromRecording(message, sameCount)).toEqual([]);
  });

  test('before any invocation: approximateInvokeCount 1 and no responseContext', async () => {
    const { message, under } = await onFailureMessageOf(['stale'], {
      handler: 'succeed.handler',
      settings: { MaximumRecordAgeInSeconds: 60 },
      clockOffsetMs: 120_000,
    });
    expect(under.invocations).toEqual([]);
    expect(
      differencesFromRecording(message, recordedBody('sqs-record-age-exceeded-before-invocation.json')),
    ).toEqual([]);
  });
});

describe('the S3 on-failure destination, as AWS writes it', () => {
  test('one JSON object per discarded range: the metadata and the records, under the documented key', async () => {
    const stream = await createStream(emulators.kinesis);
    const bucket = await createBucket(emulators.s3);
    const data = '{"input": "hello", "value": "world", "raise_error": 1}';
    const [sequenceNumber] = await putRecords(emulators.kinesis, stream.streamName, [
      { data, partitionKey: 'custom' },
    ]);
    const under = await start({
      stream,
      bucket,
      handler: 'poisonPill.handler',
      environment: { POISON_DATA: data },
      settings: { MaximumRetryAttempts: 1 },
    });
    await under.mapping.waitUntilIdle();
    const objects = await readS3OnFailureObjects(emulators.s3, bucket.bucketName);
    expect(objects).toHaveLength(1);
    const [object] = objects;
    expect(differencesFromRecording(object?.body, recordedBody('s3-on-failure-object.json'))).toEqual([]);
    expect(object?.body.payload.Records[0]).toEqual(under.invocations[0]?.event.Records[0]);
    expect(object?.key).toMatch(
      new RegExp(
        `^aws/lambda/${CONFORMANCE_MAPPING_UUID}/shardId-000000000000/\\d{4}/\\d{2}/\\d{2}/` +
          '\\d{4}-\\d{2}-\\d{2}T\\d{2}\\.\\d{2}\\.\\d{2}-[0-9a-f-]{36}$',
      ),
    );
    expect(object?.key.slice(-36 - 20, -37)).toBe(object?.body.timestamp.slice(0, 19).replaceAll(':', '.'));
    expect(object?.contentType).toBe('application/json');
    expect(object?.body.KinesisBatchInfo.startSequenceNumber).toBe(sequenceNumber);
  });
});

describe('the invocation event, as AWS sends it', () => {
  test('each record carries the fields AWS sends, in its order', async () => {
    const stream = await createStream(emulators.kinesis);
    await putRecords(
      emulators.kinesis,
      stream.streamName,
      [1, 2, 3, 4, 5].map((n) => ({ data: `stream-data-${n}`, partitionKey: 'test' })),
    );
    const under = await start({ stream, handler: 'succeed.handler', settings: { BatchSize: 10 } });
    await under.mapping.waitUntilIdle();
    expect(under.invocations).toHaveLength(1);
    expect(
      differencesFromRecording(
        { Records: under.invocations[0]?.event.Records },
        recordedBody('kinesis-event-records.json'),
      ),
    ).toEqual([]);
  });
});
