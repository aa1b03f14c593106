/**
 * The cost model (docs/COST.md): AWS list prices applied to requests the benchmark counted, per million
 * events, for Shardline's delivery (the consumer Lambda, S3, DynamoDB, SQS, the scheduled publisher), for
 * Amazon Data Firehose with Parquet conversion carrying the same records, and for the Kinesis stream both
 * read from. Pure arithmetic: the counts come from bench/lib/fakes.ts, the prices from a `PriceList`.
 */

export interface PriceList {
  name: string;
  region: string;
  /** When the prices were read (YYYY-MM-DD). */
  readOn: string;
  lambdaArmPerGbSecond: number;
  lambdaPerMillionRequests: number;
  kinesisPerShardHour: number;
  /** Extended retention (beyond 24 h, up to 7 days), per shard-hour. */
  kinesisExtendedRetentionPerShardHour: number;
  kinesisPerMillionPutPayloadUnits: number;
  /** PUT, COPY, POST and LIST requests. */
  s3PerThousandPuts: number;
  /** GET and every other request but DELETE (free). */
  s3PerThousandGets: number;
  dynamoPerMillionWriteUnits: number;
  dynamoPerMillionReadUnits: number;
  sqsPerMillionRequests: number;
  eventBridgePerMillionInvocations: number;
  firehoseIngestionPerGb: number;
  firehoseFormatConversionPerGb: number;
  firehoseDynamicPartitioningPerGb: number;
  firehoseDynamicPartitioningPerThousandObjects: number;
  /** Where each figure comes from, for docs/COST.md. */
  sources: Array<{ item: string; source: string }>;
}

/** us-east-1 on-demand list prices, first tier, Arm Lambda. */
export const US_EAST_1_PRICES: PriceList = {
  name: 'AWS public on-demand prices, US East (N. Virginia)',
  region: 'us-east-1',
  readOn: '2026-12-02',
  lambdaArmPerGbSecond: 0.0000133334,
  lambdaPerMillionRequests: 0.2,
  kinesisPerShardHour: 0.015,
  kinesisExtendedRetentionPerShardHour: 0.02,
  kinesisPerMillionPutPayloadUnits: 0.014,
  s3PerThousandPuts: 0.005,
  s3PerThousandGets: 0.0004,
  dynamoPerMillionWriteUnits: 0.625,
  dynamoPerMillionReadUnits: 0.125,
  sqsPerMillionRequests: 0.4,
  eventBridgePerMillionInvocations: 1,
  firehoseIngestionPerGb: 0.029,
  firehoseFormatConversionPerGb: 0.018,
  firehoseDynamicPartitioningPerGb: 0.02,
  firehoseDynamicPartitioningPerThousandObjects: 0.005,
  sources: [
    {
      item: 'Lambda Arm: $0.0000133334 per GB-s, $0.20 per million requests',
      source: 'aws.amazon.com/lambda/pricing',
    },
    {
      item: 'Kinesis provisioned: $0.015 per shard-hour, $0.014 per million 25 KB PUT payload units, extended retention $0.02 per shard-hour',
      source: 'aws.amazon.com/kinesis/data-streams/pricing',
    },
    {
      item: 'S3 Standard: $0.005 per 1,000 PUT, COPY, POST, LIST; $0.0004 per 1,000 GET; DELETE free',
      source: 'aws.amazon.com/s3/pricing (Requests and data retrievals)',
    },
    {
      item: 'DynamoDB on-demand: $0.625 per million WRU, $0.125 per million RRU',
      source: 'aws.amazon.com/dynamodb/pricing/on-demand (after the November 2024 cut)',
    },
    { item: 'SQS standard: $0.40 per million requests (64 KB chunks)', source: 'aws.amazon.com/sqs/pricing' },
    {
      item: 'EventBridge: $1.00 per million (EventBridge Scheduler after its free tier; a legacy scheduled rule on the default bus is not billed), an upper bound',
      source: 'aws.amazon.com/eventbridge/pricing',
    },
    {
      item: 'Firehose: ingestion $0.029 per GB (each record rounded up to 5 KB), format conversion $0.018 per GB (same rounding), dynamic partitioning $0.020 per GB and $0.005 per 1,000 S3 objects',
      source: 'aws.amazon.com/firehose/pricing',
    },
  ],
};

/** Requests and bytes of one batch (or one publisher run), as the meter counted them. */
export interface MeteredRequests {
  s3Puts: number;
  s3Copies: number;
  s3Gets: number;
  s3Lists: number;
  readRequestUnits: number;
  writeRequestUnits: number;
  sqsBilledRequests: number;
}

