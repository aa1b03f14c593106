import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { StreamRecord } from './putRecords';

/**
 * The producer's `records` mode: events a caller brings (a file, a pipe, another system) instead of
 * generated ones. Each record is an event as a JSON object, or a raw string sent byte for byte without
 * validation (so that the consumer's dead-letter queue shows exactly what a producer sent), or either of
 * those wrapped with an explicit partition key.
 */

/** Kinesis partition keys are 1 to 256 Unicode characters. */
const MAX_PARTITION_KEY_LENGTH = 256;

const partitionKey = z.string().min(1).max(MAX_PARTITION_KEY_LENGTH);
const eventObject = z.record(z.string(), z.unknown());
type ParsedEntry = { data: string | Record<string, unknown>; partitionKey?: string };

/**
 * One record of a `records` request: `{ data, partitionKey }` (exactly these two keys), a raw string or
 * an event object; normalised to `{ data, partitionKey? }`.
 */
const wrapper = z.object({ data: z.union([z.string(), eventObject]), partitionKey }).strict();
const isWrapper = (value: Record<string, unknown>) => {
  const keys = Object.keys(value);
  return keys.length === 2 && keys.includes('data') && keys.includes('partitionKey');
};
export const RecordEntry = z.unknown().transform((value, ctx): ParsedEntry => {
  if (typeof value === 'string') return { data: value };
  const object = eventObject.safeParse(value);
  if (!object.success) {
    ctx.addIssue({
      code: 'custom',
      message: 'expected an event object, a string, or { data, partitionKey }',
    });
    return z.NEVER;
  }
  if (!isWrapper(object.data)) return { data: object.data };
  const parsed = wrapper.safeParse(value);
  if (parsed.success) return parsed.data;
  for (const issue of parsed.error.issues)
    ctx.addIssue({ code: 'custom', message: issue.message, path: issue.path as PropertyKey[] });
  return z.NEVER;
});
export type RecordEntry = z.input<typeof RecordEntry>;

/** The `records` request of the producer Lambda. The caller keeps it under Lambda's 6 MB payload. */
export const RecordsRequest = z
  .object({
    records: z.array(RecordEntry).max(100_000),
    ratePerSecond: z.number().positive().max(1_000_000).optional(),
  })
  .strict();
export type RecordsRequestInput = z.input<typeof RecordsRequest>;

const fromEnvelope = (value: unknown): string | null => {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  const { tenant_id: tenant, user_id: user } = value as { tenant_id?: unknown; user_id?: unknown };
  if (typeof tenant !== 'string' || typeof user !== 'string') return null;
  const key = `${tenant.trim().toLowerCase()}#${user.trim()}`;
  return key.length > 1 && key.length <= MAX_PARTITION_KEY_LENGTH ? key : null;
};

/** A stable key for a record without tenant and user: spread by content, so that bad records do not pile on one shard. */
const byContent = (data: string) => `raw#${createHash('sha256').update(data).digest('hex').slice(0, 16)}`;

/**
 * The default partition key of a record: `tenant_id#user_id` (as the generator keys them, so each user's
 * events stay in order on one shard), read from the object or, for a raw string, from the JSON it holds;
 * a record without both (or not JSON at all) is keyed by a hash of its content.
 *
 * @example
 * ```ts
 * defaultPartitionKey({ tenant_id: 'acme', user_id: 'u-1' }); // 'acme#u-1'
 * defaultPartitionKey('{"tenant_id":'); // 'raw#…'
 * ```
 */
export function defaultPartitionKey(data: string | Record<string, unknown>): string {
  if (typeof data !== 'string') return fromEnvelope(data) ?? byContent(JSON.stringify(data));
  let parsed: unknown;
  try {
    parsed = JSON.parse(data);
  } catch {
    return byContent(data);
  }
  return fromEnvelope(parsed) ?? byContent(data);
}

/**
 * Turns the entries of a `records` request into stream records: objects as compact JSON, strings as
 * their UTF-8 bytes, unchanged; each with its own or the default partition key. Nothing is validated
 * against the event schema: that is the consumer's job, and what it rejects goes to its DLQ.
 *
 * @example
 * ```ts
 * const records = toStreamRecords([{ data: '{"oops"' }, { data: { tenant_id: 'acme', user_id: 'u-1' } }]);
 * ```
 */
export function* toStreamRecords(entries: Iterable<ParsedEntry>): Generator<StreamRecord> {
  const encoder = new TextEncoder();
  for (const { data, partitionKey } of entries) {
    const text = typeof data === 'string' ? data : JSON.stringify(data);
    yield { data: encoder.encode(text), partitionKey: partitionKey ?? defaultPartitionKey(data) };
  }
}
