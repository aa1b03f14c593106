import {
  type AttributeValue,
  ConditionalCheckFailedException,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { DeleteObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import { ShardlineError } from '../../lambdas/shared/errors';

/**
 * In-memory stand-ins for the three AWS clients the consumer uses, so that the consumer core can be timed
 * with no network: each is a `send(command)` for exactly the commands the consumer sends, with the
 * semantics the commit protocol relies on (DynamoDB conditions are evaluated, not skipped). They also
 * count what AWS would bill: write and read request units, PUT requests, SQS requests.
 */

type Item = Record<string, AttributeValue>;
type Values = Record<string, AttributeValue>;

export class UnsupportedCommandError extends ShardlineError {
  constructor(fake: string, command: unknown) {
    super(`${fake} does not implement ${(command as object)?.constructor?.name ?? typeof command}`);
    this.name = 'UnsupportedCommandError';
  }
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

function resolvePath(item: Item, path: string): AttributeValue | undefined {
  const [head, ...rest] = path.split('.');
  let value: AttributeValue | undefined = item[head as string];
  for (const part of rest) value = value?.M?.[part];
  return value;
}

function scalar(value: AttributeValue | undefined): string | number | undefined {
  if (value?.S !== undefined) return value.S;
  if (value?.N !== undefined) return Number(value.N);
  return undefined;
}

/**
 * Evaluates the subset of DynamoDB condition expressions the checkpoint uses: `attribute_exists(p)`,
 * `attribute_not_exists(p)`, `p = :v`, `p < :v`, `p > :v`, with AND, OR and parentheses; `p` may be a
 * dotted path into a map.
 */
export function evaluateCondition(expression: string, item: Item | undefined, values: Values): boolean {
  const tokens = expression.match(/\(|\)|[A-Za-z_][\w.]*\([^)]*\)|:[\w]+|[\w.#]+|<=|>=|<>|[=<>]/g) ?? [];
  let position = 0;
  const peek = () => tokens[position];
  const next = () => tokens[position++] as string;
  const current = item ?? {};

  const primary = (): boolean => {
    if (peek() === '(') {
      next();
      const result = disjunction();
      if (next() !== ')') throw new Error(`unbalanced parentheses in ${expression}`);
      return result;
    }
    const token = next();
    const call = /^(attribute_exists|attribute_not_exists)\(([\w.]+)\)$/.exec(token);
    if (call) {
      const exists = resolvePath(current, call[2] as string) !== undefined;
      return call[1] === 'attribute_exists' ? exists : !exists;
    }
    const operator = next();
    const right = values[next()];
    const left = scalar(resolvePath(current, token));
    const expected = scalar(right);
    if (left === undefined || expected === undefined) return false;
    switch (operator) {
      case '=':
        return left === expected;
      case '<':
        return left < expected;
      case '>':
        return left > expected;
      default:
        throw new Error(`operator ${operator} is not supported by the fake`);
    }
  };
  const conjunction = (): boolean => {
    let result = primary();
    while (peek() === 'AND') {
      next();
      const right = primary();
      result = result && right;
    }
    return result;
  };
  const disjunction = (): boolean => {
    let result = conjunction();
    while (peek() === 'OR') {
      next();
      const right = conjunction();
      result = result || right;
    }
    return result;
  };
  const result = disjunction();
  if (position !== tokens.length) throw new Error(`could not parse condition ${expression}`);
  return result;
}

/**
 * Applies `SET a = :x, … ADD n :k REMOVE r` (the forms the checkpoint uses) to a copy of the item.
 */
export function applyUpdate(expression: string, item: Item, values: Values): Item {
  const updated: Item = { ...item };
  const clauses = expression.split(/\b(SET|ADD|REMOVE)\b/).map((part) => part.trim());
  for (let index = 1; index < clauses.length; index += 2) {
    const action = clauses[index];
    const body = clauses[index + 1] ?? '';
    for (const part of body
      .split(',')
      .map((p) => p.trim())
      .filter(Boolean)) {
      if (action === 'SET') {
        const [name, value] = part.split('=').map((p) => p.trim()) as [string, string];
        const resolved = values[value];
        if (!resolved) throw new Error(`missing value ${value}`);
        updated[name] = resolved;
      } else if (action === 'ADD') {
        const [name, value] = part.split(/\s+/) as [string, string];
        const increment = Number(values[value]?.N ?? Number.NaN);
        updated[name] = { N: String(Number(updated[name]?.N ?? '0') + increment) };
      } else {
        delete updated[part];
      }
    }
  }
  return updated;
}

const keyOf = (key: Item | undefined) => JSON.stringify(key);

/**
 * DynamoDB on a single in-memory table: GetItem, conditional UpdateItem and PutItem (the checkpoint and
 * the analytics state), and Query by partition key with `begins_with` on the sort key (one page).
 */
export class FakeDynamoDB {
  readonly items = new Map<string, Item>();
  writeRequestUnits = 0;
  readRequestUnits = 0;
  writes = 0;
  reads = 0;

  async send(command: unknown): Promise<unknown> {
    if (command instanceof GetItemCommand) {
      const item = this.items.get(keyOf(command.input.Key));
      this.reads++;
      const units = Math.max(1, Math.ceil((item ? itemBytes(item) : 0) / 4096));
      this.readRequestUnits += command.input.ConsistentRead ? units : units / 2;
      return { Item: item, $metadata: {} };
    }
    if (command instanceof UpdateItemCommand) {
      const { Key, UpdateExpression, ConditionExpression, ExpressionAttributeValues } = command.input;
      const id = keyOf(Key);
      const before = this.items.get(id);
      const values = ExpressionAttributeValues ?? {};
      this.writes++;
      if (ConditionExpression && !evaluateCondition(ConditionExpression, before, values)) {
        this.writeRequestUnits += Math.max(1, Math.ceil((before ? itemBytes(before) : 0) / 1024));
        throw new ConditionalCheckFailedException({
          message: 'The conditional request failed',
          $metadata: {},
        });
      }
      const after = applyUpdate(UpdateExpression ?? '', { ...before, ...Key }, values);
      this.items.set(id, after);
      // An update is billed on the larger of the item before and after.
      this.writeRequestUnits += Math.max(
        1,
        Math.ceil(Math.max(itemBytes(before ?? {}), itemBytes(after)) / 1024),
      );
      return { $metadata: {} };
    }
    if (command instanceof PutItemCommand) {
      const { Item = {}, ConditionExpression, ExpressionAttributeValues } = command.input;
      const id = keyOf({ pk: Item.pk as AttributeValue, sk: Item.sk as AttributeValue });
      const before = this.items.get(id);
      this.writes++;
      const units = Math.max(1, Math.ceil(Math.max(itemBytes(before ?? {}), itemBytes(Item)) / 1024));
      this.writeRequestUnits += units;
      if (
        ConditionExpression &&
        !evaluateCondition(ConditionExpression, before, ExpressionAttributeValues ?? {})
      )
        throw new ConditionalCheckFailedException({
          message: 'The conditional request failed',
          $metadata: {},
        });
      this.items.set(id, Item);
      return { $metadata: {} };
    }
    if (command instanceof QueryCommand) {
      const values = command.input.ExpressionAttributeValues ?? {};
      const condition = /^pk = (:\w+) AND begins_with\(sk, (:\w+)\)$/.exec(
        command.input.KeyConditionExpression ?? '',
      );
      if (!condition) throw new UnsupportedCommandError('FakeDynamoDB (this key condition)', command);
      const pk = values[condition[1] as string]?.S;
      const prefix = values[condition[2] as string]?.S ?? '';
      const items = [...this.items.values()]
        .filter((item) => item.pk?.S === pk && (item.sk?.S ?? '').startsWith(prefix))
        .sort((a, b) => ((a.sk?.S ?? '') < (b.sk?.S ?? '') ? -1 : 1));
      this.reads++;
      const bytes = items.reduce((sum, item) => sum + itemBytes(item), 0);
      this.readRequestUnits +=
        Math.max(1, Math.ceil(bytes / 4096)) * (command.input.ConsistentRead ? 1 : 0.5);
      return { Items: items, Count: items.length, $metadata: {} };
    }
    throw new UnsupportedCommandError('FakeDynamoDB', command);
  }

  reset() {
    this.items.clear();
  }
}

/** S3: PutObject and DeleteObject; keeps each object's size, not its bytes, so memory stays flat. */
export class FakeS3 {
  readonly objects = new Map<string, number>();
  puts = 0;
  deletes = 0;
  bytesPut = 0;

  async send(command: unknown): Promise<unknown> {
    if (command instanceof PutObjectCommand) {
      const body = command.input.Body as Uint8Array | string | undefined;
      const bytes = typeof body === 'string' ? Buffer.byteLength(body) : (body?.byteLength ?? 0);
      this.objects.set(`${command.input.Bucket}/${command.input.Key}`, bytes);
      this.puts++;
      this.bytesPut += bytes;
      return { ETag: '"fake"', $metadata: {} };
    }
    if (command instanceof DeleteObjectCommand) {
      this.objects.delete(`${command.input.Bucket}/${command.input.Key}`);
      this.deletes++;
      return { $metadata: {} };
    }
    throw new UnsupportedCommandError('FakeS3', command);
  }
}

/** SQS: SendMessageBatch, every entry accepted. Billed per request, each 64 KiB of payload a request. */
export class FakeSqs {
  messages = 0;
  requests = 0;
  billedRequests = 0;
  bytes = 0;

  async send(command: unknown): Promise<unknown> {
    if (command instanceof SendMessageBatchCommand) {
      const entries = command.input.Entries ?? [];
      const bytes = entries.reduce((sum, entry) => sum + Buffer.byteLength(entry.MessageBody ?? ''), 0);
      this.messages += entries.length;
      this.requests++;
      this.billedRequests += Math.max(1, Math.ceil(bytes / 65_536));
      this.bytes += bytes;
      return {
        Successful: entries.map((entry) => ({ Id: entry.Id, MessageId: entry.Id, MD5OfMessageBody: '' })),
        Failed: [],
        $metadata: {},
      };
    }
    throw new UnsupportedCommandError('FakeSqs', command);
  }
}
