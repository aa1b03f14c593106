import type { KinesisStreamEvent, KinesisStreamRecord } from 'aws-lambda';
import { type GeneratedRecord, generateRecords } from '../../lambdas/producer/generate';

/**
 * Benchmark records: the producer's own generator (lambdas/producer/generate.ts), widened to about 500
 * bytes a record. The producer's events average about 300 bytes; real clickstream and order events carry
 * longer identifiers and tracking URLs, so each valid event gets the same kind of content in fields the
 * schema keeps (and the lake stores): longer ids, a product slug and UTM parameters on page URLs. Invalid
 * records are left exactly as the generator broke them.
 */

export const BENCH_START_TIME = Date.parse('2026-11-01T00:00:00.000Z');
export const BENCH_TENANTS = ['acme', 'globex', 'initech'] as const;
/** Kinesis sequence numbers of the benchmark shard start here (56 digits, like real ones). */
export const FIRST_SEQUENCE_NUMBER =
  49_654_961_345_298_432_180_927_634_158_921_034_877_246_110_347_112_349_714n;

export interface BenchRecordOptions {
  count: number;
  seed?: number;
  invalidRatio?: number;
  /** Event time covered by the records; a short span keeps a batch in one hourly partition, as live data is. */
  spanMinutes?: number;
  /** Widen valid events to about 500 bytes (default) or keep the producer's own size. */
  widen?: boolean;
  /** Users per tenant (3 tenants): 200 is the demo's; about 6,667 makes 20,000 users on one shard. */
  usersPerTenant?: number;
  /** Event time of the first record (default BENCH_START_TIME). */
  startTime?: number;
}

const CAMPAIGNS = [
  'autumn-sale-2026',
  'loyalty-reactivation-q4',
  'black-friday-early-access',
  'brand-search',
];
const SOURCES = ['newsletter', 'google', 'meta-ads', 'partner-network'];
const SLUGS = [
  'trail-running-shoe-lightweight-breathable',
  'merino-wool-crew-sweater-regular-fit',
  'insulated-stainless-steel-bottle-750ml',
  'noise-cancelling-wireless-headphones',
];

