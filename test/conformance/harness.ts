/**
 * The conformance harness: a real kinesalite (Kinesis) and a real fauxqs (SQS, for the on-failure
 * destination) on 127.0.0.1 with temporary storage, the real function host running fixture handlers,
 * and the real event source mapping between them. Everything a conformance test starts is here.
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateStreamCommand,
  DescribeStreamSummaryCommand,
  type KinesisClient,
  PutRecordsCommand,
} from '@aws-sdk/client-kinesis';
import {
  CreateBucketCommand,
  GetObjectCommand,
  paginateListObjectsV2,
  type S3Client,
} from '@aws-sdk/client-s3';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { kinesisClient, s3Client, sqsClient } from '../../lambdas/shared/clients';
import { stubNodeSqliteForFauxqs } from '../../local/emulators/nodeSqliteStub';
import {
  type EsmLogEntry,
  type EventSourceMapping,
  type EventSourceMappingSettings,
  type KinesisOnFailureMessage,
  type KinesisS3OnFailureObject,
  type KinesisStreamEvent,
  startEventSourceMapping,
  withKinesisDefaults,
} from '../../local/esm';
import {
  createFunctionHost,
  type FunctionHost,
  type FunctionHostOptions,
  type InvokeOutcome,
} from '../../local/lambda';

const REGION = 'us-east-1';
const CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };
export const FIXTURE_HANDLERS = join(import.meta.dirname, '../fixtures/handlers');
/** The UUID the conformance mappings use, as it appears in S3 on-failure keys. */
export const CONFORMANCE_MAPPING_UUID = '0f6e1d2c-3b4a-4958-8776-a5b4c3d2e1f0';

export interface Emulators {
  kinesis: KinesisClient;
  sqs: SQSClient;
  /** fauxqs's S3 (in memory), for the S3 on-failure destination. */
  s3: S3Client;
  stop(): Promise<void>;
}

interface Closable {
  close(callback?: () => void): unknown;
  address(): AddressInfo | string | null;
  listen(port: number, host: string, callback: () => void): unknown;
}

/**
 * Starts kinesalite and fauxqs on loopback with temporary storage.
 *
 * @example
 * ```ts
 * const emulators = await startEmulators();
 * afterAll(() => emulators.stop());
 * ```
 */
export async function startEmulators(): Promise<Emulators> {
  const kinesisDir = mkdtempSync(join(tmpdir(), 'shardline-kinesalite-'));
  const require = createRequire(import.meta.url);
  const kinesalite = require('kinesalite') as (options: Record<string, unknown>) => Closable;
  const kinesisServer = kinesalite({
    path: kinesisDir,
    createStreamMs: 50,
    updateStreamMs: 50,
    shardLimit: 50,
  });
  await new Promise<void>((resolve) => kinesisServer.listen(0, '127.0.0.1', resolve));
  const kinesisPort = (kinesisServer.address() as AddressInfo).port;

  stubNodeSqliteForFauxqs();
  const { buildApp } = await import('fauxqs');
  const sqsServer = buildApp({ logger: false, host: '127.0.0.1' });
  const sqsEndpoint = await sqsServer.listen({ port: 0, host: '127.0.0.1' });

  const options = { region: REGION, credentials: CREDENTIALS, maxAttempts: 2 };
  const kinesis = kinesisClient({ ...options, endpoint: `http://127.0.0.1:${kinesisPort}` });
  const sqs = sqsClient({ ...options, endpoint: sqsEndpoint });
  const s3 = s3Client({ ...options, endpoint: sqsEndpoint });
  return {
    kinesis,
    sqs,
    s3,
    async stop() {
      kinesis.destroy();
      sqs.destroy();
      s3.destroy();
      await sqsServer.close();
      await new Promise<void>((resolve) => kinesisServer.close(() => resolve()));
      rmSync(kinesisDir, { recursive: true, force: true });
    },
  };
}

let streamCounter = 0;

/** Creates a PROVISIONED stream (kinesalite has no ON_DEMAND) and waits until it is ACTIVE. */
export async function createStream(
  kinesis: KinesisClient,
  shardCount = 1,
): Promise<{ streamName: string; streamArn: string }> {
  streamCounter += 1;
  const streamName = `conformance-${process.pid}-${streamCounter}`;
  await kinesis.send(new CreateStreamCommand({ StreamName: streamName, ShardCount: shardCount }));
  return { streamName, streamArn: await waitForActiveStream(kinesis, streamName) };
}

export async function waitForActiveStream(kinesis: KinesisClient, streamName: string): Promise<string> {
  for (;;) {
    const { StreamDescriptionSummary: summary } = await kinesis.send(
      new DescribeStreamSummaryCommand({ StreamName: streamName }),
    );
    if (summary?.StreamStatus === 'ACTIVE') return summary.StreamARN as string;
    await delay(20);
  }
}