export interface Traffic {
  eventsPerSecond: number;
  shards: number;
  /** Bytes of one record's data. */
  recordBytes: number;
}

export interface BatchingSettings {
  /** The mapping's BatchSize (1-10,000). */
  batchSize: number;
  /** MaximumBatchingWindowInSeconds (0-300). */
  batchingWindowSeconds: number;
  /** Most records that fit the 6 MB invocation payload. */
  maxRecordsPerInvocation: number;
}

export interface CostLine {
  item: string;
  quantity: number;
  unit: string;
  usd: number;
}

export interface CostBreakdown {
  lines: CostLine[];
  totalUsd: number;
}

const MILLION = 1_000_000;
const GIB = 2 ** 30;
/** Lambda's invocation payload limit for an event source mapping. */
export const INVOCATION_PAYLOAD_BYTES = 6 * 1024 * 1024;

const total = (lines: CostLine[]): CostBreakdown => ({
  lines,
  totalUsd: lines.reduce((sum, line) => sum + line.usd, 0),
});

/**
 * Records per invocation at a steady rate: a shard's records for one batching window, capped by the batch
 * size and by the 6 MB payload, never less than one.
 *
 * @example
 * ```ts
 * recordsPerBatch({ eventsPerSecond: 2000, shards: 2, recordBytes: 500 },
 *   { batchSize: 1000, batchingWindowSeconds: 1, maxRecordsPerInvocation: 5000 }); // 1000
 * ```
 */
export function recordsPerBatch(traffic: Traffic, batching: BatchingSettings): number {
  const perShardPerWindow = (traffic.eventsPerSecond / traffic.shards) * batching.batchingWindowSeconds;
  return Math.max(
    1,
    Math.min(batching.batchSize, batching.maxRecordsPerInvocation, Math.round(perShardPerWindow)),
  );
}

/**
 * The longest a record waits in the mapping before its batch is handed to the consumer: the batching
 * window, or less when a full batch gathers sooner. Latency the window costs, on top of processing.
 *
 * @example
 * ```ts
 * batchingDelaySeconds({ eventsPerSecond: 2000, shards: 2, recordBytes: 500 },
 *   { batchSize: 10_000, batchingWindowSeconds: 60, maxRecordsPerInvocation: 5000 }); // 5
 * ```
 */
export function batchingDelaySeconds(traffic: Traffic, batching: BatchingSettings): number {
  const fill =
    Math.min(batching.batchSize, batching.maxRecordsPerInvocation) /
    (traffic.eventsPerSecond / traffic.shards);
  return Math.min(batching.batchingWindowSeconds, fill);
}

/** How long requests take in AWS, for the time a batch waits on them (Lambda bills it). */
export interface AwsLatency {
  s3RequestMs: number;
  dynamoRequestMs: number;
  sqsRequestMs: number;
  /** Upload throughput of one S3 PUT, bytes per millisecond. */
  s3BytesPerMs: number;
}

/** Typical in-region latencies (docs/COST.md): medians, not tails. */
export const AWS_LATENCY: AwsLatency = {
  s3RequestMs: 30,
  dynamoRequestMs: 6,
  sqsRequestMs: 15,
  s3BytesPerMs: 50_000,
};

/**
 * Milliseconds a batch waits on AWS: its sequential rounds of calls (calls issued together count once)
 * times each service's latency, plus the bytes its critical path uploads.
 *
 * @example
 * ```ts
 * awsWaitMs({ s3Rounds: 4, dynamoRounds: 3, sqsRounds: 1, s3RoundBytes: 0 }, AWS_LATENCY); // 153
 * ```
 */
export function awsWaitMs(
  rounds: { s3Rounds: number; dynamoRounds: number; sqsRounds: number; s3RoundBytes: number },
  latency: AwsLatency,
): number {
  return (
    rounds.s3Rounds * latency.s3RequestMs +
    rounds.dynamoRounds * latency.dynamoRequestMs +
    rounds.sqsRounds * latency.sqsRequestMs +
    rounds.s3RoundBytes / latency.s3BytesPerMs
  );
}

export interface DeliveryScenario {
  traffic: Traffic;
  batching: BatchingSettings;
  lambdaMemoryMb: number;
  /** Requests of one batch of `recordsPerBatch(traffic, batching)` records. */
  perBatch: MeteredRequests;
  /** Billed duration of one such batch, milliseconds. */
  batchDurationMs: number;
  /** The scheduled publisher: its requests per run on a quiet stream, its memory and duration. */
  publisher: { perRun: MeteredRequests; memoryMb: number; durationMs: number; runsPerMinute: number };
}

