/**
 * The cost model: AWS cost per million events for Shardline as deployed (Kinesis provisioned shards, the
 * consumer Lambda, S3, DynamoDB on demand, SQS), and for Amazon Data Firehose with format conversion
 * carrying the same records. Pure arithmetic over a price list and measured per-batch figures.
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
  s3PerThousandPuts: number;
  dynamoPerMillionWriteUnits: number;
  dynamoPerMillionReadUnits: number;
  sqsPerMillionRequests: number;
  firehoseIngestionPerGb: number;
  firehoseFormatConversionPerGb: number;
  /** Where each figure was checked, for the report. */
  sources: Array<{ item: string; source: string }>;
}

/**
 * us-east-1 on-demand list prices (first tier), read on 2026-11-23. AWS's own pricing pages render their
 * tables with JavaScript, so the copies reachable from here carried the rules (5 KB rounding, 25 KB PUT
 * payload units) but not every number; each number is checked against the source named beside it.
 */
export const US_EAST_1_PRICES: PriceList = {
  name: 'AWS public on-demand prices, US East (N. Virginia)',
  region: 'us-east-1',
  readOn: '2026-11-23',
  lambdaArmPerGbSecond: 0.0000133334,
  lambdaPerMillionRequests: 0.2,
  kinesisPerShardHour: 0.015,
  kinesisExtendedRetentionPerShardHour: 0.02,
  kinesisPerMillionPutPayloadUnits: 0.014,
  s3PerThousandPuts: 0.005,
  dynamoPerMillionWriteUnits: 0.625,
  dynamoPerMillionReadUnits: 0.125,
  sqsPerMillionRequests: 0.4,
  firehoseIngestionPerGb: 0.029,
  firehoseFormatConversionPerGb: 0.018,
  sources: [
    {
      item: 'Lambda Arm GB-s, requests',
      source: 'aws.amazon.com/lambda/pricing; cloudchipr.com/blog/aws-lambda-pricing',
    },
    {
      item: 'Kinesis shard-hour, PUT payload unit',
      source: 'aws.amazon.com/kinesis/data-streams/pricing (units); provisioned-mode rates as listed there',
    },
    {
      item: 'Kinesis extended retention',
      source: 'aws.amazon.com/kinesis/data-streams/pricing (per shard-hour, up to 7 days)',
    },
    { item: 'S3 Standard PUT', source: 'c3x.dev/blog/s3-request-fees-explained ($0.005 per 1,000)' },
    {
      item: 'DynamoDB on-demand WRU/RRU',
      source: 'airbyte.com/data-engineering-resources/dynamodb-pricing (after the Nov 2024 cut)',
    },
    {
      item: 'SQS standard requests',
      source: 'aws.amazon.com/sqs/pricing (per million requests, 64 KB chunks)',
    },
    {
      item: 'Firehose ingestion, format conversion',
      source: 'aws.amazon.com/firehose/pricing (5 KB rounding for both)',
    },
  ],
};

