import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { ConditionalCheckFailedException, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import {
  GetRecordsCommand,
  GetShardIteratorCommand,
  type KinesisClient,
  ListShardsCommand,
  PutRecordsCommand,
} from '@aws-sdk/client-kinesis';
import {
  CopyObjectCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import {
  DeleteMessageCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dynamoClient, kinesisClient, s3Client, sqsClient } from '../../lambdas/shared/clients';
import { resourceNames } from '../../lambdas/shared/naming';
import { buildApp } from '../../lib/app';
import { loadStackTemplate } from '../../local/assembly';
import {
  clientOptionsFor,
  lambdaEnvironmentFor,
  type RunningEmulators,
  SERVICES,
  startEmulators,
} from '../../local/emulators';
import { pseudoParametersFor, type ResolvedResources, resolveEnvironment } from '../../local/intrinsics';
import { provision } from '../../local/provision';
import type { ProvisionAction } from '../../local/resources/resourceType';
import { describeStack, type LocalModel } from '../../local/template';
import { listeningAddresses } from '../helpers/sockets';

const PROJECT_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const FIXTURE_DIR = join(PROJECT_ROOT, 'test/fixtures/template');
const STREAM = 'EventsD32975C2';
const TABLE = 'State1C20CC9A';
const QUEUE = 'DlqD1FAA4AD';
const BUCKET = 'Lake5F1B88EA';
const CONSUMER = 'Consumer8D6BE417';

const RECORD_COUNT = 20;
const OBJECT_KEY = 'events/dt=2026-01-01/hour=00/part-0000.parquet';
/** Every byte value, then random bytes: a body any framing or re-encoding would change. */
const OBJECT_BODY = Buffer.concat([
  Buffer.from(Array.from({ length: 256 }, (_, i) => i)),
  randomBytes(300_000),
]);
const CHECKPOINT = { pk: { S: 'shard-000000000000' }, sk: { S: 'checkpoint' }, sequence: { S: '4960' } };

let dataDir: string;
let running: RunningEmulators;
let model: LocalModel;
let resolved: ResolvedResources;

async function provisionRecordingActions(target: RunningEmulators) {
  const actions: ProvisionAction[] = [];
  const result = await provision(model, target, { onAction: (_id, action) => actions.push(action) });
  return { result, actions };
}

function clientsFor(target: RunningEmulators) {
  return {
    kinesis: kinesisClient(clientOptionsFor(target, 'kinesis')),
    dynamodb: dynamoClient(clientOptionsFor(target, 'dynamodb')),
    s3: s3Client(clientOptionsFor(target, 's3')),
    sqs: sqsClient(clientOptionsFor(target, 'sqs')),
  };
}

async function withClients<T>(
  target: RunningEmulators,
  use: (clients: ReturnType<typeof clientsFor>) => Promise<T>,
) {
  const clients = clientsFor(target);
  try {
    return await use(clients);
  } finally {
    for (const client of Object.values(clients)) client.destroy();
  }
}

/** Every record of the stream from TRIM_HORIZON, as text, in partition-key order. */
async function readAllRecords(kinesis: KinesisClient, streamName: string): Promise<string[]> {
  const { Shards = [] } = await kinesis.send(new ListShardsCommand({ StreamName: streamName }));
  const records: { key: string; data: string }[] = [];
  for (const shard of Shards) {
    let { ShardIterator: iterator } = await kinesis.send(
      new GetShardIteratorCommand({
        StreamName: streamName,
        ShardId: shard.ShardId,
        ShardIteratorType: 'TRIM_HORIZON',
      }),
    );
    while (iterator) {
      const page = await kinesis.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 10_000 }));
      for (const record of page.Records ?? []) {
        records.push({ key: record.PartitionKey as string, data: Buffer.from(record.Data ?? []).toString() });
      }
      iterator = page.Records?.length ? page.NextShardIterator : undefined;
    }
  }
  return records
    .sort((a, b) => a.key.localeCompare(b.key, 'en', { numeric: true }))
    .map((record) => record.data);
}

async function receiveAll(sqs: SQSClient, queueUrl: string): Promise<Message[]> {
  const { Messages = [] } = await sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: queueUrl,
      MaxNumberOfMessages: 10,
      WaitTimeSeconds: 1,
      MessageSystemAttributeNames: ['ApproximateReceiveCount'],
    }),
  );
  return Messages;
}

function connectionError(host: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.setTimeout(2_000, () => {
      socket.destroy();
      resolve('TIMEOUT');
    });
    socket.once('connect', () => {
      socket.destroy();
      resolve('CONNECTED');
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
  });
}

