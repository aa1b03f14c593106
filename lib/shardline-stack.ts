import {
  Aws,
  type CfnElement,
  CfnOutput,
  Duration,
  RemovalPolicy,
  Stack,
  type StackProps,
  Validations,
} from 'aws-cdk-lib';
import { AttributeType, BillingMode, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { Grant, type IGrantable, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Stream, StreamEncryption, StreamMode } from 'aws-cdk-lib/aws-kinesis';
import { MetricType, StartingPosition } from 'aws-cdk-lib/aws-lambda';
import { KinesisEventSource, S3OnFailureDestination } from 'aws-cdk-lib/aws-lambda-event-sources';
import { BlockPublicAccess, Bucket, BucketEncryption, ObjectOwnership } from 'aws-cdk-lib/aws-s3';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { ENV } from '../lambdas/shared/config';
import { ShardlineError } from '../lambdas/shared/errors';
import { STAGING_EXPIRATION_DAYS, STAGING_PREFIX } from '../lambdas/shared/lakeLayout';
import { resourceNames } from '../lambdas/shared/naming';
import { ShardlineAlarms } from './constructs/alarms';
import { BundledFunction } from './constructs/bundled-function';
import { LakeCatalog } from './constructs/lake-catalog';
import { KINESIS_MAPPING_PROPERTIES } from './eventSourceMappingProperties';
import { FUNCTION_GRANTS, type FunctionGrants } from './permissions';
import { retainsDataByDefault } from './stagePolicy';

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
  /**
   * Concurrent batches per shard of the event source mapping. Only 1 is accepted: the commit protocol
   * needs one writer per shard (docs/EXACTLY_ONCE.md), and the consumer refuses to run under more.
   *
   * @default 1
   */
  readonly parallelizationFactor?: number;
  /**
   * What deleting the stack does to the data. `true` (production): the lake bucket, its access logs and the
   * state table are kept (DeletionPolicy Retain, the table with deletion protection, the stack with
   * termination protection). `false` (development): every resource is deleted, so `npm run destroy` leaves
   * nothing billing and the next deploy can reuse the names; the CLI empties the buckets first.
   *
   * @default - `retainsDataByDefault(stage)`: true for `prod` and stages starting with `prod`
   */
  readonly retainData?: boolean;
  /** Where the alarms notify (see `ShardlineAlarms`). @default - no notification */
  readonly alarmTopic?: ITopic;
  /** An address subscribed to a new alarm topic, when no `alarmTopic` is given. @default - none */
  readonly alarmEmail?: string;
}

/** The batching each stage profile stands for; bench/costModel.ts prices them (docs/COST.md). */
export const STAGE_PROFILES = {
  development: { batchSize: 1000, maxBatchingWindow: Duration.seconds(1) },
  production: { batchSize: 10_000, maxBatchingWindow: Duration.seconds(60) },
} as const;
export type StageProfile = keyof typeof STAGE_PROFILES;

/** The pipeline settings of `ShardlineStackProps`, every one resolved. */
type ShardlineSettings = Required<
  Omit<
    ShardlineStackProps,
    keyof StackProps | 'stage' | 'retainData' | 'alarmTopic' | 'alarmEmail' | 'profile'
  >
>;

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
  parallelizationFactor: 1,
  athena: true,
};

const PRODUCER_TIMEOUT = Duration.minutes(5);
/** Enough to copy every unpublished commit of every shard from its bundle, with room to spare. */
const PUBLISHER_TIMEOUT = Duration.minutes(5);
/** How often the publisher finishes publications that an invocation left unfinished. */
const PUBLISH_SCHEDULE = Schedule.rate(Duration.minutes(1));
const POWERTOOLS_METRICS_NAMESPACE = 'Shardline';
const POWERTOOLS_LOG_LEVEL = 'INFO';
const S3_ACCESS_LOGS_USE_BUCKET_POLICY = '@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy';
/** How long S3 server access logs of the lake are kept. */
const ACCESS_LOG_RETENTION = Duration.days(365);
/** How long an overwritten or deleted lake object stays recoverable as a noncurrent version. */
const NONCURRENT_VERSION_RETENTION = Duration.days(30);
/**
 * How long a failed batch (the event source mapping's S3 on-failure objects, records included) is kept:
 * long enough to outlast an outage, a weekend and a redrive, far beyond the stream's 24-hour retention.
 */
export const FAILED_BATCH_RETENTION = Duration.days(90);

