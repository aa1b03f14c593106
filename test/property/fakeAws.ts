import {
  type AttributeValue,
  ConditionalCheckFailedException,
  DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { NoSuchKey, S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';

/**
 * In-memory DynamoDB, S3 and SQS that the real consumer code runs against, fast enough for property
 * tests. DynamoDB evaluates the expression grammar the consumer uses (SET/ADD/REMOVE updates; conditions
 * with AND, OR, parentheses, comparisons, attribute_(not_)exists, begins_with), so the checkpoint and the
 * analytics items keep their real conditional semantics. Each simulated process gets its own clients,
 * with a hook around every call to crash it or pause it there.
 */

type Item = Record<string, AttributeValue>;
type Values = Record<string, AttributeValue>;
type Names = Record<string, string>;

/** `#state.id` → `state.id` with `ExpressionAttributeNames`. */
const named = (path: string, names: Names) =>
  path
    .split('.')
    .map((part) => names[part] ?? part)
    .join('.');

/**
 * Wraps every call of a simulated process: it may throw before `perform` (the call never reaches AWS),
 * wait (the process is paused), or throw after it (the call took effect but the response is lost).
 */
export type CallHook = (
  command: string,
  input: Record<string, unknown>,
  perform: () => unknown,
) => Promise<unknown>;

const pathOf = (item: Item | undefined, path: string): AttributeValue | undefined => {
  let value: AttributeValue | undefined = item ? { M: item } : undefined;
  for (const part of path.split('.')) value = value?.M?.[part];
  return value;
};

function compare(a: AttributeValue | undefined, b: AttributeValue | undefined): number | null {
  if (a?.S !== undefined && b?.S !== undefined) return a.S < b.S ? -1 : a.S > b.S ? 1 : 0;
  if (a?.N !== undefined && b?.N !== undefined) return Number(a.N) - Number(b.N);
  return null;
}

/** A recursive-descent evaluator for condition and key-condition expressions. */
function evaluate(expression: string, item: Item | undefined, values: Values, names: Names = {}): boolean {
  const tokens = expression.match(/\(|\)|,|<>|<=|>=|=|<|>|[A-Za-z_:][\w.:]*/g) ?? [];
  let at = 0;
  const peek = () => tokens[at];
  const next = () => tokens[at++] as string;
  const operand = (token: string) =>
    token.startsWith(':') ? values[token] : pathOf(item, named(token, names));
  const factor = (): boolean => {
    const token = next();
    if (token === '(') {
      const result = disjunction();
      next();
      return result;
    }
    if (token === 'attribute_not_exists' || token === 'attribute_exists' || token === 'begins_with') {
      next();
      const path = next();
      let prefix: AttributeValue | undefined;
      if (token === 'begins_with') {
        next();
        prefix = operand(next());
      }
      next();
      const value = pathOf(item, named(path, names));
      if (token === 'attribute_exists') return value !== undefined;
      if (token === 'attribute_not_exists') return value === undefined;
      return value?.S !== undefined && prefix?.S !== undefined && value.S.startsWith(prefix.S);
    }
    const left = operand(token);
    const op = next();
    const order = compare(left, operand(next()));
    if (order === null) return op === '<>';
    return {
      '=': order === 0,
      '<>': order !== 0,
      '<': order < 0,
      '>': order > 0,
      '<=': order <= 0,
      '>=': order >= 0,
    }[op] as boolean;
  };
  const conjunction = () => {
    let result = factor();
    while (peek() === 'AND') {
      next();
      result = factor() && result;
    }
    return result;
  };
  const disjunction = (): boolean => {
    let result = conjunction();
    while (peek() === 'OR') {
      next();
      result = conjunction() || result;
    }
    return result;
  };
  return disjunction();
}

function applyUpdate(item: Item, expression: string, values: Values, names: Names = {}) {
  const sections = expression.split(/\b(SET|ADD|REMOVE)\b/).filter((s) => s.trim());
  for (let i = 0; i < sections.length; i += 2) {
    const clauses = (sections[i + 1] ?? '')
      .split(',')
      .map((c) => c.trim())
      .filter(Boolean);
    for (const clause of clauses) {
      if (sections[i] === 'SET') {
        const [path, value] = clause.split('=').map((s) => s.trim()) as [string, string];
        item[named(path, names)] = values[value] as AttributeValue;
      } else if (sections[i] === 'ADD') {
        const [raw, value] = clause.split(/\s+/) as [string, string];
        const path = named(raw, names);
        item[path] = { N: String(Number(item[path]?.N ?? '0') + Number(values[value]?.N)) };
      } else delete item[named(clause, names)];
    }
  }
}

const conditionFailed = () =>
  new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });

export class FakeDynamo {
  readonly items = new Map<string, Item>();

  private keyOf(key: Item) {
    return `${key.pk?.S}\u0000${key.sk?.S}`;
  }