export interface ShardlineScenario {
  eventsPerSecond: number;
  shards: number;
  /** The mapping's BatchSize and batching window. */
  batchSize: number;
  batchingWindowSeconds: number;
  recordBytes: number;
  invalidRatio: number;
  lambdaMemoryMb: number;
  /** Lambda duration of one batch of `n` records, milliseconds. */
  batchDurationMs: (records: number) => number;
  s3PutsPerBatch: number;
  writeUnitsPerBatch: number;
  readUnitsPerBatch: number;
  /** Kinesis retention beyond 24 hours (the stack keeps 14 days). */
  extendedRetention: boolean;
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

/**
 * Records per invocation at a steady rate: a shard's records for one batching window, capped by the
 * batch size, never less than one.
 *
 * @example
 * ```ts
 * recordsPerBatch({ eventsPerSecond: 2000, shards: 2, batchSize: 1000, batchingWindowSeconds: 1 }); // 1000
 * ```
 */
export function recordsPerBatch(
  scenario: Pick<ShardlineScenario, 'eventsPerSecond' | 'shards' | 'batchSize' | 'batchingWindowSeconds'>,
): number {
  const perShardPerWindow = (scenario.eventsPerSecond / scenario.shards) * scenario.batchingWindowSeconds;
  return Math.max(1, Math.min(scenario.batchSize, Math.round(perShardPerWindow)));
}

/**
 * Shardline's cost per million events at a steady rate.
 *
 * @example
 * ```ts
 * shardlineCostPerMillion(scenario, US_EAST_1_PRICES).totalUsd;
 * ```
 */
export function shardlineCostPerMillion(scenario: ShardlineScenario, prices: PriceList): CostBreakdown {
  const batch = recordsPerBatch(scenario);
  const invocations = MILLION / batch;
  const gbSeconds = invocations * (scenario.batchDurationMs(batch) / 1000) * (scenario.lambdaMemoryMb / 1024);
  const shardHours = (scenario.shards * (MILLION / scenario.eventsPerSecond)) / 3600;
  const putUnits = MILLION * Math.ceil(scenario.recordBytes / 25_600);
  const s3Puts = invocations * scenario.s3PutsPerBatch;
  const writeUnits = invocations * scenario.writeUnitsPerBatch;
  const readUnits = invocations * scenario.readUnitsPerBatch;
  // One SendMessageBatch per 10 invalid records of a batch (each well under 64 KB).
  const sqsRequests = invocations * Math.ceil((batch * scenario.invalidRatio) / 10);
  const lines: CostLine[] = [
    {
      item: 'Lambda requests',
      quantity: invocations,
      unit: 'requests',
      usd: (invocations / MILLION) * prices.lambdaPerMillionRequests,
    },
    {
      item: 'Lambda duration (arm64)',
      quantity: gbSeconds,
      unit: 'GB-s',
      usd: gbSeconds * prices.lambdaArmPerGbSecond,
    },
    {
      item: 'Kinesis shard-hours',
      quantity: shardHours,
      unit: 'shard-hours',
      usd: shardHours * prices.kinesisPerShardHour,
    },
    ...(scenario.extendedRetention
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
    {
      item: 'S3 PUT requests',
      quantity: s3Puts,
      unit: 'requests',
      usd: (s3Puts / 1000) * prices.s3PerThousandPuts,
    },
    {
      item: 'DynamoDB writes',
      quantity: writeUnits,
      unit: 'WRU',
      usd: (writeUnits / MILLION) * prices.dynamoPerMillionWriteUnits,
    },
    {
      item: 'DynamoDB reads',
      quantity: readUnits,
      unit: 'RRU',
      usd: (readUnits / MILLION) * prices.dynamoPerMillionReadUnits,
    },
    {
      item: 'SQS (DLQ) requests',
      quantity: sqsRequests,
      unit: 'requests',
      usd: (sqsRequests / MILLION) * prices.sqsPerMillionRequests,
    },
  ];
  return { lines, totalUsd: lines.reduce((sum, line) => sum + line.usd, 0) };
}

/**
 * Amazon Data Firehose (Direct PUT) with JSON → Parquet conversion for a million records of
 * `recordBytes`: ingestion and conversion are both billed on each record rounded up to 5 KB.
 *
 * @example
 * ```ts
 * firehoseCostPerMillion(500, US_EAST_1_PRICES).totalUsd; // about 0.22
 * ```
 */
export function firehoseCostPerMillion(recordBytes: number, prices: PriceList): CostBreakdown {
  const billedGb = (MILLION * Math.ceil(recordBytes / 5120) * 5120) / GIB;
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
  ];
  return { lines, totalUsd: lines.reduce((sum, line) => sum + line.usd, 0) };
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
    if (sorted.length === 0) return 0;
    if (sorted.length === 1)
      return (
        ((sorted[0] as readonly [number, number])[1] * records) / (sorted[0] as readonly [number, number])[0]
      );
    let segment = 0;
    while (segment < sorted.length - 2 && records > (sorted[segment + 1] as readonly [number, number])[0])
      segment++;
    const [x0, y0] = sorted[segment] as readonly [number, number];
    const [x1, y1] = sorted[segment + 1] as readonly [number, number];
    return Math.max(0, y0 + ((y1 - y0) * (records - x0)) / (x1 - x0));
  };
}