const nonLoopbackAddress = Object.values(networkInterfaces())
  .flat()
  .find((address) => address?.family === 'IPv4' && !address.internal)?.address;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'shardline-emulators-test-'));
  const stack = await loadStackTemplate(FIXTURE_DIR);
  model = describeStack(stack.template, stack);
  running = await startEmulators({ dataDir });
  console.info(`emulator startup (ms): ${JSON.stringify(running.startupMs)}`);
  resolved = await provision(model, running);
});

afterAll(async () => {
  await running?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

describe('startEmulators', () => {
  it('serves each emulator on 127.0.0.1 from its own child process', () => {
    for (const service of SERVICES) {
      expect(new URL(running.endpoints[service]).hostname).toBe('127.0.0.1');
      expect(running.pids[service]).not.toBe(process.pid);
    }
    expect(new Set(Object.values(running.pids)).size).toBe(4);
  });

  it.skipIf(!existsSync('/proc/net/tcp'))(
    'binds only the loopback interface (the listening socket is 127.0.0.1)',
    () => {
      for (const service of SERVICES) {
        const port = Number(new URL(running.endpoints[service]).port);
        // /proc/net/tcp writes 127.0.0.1 as 0100007F (little-endian hex).
        expect(listeningAddresses(port), service).toEqual(['0100007F']);
      }
    },
  );

  it.skipIf(nonLoopbackAddress === undefined)('refuses connections on the non-loopback address', async () => {
    for (const service of SERVICES) {
      const port = Number(new URL(running.endpoints[service]).port);
      expect(await connectionError(nonLoopbackAddress as string, port), service).toBe('ECONNREFUSED');
    }
  });

  it('writes each child’s output to <dataDir>/logs/<service>.log', () => {
    for (const service of SERVICES) {
      expect(running.logFiles[service]).toBe(join(dataDir, 'logs', `${service}.log`));
      expect(readFileSync(running.logFiles[service], 'utf8')).toContain(
        `[${service}] pid ${running.pids[service]}`,
      );
    }
  });
});

describe('provision', () => {
  it('returns Ref and Fn::GetAtt values of every resource, the queue URL pointing at fauxqs', () => {
    expect(resolved[STREAM]).toEqual({
      type: 'AWS::Kinesis::Stream',
      ref: 'shardline-test-events',
      attributes: { Arn: 'arn:aws:kinesis:us-east-1:000000000000:stream/shardline-test-events' },
    });
    expect(resolved[TABLE]?.attributes.Arn).toBe(
      'arn:aws:dynamodb:us-east-1:000000000000:table/shardline-test-state',
    );
    expect(resolved[QUEUE]).toEqual({
      type: 'AWS::SQS::Queue',
      ref: `${running.endpoints.sqs}/000000000000/shardline-test-dlq`,
      attributes: {
        Arn: 'arn:aws:sqs:us-east-1:000000000000:shardline-test-dlq',
        QueueName: 'shardline-test-dlq',
        QueueUrl: `${running.endpoints.sqs}/000000000000/shardline-test-dlq`,
      },
    });
    expect(resolved[BUCKET]?.ref).toBe('shardline-test-lake-000000000000-us-east-1');
    expect(resolved[CONSUMER]?.attributes.Arn).toBe(
      'arn:aws:lambda:us-east-1:000000000000:function:shardline-test-consumer',
    );
  });

  it('creates the stream with the declared shard count and queue with the declared attributes', async () => {
    await withClients(running, async ({ kinesis, sqs }) => {
      const { Shards = [] } = await kinesis.send(
        new ListShardsCommand({ StreamName: 'shardline-test-events' }),
      );
      expect(Shards).toHaveLength(2);
      const { GetQueueAttributesCommand } = await import('@aws-sdk/client-sqs');
      const { Attributes } = await sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: resolved[QUEUE]?.ref, AttributeNames: ['All'] }),
      );
      expect(Attributes).toMatchObject({ MessageRetentionPeriod: '1209600', VisibilityTimeout: '60' });
    });
  });

  it('changes nothing when run again on the same data', async () => {
    const again = await provisionRecordingActions(running);
    expect(again.actions).toEqual(['exists', 'exists', 'exists', 'exists']);
    expect(again.result).toEqual(resolved);
  });
});