export class InvalidStackPropError extends ShardlineError {
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
  /** The event source mapping's on-failure destination: failed batches with their records. */
  readonly failuresBucket: Bucket;
  readonly bucket: Bucket;
  /** Receives the lake bucket's S3 server access logs: who wrote, read or deleted which object. */
  readonly accessLogsBucket: Bucket;
  readonly producer: BundledFunction;
  readonly consumer: BundledFunction;
  /** Finishes unfinished publications on a schedule ({@link ShardlineStack.publishSchedule}). */
  readonly publisher: BundledFunction;
  /** The EventBridge rule that runs the publisher every minute. */
  readonly publishSchedule: Rule;
  /** Glue tables and the Athena workgroup over the lake; absent when `athena` is false. */
  readonly catalog?: LakeCatalog;
  readonly alarms: ShardlineAlarms;
  /** Whether the lake and the state outlive the stack (see `ShardlineStackProps.retainData`). */
  readonly retainData: boolean;

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
    this.retainData = props.retainData ?? retainsDataByDefault(props.stage);
    const dataRemoval = this.retainData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;
    if (this.retainData) this.terminationProtection = true;

    this.stream = new Stream(this, 'Stream', {
      streamName: names.streamName,
      streamMode: StreamMode.PROVISIONED,
      shardCount: settings.shardCount,
      encryption: StreamEncryption.MANAGED,
      // Records wait here at most a day: the stream goes with the stack on every stage, so it stops billing.
      removalPolicy: RemovalPolicy.DESTROY,
    });