  handle(command: string, input: Record<string, unknown>): unknown {
    const values = (input.ExpressionAttributeValues ?? {}) as Values;
    const names = (input.ExpressionAttributeNames ?? {}) as Names;
    switch (command) {
      case 'GetItemCommand': {
        const item = this.items.get(this.keyOf(input.Key as Item));
        return { Item: item ? structuredClone(item) : undefined };
      }
      case 'UpdateItemCommand': {
        const id = this.keyOf(input.Key as Item);
        const current = this.items.get(id);
        if (input.ConditionExpression && !evaluate(String(input.ConditionExpression), current, values, names))
          throw conditionFailed();
        const item = structuredClone(current ?? (input.Key as Item));
        applyUpdate(item, String(input.UpdateExpression), values, names);
        this.items.set(id, item);
        return {};
      }
      case 'PutItemCommand': {
        const item = input.Item as Item;
        const id = this.keyOf(item);
        if (
          input.ConditionExpression &&
          !evaluate(String(input.ConditionExpression), this.items.get(id), values)
        )
          throw conditionFailed();
        this.items.set(id, structuredClone(item));
        return {};
      }
      case 'QueryCommand': {
        const matching = [...this.items.values()]
          .filter((item) => evaluate(String(input.KeyConditionExpression), item, values))
          .sort((a, b) => ((a.sk?.S ?? '') < (b.sk?.S ?? '') ? -1 : 1));
        return { Items: structuredClone(matching) };
      }
      case 'ScanCommand': {
        const matching = [...this.items.values()].filter(
          (item) => !input.FilterExpression || evaluate(String(input.FilterExpression), item, values, names),
        );
        return { Items: structuredClone(matching) };
      }
      default:
        throw new Error(`FakeDynamo does not implement ${command}`);
    }
  }
}

const noSuchKey = (key: string) =>
  new NoSuchKey({ message: `The specified key does not exist: ${key}`, $metadata: { httpStatusCode: 404 } });

/** A GetObject body as the SDK hands it out (only the transforms the consumer uses). */
const bodyOf = (bytes: Uint8Array) => ({
  transformToByteArray: async () => new Uint8Array(bytes),
  transformToString: async () => Buffer.from(bytes).toString('utf8'),
});

export class FakeS3 {
  readonly objects = new Map<string, Uint8Array>();
  /** When each object was last written (epoch ms): its LastModified. Tests may set it to age one. */
  readonly writtenAt = new Map<string, number>();
  /** Requests by command name, for the cost figures. */
  readonly requests = new Map<string, number>();

  handle(command: string, input: Record<string, unknown>): unknown {
    this.requests.set(command, (this.requests.get(command) ?? 0) + 1);
    const key = String(input.Key);
    switch (command) {
      case 'PutObjectCommand': {
        const body = input.Body;
        // Atomic, like S3: a reader sees the old object or the whole new one.
        this.objects.set(
          key,
          typeof body === 'string' ? new TextEncoder().encode(body) : (body as Uint8Array),
        );
        this.writtenAt.set(key, Date.now());
        return {};
      }
      case 'DeleteObjectCommand':
        this.objects.delete(key);
        this.writtenAt.delete(key);
        return {};
      case 'GetObjectCommand': {
        const bytes = this.objects.get(key);
        if (!bytes) throw noSuchKey(key);
        // `bytes=first-last`, inclusive, as S3 takes it; a range past the end is cut at the end.
        const range = /^bytes=(\d+)-(\d+)$/.exec(String(input.Range ?? ''));
        if (range) return { Body: bodyOf(bytes.subarray(Number(range[1]), Number(range[2]) + 1)) };
        return { Body: bodyOf(bytes) };
      }
      case 'ListObjectsV2Command': {
        const prefix = String(input.Prefix ?? '');
        const keys = [...this.objects.keys()].filter((k) => k.startsWith(prefix)).sort();
        const limited = keys.slice(0, Number(input.MaxKeys ?? 1000));
        return {
          Contents: limited.map((Key) => ({
            Key,
            Size: this.objects.get(Key)?.byteLength,
            LastModified: new Date(this.writtenAt.get(Key) ?? 0),
          })),
          KeyCount: limited.length,
          IsTruncated: limited.length < keys.length,
        };
      }
      default:
        throw new Error(`FakeS3 does not implement ${command}`);
    }
  }
}

export class FakeSqs {
  readonly bodies: string[] = [];

  handle(command: string, input: Record<string, unknown>): unknown {
    if (command !== 'SendMessageBatchCommand') throw new Error(`FakeSqs does not implement ${command}`);
    const entries = input.Entries as { Id: string; MessageBody: string }[];
    this.bodies.push(...entries.map((e) => e.MessageBody));
    return {
      Successful: entries.map((e) => ({ Id: e.Id, MessageId: e.Id, MD5OfMessageBody: '' })),
      Failed: [],
    };
  }
}

export interface FakeWorld {
  dynamo: FakeDynamo;
  s3: FakeS3;
  sqs: FakeSqs;
}

/** Clients of one simulated process: every call passes its hook, then reaches the shared world. */
export function clientsFor(world: FakeWorld, hook: CallHook) {
  // Instances of the real client classes (the SDK's paginators check `instanceof`), with only `send`.
  const client = <T>(
    prototype: object,
    service: { handle(command: string, input: Record<string, unknown>): unknown },
  ): T =>
    Object.assign(Object.create(prototype), {
      send(command: { constructor: { name: string }; input: Record<string, unknown> }) {
        const name = command.constructor.name;
        return hook(name, command.input, () => service.handle(name, command.input));
      },
    }) as T;
  return {
    dynamo: client<DynamoDBClient>(DynamoDBClient.prototype, world.dynamo),
    s3: client<S3Client>(S3Client.prototype, world.s3),
    sqs: client<SQSClient>(SQSClient.prototype, world.sqs),
  };
}

/** A hook that lets every call through, after a turn of the event loop as a real call would. */
export const passThrough: CallHook = async (_command, _input, perform) => {
  await Promise.resolve();
  return perform();
};