const requestLines = (label: string, runs: number, r: MeteredRequests, prices: PriceList): CostLine[] => {
  const puts = runs * (r.s3Puts + r.s3Copies + r.s3Lists);
  const gets = runs * r.s3Gets;
  const wru = runs * r.writeRequestUnits;
  const rru = runs * r.readRequestUnits;
  const sqs = runs * r.sqsBilledRequests;
  return [
    {
      item: `${label} S3 PUT, COPY, LIST`,
      quantity: puts,
      unit: 'requests',
      usd: (puts / 1000) * prices.s3PerThousandPuts,
    },
    {
      item: `${label} S3 GET`,
      quantity: gets,
      unit: 'requests',
      usd: (gets / 1000) * prices.s3PerThousandGets,
    },
    {
      item: `${label} DynamoDB writes`,
      quantity: wru,
      unit: 'WRU',
      usd: (wru / MILLION) * prices.dynamoPerMillionWriteUnits,
    },
    {
      item: `${label} DynamoDB reads`,
      quantity: rru,
      unit: 'RRU',
      usd: (rru / MILLION) * prices.dynamoPerMillionReadUnits,
    },
    {
      item: `${label} SQS`,
      quantity: sqs,
      unit: 'requests',
      usd: (sqs / MILLION) * prices.sqsPerMillionRequests,
    },
  ].filter((line) => line.quantity > 0);
};

const lambdaLines = (
  label: string,
  invocations: number,
  gbSeconds: number,
  prices: PriceList,
): CostLine[] => [
  {
    item: `${label} Lambda requests`,
    quantity: invocations,
    unit: 'requests',
    usd: (invocations / MILLION) * prices.lambdaPerMillionRequests,
  },
  {
    item: `${label} Lambda duration (arm64)`,
    quantity: gbSeconds,
    unit: 'GB-s',
    usd: gbSeconds * prices.lambdaArmPerGbSecond,
  },
];

/**
 * Shardline's delivery cost per million events (the stream apart: `streamCostPerMillion`).
 *
 * @example
 * ```ts
 * shardlineCostPerMillion(scenario, US_EAST_1_PRICES).totalUsd;
 * ```
 */
export function shardlineCostPerMillion(scenario: DeliveryScenario, prices: PriceList): CostBreakdown {
  const batch = recordsPerBatch(scenario.traffic, scenario.batching);
  const invocations = MILLION / batch;
  const gbSeconds = invocations * (scenario.batchDurationMs / 1000) * (scenario.lambdaMemoryMb / 1024);
  const minutes = MILLION / scenario.traffic.eventsPerSecond / 60;
  const runs = minutes * scenario.publisher.runsPerMinute;
  const publisherGbSeconds =
    runs * (scenario.publisher.durationMs / 1000) * (scenario.publisher.memoryMb / 1024);
  return total([
    ...lambdaLines('consumer', invocations, gbSeconds, prices),
    ...requestLines('consumer', invocations, scenario.perBatch, prices),
    {
      item: 'publisher EventBridge schedule',
      quantity: runs,
      unit: 'invocations',
      usd: (runs / MILLION) * prices.eventBridgePerMillionInvocations,
    },
    ...lambdaLines('publisher', runs, publisherGbSeconds, prices),
    ...requestLines('publisher', runs, scenario.publisher.perRun, prices),
  ]);
}

/**
 * The Kinesis stream's cost per million events: shard-hours, PUT payload units (25 KB each) and extended
 * retention. Shardline and Firehose both read from it.
 *
 * @example
 * ```ts
 * streamCostPerMillion({ eventsPerSecond: 2000, shards: 2, recordBytes: 500 }, true, US_EAST_1_PRICES);
 * ```
 */
export function streamCostPerMillion(
  traffic: Traffic,
  extendedRetention: boolean,
  prices: PriceList,
): CostBreakdown {
  const shardHours = (traffic.shards * (MILLION / traffic.eventsPerSecond)) / 3600;
  const putUnits = MILLION * Math.ceil(traffic.recordBytes / 25_600);
  return total([
    {
      item: 'Kinesis shard-hours',
      quantity: shardHours,
      unit: 'shard-hours',
      usd: shardHours * prices.kinesisPerShardHour,
    },
    ...(extendedRetention
      ? [
          {
            item: 'Kinesis extended retention',
            quantity: shardHours,
            unit: 'shard-hours',
            usd: shardHours * prices.kinesisExtendedRetentionPerShardHour,
          },
        ]
      : []),
    {
      item: 'Kinesis PUT payload units',
      quantity: putUnits,
      unit: '25 KB units',
      usd: (putUnits / MILLION) * prices.kinesisPerMillionPutPayloadUnits,
    },
  ]);
}