/** FNV-1a, 32 bits: a stable, cheap hash so that an id always widens to the same text. */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < text.length; index++) {
    hash ^= text.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

const hex = (text: string, length: number) => {
  let out = '';
  for (let round = 0; out.length < length; round++)
    out += fnv1a(`${round}:${text}`).toString(16).padStart(8, '0');
  return out.slice(0, length);
};

/** An opaque, stable id suffix, like the ULIDs and hashes of real producers. */
const longId = (id: string) => `${id}-${hex(id, 32)}`;

type Json = Record<string, unknown>;

/**
 * Widens one valid event (as JSON text) with realistic content in fields the schema keeps. Pure and
 * deterministic: the same event always gives the same text.
 *
 * @example
 * ```ts
 * widenEvent('{"event_type":"page_view","user_id":"u-1","payload":{"url":"/products/7"}}').length; // > 200
 * ```
 */
export function widenEvent(json: string): string {
  const event = JSON.parse(json) as Json & { payload: Json; event_type: string };
  const seed = fnv1a(String(event.event_id ?? json));
  if (typeof event.user_id === 'string') event.user_id = longId(event.user_id);
  if (typeof event.session_id === 'string') event.session_id = longId(event.session_id);
  const payload = event.payload;
  switch (event.event_type) {
    case 'page_view': {
      const slug = SLUGS[seed % SLUGS.length] as string;
      const query =
        `utm_source=${SOURCES[seed % SOURCES.length]}&utm_medium=cpc&utm_campaign=${CAMPAIGNS[(seed >>> 3) % CAMPAIGNS.length]}` +
        `&utm_content=hero-banner-v${seed % 7}&utm_term=${slug}&gclid=${hex(`g${seed}`, 40)}`;
      payload.url = `${payload.url}/${slug}?${query}`;
      if (payload.referrer)
        payload.referrer = `${payload.referrer}/search?q=${slug.replaceAll('-', '+')}&page=1`;
      break;
    }
    case 'add_to_cart':
      payload.product_id = longId(String(payload.product_id));
      break;
    case 'order_created':
      payload.order_id = longId(String(payload.order_id));
      for (const item of payload.items as Json[]) item.product_id = longId(String(item.product_id));
      break;
    case 'payment_processed':
      payload.payment_id = longId(String(payload.payment_id));
      payload.order_id = longId(String(payload.order_id));
      break;
    case 'sensor_reading':
      payload.device_id = `${payload.device_id}.plant-${seed % 5}.line-${seed % 3}.${hex(String(payload.device_id), 16)}`;
      break;
  }
  return JSON.stringify(event);
}

/**
 * `count` deterministic records from the producer's generator, 2% invalid by default, widened to about
 * 500 bytes unless `widen` is false.
 *
 * @example
 * ```ts
 * const records = benchRecords({ count: 1000 });
 * records.filter((r) => r.invalidKind).length; // 20
 * ```
 */
export function benchRecords(options: BenchRecordOptions): GeneratedRecord[] {
  const records = generateRecords({
    count: options.count,
    seed: options.seed ?? 1,
    invalidRatio: options.invalidRatio ?? 0.02,
    tenants: BENCH_TENANTS,
    startTime: options.startTime ?? BENCH_START_TIME,
    spanMinutes: options.spanMinutes ?? 30,
    usersPerTenant: options.usersPerTenant ?? 200,
  });
  if (options.widen === false) return records;
  const encoder = new TextEncoder();
  return records.map((record) =>
    record.invalidKind
      ? record
      : { ...record, data: encoder.encode(widenEvent(Buffer.from(record.data).toString('utf8'))) },
  );
}

/** How the records of a run are made. */
export interface BenchBatchOptions {
  /** Event time advances at this many events per second on the shard (default 2,000). */
  eventsPerSecond?: number;
  usersPerTenant?: number;
  seed?: number;
  startTime?: number;
}

/**
 * The records of one timed run, cut into consecutive batches: event time advances at `eventsPerSecond`
 * (default 2,000, the write limit of the stack's two shards), as live data would, so that stateful
 * analytics see time move.
 *
 * @example
 * ```ts
 * benchBatches(1000, 20_000).length; // 20
 * ```
 */
export function benchBatches(
  batchSize: number,
  recordsPerRun: number,
  options: BenchBatchOptions = {},
): GeneratedRecord[][] {
  const batches = Math.max(1, Math.ceil(recordsPerRun / batchSize));
  const records = benchRecords({
    count: batchSize * batches,
    seed: options.seed ?? batchSize,
    spanMinutes: (batchSize * batches) / (options.eventsPerSecond ?? 2000) / 60,
    ...(options.usersPerTenant ? { usersPerTenant: options.usersPerTenant } : {}),
    ...(options.startTime ? { startTime: options.startTime } : {}),
  });
  return Array.from({ length: batches }, (_, index) =>
    records.slice(index * batchSize, (index + 1) * batchSize),
  );
}

export interface KinesisEventOptions {
  shardId?: string;
  /** Sequence number of the first record; the others follow one by one. */
  firstSequenceNumber?: bigint;
  /** ApproximateArrivalTimestamp of the first record, epoch milliseconds; one millisecond apart after it. */
  arrivalMs?: number;
}

/**
 * The event Lambda's Kinesis event source mapping would deliver for these records: base64 data, 56-digit
 * sequence numbers, arrival timestamps in seconds.
 *
 * @example
 * ```ts
 * const event = kinesisEvent(benchRecords({ count: 100 }));
 * event.Records.length; // 100
 * ```
 */
export function kinesisEvent(
  records: readonly GeneratedRecord[],
  options: KinesisEventOptions = {},
): KinesisStreamEvent {
  const shardId = options.shardId ?? 'shardId-000000000000';
  const first = options.firstSequenceNumber ?? FIRST_SEQUENCE_NUMBER;
  const arrivalMs = options.arrivalMs ?? BENCH_START_TIME + 60_000;
  const streamArn = 'arn:aws:kinesis:us-east-1:000000000000:stream/shardline-bench-events';
  return {
    Records: records.map((record, index): KinesisStreamRecord => {
      const sequenceNumber = (first + BigInt(index)).toString();
      return {
        kinesis: {
          kinesisSchemaVersion: '1.0',
          partitionKey: record.partitionKey,
          sequenceNumber,
          data: Buffer.from(record.data).toString('base64'),
          approximateArrivalTimestamp: (arrivalMs + index) / 1000,
        },
        eventSource: 'aws:kinesis',
        eventVersion: '1.0',
        eventID: `${shardId}:${sequenceNumber}`,
        eventName: 'aws:kinesis:record',
        invokeIdentityArn: 'arn:aws:iam::000000000000:role/shardline-bench-consumer',
        awsRegion: 'us-east-1',
        eventSourceARN: streamArn,
      };
    }),
  };
}

/** Bytes of record data (decoded, before base64) in an event. */
export const payloadBytes = (records: readonly GeneratedRecord[]) =>
  records.reduce((sum, record) => sum + record.data.byteLength, 0);
