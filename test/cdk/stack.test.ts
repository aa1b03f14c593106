import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Duration, Token } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ENV } from '../../lambdas/shared/config';
import { InvalidStageError, resourceNames } from '../../lambdas/shared/naming';
import { buildApp } from '../../lib/app';
import { InvalidStackPropError, ShardlineStack, type ShardlineStackProps } from '../../lib/shardline-stack';
import { describeBucketLifecycles } from '../../local/resources/bucketLifecycle';
import { describeScheduleRules } from '../../local/resources/eventsRule';
import type { CfnTemplate } from '../../local/template';

const STAGE = 'test';
const names = resourceNames(STAGE);

const outdirs: string[] = [];
function temporaryOutdir(): string {
  const outdir = mkdtempSync(join(tmpdir(), 'shardline-cdk-test-'));
  outdirs.push(outdir);
  return outdir;
}

/** A stack built directly from props, with bundling and template validation off (fast). */
function stackWith(props: Omit<ShardlineStackProps, 'stage'>): ShardlineStack {
  const app = new App({
    outdir: temporaryOutdir(),
    context: { 'aws:cdk:bundling-stacks': [] },
    builtinCloudFormationValidation: false,
  });
  return new ShardlineStack(app, 'Props', { stage: STAGE, ...props });
}

type Resource = { Type: string; Properties: Record<string, unknown>; [key: string]: unknown };
type Statement = { Effect: string; Action: string | string[]; Resource: unknown };

let template: Template;
let stack: ShardlineStack;

beforeAll(() => {
  stack = buildApp({ stage: STAGE, outdir: temporaryOutdir(), bundling: false, validation: false }).stack;
  template = Template.fromStack(stack);
});

afterAll(() => {
  for (const outdir of outdirs) rmSync(outdir, { recursive: true, force: true });
});

/** The logical id of the one resource of `type` whose properties match. */
function logicalIdOf(type: string, properties: Record<string, unknown> = {}): string {
  const ids = Object.keys(template.findResources(type, { Properties: properties }));
  expect(ids, `resources of type ${type} matching ${JSON.stringify(properties)}`).toHaveLength(1);
  return ids[0] as string;
}

function streamId(): string {
  return logicalIdOf('AWS::Kinesis::Stream');
}
function tableId(): string {
  return logicalIdOf('AWS::DynamoDB::Table');
}
function queueId(): string {
  return logicalIdOf('AWS::SQS::Queue');
}
/** The lake bucket (the other bucket holds its access logs). */
function bucketId(): string {
  return logicalIdOf('AWS::S3::Bucket', {
    BucketName: {
      'Fn::Join': [
        '',
        [`${names.bucketNamePrefix}-`, { Ref: 'AWS::AccountId' }, '-', { Ref: 'AWS::Region' }],
      ],
    },
  });
}
/** The bucket of failed batches, the event source mapping's on-failure destination. */
function failuresBucketId(): string {
  return logicalIdOf('AWS::S3::Bucket', {
    BucketName: {
      'Fn::Join': ['', [`${names.prefix}-fail-`, { Ref: 'AWS::AccountId' }, '-', { Ref: 'AWS::Region' }]],
    },
  });
}
function functionId(functionName: string): string {
  return logicalIdOf('AWS::Lambda::Function', { FunctionName: functionName });
}

function functionProperties(functionName: string): Record<string, unknown> {
  const resource = template.toJSON().Resources[functionId(functionName)] as Resource;
  return resource.Properties;
}

function eventSourceMapping(): Record<string, unknown> {
  const resources = template.findResources('AWS::Lambda::EventSourceMapping');
  const [mapping, ...others] = Object.values(resources) as Resource[];
  expect(others).toHaveLength(0);
  return (mapping as Resource).Properties;
}