describe('round trips through the SDK', () => {
  it('puts records with PutRecords and reads them back with GetRecords', async () => {
    await withClients(running, async ({ kinesis }) => {
      const { FailedRecordCount } = await kinesis.send(
        new PutRecordsCommand({
          StreamName: 'shardline-test-events',
          Records: Array.from({ length: RECORD_COUNT }, (_, i) => ({
            PartitionKey: `key-${i}`,
            Data: Buffer.from(`record-${i}`),
          })),
        }),
      );
      expect(FailedRecordCount).toBe(0);
      expect(await readAllRecords(kinesis, 'shardline-test-events')).toEqual(
        Array.from({ length: RECORD_COUNT }, (_, i) => `record-${i}`),
      );
    });
  });

  it('writes an item once under a condition and rejects the second write with ConditionalCheckFailedException', async () => {
    await withClients(running, async ({ dynamodb }) => {
      const put = new PutItemCommand({
        TableName: 'shardline-test-state',
        Item: CHECKPOINT,
        ConditionExpression: 'attribute_not_exists(pk)',
      });
      await dynamodb.send(put);
      await expect(dynamodb.send(put)).rejects.toBeInstanceOf(ConditionalCheckFailedException);
    });
  });

  it('stores an S3 object byte for byte, on disk too', async () => {
    await withClients(running, async ({ s3 }) => {
      const bucket = resolved[BUCKET]?.ref as string;
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: OBJECT_KEY, Body: OBJECT_BODY }));
      const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: OBJECT_KEY }));
      const body = Buffer.from((await object.Body?.transformToByteArray()) ?? []);
      expect(body.equals(OBJECT_BODY)).toBe(true);
      const onDisk = readFileSync(join(dataDir, 's3', bucket, `${OBJECT_KEY}._S3rver_object`));
      expect(onDisk.equals(OBJECT_BODY)).toBe(true);
    });
  });

  it('survives a PUT racing a DELETE of another key under the same prefix (s3rver crashed on it)', async () => {
    await withClients(running, async ({ s3 }) => {
      const bucket = resolved[BUCKET]?.ref as string;
      const put = (key: string) =>
        s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'x'.repeat(100) }));
      const del = (key: string) => s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
      // A publication deleting the snapshot its commit replaced while another shard writes beside it.
      for (let round = 0; round < 150; round++) {
        const prefix = `race/dt=2026-01-01/hour=${String(round % 24).padStart(2, '0')}`;
        await put(`${prefix}/a-${round}`);
        await Promise.all([del(`${prefix}/a-${round}`), put(`${prefix}/b-${round}`)]);
        const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: `${prefix}/b-${round}` }));
        expect(await object.Body?.transformToString()).toBe('x'.repeat(100));
        await del(`${prefix}/b-${round}`);
      }
    });
  });

  it('makes a PUT visible whole or not at all: a reader of the object file during large PUTs never sees it truncated', async () => {
    await withClients(running, async ({ s3 }) => {
      const bucket = resolved[BUCKET]?.ref as string;
      const key = 'atomic/dt=2026-01-01/large.bin';
      const objectFile = join(dataDir, 's3', bucket, `${key}._S3rver_object`);
      const size = 16 * 1024 * 1024;
      const versions = [Buffer.alloc(size, 1), Buffer.alloc(size, 2)];
      const put = (body: Buffer) => s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
      let writing = true;
      let reads = 0;
      const torn: string[] = [];
      const reader = (async () => {
        while (writing) {
          try {
            const body = await readFile(objectFile);
            reads += 1;
            const whole = body.length === size && body[0] === body[size - 1];
            if (!whole) torn.push(`${body.length} bytes, first ${body[0]}, last ${body.at(-1)}`);
          } catch (error) {
            // Before the first PUT lands the file does not exist: not visible is fine, truncated is not.
            if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
          }
          await new Promise((resolve) => setImmediate(resolve));
        }
      })();
      try {
        for (let round = 0; round < 6; round++) await put(versions[round % 2] as Buffer);
      } finally {
        writing = false;
        await reader;
      }
      expect(reads).toBeGreaterThan(0);
      expect(torn).toEqual([]);
      const leftovers = readdirSync(dirname(objectFile)).filter((name) => name.endsWith('.tmp'));
      expect(leftovers).toEqual([]);
    });
  });

  it('copies an object with CopyObject, bytes and metadata, through a temporary file', async () => {
    await withClients(running, async ({ s3 }) => {
      const bucket = resolved[BUCKET]?.ref as string;
      const source = 'copy/source.bin';
      const destination = 'copy/deeper/destination.bin';
      await s3.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: source,
          Body: OBJECT_BODY,
          ContentType: 'application/x-test',
        }),
      );
      await s3.send(
        new CopyObjectCommand({ Bucket: bucket, Key: destination, CopySource: `${bucket}/${source}` }),
      );
      const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: destination }));
      expect(object.ContentType).toBe('application/x-test');
      expect(Buffer.from((await object.Body?.transformToByteArray()) ?? []).equals(OBJECT_BODY)).toBe(true);
    });
  });

  it('sends, receives and deletes an SQS message', async () => {
    await withClients(running, async ({ sqs }) => {
      const queueUrl = resolved[QUEUE]?.ref as string;
      await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'consumed' }));
      const [message] = await receiveAll(sqs, queueUrl);
      expect(message?.Body).toBe('consumed');
      await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message?.ReceiptHandle }));
      expect(await receiveAll(sqs, queueUrl)).toEqual([]);
    });
  });

  it('lets a handler process reach every emulator through lambdaEnvironmentFor and the function environment', async () => {
    const consumer = model.functions.find((fn) => fn.logicalId === CONSUMER);
    const functionEnv = resolveEnvironment(
      consumer?.environment ?? {},
      resolved,
      pseudoParametersFor(running),
    );
    // No endpoint in code: the SDK takes it from AWS_ENDPOINT_URL_<SERVICE>; nothing inherited from this process.
    const script = `
      const { kinesisClient, dynamoClient, s3Client, sqsClient } = await import(${JSON.stringify(pathToFileURL(join(PROJECT_ROOT, 'lambdas/shared/clients.ts')).href)});
      const { DescribeStreamSummaryCommand } = await import('@aws-sdk/client-kinesis');
      const { GetItemCommand } = await import('@aws-sdk/client-dynamodb');
      const { HeadObjectCommand } = await import('@aws-sdk/client-s3');
      const { SendMessageCommand } = await import('@aws-sdk/client-sqs');
      const env = process.env;
      const stream = await kinesisClient().send(new DescribeStreamSummaryCommand({ StreamName: env.STREAM_NAME }));
      const item = await dynamoClient().send(new GetItemCommand({ TableName: env.TABLE_NAME, Key: ${JSON.stringify({ pk: CHECKPOINT.pk, sk: CHECKPOINT.sk })} }));
      const object = await s3Client().send(new HeadObjectCommand({ Bucket: env.BUCKET_NAME, Key: ${JSON.stringify(OBJECT_KEY)} }));
      await sqsClient().send(new SendMessageCommand({ QueueUrl: env.DLQ_URL, MessageBody: 'from-handler' }));
      console.log(JSON.stringify({ shards: stream.StreamDescriptionSummary.OpenShardCount, sequence: item.Item.sequence.S, size: object.ContentLength }));
    `;
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '--eval', script],
      {
        cwd: PROJECT_ROOT,
        env: { PATH: process.env.PATH, ...lambdaEnvironmentFor(running), ...functionEnv },
      },
    );
    expect(JSON.parse(stdout.trim().split('\n').at(-1) as string)).toEqual({
      shards: 2,
      sequence: '4960',
      size: OBJECT_BODY.length,
    });
    await withClients(running, async ({ sqs }) => {
      const messages = await receiveAll(sqs, functionEnv.DLQ_URL as string);
      expect(messages.map((message) => message.Body)).toEqual(['from-handler']);
      await sqs.send(
        new DeleteMessageCommand({
          QueueUrl: functionEnv.DLQ_URL,
          ReceiptHandle: messages[0]?.ReceiptHandle,
        }),
      );
    });
  });
});

