import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { z } from 'zod';
import { ShardlineError } from '../shared/errors';
import { streamRecords } from './generate';
import {
  addOutcome,
  chunkRecords,
  DEFAULT_RETRY_POLICY,
  type PutOutcome,
  putChunk,
  type RetryPolicy,
  type StreamRecord,
} from './putRecords';
import { RecordsRequest, toStreamRecords } from './records';

/** What the producer Lambda accepts. Defaults make `{}` a valid, small request. */
export const ProduceRequest = z
  .object({
    count: z.number().int().min(1).max(10_000_000).default(1_000),
    seed: z
      .number()
      .int()
      .min(0)
      .max(2 ** 32 - 1)
      .default(1),
    invalidRatio: z.number().min(0).max(1).default(0.02),
    tenants: z
      .union([
        z.number().int().min(1).max(1_000),
        z.array(z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/)).min(1),
      ])
      .default(3),
    ratePerSecond: z.number().positive().max(1_000_000).optional(),
    /** ISO-8601 event time of the first event; fixed by default so a seed always means the same events. */
    startTime: z.iso.datetime().default('2026-11-01T00:00:00.000Z'),
    spanMinutes: z
      .number()
      .int()
      .min(1)
      .max(7 * 24 * 60)
      .default(180),
    usersPerTenant: z.number().int().min(1).max(1_000_000).default(200),
    /** Inject one known instance of each pattern the analytics alert on (docs/ANALYTICS.md). */
    anomalies: z.boolean().default(false),
  })
  .strict();

export type ProduceRequestInput = z.input<typeof ProduceRequest>;

export class InvalidProduceRequestError extends ShardlineError {
  constructor(issues: string) {
    super(`invalid producer request: ${issues}`);
    this.name = 'InvalidProduceRequestError';
  }
}

/**
 * Validates a producer request, throwing an error that lists every problem: a `records` request when it
 * has `records`, a generator request otherwise.
 *
 * @example
 * ```ts
 * parseProduceRequest({ records: ['{}'] }).mode; // 'records'
 * parseProduceRequest({ count: 10 }).mode; // 'generate'
 * ```
 */
export function parseProduceRequest(input: unknown) {
  const isRecords = typeof input === 'object' && input !== null && 'records' in input;
  const parsed = isRecords
    ? RecordsRequest.transform((r) => ({ ...r, mode: 'records' as const })).safeParse(input)
    : ProduceRequest.transform((r) => ({ ...r, mode: 'generate' as const })).safeParse(input ?? {});
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new InvalidProduceRequestError(issues);
  }
  return parsed.data;
}

const DEFAULT_TENANTS = ['acme', 'globex', 'initech', 'umbrella', 'hooli', 'stark', 'wayne', 'wonka'];

function tenantNames(tenants: number | string[]): string[] {
  if (Array.isArray(tenants)) return tenants;
  return Array.from({ length: tenants }, (_, i) => DEFAULT_TENANTS[i] ?? `tenant-${i + 1}`);
}

export interface ProduceOptions {
  retryPolicy?: RetryPolicy;
  onProgress?: (progress: PutOutcome & { offered: number }) => void;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Generates the requested events (or takes the request's `records`) and puts them on the stream in order,
 * at most 500 per call, pacing to `ratePerSecond` when given. Partition keys are `tenant_id#user_id`
 * unless a record brings its own, so each user's events stay in order on one shard.
 *
 * @example
 * ```ts
 * const { sent, failed, shards } = await produce(kinesis, 'shardline-dev-events', { count: 1000, seed: 7 });
 * ```
 */
export async function produce(
  kinesis: KinesisClient,
  streamName: string,
  input: unknown,
  options: ProduceOptions = {},
): Promise<PutOutcome> {
  const request = parseProduceRequest(input);
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? defaultSleep;
  const records: Iterable<StreamRecord> =
    request.mode === 'records'
      ? toStreamRecords(request.records)
      : streamRecords({
          count: request.count,
          seed: request.seed,
          invalidRatio: request.invalidRatio,
          tenants: tenantNames(request.tenants),
          startTime: Date.parse(request.startTime),
          spanMinutes: request.spanMinutes,
          usersPerTenant: request.usersPerTenant,
          anomalies: request.anomalies,
        });
  const total: PutOutcome = { sent: 0, failed: 0, shards: {}, retried: 0 };
  const started = now();
  let offered = 0;
  // With a rate, chunks hold about a tenth of a second of records so that pacing is smooth.
  const maxRecords =
    request.ratePerSecond === undefined ? undefined : Math.max(1, Math.ceil(request.ratePerSecond / 10));
  for (const chunk of chunkRecords(records, maxRecords)) {
    if (request.ratePerSecond !== undefined) {
      const due = started + (offered / request.ratePerSecond) * 1000;
      const wait = due - now();
      if (wait > 0) await sleep(wait);
    }
    addOutcome(
      total,
      await putChunk(kinesis, streamName, chunk, options.retryPolicy ?? DEFAULT_RETRY_POLICY),
    );
    offered += chunk.length;
    options.onProgress?.({ ...total, offered });
  }
  return total;
}