/** The Allow statements of the identity policy attached to a function's role. */
function roleStatements(functionName: string): Statement[] {
  const role = functionProperties(functionName).Role as { 'Fn::GetAtt': [string, string] };
  const roleId = role['Fn::GetAtt'][0];
  const policies = template.findResources('AWS::IAM::Policy', {
    Properties: { Roles: [{ Ref: roleId }] },
  }) as Record<string, Resource>;
  return Object.values(policies).flatMap(
    (policy) => (policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement,
  );
}

function actionsOf(statements: Statement[]): string[] {
  return statements.flatMap((statement) =>
    Array.isArray(statement.Action) ? statement.Action : [statement.Action],
  );
}

function statementsOn(statements: Statement[], logicalId: string): Statement[] {
  return statements.filter((statement) => JSON.stringify(statement.Resource).includes(`"${logicalId}"`));
}

function arnOf(logicalId: string) {
  return { 'Fn::GetAtt': [logicalId, 'Arn'] };
}

describe('buildApp', () => {
  it('names the stack after the stage', () => {
    expect(stack.stackName).toBe('Shardline-test');
  });

  it('takes the stage from context when no stage option is given', () => {
    const { stack } = buildApp({ context: { stage: 'qa' }, outdir: temporaryOutdir(), bundling: false });
    expect(stack.stackName).toBe('Shardline-qa');
  });

  it('uses the dev stage when neither option nor context names one', () => {
    const { stack } = buildApp({ outdir: temporaryOutdir(), bundling: false });
    expect(stack.stackName).toBe('Shardline-dev');
  });

  it('rejects a stage that cannot be part of resource names', () => {
    expect(() => buildApp({ stage: 'Prod_1', outdir: temporaryOutdir(), bundling: false })).toThrow(
      InvalidStageError,
    );
  });

  it('skips bundling when bundling is false', () => {
    expect(stack.bundlingRequired).toBe(false);
  });

  it('is environment-agnostic when CDK_DEFAULT_ACCOUNT and CDK_DEFAULT_REGION are unset', () => {
    vi.stubEnv('CDK_DEFAULT_ACCOUNT', undefined);
    vi.stubEnv('CDK_DEFAULT_REGION', undefined);
    try {
      const { stack } = buildApp({ stage: STAGE, outdir: temporaryOutdir(), bundling: false });
      expect(Token.isUnresolved(stack.account) && Token.isUnresolved(stack.region)).toBe(true);
    } finally {
      vi.unstubAllEnvs();
    }
  });

  it('deploys to CDK_DEFAULT_ACCOUNT and CDK_DEFAULT_REGION when they are set', () => {
    vi.stubEnv('CDK_DEFAULT_ACCOUNT', '123456789012');
    vi.stubEnv('CDK_DEFAULT_REGION', 'eu-west-1');
    try {
      const { stack } = buildApp({ stage: STAGE, outdir: temporaryOutdir(), bundling: false });
      expect({ account: stack.account, region: stack.region }).toEqual({
        account: '123456789012',
        region: 'eu-west-1',
      });
    } finally {
      vi.unstubAllEnvs();
    }
  });
});

describe('Kinesis stream', () => {
  it('is a provisioned stream named after the stage', () => {
    template.hasResourceProperties('AWS::Kinesis::Stream', {
      Name: names.streamName,
      StreamModeDetails: { StreamMode: 'PROVISIONED' },
    });
  });

  it('has 2 shards by default', () => {
    template.hasResourceProperties('AWS::Kinesis::Stream', { ShardCount: 2 });
  });

  it('is encrypted with the AWS-managed Kinesis key', () => {
    template.hasResourceProperties('AWS::Kinesis::Stream', {
      StreamEncryption: { EncryptionType: 'KMS', KeyId: 'alias/aws/kinesis' },
    });
  });
});

describe('state table', () => {
  it('is named after the stage', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', { TableName: names.tableName });
  });

  it('keys items by string pk and string sk', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' },
      ],
    });
  });

  it('bills per request', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', { BillingMode: 'PAY_PER_REQUEST' });
  });

  it('has point-in-time recovery', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
    });
  });

  it('expires items by their expires_at attribute', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      TimeToLiveSpecification: { AttributeName: 'expires_at', Enabled: true },
    });
  });

  it('is encrypted with an AWS-managed key', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', { SSESpecification: { SSEEnabled: true } });
  });
});

describe('dead-letter queue', () => {
  it('is named after the stage', () => {
    template.hasResourceProperties('AWS::SQS::Queue', { QueueName: names.dlqName });
  });

  it('is encrypted with SQS-managed keys', () => {
    template.hasResourceProperties('AWS::SQS::Queue', { SqsManagedSseEnabled: true });
  });

  it('keeps messages for 14 days', () => {
    template.hasResourceProperties('AWS::SQS::Queue', { MessageRetentionPeriod: 14 * 24 * 3600 });
  });

  it('denies every request not made over TLS', () => {
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      Queues: [{ Ref: queueId() }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Action: 'sqs:*',
            Principal: { AWS: '*' },
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ]),
      },
    });
  });
});

