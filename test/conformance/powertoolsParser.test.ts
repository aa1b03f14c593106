/**
 * Powertools for AWS Lambda's parser against what the local mapping produces: every invocation event, and
 * the records of every S3 on-failure object, must parse with `KinesisDataStreamSchema`, as code written
 * against the local runtime will parse them in AWS.
 *
 * `@aws-lambda-powertools/parser` (2.35.x, peer zod 4) is a dev dependency the lead adds; until it is
 * installed this file skips itself, and it imports the package dynamically so the type-check does not
 * need it.
 *
 * One exception, the same in AWS: a tumbling window's final invocation (and one terminated early) carries
 * no records when none are left (`Records: []`), and `KinesisDataStreamSchema` requires at least one
 * record. Such events are checked to be exactly those, and a handler with a tumbling window must not parse
 * them with that schema (docs/ESM.md, "Tumbling windows").
 */
import { createRequire } from 'node:module';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import type { KinesisTimeWindowEvent } from '../../local/esm';
import {
  awayFromWindowBoundary,
  createBucket,
  createStream,
  type Emulators,
  type MappingUnderTest,
  type MappingUnderTestOptions,
  putRecords,
  readS3OnFailureObjects,
  startEmulators,
  startMappingUnderTest,
} from './harness';

const PARSER_SCHEMAS = '@aws-lambda-powertools/parser/schemas';

function parserInstalled(): boolean {
  try {
    createRequire(import.meta.url).resolve(PARSER_SCHEMAS);
    return true;
  } catch {
    return false;
  }
}

const installed = parserInstalled();
if (!installed) {
  console.warn(
    `skipping the Powertools parser conformance tests: ${PARSER_SCHEMAS} is not installed ` +
      '(add @aws-lambda-powertools/parser@2.35.x as a dev dependency)',
  );
}

interface SafeParser {
  safeParse(value: unknown): { success: boolean; error?: { message: string } };
}

let emulators: Emulators;
let KinesisDataStreamSchema: SafeParser;
const running: MappingUnderTest[] = [];

async function start(options: Omit<MappingUnderTestOptions, 'emulators'>): Promise<MappingUnderTest> {
  const under = await startMappingUnderTest({ emulators, ...options });
  running.push(under);
  return under;
}

function expectParses(value: unknown) {
  const result = KinesisDataStreamSchema.safeParse(value);
  expect(result.error?.message ?? 'parsed').toBe('parsed');
}

describe.skipIf(!installed)('Powertools parser (KinesisDataStreamSchema) on the local mapping output', () => {
  beforeAll(async () => {
    // A variable specifier: the type-check must not require the package before it is installed.
    const specifier = PARSER_SCHEMAS;
    ({ KinesisDataStreamSchema } = (await import(specifier)) as { KinesisDataStreamSchema: SafeParser });
    emulators = await startEmulators();
  });

  afterEach(async () => {
    await Promise.all(running.splice(0).map((under) => under.stop()));
  });

  afterAll(async () => {
    await emulators?.stop();
  });

  test('every invocation event of a plain mapping parses', async () => {
    const stream = await createStream(emulators.kinesis);
    await putRecords(emulators.kinesis, stream.streamName, [
      JSON.stringify({ type: 'buy' }),
      'not json',
      { data: Buffer.from([0xff, 0x00, 0x7b]), partitionKey: 'binary' },
    ]);
    const under = await start({ stream, handler: 'succeed.handler', settings: { BatchSize: 2 } });
    await under.mapping.waitUntilIdle();
    expect(under.invocations.length).toBeGreaterThan(0);
    for (const invocation of under.invocations) expectParses(invocation.event);
  });

  test('the records of every S3 on-failure object parse', async () => {
    const stream = await createStream(emulators.kinesis);
    const bucket = await createBucket(emulators.s3);
    await putRecords(emulators.kinesis, stream.streamName, ['ok', 'poison', 'ok-2']);
    const under = await start({
      stream,
      bucket,
      handler: 'poisonPill.handler',
      settings: { BatchSize: 10, BisectBatchOnFunctionError: true, MaximumRetryAttempts: 0 },
    });
    await under.mapping.waitUntilIdle();
    const objects = await readS3OnFailureObjects(emulators.s3, bucket.bucketName);
    expect(objects.length).toBeGreaterThan(0);
    for (const object of objects) expectParses(object.body.payload);
  });

  test('tumbling-window invocations parse, except record-less final ones, as in AWS', async () => {
    const stream = await createStream(emulators.kinesis);
    const under = await start({
      stream,
      handler: 'windowSum.handler',
      settings: { TumblingWindowInSeconds: 60, BatchSize: 2 },
      clockOffsetMs: -3_600_000,
    });
    await awayFromWindowBoundary(60);
    await putRecords(
      emulators.kinesis,
      stream.streamName,
      [1, 2, 3].map((amount) => JSON.stringify({ amount })),
    );
    await under.mapping.waitUntilIdle();
    under.advanceClock(3_600_000 + 120_000);
    await under.mapping.waitUntilIdle();
    const events = under.invocations.map((invocation) => invocation.event as KinesisTimeWindowEvent);
    expect(events.some((event) => event.isFinalInvokeForWindow)).toBe(true);
    for (const event of events) {
      if (event.Records.length > 0) expectParses(event);
      else expect(event.isFinalInvokeForWindow || event.isWindowTerminatedEarly).toBe(true);
    }
  });
});