describe('after every emulator is SIGKILLed and restarted on the same dataDir', () => {
  const IN_FLIGHT_VISIBILITY_S = 2;
  let inFlightVisibleAt = 0;

  beforeAll(async () => {
    await withClients(running, async ({ sqs }) => {
      const queueUrl = resolved[QUEUE]?.ref as string;
      await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'in-flight' }));
      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: queueUrl, VisibilityTimeout: IN_FLIGHT_VISIBILITY_S }),
      );
      expect(Messages.map((message) => message.Body)).toEqual(['in-flight']);
      inFlightVisibleAt = Date.now() + IN_FLIGHT_VISIBILITY_S * 1_000;
      await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'waiting' }));
    });

    const exits = SERVICES.map(
      (service) =>
        new Promise<void>((resolve) => {
          const poll = setInterval(() => {
            try {
              process.kill(running.pids[service], 0);
            } catch {
              clearInterval(poll);
              resolve();
            }
          }, 20);
        }),
    );
    for (const service of SERVICES) process.kill(running.pids[service], 'SIGKILL');
    await Promise.all(exits);
    await running.stop();

    running = await startEmulators({ dataDir });
    console.info(`emulator restart (ms): ${JSON.stringify(running.startupMs)}`);
  });

  it('provisions nothing new', async () => {
    const again = await provisionRecordingActions(running);
    expect(again.actions).toEqual(['exists', 'exists', 'exists', 'exists']);
    resolved = again.result;
  });

  it('still has the Kinesis records', async () => {
    await withClients(running, async ({ kinesis }) => {
      expect(await readAllRecords(kinesis, 'shardline-test-events')).toEqual(
        Array.from({ length: RECORD_COUNT }, (_, i) => `record-${i}`),
      );
    });
  });

  it('still has the DynamoDB item, and its condition still holds', async () => {
    await withClients(running, async ({ dynamodb }) => {
      const { Item } = await dynamodb.send(
        new GetItemCommand({
          TableName: 'shardline-test-state',
          Key: { pk: CHECKPOINT.pk, sk: CHECKPOINT.sk },
        }),
      );
      expect(Item).toEqual(CHECKPOINT);
      await expect(
        dynamodb.send(
          new PutItemCommand({
            TableName: 'shardline-test-state',
            Item: CHECKPOINT,
            ConditionExpression: 'attribute_not_exists(pk)',
          }),
        ),
      ).rejects.toBeInstanceOf(ConditionalCheckFailedException);
    });
  });

  it('still has the S3 object, byte for byte', async () => {
    await withClients(running, async ({ s3 }) => {
      const object = await s3.send(new GetObjectCommand({ Bucket: resolved[BUCKET]?.ref, Key: OBJECT_KEY }));
      expect(Buffer.from((await object.Body?.transformToByteArray()) ?? []).equals(OBJECT_BODY)).toBe(true);
    });
  });

  it('still has the unreceived SQS message and the unacknowledged one with its receive count, not the deleted ones', async () => {
    const wait = inFlightVisibleAt + 100 - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    await withClients(running, async ({ sqs }) => {
      const messages = await receiveAll(sqs, resolved[QUEUE]?.ref as string);
      const byBody = Object.fromEntries(messages.map((message) => [message.Body, message.Attributes]));
      expect(Object.keys(byBody).sort()).toEqual(['in-flight', 'waiting']);
      expect(byBody['in-flight']?.ApproximateReceiveCount).toBe('2');
      expect(byBody.waiting?.ApproximateReceiveCount).toBe('1');
    });
  });

  it('also restarts after a graceful stop, with the SQS journal compacted', async () => {
    await running.stop();
    running = await startEmulators({ dataDir });
    const journal = readFileSync(join(dataDir, 'sqs', 'journal.ndjson'), 'utf8')
      .trim()
      .split('\n');
    // One queue and the two messages still in it, each in flight after the previous test's receive.
    expect(journal.map((line) => JSON.parse(line).op)).toEqual([
      'insertQueue',
      'insertMessage',
      'updateMessageInflight',
      'insertMessage',
      'updateMessageInflight',
    ]);
    const again = await provisionRecordingActions(running);
    expect(again.actions).toEqual(['exists', 'exists', 'exists', 'exists']);
  });
});