describe('failures bucket', () => {
  const properties = () =>
    (template.toJSON().Resources[failuresBucketId()] as Resource).Properties as Record<string, unknown>;

  it('blocks all public access and is encrypted with S3-managed keys', () => {
    expect(properties()).toMatchObject({
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      },
    });
  });

  it('keeps a failed batch 90 days, then expires it (README, reliability)', () => {
    expect(properties().LifecycleConfiguration).toEqual({
      Rules: [{ ExpirationInDays: 90, Status: 'Enabled' }],
    });
  });

  it('denies every request not made over TLS', () => {
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: failuresBucketId() },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });

  it('goes with the stack on a development stage, like the lake (a production stage keeps both)', () => {
    expect(template.toJSON().Resources[failuresBucketId()]).toMatchObject({ DeletionPolicy: 'Delete' });
  });
});

describe('lake bucket', () => {
  it('is named from the stage prefix, the account and the region', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      BucketName: {
        'Fn::Join': [
          '',
          [`${names.bucketNamePrefix}-`, { Ref: 'AWS::AccountId' }, '-', { Ref: 'AWS::Region' }],
        ],
      },
    });
  });

  it('blocks all public access', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
    });
  });

  it('is encrypted with S3-managed keys', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      },
    });
  });

  it('denies every request not made over TLS', () => {
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: bucketId() },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Action: 's3:*',
            Principal: { AWS: '*' },
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ]),
      },
    });
  });

  it('is deleted with a development stack (the stage rule is tested in test/cdk/removal.test.ts)', () => {
    template.hasResource('AWS::S3::Bucket', { DeletionPolicy: 'Delete', UpdateReplacePolicy: 'Delete' });
  });

  it('expires staged bundles after 7 days and noncurrent versions after 30, and has no other lifecycle rule', () => {
    const lake = template.toJSON().Resources[bucketId()] as Resource;
    expect(lake.Properties.LifecycleConfiguration).toEqual({
      Rules: [
        {
          Id: 'ExpireNoncurrentVersions',
          NoncurrentVersionExpiration: { NoncurrentDays: 30 },
          Status: 'Enabled',
        },
        { Id: 'ExpireStagedBundles', Prefix: 'staging/', ExpirationInDays: 7, Status: 'Enabled' },
      ],
    });
  });

  it('has no lifecycle rule that reaches the state snapshots under state/', () => {
    const lake = template.toJSON().Resources[bucketId()] as Resource;
    const rules = (lake.Properties.LifecycleConfiguration as { Rules: Record<string, unknown>[] }).Rules;
    // Only current objects matter: a noncurrent version (a snapshot replaced by the next) may expire.
    for (const rule of rules.filter(
      (r) => r.ExpirationInDays !== undefined || r.ExpirationDate !== undefined,
    )) {
      const prefix = (rule.Prefix ??
        (rule.Filter as { Prefix?: string } | undefined)?.Prefix ??
        '') as string;
      // A rule with no prefix, or a prefix of state/…, covers the snapshots.
      expect(
        prefix === '' || 'state/'.startsWith(prefix) || prefix.startsWith('state/'),
        JSON.stringify(rule),
      ).toBe(false);
    }
  });

  it('has no auto-delete custom resource', () => {
    template.resourceCountIs('Custom::S3AutoDeleteObjects', 0);
  });
});

