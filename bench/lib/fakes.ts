import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import {
  type CallHook,
  clientsFor,
  FakeDynamo,
  FakeS3,
  FakeSqs,
  type FakeWorld,
  passThrough,
} from '../../test/property/fakeAws';

/**
 * The in-memory AWS the benchmarks run the real consumer and publisher against: the property tests' fake
 * (test/property/fakeAws.ts, real condition evaluation, S3 Get and List), one fake for both, with a meter
 * around every call that counts what AWS would bill. Billing rules (docs/COST.md):
 * - DynamoDB: a write costs ceil(max(item before, item after) / 1 KB) WRU, a failed conditional write
 *   too; a strongly consistent read ceil(size / 4 KB) RRU, an eventually consistent one half; a Scan the
 *   size of every item it reads.
 * - S3: PUT, COPY, POST and LIST requests in one class, GET in another; DELETE is free.
 * - SQS: every request, each 64 KB of its payload a request.
 * - Sequential rounds: calls started while none of the same service is in flight begin a new round, so a
 *   batch's waiting time on AWS can be modelled from its critical path (lib/cost.ts `awsWaitMs`).
 */

type Item = Record<string, AttributeValue>;

export interface Usage {
  s3Puts: number;
  s3Copies: number;
  s3Gets: number;
  s3Lists: number;
  s3Deletes: number;
  s3BytesPut: number;
  dynamoReads: number;
  dynamoWrites: number;
  readRequestUnits: number;
  writeRequestUnits: number;
  sqsRequests: number;
  sqsBilledRequests: number;
  /** Sequential rounds of calls, per service: the critical path of a batch. */
  s3Rounds: number;
  dynamoRounds: number;
  sqsRounds: number;
  /** Bytes PUT in the largest request of each S3 round, summed: what the critical path uploads. */
  s3RoundBytes: number;
}

export const emptyUsage = (): Usage => ({
  s3Puts: 0,
  s3Copies: 0,
  s3Gets: 0,
  s3Lists: 0,
  s3Deletes: 0,
  s3BytesPut: 0,
  dynamoReads: 0,
  dynamoWrites: 0,
  readRequestUnits: 0,
  writeRequestUnits: 0,
  sqsRequests: 0,
  sqsBilledRequests: 0,
  s3Rounds: 0,
  dynamoRounds: 0,
  sqsRounds: 0,
  s3RoundBytes: 0,
});

/**
 * Usage per batch: every counter divided by the number of batches.
 *
 * @example
 * ```ts
 * perBatch(meter.usage, 20).s3Puts;
 * ```
 */
export function perBatch(usage: Usage, batches: number): Usage {
  return Object.fromEntries(Object.entries(usage).map(([k, v]) => [k, v / batches])) as unknown as Usage;
}

/** DynamoDB item size rules: attribute names plus values; numbers about one byte per two digits. */
export function attributeValueBytes(value: AttributeValue): number {
  if (value.S !== undefined) return Buffer.byteLength(value.S);
  if (value.N !== undefined) return Math.ceil(value.N.replace(/^-|\.|e.*$/gi, '').length / 2) + 1;
  if (value.BOOL !== undefined || value.NULL !== undefined) return 1;
  if (value.B !== undefined) return value.B.byteLength;
  if (value.L !== undefined)
    return 3 + value.L.reduce((sum, element) => sum + 1 + attributeValueBytes(element), 0);
  if (value.M !== undefined) return 3 + itemBytes(value.M);
  return 0;
}

/**
 * The size DynamoDB bills an item at: the sum of its attribute names and values.
 *
 * @example
 * ```ts
 * itemBytes({ pk: { S: 'abc' } }); // 5
 * ```
 */
export function itemBytes(item: Item): number {
  let bytes = 0;
  for (const [name, value] of Object.entries(item))
    bytes += Buffer.byteLength(name) + attributeValueBytes(value);
  return bytes;
}

/**
 * Write request units of one write: the larger of the item before and after, in 1 KB steps, at least 1.
 *
 * @example
 * ```ts
 * writeUnits(900, 1100); // 2
 * ```
 */
export const writeUnits = (bytesBefore: number, bytesAfter: number) =>
  Math.max(1, Math.ceil(Math.max(bytesBefore, bytesAfter) / 1024));

/**
 * Read request units of a read of `bytes`: 4 KB steps, at least 1; half for an eventually consistent read.
 *
 * @example
 * ```ts
 * readUnits(5000, true); // 2
 * ```
 */
export const readUnits = (bytes: number, consistent: boolean) =>
  Math.max(1, Math.ceil(bytes / 4096)) * (consistent ? 1 : 0.5);

/**
 * SQS billed requests of one request carrying `bytes`: each 64 KB chunk is a request.
 *
 * @example
 * ```ts
 * sqsBilledRequests(70_000); // 2
 * ```
 */