export async function createQueue(sqs: SQSClient): Promise<{ queueUrl: string; queueArn: string }> {
  streamCounter += 1;
  const { QueueUrl } = await sqs.send(
    new CreateQueueCommand({ QueueName: `dlq-${process.pid}-${streamCounter}` }),
  );
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }),
  );
  return { queueUrl: QueueUrl as string, queueArn: Attributes?.QueueArn as string };
}

/** Creates a bucket for the S3 on-failure destination. */
export async function createBucket(s3: S3Client): Promise<{ bucketName: string; bucketArn: string }> {
  streamCounter += 1;
  const bucketName = `failures-${process.pid}-${streamCounter}`;
  await s3.send(new CreateBucketCommand({ Bucket: bucketName }));
  return { bucketName, bucketArn: `arn:aws:s3:::${bucketName}` };
}

/** Every S3 on-failure object in the bucket, with its key and content type, in key order. */
export async function readS3OnFailureObjects(
  s3: S3Client,
  bucketName: string,
): Promise<Array<{ key: string; contentType: string | undefined; body: KinesisS3OnFailureObject }>> {
  const keys: string[] = [];
  for await (const page of paginateListObjectsV2({ client: s3 }, { Bucket: bucketName })) {
    for (const object of page.Contents ?? []) if (object.Key) keys.push(object.Key);
  }
  const objects = [];
  for (const key of keys.sort()) {
    const object = await s3.send(new GetObjectCommand({ Bucket: bucketName, Key: key }));
    const text = (await object.Body?.transformToString()) ?? '';
    objects.push({
      key,
      contentType: object.ContentType,
      body: JSON.parse(text) as KinesisS3OnFailureObject,
    });
  }
  return objects;
}

export interface PutRecord {
  data: string | Buffer;
  partitionKey?: string;
}

/** Writes records in order (PutRecords keeps the order within a shard) and returns their sequence numbers. */
export async function putRecords(
  kinesis: KinesisClient,
  streamName: string,
  records: ReadonlyArray<PutRecord | string>,
): Promise<string[]> {
  const sequenceNumbers: string[] = [];
  const entries = records.map((record) => (typeof record === 'string' ? { data: record } : record));
  for (let index = 0; index < entries.length; ) {
    const chunk: PutRecord[] = [];
    let bytes = 0;
    while (index < entries.length && chunk.length < 500) {
      const size = Buffer.byteLength(entries[index]?.data ?? '');
      if (chunk.length > 0 && bytes + size > 4 * 1024 * 1024) break;
      chunk.push(entries[index] as PutRecord);
      bytes += size;
      index += 1;
    }
    const { Records = [] } = await kinesis.send(
      new PutRecordsCommand({
        StreamName: streamName,
        Records: chunk.map((entry) => ({
          Data: Buffer.isBuffer(entry.data) ? entry.data : Buffer.from(entry.data),
          PartitionKey: entry.partitionKey ?? 'key',
        })),
      }),
    );
    for (const result of Records) {
      if (!result.SequenceNumber)
        throw new Error(`PutRecords failed: ${result.ErrorCode} ${result.ErrorMessage}`);
      sequenceNumbers.push(result.SequenceNumber);
    }
  }
  return sequenceNumbers;
}

/** Every message in the queue, parsed as an on-failure record. */
export async function receiveOnFailureMessages(
  sqs: SQSClient,
  queueUrl: string,
): Promise<KinesisOnFailureMessage[]> {
  const messages: KinesisOnFailureMessage[] = [];
  for (;;) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 0,
        VisibilityTimeout: 300,
      }),
    );
    if (Messages.length === 0) return messages;
    for (const message of Messages)
      messages.push(JSON.parse(message.Body ?? '{}') as KinesisOnFailureMessage);
  }
}

export interface RecordedInvocation {
  event: KinesisStreamEvent;
  outcome: InvokeOutcome;
  startedAt: number;
  endedAt: number;
  /** Invocations in flight (this one included) when it started. */
  concurrency: number;
  sequenceNumbers: string[];
  data: string[];
}

export function decode(event: KinesisStreamEvent): string[] {
  return event.Records.map((record) => Buffer.from(record.kinesis.data, 'base64').toString('utf8'));
}

export interface MappingUnderTest {
  mapping: EventSourceMapping;
  host: FunctionHost;
  invocations: RecordedInvocation[];
  logs: EsmLogEntry[];
  functionLogs: string[];
  stateDir: string;
  /** Moves the mapping's clock (record ages) forward. */
  advanceClock(ms: number): void;
  /** Stops the mapping and the host. */
  stop(): Promise<void>;
}

export interface MappingUnderTestOptions {
  emulators: Emulators;
  stream: { streamName: string; streamArn: string };
  handler: string;
  settings?: Partial<EventSourceMappingSettings>;
  environment?: Record<string, string>;
  timeoutSeconds?: number;
  host?: Partial<FunctionHostOptions>;
  queue?: { queueUrl: string; queueArn: string };
  /** An S3 bucket as on-failure destination (instead of `queue`). */
  bucket?: { bucketName: string; bucketArn: string };
  /** Reuse a state directory (a restart); a new temporary one by default. */
  stateDir?: string;
  /** Reuse a host (a restart of the mapping only). */
  existingHost?: FunctionHost;
  /** Where the mapping's clock starts relative to the wall clock (negative: behind). Default 0. */
  clockOffsetMs?: number;
  /** Poll at the mapping's own default (about once a second) instead of every 50 ms. */
  defaultPolling?: boolean;
}