describe('functions', () => {
  it('are exactly the producer, the consumer and the publisher, with no helper functions', () => {
    const functionNames = Object.values(template.findResources('AWS::Lambda::Function')).map(
      (resource) => (resource as Resource).Properties.FunctionName,
    );
    expect(functionNames.sort()).toEqual([
      names.consumerFunctionName,
      names.producerFunctionName,
      names.publisherFunctionName,
    ]);
  });

  it.each([
    ['producer', names.producerFunctionName],
    ['consumer', names.consumerFunctionName],
    ['publisher', names.publisherFunctionName],
  ])('run the %s on Node.js 22 on arm64', (_, functionName) => {
    expect(functionProperties(functionName)).toMatchObject({
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      Handler: 'index.handler',
    });
  });

  it('give the producer 5 minutes and 512 MB', () => {
    expect(functionProperties(names.producerFunctionName)).toMatchObject({ Timeout: 300, MemorySize: 512 });
  });

  it('give the consumer 60 seconds and 1024 MB', () => {
    expect(functionProperties(names.consumerFunctionName)).toMatchObject({ Timeout: 60, MemorySize: 1024 });
  });

  it('tell the producer its stream, its stage and its Powertools settings', () => {
    expect(functionProperties(names.producerFunctionName).Environment).toEqual({
      Variables: {
        NODE_OPTIONS: '--enable-source-maps',
        [ENV.streamName]: { Ref: streamId() },
        [ENV.stage]: STAGE,
        POWERTOOLS_SERVICE_NAME: 'shardline-producer',
        POWERTOOLS_METRICS_NAMESPACE: 'Shardline',
        POWERTOOLS_LOG_LEVEL: 'INFO',
      },
    });
  });

  it('tell the consumer its bucket, table, queue, stream, stage and Powertools settings', () => {
    expect(functionProperties(names.consumerFunctionName).Environment).toEqual({
      Variables: {
        NODE_OPTIONS: '--enable-source-maps',
        [ENV.bucketName]: { Ref: bucketId() },
        [ENV.tableName]: { Ref: tableId() },
        [ENV.dlqUrl]: { Ref: queueId() },
        [ENV.streamName]: { Ref: streamId() },
        [ENV.stage]: STAGE,
        [ENV.parallelizationFactor]: '1',
        POWERTOOLS_SERVICE_NAME: 'shardline-consumer',
        POWERTOOLS_METRICS_NAMESPACE: 'Shardline',
        POWERTOOLS_LOG_LEVEL: 'INFO',
      },
    });
  });

  it("give the publisher 5 minutes and the consumer's 1024 MB", () => {
    expect(functionProperties(names.publisherFunctionName)).toMatchObject({ Timeout: 300, MemorySize: 1024 });
  });

  it('tell the publisher its bucket, table, stream, stage and Powertools settings, and no queue', () => {
    expect(functionProperties(names.publisherFunctionName).Environment).toEqual({
      Variables: {
        NODE_OPTIONS: '--enable-source-maps',
        [ENV.bucketName]: { Ref: bucketId() },
        [ENV.tableName]: { Ref: tableId() },
        [ENV.streamName]: { Ref: streamId() },
        [ENV.stage]: STAGE,
        POWERTOOLS_SERVICE_NAME: 'shardline-publisher',
        POWERTOOLS_METRICS_NAMESPACE: 'Shardline',
        POWERTOOLS_LOG_LEVEL: 'INFO',
      },
    });
  });

  it.each([
    ['producer', names.producerFunctionName],
    ['consumer', names.consumerFunctionName],
    ['publisher', names.publisherFunctionName],
  ])('send the %s logs to a log group of its own kept for two weeks', (_, functionName) => {
    const logGroup = (functionProperties(functionName).LoggingConfig as { LogGroup: { Ref: string } })
      .LogGroup;
    const resource = template.toJSON().Resources[logGroup.Ref] as Resource;
    expect(resource).toMatchObject({ Type: 'AWS::Logs::LogGroup', Properties: { RetentionInDays: 14 } });
  });
});

describe('event source mapping', () => {
  it('feeds the stream to the consumer', () => {
    expect(eventSourceMapping()).toMatchObject({
      EventSourceArn: arnOf(streamId()),
      FunctionName: { Ref: functionId(names.consumerFunctionName) },
    });
  });

  it('starts from the oldest record in the stream', () => {
    expect(eventSourceMapping().StartingPosition).toBe('TRIM_HORIZON');
  });

  it('hands the consumer up to 1000 records per batch', () => {
    expect(eventSourceMapping().BatchSize).toBe(1000);
  });

  it('gathers records for at most 1 second', () => {
    expect(eventSourceMapping().MaximumBatchingWindowInSeconds).toBe(1);
  });

  it('splits a failing batch in two', () => {
    expect(eventSourceMapping().BisectBatchOnFunctionError).toBe(true);
  });

  it('retries a failing batch 3 times', () => {
    expect(eventSourceMapping().MaximumRetryAttempts).toBe(3);
  });

  it('gives up on records older than one hour', () => {
    expect(eventSourceMapping().MaximumRecordAgeInSeconds).toBe(3600);
  });

  it('lets the consumer report the records that failed', () => {
    expect(eventSourceMapping().FunctionResponseTypes).toEqual(['ReportBatchItemFailures']);
  });

  it('writes batches that exhaust their retries or age out, records included, to the failures bucket', () => {
    expect(eventSourceMapping().DestinationConfig).toEqual({
      OnFailure: { Destination: arnOf(failuresBucketId()) },
    });
  });

  it('processes one batch per shard at a time', () => {
    expect(eventSourceMapping().ParallelizationFactor).toBe(1);
  });
});

