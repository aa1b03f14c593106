import { Aws, CfnOutput, Duration, RemovalPolicy, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import { AttributeType, BillingMode, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Stream, StreamEncryption, StreamMode } from 'aws-cdk-lib/aws-kinesis';
import { StartingPosition } from 'aws-cdk-lib/aws-lambda';
import { KinesisEventSource, SqsDlq } from 'aws-cdk-lib/aws-lambda-event-sources';
import { BlockPublicAccess, Bucket, BucketEncryption, ObjectOwnership } from 'aws-cdk-lib/aws-s3';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { ENV } from '../lambdas/shared/config';
import { resourceNames } from '../lambdas/shared/naming';
import { BundledFunction } from './constructs/bundled-function';
import { LakeCatalog } from './constructs/lake-catalog';

export interface ShardlineStackProps extends StackProps {
  /** Deployment stage; every physical resource name derives from it (see `resourceNames`). */
  readonly stage: string;
  /**
   * Create the Glue catalog and Athena workgroup over the lake. LocalStack's community edition has no
   * Glue or Athena, so `deploy:localstack` turns it off (context `athena=false`).
   *
   * @default true
   */
  readonly athena?: boolean;
  /**
   * Number of shards of the provisioned Kinesis stream.
   *
   * @default 2
   */
  readonly shardCount?: number;
  /**
   * Batching of the event source mapping, by cost against latency (docs/COST.md, "Stage profiles"):
   * `development` invokes the consumer every second for a snappy laptop; `production` gathers up to 60 s
   * (at most 10,000 records or 6 MB), which costs under a tenth of Firehose at 200 events/s and more.
   * `batchSize` and `maxBatchingWindow` override it. Context: `-c profile=production`.
   *
   * @default 'development'
   */
  readonly profile?: StageProfile;
  /**
   * Most records the event source mapping hands the consumer in one invocation (1-10,000).
   *
   * @default - the profile's: 1000 (development), 10,000 (production)
   */
  readonly batchSize?: number;
  /**
   * How long the event source mapping gathers records before invoking the consumer (0-300 s).
   *
   * @default - the profile's: 1 s (development), 60 s (production)
   */
  readonly maxBatchingWindow?: Duration;
  /**
   * Retries of a failed batch before it goes to the dead-letter queue (0-10,000). Infinite retries (-1)
   * are refused: one poison record would block its shard until the record expires.
   *
   * @default 3
   */
  readonly retryAttempts?: number;
  /**
   * Age after which records are sent to the dead-letter queue instead of the consumer (60 s to 7 days).
   *
   * @default Duration.hours(1)
   */
  readonly maxRecordAge?: Duration;
  /**
   * Consumer function timeout (1-900 s).
   *
   * @default Duration.seconds(60)
   */
  readonly consumerTimeout?: Duration;
  /**
   * Consumer function memory in MB (128-10,240).
   *
   * @default 1024
   */
  readonly consumerMemorySize?: number;
  /**
   * Producer function memory in MB (128-10,240).
   *
   * @default 512
   */
  readonly producerMemorySize?: number;
}

/** The batching each stage profile stands for; bench/costModel.ts prices them (docs/COST.md). */
export const STAGE_PROFILES = {
  development: { batchSize: 1000, maxBatchingWindow: Duration.seconds(1) },
  production: { batchSize: 10_000, maxBatchingWindow: Duration.seconds(60) },
} as const;
export type StageProfile = keyof typeof STAGE_PROFILES;

/** The pipeline settings of `ShardlineStackProps`, every one resolved. */
type ShardlineSettings = Required<Omit<ShardlineStackProps, keyof StackProps | 'stage' | 'profile'>>;

/** The defaults of every optional `ShardlineStackProps` setting, in one place. */
export const SHARDLINE_STACK_DEFAULTS: Readonly<ShardlineSettings> = {
  shardCount: 2,
  batchSize: 1000,
  maxBatchingWindow: Duration.seconds(1),
  retryAttempts: 3,
  maxRecordAge: Duration.hours(1),
  consumerTimeout: Duration.seconds(60),
  consumerMemorySize: 1024,
  producerMemorySize: 512,
  athena: true,
};

const PRODUCER_TIMEOUT = Duration.minutes(5);
const POWERTOOLS_METRICS_NAMESPACE = 'Shardline';
const POWERTOOLS_LOG_LEVEL = 'INFO';
/** Only what the consumer's checkpoint protocol calls: no Scan, no DeleteItem, no batch or transact writes. */
/**
 * Lake objects the consumer writes (Parquet, CSV, claim-checked DLQ payloads) and deletes (the commit
 * protocol's rollback). Nothing else: no read, no list, no tagging, retention, legal hold or versions.
 */
const CONSUMER_OBJECT_ACTIONS = ['s3:PutObject', 's3:DeleteObject'];
const S3_ACCESS_LOGS_USE_BUCKET_POLICY = '@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy';
/** How long S3 server access logs of the lake are kept. */
const ACCESS_LOG_RETENTION = Duration.days(365);
const CONSUMER_TABLE_ACTIONS = [
  'dynamodb:GetItem',
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:Query',
];

export class InvalidStackPropError extends Error {
  constructor(prop: string, expected: string, actual: number | string) {
    super(`ShardlineStack prop ${prop} must be ${expected} (got ${actual})`);
    this.name = 'InvalidStackPropError';
  }
}

/**
 * Shardline: producer Lambda → Kinesis stream → consumer Lambda (event source mapping) → S3 lake,
 * with per-shard state in DynamoDB and an SQS dead-letter queue for batches that exhaust their retries.
 *
 * @example
 * ```ts
 * const app = new App();
 * new ShardlineStack(app, 'Shardline-dev', { stage: 'dev', shardCount: 4 });
 * ```
 */
export class ShardlineStack extends Stack {
  readonly stream: Stream;
  readonly table: Table;
  readonly dlq: Queue;
  readonly bucket: Bucket;
  /** Receives the lake bucket's S3 server access logs: who wrote, read or deleted which object. */
  readonly accessLogsBucket: Bucket;
  readonly producer: BundledFunction;
  readonly consumer: BundledFunction;
  /** Glue tables and the Athena workgroup over the lake; absent when `athena` is false. */
  readonly catalog?: LakeCatalog;

  constructor(scope: Construct, id: string, props: ShardlineStackProps) {
    super(scope, id, props);
    // S3 server access logs delivered under a bucket policy for the logging service rather than an ACL, so
    // the log bucket keeps ACLs disabled. Set here, before any child, so the stack does not depend on the
    // app's context.
    this.node.setContext(S3_ACCESS_LOGS_USE_BUCKET_POLICY, true);
    const profile = props.profile ?? 'development';
    if (!Object.hasOwn(STAGE_PROFILES, profile))
      throw new InvalidStackPropError('profile', "'development' or 'production'", profile);
    const settings = { ...SHARDLINE_STACK_DEFAULTS, ...STAGE_PROFILES[profile], ...withoutUndefined(props) };
    validateSettings(settings);
    const names = resourceNames(props.stage);

    this.stream = new Stream(this, 'Stream', {
      streamName: names.streamName,
      streamMode: StreamMode.PROVISIONED,
      shardCount: settings.shardCount,
      encryption: StreamEncryption.MANAGED,
    });

    this.table = new Table(this, 'StateTable', {
      tableName: names.tableName,
      partitionKey: { name: 'pk', type: AttributeType.STRING },
      sortKey: { name: 'sk', type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: 'expires_at',
      encryption: TableEncryption.AWS_MANAGED,
    });

    this.dlq = new Queue(this, 'DeadLetterQueue', {
      queueName: names.dlqName,
      encryption: QueueEncryption.SQS_MANAGED,
      retentionPeriod: Duration.days(14),
      enforceSSL: true,
    });
    Validations.of(this.dlq).acknowledge({
      id: 'AwsSolutions::AwsSolutions-SQS3',
      reason:
        'This queue is the dead-letter queue: the OnFailure destination of the event source mapping and the ' +
        'queue of invalid records. Nothing consumes it automatically; people and `shardline verify` read it ' +
        'without deleting, so a redrive policy would count those reads and move messages away after ' +
        'maxReceiveCount of them.',
    });

    this.accessLogsBucket = new Bucket(this, 'LakeAccessLogsBucket', {
      // `<prefix>-logs-…` is exactly as long as `<prefix>-lake-…`, so every valid stage still fits in 63.
      bucketName: `${names.prefix}-logs-${Aws.ACCOUNT_ID}-${Aws.REGION}`,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      // Server access log delivery writes only to SSE-S3 buckets; the log service gets a bucket policy.
      encryption: BucketEncryption.S3_MANAGED,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      lifecycleRules: [{ expiration: ACCESS_LOG_RETENTION }],
      // Audit records outlive the stack, as the lake does.
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.bucket = new Bucket(this, 'LakeBucket', {
      bucketName: `${names.bucketNamePrefix}-${Aws.ACCOUNT_ID}-${Aws.REGION}`,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      encryption: BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      serverAccessLogsBucket: this.accessLogsBucket,
      serverAccessLogsPrefix: 'lake/',
      // The lake is the product: deleting the stack must not delete the data.
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.producer = new BundledFunction(this, 'Producer', {
      entry: 'lambdas/producer/handler.ts',
      functionName: names.producerFunctionName,
      timeout: PRODUCER_TIMEOUT,
      memorySize: settings.producerMemorySize,
      environment: {
        [ENV.streamName]: this.stream.streamName,
        [ENV.stage]: props.stage,
        ...powertoolsEnvironment('shardline-producer'),
      },
    });
    this.stream.grantWrite(this.producer);

    this.consumer = new BundledFunction(this, 'Consumer', {
      entry: 'lambdas/consumer/handler.ts',
      functionName: names.consumerFunctionName,
      timeout: settings.consumerTimeout,
      memorySize: settings.consumerMemorySize,
      environment: {
        [ENV.bucketName]: this.bucket.bucketName,
        [ENV.tableName]: this.table.tableName,
        [ENV.dlqUrl]: this.dlq.queueUrl,
        [ENV.streamName]: this.stream.streamName,
        [ENV.stage]: props.stage,
        ...powertoolsEnvironment('shardline-consumer'),
      },
      // parquet-wasm's node build reads its WebAssembly module from the bundle's own directory.
      bundledFiles: ['node_modules/parquet-wasm/node/parquet_wasm_bg.wasm'],
    });
    this.consumer.addToRolePolicy(
      new PolicyStatement({
        actions: CONSUMER_OBJECT_ACTIONS,
        resources: [this.bucket.arnForObjects('*')],
      }),
    );
    Validations.of(this.consumer.executionRole).acknowledge({
      id: 'AwsSolutions::AwsSolutions-IAM5[Resource::<LakeBucket9CD7BBD2.Arn>/*]',
      reason:
        'S3 object actions need object ARNs, and the consumer names its objects per batch (shard, sequence ' +
        'range, fencing token) under several prefixes: events/, dlq-payloads/ and the analytics datasets. ' +
        'The statement allows only s3:PutObject and s3:DeleteObject, on this one bucket: no read, no list.',
    });
    this.table.grant(this.consumer, ...CONSUMER_TABLE_ACTIONS);
    this.dlq.grantSendMessages(this.consumer);

    this.consumer.addEventSource(
      new KinesisEventSource(this.stream, {
        startingPosition: StartingPosition.TRIM_HORIZON,
        batchSize: settings.batchSize,
        maxBatchingWindow: settings.maxBatchingWindow,
        bisectBatchOnError: true,
        retryAttempts: settings.retryAttempts,
        maxRecordAge: settings.maxRecordAge,
        reportBatchItemFailures: true,
        onFailure: new SqsDlq(this.dlq),
        parallelizationFactor: 1,
      }),
    );

    if (props.athena !== false) {
      this.catalog = new LakeCatalog(this, 'LakeCatalog', {
        bucket: this.bucket,
        databaseName: names.glueDatabaseName,
        workGroupName: names.athenaWorkGroupName,
      });
    }

    const outputs: Record<string, { value: string; description: string }> = {
      Stage: { value: props.stage, description: 'Deployment stage' },
      Region: { value: Aws.REGION, description: 'Region the stack is deployed to' },
      StreamName: { value: this.stream.streamName, description: 'Kinesis stream the producer writes to' },
      StreamArn: { value: this.stream.streamArn, description: 'ARN of the Kinesis stream' },
      TableName: { value: this.table.tableName, description: 'DynamoDB table of per-shard checkpoints' },
      BucketName: { value: this.bucket.bucketName, description: 'S3 bucket of the Parquet and CSV lake' },
      DlqUrl: { value: this.dlq.queueUrl, description: 'URL of the dead-letter queue' },
      DlqArn: { value: this.dlq.queueArn, description: 'ARN of the dead-letter queue' },
      ProducerFunctionName: { value: this.producer.functionName, description: 'Producer Lambda function' },
      ConsumerFunctionName: { value: this.consumer.functionName, description: 'Consumer Lambda function' },
      ...(this.catalog
        ? {
            GlueDatabase: { value: names.glueDatabaseName, description: 'Glue database of the lake tables' },
            AthenaWorkGroup: {
              value: names.athenaWorkGroupName,
              description: 'Athena workgroup for lake queries',
            },
          }
        : {}),
    };
    for (const [outputId, output] of Object.entries(outputs)) {
      new CfnOutput(this, outputId, { ...output, exportName: `${this.stackName}-${outputId}` });
    }
  }
}

function powertoolsEnvironment(serviceName: string): Record<string, string> {
  return {
    POWERTOOLS_SERVICE_NAME: serviceName,
    POWERTOOLS_METRICS_NAMESPACE,
    POWERTOOLS_LOG_LEVEL,
  };
}

/** Drops keys set to `undefined`, so an explicit `undefined` prop still gets its default. */
function withoutUndefined<T extends object>(props: T): Partial<T> {
  return Object.fromEntries(Object.entries(props).filter(([, value]) => value !== undefined)) as Partial<T>;
}

function validateSettings(settings: ShardlineSettings): void {
  requireInteger('shardCount', settings.shardCount, 1, Number.MAX_SAFE_INTEGER, 'a positive integer');
  requireInteger('batchSize', settings.batchSize, 1, 10_000);
  requireInteger('retryAttempts', settings.retryAttempts, 0, 10_000);
  requireInteger('consumerMemorySize', settings.consumerMemorySize, 128, 10_240);
  requireInteger('producerMemorySize', settings.producerMemorySize, 128, 10_240);
  requireSeconds('maxBatchingWindow', settings.maxBatchingWindow, 0, 300);
  requireSeconds('maxRecordAge', settings.maxRecordAge, 60, 604_800);
  requireSeconds('consumerTimeout', settings.consumerTimeout, 1, 900);
}

function requireInteger(prop: string, value: number, min: number, max: number, expected?: string): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new InvalidStackPropError(prop, expected ?? `an integer from ${min} to ${max}`, value);
  }
}

function requireSeconds(prop: string, value: Duration, min: number, max: number): void {
  const seconds = value.toSeconds();
  if (seconds < min || seconds > max) {
    throw new InvalidStackPropError(prop, `from ${min} to ${max} seconds`, seconds);
  }
}