/**
 * Starts the real function host with a fixture handler and the real event source mapping on a stream,
 * with fast polling and backoff, recording every invocation.
 *
 * @example
 * ```ts
 * const under = await startMappingUnderTest({ emulators, stream, handler: 'succeed.handler' });
 * await under.mapping.waitUntilIdle();
 * ```
 */
export async function startMappingUnderTest(options: MappingUnderTestOptions): Promise<MappingUnderTest> {
  const functionLogs: string[] = [];
  const host =
    options.existingHost ??
    createFunctionHost({
      functionName: 'conformance-fn',
      assetPath: FIXTURE_HANDLERS,
      handler: options.handler,
      environment: { AWS_REGION: REGION, ...options.environment },
      timeoutSeconds: options.timeoutSeconds ?? 10,
      memoryMb: 256,
      region: REGION,
      log: (line) => functionLogs.push(line),
      ...options.host,
    });
  const invocations: RecordedInvocation[] = [];
  const logs: EsmLogEntry[] = [];
  let clockOffsetMs = options.clockOffsetMs ?? 0;
  let inFlight = 0;
  const stateDir = options.stateDir ?? mkdtempSync(join(tmpdir(), 'shardline-esm-state-'));
  const settings = withKinesisDefaults({
    StartingPosition: 'TRIM_HORIZON',
    ...options.settings,
    ...(options.queue ? { DestinationConfig: { OnFailure: { Destination: options.queue.queueArn } } } : {}),
    ...(options.bucket
      ? { DestinationConfig: { OnFailure: { Destination: options.bucket.bucketArn } } }
      : {}),
  });
  let mapping: EventSourceMapping;
  try {
    mapping = await startEventSourceMapping({
      settings,
      streamName: options.stream.streamName,
      streamArn: options.stream.streamArn,
      functionArn: host.functionArn,
      executionRoleArn: 'arn:aws:iam::000000000000:role/conformance-role',
      kinesis: options.emulators.kinesis,
      sqs: options.emulators.sqs,
      s3: options.emulators.s3,
      mappingUuid: CONFORMANCE_MAPPING_UUID,
      resolveQueueUrl: (arn) => {
        if (!options.queue || arn !== options.queue.queueArn) throw new Error(`unknown queue ${arn}`);
        return options.queue.queueUrl;
      },
      invoke: async (event) => {
        inFlight += 1;
        const startedAt = performance.now();
        const concurrency = inFlight;
        const outcome = await host.invoke(event);
        inFlight -= 1;
        invocations.push({
          event,
          outcome,
          startedAt,
          endedAt: performance.now(),
          concurrency,
          sequenceNumbers: event.Records.map((record) => record.kinesis.sequenceNumber),
          data: decode(event),
        });
        return outcome;
      },
      stateDir,
      ...(options.defaultPolling ? {} : { pollIntervalMs: 50 }),
      retryBackoff: { initialMs: 10, maxMs: 40 },
      shardDiscoveryIntervalMs: 200,
      clock: () => Date.now() + clockOffsetMs,
      logger: (entry) => logs.push(entry),
    });
  } catch (error) {
    if (!options.existingHost) await host.stop();
    throw error;
  }
  return {
    mapping,
    host,
    invocations,
    logs,
    functionLogs,
    stateDir,
    advanceClock(ms) {
      clockOffsetMs += ms;
    },
    async stop() {
      await mapping.stop();
      if (!options.existingHost) await host.stop();
    },
  };
}

/**
 * Waits, if needed, until at least `marginMs` remain in the current tumbling window of
 * `windowSeconds`, so that records written next land in one window.
 *
 * @example
 * ```ts
 * await awayFromWindowBoundary(60);
 * await putRecords(kinesis, streamName, records); // all in the same 60 s window
 * ```
 */
export async function awayFromWindowBoundary(windowSeconds: number, marginMs = 1_000): Promise<void> {
  const lengthMs = windowSeconds * 1000;
  const remainingMs = lengthMs - (Date.now() % lengthMs);
  if (remainingMs < marginMs) await delay(remainingMs + 50);
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls a condition until it holds (or fails the test after `timeoutMs`). */
export async function eventually<T>(
  probe: () => T | Promise<T>,
  timeoutMs = 10_000,
): Promise<NonNullable<T>> {
  const started = Date.now();
  for (;;) {
    const value = await probe();
    if (value) return value as NonNullable<T>;
    if (Date.now() - started > timeoutMs) throw new Error(`condition not met within ${timeoutMs} ms`);
    await delay(20);
  }
}