describe('IAM', () => {
  it('allows no wildcard action in any identity or resource policy', () => {
    const documents = [
      ...Object.values(template.findResources('AWS::IAM::Policy')),
      ...Object.values(template.findResources('AWS::S3::BucketPolicy')),
      ...Object.values(template.findResources('AWS::SQS::QueuePolicy')),
    ].map((resource) => (resource as Resource).Properties.PolicyDocument as { Statement: Statement[] });
    const allowed = actionsOf(documents.flatMap((document) => document.Statement.filter(isAllow)));
    expect(allowed.filter((action) => action === '*' || action.endsWith(':*'))).toEqual([]);
  });

  it('grants the roles no inline policies beyond their default policy', () => {
    for (const role of Object.values(template.findResources('AWS::IAM::Role')) as Resource[]) {
      expect(role.Properties.Policies).toBeUndefined();
    }
  });

  it('gives the roles no AWS managed policy (AWSLambdaBasicExecutionRole allows every log group)', () => {
    for (const role of Object.values(template.findResources('AWS::IAM::Role')) as Resource[]) {
      expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    }
  });

  it('lets the producer only put records on the stream, and write its own logs and traces', () => {
    const statements = roleStatements(names.producerFunctionName).filter(
      (statement) => !JSON.stringify(statement.Action).includes('xray:'),
    );
    const logGroup = (
      functionProperties(names.producerFunctionName).LoggingConfig as { LogGroup: { Ref: string } }
    ).LogGroup.Ref;
    expect(statements).toEqual([
      {
        Effect: 'Allow',
        Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        Resource: arnOf(logGroup),
      },
      {
        Effect: 'Allow',
        Action: 'kinesis:PutRecords',
        Resource: arnOf(streamId()),
      },
    ]);
  });

  it('lets the consumer use the table only through GetItem and UpdateItem (one conditional write commits)', () => {
    const statements = roleStatements(names.consumerFunctionName);
    const dynamoActions = actionsOf(statements).filter((action) => action.startsWith('dynamodb:'));
    expect(dynamoActions.sort()).toEqual(['dynamodb:GetItem', 'dynamodb:UpdateItem']);
    expect(actionsOf(statementsOn(statements, tableId())).sort()).toEqual(dynamoActions);
  });

  it('lets the publisher scan the table (closed parent shards too) and get and update its items', () => {
    const statements = roleStatements(names.publisherFunctionName);
    const dynamoActions = actionsOf(statements).filter((action) => action.startsWith('dynamodb:'));
    expect(dynamoActions.sort()).toEqual(['dynamodb:GetItem', 'dynamodb:Scan', 'dynamodb:UpdateItem']);
  });

  /** `<action> on <object ARN suffix>` for every lake statement of a function, the list condition included. */
  function lakeGrants(functionName: string): string[] {
    return statementsOn(roleStatements(functionName), bucketId()).flatMap((statement) => {
      const resources = Array.isArray(statement.Resource) ? statement.Resource : [statement.Resource];
      return actionsOf([statement]).flatMap((action) =>
        resources.map((resource) => {
          const join = (resource as { 'Fn::Join'?: [string, [unknown, string]] })['Fn::Join'];
          const condition = (statement as { Condition?: unknown }).Condition;
          return join ? `${action} on ${join[1][1]}` : `${action} on bucket if ${JSON.stringify(condition)}`;
        }),
      );
    });
  }

  const protocolPrefixes = [
    'events',
    'windows',
    'sessions',
    'alerts',
    'late_events',
    'engagement',
    'staging',
    'state',
    '_commits',
  ];

  it('lets the consumer put objects under the protocol prefixes and dlq-payloads/, read staging/ and state/, delete only in state/, list only _commits/', () => {
    expect(lakeGrants(names.consumerFunctionName).sort()).toEqual(
      [
        ...[...protocolPrefixes, 'dlq-payloads'].map((prefix) => `s3:PutObject on /${prefix}/*`),
        's3:GetObject on /staging/*',
        's3:GetObject on /state/*',
        's3:DeleteObject on /state/*',
        `s3:ListBucket on bucket if ${JSON.stringify({ StringLike: { 's3:prefix': ['_commits/*'] } })}`,
      ].sort(),
    );
  });

  it('lets the publisher do what the consumer does in the lake, except writing DLQ payloads, and list state/ for its sweep', () => {
    const isList = (grant: string) => grant.startsWith('s3:ListBucket');
    const consumer = lakeGrants(names.consumerFunctionName);
    const publisher = lakeGrants(names.publisherFunctionName);
    expect(publisher.filter((grant) => !isList(grant)).sort()).toEqual(
      consumer.filter((grant) => !isList(grant) && !grant.includes('dlq-payloads')).sort(),
    );
    expect(consumer.filter(isList)).toEqual([expect.stringContaining('"_commits/*"')]);
    expect(publisher.filter(isList)).toEqual([expect.stringContaining('["_commits/*","state/*"]')]);
  });

  it('lets the mapping only write failed batches (s3:PutObject, s3:ListBucket): no read, no delete', () => {
    const statements = statementsOn(roleStatements(names.consumerFunctionName), failuresBucketId());
    expect(actionsOf(statements).sort()).toEqual(['s3:ListBucket', 's3:PutObject']);
  });

  it('lets the consumer send messages to the dead-letter queue', () => {
    const statements = statementsOn(roleStatements(names.consumerFunctionName), queueId());
    expect(actionsOf(statements)).toContain('sqs:SendMessage');
    expect(actionsOf(statements).filter((action) => !action.startsWith('sqs:'))).toEqual([]);
  });

  it('lets the consumer read the stream but not write to it', () => {
    const statements = statementsOn(roleStatements(names.consumerFunctionName), streamId());
    const kinesisActions = actionsOf(statements);
    expect(kinesisActions).toEqual(
      expect.arrayContaining(['kinesis:GetRecords', 'kinesis:GetShardIterator']),
    );
    expect(kinesisActions.filter((action) => action.startsWith('kinesis:Put'))).toEqual([]);
  });
});