export const sqsBilledRequests = (bytes: number) => Math.max(1, Math.ceil(bytes / 65_536));

const bodyBytes = (body: unknown) =>
  typeof body === 'string' ? Buffer.byteLength(body) : ((body as Uint8Array | undefined)?.byteLength ?? 0);

const itemKey = (key: Item) => `${key.pk?.S}\u0000${key.sk?.S}`;

/**
 * A fake AWS with a meter: `clients` are what the consumer and the publisher take; `usage` counts what
 * they did since the last `resetUsage()`.
 *
 * @example
 * ```ts
 * const aws = new MeteredAws();
 * await processKinesisEvent(event, { ...aws.clients, config });
 * aws.usage.writeRequestUnits; // 2
 * ```
 */
export class MeteredAws {
  readonly world: FakeWorld = { dynamo: new FakeDynamo(), s3: new FakeS3(), sqs: new FakeSqs() };
  usage: Usage = emptyUsage();
  private readonly inFlight = { s3: 0, dynamo: 0, sqs: 0 };
  private roundBytes = 0;
  readonly clients: ReturnType<typeof clientsFor>;

  constructor(private readonly inner: CallHook = passThrough) {
    this.clients = clientsFor(this.world, (command, input, perform) => this.meter(command, input, perform));
  }

  resetUsage(): void {
    this.usage = emptyUsage();
  }

  /** Drops every object and item (the shard starts over). */
  clear(): void {
    this.world.dynamo.items.clear();
    this.world.s3.objects.clear();
    this.world.sqs.bodies.length = 0;
  }

  private async meter(command: string, input: Record<string, unknown>, perform: () => unknown) {
    const service =
      command.endsWith('ItemCommand') || command === 'ScanCommand' || command === 'QueryCommand'
        ? 'dynamo'
        : command.startsWith('SendMessage')
          ? 'sqs'
          : 's3';
    const u = this.usage;
    if (this.inFlight[service] === 0) {
      if (service === 's3') {
        u.s3Rounds++;
        this.roundBytes = 0;
      } else if (service === 'dynamo') u.dynamoRounds++;
      else u.sqsRounds++;
    }
    this.inFlight[service]++;
    try {
      return await this.inner(command, input, () => this.count(command, input, perform));
    } finally {
      this.inFlight[service]--;
    }
  }

  private count(command: string, input: Record<string, unknown>, perform: () => unknown): unknown {
    const u = this.usage;
    const items = this.world.dynamo.items;
    switch (command) {
      case 'PutObjectCommand': {
        const bytes = bodyBytes(input.Body);
        u.s3Puts++;
        u.s3BytesPut += bytes;
        if (bytes > this.roundBytes) {
          u.s3RoundBytes += bytes - this.roundBytes;
          this.roundBytes = bytes;
        }
        return perform();
      }
      case 'CopyObjectCommand':
        u.s3Copies++;
        return perform();
      case 'GetObjectCommand':
        u.s3Gets++;
        return perform();
      case 'ListObjectsV2Command':
        u.s3Lists++;
        return perform();
      case 'DeleteObjectCommand':
        u.s3Deletes++;
        return perform();
      case 'GetItemCommand': {
        u.dynamoReads++;
        const item = items.get(itemKey(input.Key as Item));
        u.readRequestUnits += readUnits(item ? itemBytes(item) : 0, input.ConsistentRead === true);
        return perform();
      }
      case 'ScanCommand':
      case 'QueryCommand': {
        u.dynamoReads++;
        let bytes = 0;
        for (const item of items.values()) bytes += itemBytes(item);
        u.readRequestUnits += readUnits(bytes, input.ConsistentRead === true);
        return perform();
      }
      case 'UpdateItemCommand':
      case 'PutItemCommand': {
        u.dynamoWrites++;
        const key = itemKey((input.Key ?? input.Item) as Item);
        const before = items.get(key);
        const bytesBefore = before ? itemBytes(before) : 0;
        try {
          return perform();
        } finally {
          const after = items.get(key);
          // A failed condition leaves the item as it was and is billed on its size.
          u.writeRequestUnits += writeUnits(bytesBefore, after && after !== before ? itemBytes(after) : 0);
        }
      }
      case 'SendMessageBatchCommand':
      case 'SendMessageCommand': {
        const entries = (input.Entries as { MessageBody?: string }[] | undefined) ?? [
          { MessageBody: input.MessageBody as string },
        ];
        const bytes = entries.reduce((sum, e) => sum + Buffer.byteLength(e.MessageBody ?? ''), 0);
        u.sqsRequests++;
        u.sqsBilledRequests += sqsBilledRequests(bytes);
        return perform();
      }
      default:
        return perform();
    }
  }
}