    this.table = new Table(this, 'StateTable', {
      tableName: names.tableName,
      partitionKey: { name: 'pk', type: AttributeType.STRING },
      sortKey: { name: 'sk', type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: 'expires_at',
      encryption: TableEncryption.AWS_MANAGED,
      removalPolicy: dataRemoval,
      deletionProtection: this.retainData,
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
        'This queue is the dead-letter queue of invalid records (failed batches go to the failures bucket). ' +
        'Nothing consumes it automatically; people and `shardline verify` read it ' +
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
      // Audit records outlive the stack exactly when the lake does.
      removalPolicy: dataRemoval,
    });

    this.bucket = new Bucket(this, 'LakeBucket', {
      bucketName: `${names.bucketNamePrefix}-${Aws.ACCOUNT_ID}-${Aws.REGION}`,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      encryption: BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      serverAccessLogsBucket: this.accessLogsBucket,
      serverAccessLogsPrefix: 'lake/',
      // An overwrite or delete, by a bug or a leaked credential, leaves the previous version recoverable.
      versioned: true,
      // Staged bundles are never deleted by the commit protocol; `state/` (snapshots) has no rule on purpose.
      lifecycleRules: [
        { id: 'ExpireNoncurrentVersions', noncurrentVersionExpiration: NONCURRENT_VERSION_RETENTION },
        {
          id: 'ExpireStagedBundles',
          prefix: `${STAGING_PREFIX}/`,
          expiration: Duration.days(STAGING_EXPIRATION_DAYS),
        },
      ],
      // On a production stage the lake is the product: deleting the stack must not delete the data.
      removalPolicy: dataRemoval,
    });

    this.producer = new BundledFunction(this, 'Producer', {
      entry: 'lambdas/producer/handler.ts',
      functionName: names.producerFunctionName,
      timeout: PRODUCER_TIMEOUT,
      memorySize: settings.producerMemorySize,
      logRemovalPolicy: dataRemoval,
      environment: {
        [ENV.streamName]: this.stream.streamName,
        [ENV.stage]: props.stage,
        ...powertoolsEnvironment('shardline-producer'),
      },
    });
    this.grantTo(this.producer, FUNCTION_GRANTS.producer);

    this.consumer = new BundledFunction(this, 'Consumer', {
      entry: 'lambdas/consumer/handler.ts',
      functionName: names.consumerFunctionName,
      timeout: settings.consumerTimeout,
      memorySize: settings.consumerMemorySize,
      logRemovalPolicy: dataRemoval,
      environment: {
        [ENV.bucketName]: this.bucket.bucketName,
        [ENV.tableName]: this.table.tableName,
        [ENV.dlqUrl]: this.dlq.queueUrl,
        [ENV.streamName]: this.stream.streamName,
        [ENV.stage]: props.stage,
        [ENV.parallelizationFactor]: String(settings.parallelizationFactor),
        ...powertoolsEnvironment('shardline-consumer'),
      },
      // parquet-wasm's node build reads its WebAssembly module from the bundle's own directory.
      bundledFiles: ['node_modules/parquet-wasm/node/parquet_wasm_bg.wasm'],
    });
    this.grantTo(this.consumer, FUNCTION_GRANTS.consumer);

    // Failed batches get a bucket of their own, not a prefix of the lake: their own lifecycle, no lake
    // reader or table location ever sees them, and the grant below covers nothing else. Lambda writes
    // them with the function's role (s3:PutObject and s3:ListBucket, Lambda guide).
    this.failuresBucket = new Bucket(this, 'FailuresBucket', {
      bucketName: `${names.prefix}-fail-${Aws.ACCOUNT_ID}-${Aws.REGION}`,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      encryption: BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      serverAccessLogsBucket: this.accessLogsBucket,
      serverAccessLogsPrefix: 'failures/',
      lifecycleRules: [{ expiration: FAILED_BATCH_RETENTION }],
      // Failed batches are data: kept with the lake on a production stage, removed with a development one.
      removalPolicy: dataRemoval,
    });
    Validations.of(this.consumer.executionRole).acknowledge({
      id: 'AwsSolutions::AwsSolutions-IAM5[Resource::<FailuresBucketD9B971D9.Arn>/*]',
      reason:
        'Lambda names each failed-batch object itself (aws/lambda/<mapping>/<shard>/<date>/…): the statement ' +
        'allows only s3:PutObject on this one bucket.',
    });
    const eventSource = new KinesisEventSource(this.stream, {
      startingPosition: StartingPosition.TRIM_HORIZON,
      batchSize: settings.batchSize,
      maxBatchingWindow: settings.maxBatchingWindow,
      bisectBatchOnError: true,
      retryAttempts: settings.retryAttempts,
      maxRecordAge: settings.maxRecordAge,
      reportBatchItemFailures: true,
      onFailure: new S3OnFailureDestination(writeOnlyForFailedBatches(this.failuresBucket)),
      parallelizationFactor: settings.parallelizationFactor,
      // Lambda's event source mapping metrics, for the alarm on batches sent on-failure.
      metricsConfig: { metrics: [MetricType.EVENT_COUNT] },
    });
    this.consumer.addEventSource(eventSource);

    this.publisher = new BundledFunction(this, 'Publisher', {
      entry: 'lambdas/publisher/handler.ts',
      functionName: names.publisherFunctionName,
      timeout: PUBLISHER_TIMEOUT,
      memorySize: settings.consumerMemorySize,
      logRemovalPolicy: dataRemoval,
      environment: {
        [ENV.bucketName]: this.bucket.bucketName,
        [ENV.tableName]: this.table.tableName,
        [ENV.streamName]: this.stream.streamName,
        [ENV.stage]: props.stage,
        ...powertoolsEnvironment('shardline-publisher'),
      },
    });
    this.grantTo(this.publisher, FUNCTION_GRANTS.publisher);
    this.publishSchedule = new Rule(this, 'PublishSchedule', {
      description: `Runs ${names.publisherFunctionName}: finishes publications an invocation left unfinished`,
      schedule: PUBLISH_SCHEDULE,
      targets: [new LambdaFunction(this.publisher)],
    });
    this.alarms = new ShardlineAlarms(this, 'Alarms', {
      consumer: this.consumer,
      publisher: this.publisher,
      eventSourceMappingId: eventSource.eventSourceMappingId,
      deadLetterQueue: this.dlq,
      maxRecordAge: settings.maxRecordAge,
      alarmTopic: props.alarmTopic,
      alarmEmail: props.alarmEmail,
    });

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
      AccessLogsBucketName: {
        value: this.accessLogsBucket.bucketName,
        description: 'S3 bucket of the lake bucket server access logs',
      },
      DataRetention: {
        value: this.retainData ? 'retain' : 'destroy',
        description: 'What deleting the stack does to the lake and the state: retain or destroy',
      },
      DlqUrl: { value: this.dlq.queueUrl, description: 'URL of the dead-letter queue' },
      DlqArn: { value: this.dlq.queueArn, description: 'ARN of the dead-letter queue' },
      FailuresBucketName: {
        value: this.failuresBucket.bucketName,
        description: 'S3 bucket of failed batches (the event source mapping on-failure destination)',
      },
      ProducerFunctionName: { value: this.producer.functionName, description: 'Producer Lambda function' },
      ConsumerFunctionName: { value: this.consumer.functionName, description: 'Consumer Lambda function' },
      PublisherFunctionName: {
        value: this.publisher.functionName,
        description: 'Scheduled publisher Lambda function',
      },
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

  /**
   * Grants `fn` exactly what `grants` lists (lib/permissions.ts), each action on its own resources, and
   * acknowledges cdk-nag's IAM5 for the object prefixes: S3 object actions need object ARNs, and the
   * protocol names objects per shard and sequence range.
   */
  private grantTo(fn: BundledFunction, grants: FunctionGrants): void {
    if (grants.stream) this.stream.grant(fn, ...grants.stream);
    if (grants.table) this.table.grant(fn, ...grants.table);
    if (grants.queue) this.dlq.grant(fn, ...grants.queue);
    const prefixes = new Set<string>();
    for (const [action, objectPrefixes] of Object.entries(grants.lakeObjects ?? {})) {
      for (const prefix of objectPrefixes) prefixes.add(prefix);
      fn.addToRolePolicy(
        new PolicyStatement({
          actions: [action],
          resources: objectPrefixes.map((prefix) => this.bucket.arnForObjects(`${prefix}/*`)),
        }),
      );
    }
    if (grants.lakeListPrefixes?.length) {
      fn.addToRolePolicy(
        new PolicyStatement({
          actions: ['s3:ListBucket'],
          resources: [this.bucket.bucketArn],
          conditions: { StringLike: { 's3:prefix': grants.lakeListPrefixes.map((prefix) => `${prefix}/*`) } },
        }),
      );
    }
    const bucketId = this.getLogicalId(this.bucket.node.defaultChild as CfnElement);
    Validations.of(fn.executionRole).acknowledge(
      ...[...prefixes].map((prefix) => ({
        id: `AwsSolutions::AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/${prefix}/*]`,
        reason:
          `S3 object actions need object ARNs, and the commit protocol names the objects under ${prefix}/ by ` +
          'shard, sequence range or attempt id, so they cannot be listed one by one. The statements allow only ' +
          'the actions lib/permissions.ts lists for this prefix, on this one bucket.',
      })),
    );
  }
}

/**
 * The bucket as S3OnFailureDestination sees it: its `grantReadWrite` (which the destination calls) grants
 * only what Lambda needs to write failed batches, s3:PutObject and s3:ListBucket (Lambda guide, "Retain
 * discarded batch records"), not read or delete.
 */
function writeOnlyForFailedBatches(bucket: Bucket): Bucket {
  return new Proxy(bucket, {
    get(target, property, receiver) {
      if (property !== 'grantReadWrite') return Reflect.get(target, property, receiver);
      return (grantee: IGrantable) =>
        Grant.addToPrincipal({
          grantee,
          actions: ['s3:PutObject'],
          resourceArns: [target.arnForObjects('*')],
        }).combine(
          Grant.addToPrincipal({ grantee, actions: ['s3:ListBucket'], resourceArns: [target.bucketArn] }),
        );
    },
  });
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

/**
 * The props that set a property of the event source mapping, checked against AWS's range for it
 * (lib/eventSourceMappingProperties.ts). Its "no limit" value (-1) is refused or cannot be written: infinite
 * retries would let one poison record block its shard, and a Duration is never negative.
 */
export const MAPPING_PROPS = {
  batchSize: 'BatchSize',
  maxBatchingWindow: 'MaximumBatchingWindowInSeconds',
  retryAttempts: 'MaximumRetryAttempts',
  maxRecordAge: 'MaximumRecordAgeInSeconds',
  parallelizationFactor: 'ParallelizationFactor',
} as const satisfies Partial<Record<keyof ShardlineSettings, keyof typeof KINESIS_MAPPING_PROPERTIES>>;

function validateSettings(settings: ShardlineSettings): void {
  requireInteger('shardCount', settings.shardCount, 1, Number.MAX_SAFE_INTEGER, 'a positive integer');
  for (const [prop, property] of Object.entries(MAPPING_PROPS)) {
    const { min, max } = KINESIS_MAPPING_PROPERTIES[property];
    const value = settings[prop as keyof typeof MAPPING_PROPS];
    if (value instanceof Duration) requireSeconds(prop, value, min, max);
    else requireInteger(prop, value, min, max);
  }
  requireInteger('consumerMemorySize', settings.consumerMemorySize, 128, 10_240);
  requireInteger('producerMemorySize', settings.producerMemorySize, 128, 10_240);
  requireSeconds('consumerTimeout', settings.consumerTimeout, 1, 900);
  // Within AWS's range, the commit protocol accepts one writer per shard.
  requireInteger(
    'parallelizationFactor',
    settings.parallelizationFactor,
    1,
    1,
    '1: the commit protocol needs one writer per shard (docs/EXACTLY_ONCE.md)',
  );
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