describe('publish schedule', () => {
  function rule(): Resource {
    const rules = Object.values(template.findResources('AWS::Events::Rule')) as Resource[];
    expect(rules).toHaveLength(1);
    return rules[0] as Resource;
  }

  it('runs the publisher every minute', () => {
    expect(rule().Properties).toMatchObject({
      ScheduleExpression: 'rate(1 minute)',
      State: 'ENABLED',
      Targets: [{ Arn: arnOf(functionId(names.publisherFunctionName)) }],
    });
  });

  it('is read by the local runtime as a one-minute schedule of the publisher, with the staging expiry', () => {
    const cfn = template.toJSON() as CfnTemplate;
    expect(describeScheduleRules(cfn, 'Shardline-test')).toEqual([
      expect.objectContaining({
        schedule: { kind: 'rate', expression: 'rate(1 minute)', periodMs: 60_000 },
        enabled: true,
        targets: [{ id: 'Target0', functionLogicalId: functionId(names.publisherFunctionName) }],
      }),
    ]);
    const lake = describeBucketLifecycles(cfn).find((bucket) => bucket.bucketLogicalId === bucketId());
    expect(lake?.rules).toEqual([{ id: 'ExpireStagedBundles', prefix: 'staging/', days: 7 }]);
  });

  it('lets EventBridge invoke the publisher for this rule only', () => {
    const ruleId = logicalIdOf('AWS::Events::Rule');
    template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      FunctionName: arnOf(functionId(names.publisherFunctionName)),
      Principal: 'events.amazonaws.com',
      SourceArn: arnOf(ruleId),
    });
  });
});