describe('the real Shardline stack (lib/app.ts)', () => {
  it('provisions from its synthesized template, idempotently, and resolves the consumer environment', async () => {
    const names = resourceNames('emulatortest');
    const outdir = mkdtempSync(join(tmpdir(), 'shardline-emulators-synth-'));
    try {
      buildApp({ stage: 'emulatortest', outdir, bundling: false, validation: false }).app.synth();
      const stack = await loadStackTemplate(outdir, names.stackName);
      const real = describeStack(stack.template, stack);
      const first = await provision(real, running);
      const actions: ProvisionAction[] = [];
      const second = await provision(real, running, { onAction: (_id, action) => actions.push(action) });
      // Stream, table, queue, the lake bucket, its access-log bucket and the failures bucket.
      expect(actions).toEqual(['exists', 'exists', 'exists', 'exists', 'exists', 'exists']);
      expect(second).toEqual(first);

      const consumer = real.functions.find((fn) => fn.name === names.consumerFunctionName);
      const env = resolveEnvironment(consumer?.environment ?? {}, second, pseudoParametersFor(running));
      expect(env).toMatchObject({
        STREAM_NAME: names.streamName,
        TABLE_NAME: names.tableName,
        BUCKET_NAME: `${names.bucketNamePrefix}-000000000000-us-east-1`,
        DLQ_URL: `${running.endpoints.sqs}/000000000000/${names.dlqName}`,
      });
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  });
});