export interface FirehoseSettings {
  /** Buffer interval, seconds (60-900 with format conversion). */
  bufferIntervalSeconds: number;
  /** Buffer size, MB (64-128 with format conversion). */
  bufferSizeMb: number;
  /** Partition by event time (like Shardline's dt/hour) with dynamic partitioning. */
  dynamicPartitioning: boolean;
  /** Partitions a buffer spreads over (live data: the current hour). */
  activePartitions: number;
}

/**
 * Amazon Data Firehose reading the stream, converting JSON to Parquet and writing S3, per million records:
 * ingestion and conversion on each record rounded up to 5 KB, the S3 PUTs of its objects (one per buffer
 * flush and partition), and, with dynamic partitioning, its per-GB and per-object fees.
 *
 * @example
 * ```ts
 * firehoseCostPerMillion({ eventsPerSecond: 200, shards: 2, recordBytes: 500 },
 *   { bufferIntervalSeconds: 60, bufferSizeMb: 128, dynamicPartitioning: false, activePartitions: 1 },
 *   US_EAST_1_PRICES).totalUsd; // about 0.22
 * ```
 */
export function firehoseCostPerMillion(
  traffic: Traffic,
  settings: FirehoseSettings,
  prices: PriceList,
): CostBreakdown {
  const billedGb = (MILLION * Math.ceil(traffic.recordBytes / 5120) * 5120) / GIB;
  const actualGb = (MILLION * traffic.recordBytes) / GIB;
  const seconds = MILLION / traffic.eventsPerSecond;
  const bytesPerSecond = traffic.eventsPerSecond * traffic.recordBytes;
  const flushSeconds = Math.min(
    settings.bufferIntervalSeconds,
    (settings.bufferSizeMb * 2 ** 20) / bytesPerSecond,
  );
  const objects = (seconds / flushSeconds) * settings.activePartitions;
  const lines: CostLine[] = [
    {
      item: 'Firehose ingestion (5 KB rounding)',
      quantity: billedGb,
      unit: 'GB',
      usd: billedGb * prices.firehoseIngestionPerGb,
    },
    {
      item: 'Firehose format conversion (5 KB rounding)',
      quantity: billedGb,
      unit: 'GB',
      usd: billedGb * prices.firehoseFormatConversionPerGb,
    },
    {
      item: 'Firehose S3 PUTs',
      quantity: objects,
      unit: 'requests',
      usd: (objects / 1000) * prices.s3PerThousandPuts,
    },
  ];
  if (settings.dynamicPartitioning)
    lines.push(
      {
        item: 'Firehose dynamic partitioning (GB)',
        quantity: actualGb,
        unit: 'GB',
        usd: actualGb * prices.firehoseDynamicPartitioningPerGb,
      },
      {
        item: 'Firehose dynamic partitioning (objects)',
        quantity: objects,
        unit: 'objects',
        usd: (objects / 1000) * prices.firehoseDynamicPartitioningPerThousandObjects,
      },
    );
  return total(lines);
}

/**
 * Milliseconds per batch of any size from measured (records, milliseconds) points: straight lines between
 * neighbouring points, the nearest segment extended beyond them, never below zero.
 *
 * @example
 * ```ts
 * const duration = interpolateBatchMs([[100, 3], [1000, 21]]);
 * duration(550); // 12
 * duration(10); // 1.2
 * ```
 */
export function interpolateBatchMs(
  points: ReadonlyArray<readonly [number, number]>,
): (records: number) => number {
  const sorted = [...points].sort((a, b) => a[0] - b[0]);
  return (records) => {
    const [first, second] = sorted;
    if (!first) return 0;
    if (!second) return (first[1] * records) / first[0];
    let segment = 0;
    while (segment < sorted.length - 2 && records > (sorted[segment + 1] as readonly [number, number])[0])
      segment++;
    const [x0, y0] = sorted[segment] as readonly [number, number];
    const [x1, y1] = sorted[segment + 1] as readonly [number, number];
    return Math.max(0, y0 + ((y1 - y0) * (records - x0)) / (x1 - x0));
  };
}