describe('outputs', () => {
  it('name every resource', () => {
    const outputs = template.toJSON().Outputs as Record<string, { Value: unknown }>;
    const values = Object.fromEntries(Object.entries(outputs).map(([key, output]) => [key, output.Value]));
    expect(values).toEqual({
      Stage: STAGE,
      Region: { Ref: 'AWS::Region' },
      StreamName: { Ref: streamId() },
      StreamArn: arnOf(streamId()),
      TableName: { Ref: tableId() },
      BucketName: { Ref: bucketId() },
      AccessLogsBucketName: { Ref: expect.stringMatching(/^LakeAccessLogsBucket/) },
      DataRetention: 'destroy',
      DlqUrl: { Ref: queueId() },
      DlqArn: arnOf(queueId()),
      FailuresBucketName: { Ref: failuresBucketId() },
      ProducerFunctionName: { Ref: functionId(names.producerFunctionName) },
      ConsumerFunctionName: { Ref: functionId(names.consumerFunctionName) },
      PublisherFunctionName: { Ref: functionId(names.publisherFunctionName) },
      GlueDatabase: names.glueDatabaseName,
      AthenaWorkGroup: names.athenaWorkGroupName,
    });
  });

  it('are exported under names prefixed with the stack name', () => {
    template.hasOutput('StreamName', { Export: { Name: 'Shardline-test-StreamName' } });
  });
});

describe('ShardlineStack props', () => {
  let custom: Template;

  beforeAll(() => {
    custom = Template.fromStack(
      stackWith({
        shardCount: 4,
        batchSize: 100,
        maxBatchingWindow: Duration.seconds(5),
        retryAttempts: 7,
        maxRecordAge: Duration.minutes(10),
        consumerTimeout: Duration.minutes(2),
        consumerMemorySize: 2048,
        producerMemorySize: 256,
      }),
    );
  });

  it('create as many shards as shardCount asks', () => {
    custom.hasResourceProperties('AWS::Kinesis::Stream', { ShardCount: 4 });
  });

  it('set the batch size, batching window, retries and record age of the event source mapping', () => {
    custom.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      BatchSize: 100,
      MaximumBatchingWindowInSeconds: 5,
      MaximumRetryAttempts: 7,
      MaximumRecordAgeInSeconds: 600,
    });
  });

  it('set the consumer timeout and memory', () => {
    custom.hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: names.consumerFunctionName,
      Timeout: 120,
      MemorySize: 2048,
    });
  });

  it('set the producer memory', () => {
    custom.hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: names.producerFunctionName,
      MemorySize: 256,
    });
  });

  it('fall back to the default when a prop is explicitly undefined', () => {
    const defaults = Template.fromStack(stackWith({ shardCount: undefined }));
    defaults.hasResourceProperties('AWS::Kinesis::Stream', { ShardCount: 2 });
  });

  it.each<[string, Omit<ShardlineStackProps, 'stage'>]>([
    ['no shards', { shardCount: 0 }],
    ['a fractional shard count', { shardCount: 1.5 }],
    ['an empty batch', { batchSize: 0 }],
    ['a batch above the 10,000-record limit', { batchSize: 10_001 }],
    ['infinite retries', { retryAttempts: -1 }],
    ['a batching window above 300 seconds', { maxBatchingWindow: Duration.seconds(301) }],
    ['a record age below 60 seconds', { maxRecordAge: Duration.seconds(59) }],
    ['a record age above 7 days', { maxRecordAge: Duration.days(8) }],
    ['a consumer timeout above 15 minutes', { consumerTimeout: Duration.minutes(16) }],
    ['consumer memory below 128 MB', { consumerMemorySize: 64 }],
    ['producer memory above 10,240 MB', { producerMemorySize: 20_000 }],
    ['a parallelization factor of 0', { parallelizationFactor: 0 }],
  ])('refuse %s', (_, props) => {
    expect(() => stackWith(props)).toThrow(InvalidStackPropError);
  });

  it.each([2, 10])(
    'refuse a parallelization factor of %i, saying the protocol needs one writer per shard',
    (factor) => {
      expect(() => stackWith({ parallelizationFactor: factor })).toThrow(
        `ShardlineStack prop parallelizationFactor must be 1: the commit protocol needs one writer per shard (docs/EXACTLY_ONCE.md) (got ${factor})`,
      );
    },
  );
});

function isAllow(statement: Statement): boolean {
  return statement.Effect === 'Allow';
}
