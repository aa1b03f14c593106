import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resourceNames } from '../../lambdas/shared/naming';
import { buildApp } from '../../lib/app';
import {
  loadStackTemplate,
  StackNotFoundError,
  type StackTemplate,
  TemplateNotFoundError,
} from '../../local/assembly';
import {
  type PseudoParameters,
  type ResolvedResources,
  referencedLogicalIds,
  resolveEnvironment,
  resolveString,
  resolveValue,
  UnresolvedReferenceError,
  UnsupportedIntrinsicError,
} from '../../local/intrinsics';
import { InvalidEventSourceMappingError, UnsupportedTemplateError } from '../../local/resources/errors';
import { type CfnTemplate, type CfnValue, describeStack, type LocalModel } from '../../local/template';

const FIXTURE_DIR = fileURLToPath(new URL('../fixtures/template', import.meta.url));
const STREAM = 'EventsD32975C2';
const TABLE = 'State1C20CC9A';
const QUEUE = 'DlqD1FAA4AD';
const BUCKET = 'Lake5F1B88EA';
const PRODUCER = 'ProducerD8AA94EB';
const CONSUMER = 'Consumer8D6BE417';
const MAPPING = 'ConsumerKinesisEventSourceShardlinetestEvents2AB24A7B9A3D6A7F';

const PSEUDO: PseudoParameters = { region: 'us-east-1', accountId: '000000000000', partition: 'aws' };
const QUEUE_URL = 'http://127.0.0.1:4566/000000000000/shardline-test-dlq';
const REFS: ResolvedResources = {
  [STREAM]: {
    type: 'AWS::Kinesis::Stream',
    ref: 'shardline-test-events',
    attributes: { Arn: 'arn:aws:kinesis:us-east-1:000000000000:stream/shardline-test-events' },
  },
  [TABLE]: {
    type: 'AWS::DynamoDB::Table',
    ref: 'shardline-test-state',
    attributes: { Arn: 'arn:aws:dynamodb:us-east-1:000000000000:table/shardline-test-state' },
  },
  [QUEUE]: {
    type: 'AWS::SQS::Queue',
    ref: QUEUE_URL,
    attributes: {
      Arn: 'arn:aws:sqs:us-east-1:000000000000:shardline-test-dlq',
      QueueName: 'shardline-test-dlq',
      QueueUrl: QUEUE_URL,
    },
  },
  [BUCKET]: {
    type: 'AWS::S3::Bucket',
    ref: 'shardline-test-lake-000000000000-us-east-1',
    attributes: { Arn: 'arn:aws:s3:::shardline-test-lake-000000000000-us-east-1' },
  },
};

let fixture: StackTemplate;
let model: LocalModel;

beforeAll(async () => {
  fixture = await loadStackTemplate(FIXTURE_DIR);
  model = describeStack(fixture.template, fixture);
});

/** A copy of the fixture template whose event source mapping has `changes` applied (undefined deletes). */
function withMapping(changes: Record<string, CfnValue | undefined>): CfnTemplate {
  const template = structuredClone(fixture.template);
  const properties = template.Resources[MAPPING]?.Properties as Record<string, CfnValue>;
  for (const [key, value] of Object.entries(changes)) {
    if (value === undefined) delete properties[key];
    else properties[key] = value;
  }
  return template;
}

function mappingOf(template: CfnTemplate) {
  const [mapping] = describeStack(template, { cdkOutDir: FIXTURE_DIR }).eventSourceMappings;
  if (!mapping) throw new Error('the template has no event source mapping');
  return mapping;
}

describe('loadStackTemplate', () => {
  it('finds the stack template through manifest.json', () => {
    expect(fixture.stackName).toBe('Shardline-test');
    expect(fixture.templatePath).toBe(join(FIXTURE_DIR, 'Shardline-test.template.json'));
    expect(fixture.cdkOutDir).toBe(FIXTURE_DIR);
    expect(Object.keys(fixture.template.Resources)).toContain(MAPPING);
  });

  it('loads a stack by name', async () => {
    const named = await loadStackTemplate(FIXTURE_DIR, 'Shardline-test');
    expect(named.template).toEqual(fixture.template);
  });

  it('tells the user to run cdk synth when there is no cloud assembly', async () => {
    const missing = join(tmpdir(), 'shardline-no-such-cdk-out');
    await expect(loadStackTemplate(missing)).rejects.toThrow(TemplateNotFoundError);
    await expect(loadStackTemplate(missing)).rejects.toThrow(
      `no synthesized template in ${missing} (run \`npx cdk synth\`)`,
    );
  });

  it('names the stacks it has when asked for another one', async () => {
    await expect(loadStackTemplate(FIXTURE_DIR, 'Shardline-prod')).rejects.toThrow(StackNotFoundError);
    await expect(loadStackTemplate(FIXTURE_DIR, 'Shardline-prod')).rejects.toThrow(/holds Shardline-test/);
  });
});

describe('describeStack', () => {
  it('reads the Kinesis stream with its shard count and retention', () => {
    expect(model.streams).toEqual([
      {
        logicalId: STREAM,
        name: 'shardline-test-events',
        streamMode: 'PROVISIONED',
        shardCount: 2,
        retentionPeriodHours: 48,
      },
    ]);
  });

  it('reads the DynamoDB table with key schema, billing mode and TTL attribute', () => {
    expect(model.tables).toEqual([
      {
        logicalId: TABLE,
        name: 'shardline-test-state',
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
        AttributeDefinitions: [
          { AttributeName: 'pk', AttributeType: 'S' },
          { AttributeName: 'sk', AttributeType: 'S' },
        ],
        BillingMode: 'PAY_PER_REQUEST',
        ttlAttribute: 'expiresAt',
      },
    ]);
  });

  it('reads the SQS queue with its attributes', () => {
    expect(model.queues).toEqual([
      {
        logicalId: QUEUE,
        name: 'shardline-test-dlq',
        attributes: { MessageRetentionPeriod: 1209600, VisibilityTimeout: 60 },
        tags: {},
      },
    ]);
  });

  it('keeps the bucket name as the Fn::Join expression the stack wrote', () => {
    expect(model.buckets).toEqual([
      {
        logicalId: BUCKET,
        name: {
          'Fn::Join': ['-', ['shardline-test-lake', { Ref: 'AWS::AccountId' }, { Ref: 'AWS::Region' }]],
        },
      },
    ]);
  });

  it('reads each function with handler, runtime, limits, raw environment and asset directory', () => {
    const consumer = model.functions.find((fn) => fn.logicalId === CONSUMER);
    expect(consumer).toEqual({
      logicalId: CONSUMER,
      name: 'shardline-test-consumer',
      handler: 'index.handler',
      runtime: 'nodejs22.x',
      architectures: ['x86_64'],
      timeoutSeconds: 60,
      memoryMb: 1024,
      environment: {
        STREAM_NAME: { Ref: STREAM },
        BUCKET_NAME: { Ref: BUCKET },
        TABLE_NAME: { Ref: TABLE },
        DLQ_URL: { Ref: QUEUE },
        SHARDLINE_STAGE: 'test',
      },
      assetPath: join(FIXTURE_DIR, 'asset.56741af73ecdd881edba38d1521bc39ee283942cec5e60c85766f5db5bdfd63b'),
    });
  });

  it("applies CloudFormation's function defaults: 3 s timeout and 128 MB", () => {
    const producer = model.functions.find((fn) => fn.logicalId === PRODUCER);
    expect(producer?.timeoutSeconds).toBe(3);
    expect(producer?.memoryMb).toBe(128);
  });

  it('finds the asset directory from the S3 key when asset metadata is off', () => {
    const template = structuredClone(fixture.template);
    delete template.Resources[PRODUCER]?.Metadata;
    const producer = describeStack(template, { cdkOutDir: FIXTURE_DIR }).functions.find(
      (fn) => fn.logicalId === PRODUCER,
    );
    expect(producer?.assetPath).toBe(
      join(FIXTURE_DIR, 'asset.6fb78cb83c62f5b6fafebd0de2b330c00daee11c7bf0b9ad8731346d64bb62b6'),
    );
  });

  it('reads every Kinesis setting of the event source mapping', () => {
    expect(model.eventSourceMappings).toEqual([
      {
        logicalId: MAPPING,
        functionLogicalId: CONSUMER,
        eventSourceLogicalId: STREAM,
        BatchSize: 500,
        MaximumBatchingWindowInSeconds: 1,
        StartingPosition: 'TRIM_HORIZON',
        BisectBatchOnFunctionError: true,
        MaximumRetryAttempts: 3,
        MaximumRecordAgeInSeconds: 3600,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        ParallelizationFactor: 2,
        TumblingWindowInSeconds: 30,
        DestinationConfig: {
          OnFailure: { Destination: { 'Fn::GetAtt': [QUEUE, 'Arn'] }, destinationLogicalId: QUEUE },
        },
        FilterCriteria: { Filters: [{ Pattern: '{"data":{"kind":["order"]}}' }] },
        Enabled: true,
        ignoredProperties: [],
      },
    ]);
  });

  it('applies CloudFormation defaults to an event source mapping that sets only the required properties', () => {
    const mapping = mappingOf(
      withMapping({
        BatchSize: undefined,
        BisectBatchOnFunctionError: undefined,
        DestinationConfig: undefined,
        FilterCriteria: undefined,
        FunctionResponseTypes: undefined,
        MaximumBatchingWindowInSeconds: undefined,
        MaximumRecordAgeInSeconds: undefined,
        MaximumRetryAttempts: undefined,
        ParallelizationFactor: undefined,
        TumblingWindowInSeconds: undefined,
      }),
    );
    expect(mapping).toEqual({
      logicalId: MAPPING,
      functionLogicalId: CONSUMER,
      eventSourceLogicalId: STREAM,
      BatchSize: 100,
      MaximumBatchingWindowInSeconds: 0,
      StartingPosition: 'TRIM_HORIZON',
      BisectBatchOnFunctionError: false,
      MaximumRetryAttempts: -1,
      MaximumRecordAgeInSeconds: -1,
      FunctionResponseTypes: [],
      ParallelizationFactor: 1,
      TumblingWindowInSeconds: 0,
      DestinationConfig: {},
      Enabled: true,
      ignoredProperties: [],
    });
  });

  it('accepts numbers and booleans written as strings, as CloudFormation does', () => {
    const mapping = mappingOf(
      withMapping({ BatchSize: '250', BisectBatchOnFunctionError: 'false', Enabled: 'false' }),
    );
    expect(mapping.BatchSize).toBe(250);
    expect(mapping.BisectBatchOnFunctionError).toBe(false);
    expect(mapping.Enabled).toBe(false);
  });

  it('keeps the timestamp of an AT_TIMESTAMP starting position', () => {
    const mapping = mappingOf(
      withMapping({ StartingPosition: 'AT_TIMESTAMP', StartingPositionTimestamp: 1_767_225_600 }),
    );
    expect(mapping.StartingPosition).toBe('AT_TIMESTAMP');
    expect(mapping.StartingPositionTimestamp).toBe(1_767_225_600);
  });

  it('lists mapping properties the local runtime does not emulate', () => {
    const mapping = mappingOf(withMapping({ MetricsConfig: { Metrics: ['EventCount'] } }));
    expect(mapping.ignoredProperties).toEqual(['MetricsConfig']);
  });

  it('files IAM roles, policies and other resources without a local counterpart under otherResources', () => {
    expect(model.otherResources.map((resource) => resource.type)).toEqual(
      expect.arrayContaining([
        'AWS::IAM::Role',
        'AWS::IAM::Policy',
        'AWS::SQS::QueuePolicy',
        'AWS::S3::BucketPolicy',
      ]),
    );
  });

  it("ignores CDK's own conditional metadata resource but rejects a conditional stream", () => {
    const template = structuredClone(fixture.template);
    template.Resources.CDKMetadata = { Type: 'AWS::CDK::Metadata', Condition: 'CDKMetadataAvailable' };
    expect(describeStack(template, { cdkOutDir: FIXTURE_DIR }).otherResources).toContainEqual({
      logicalId: 'CDKMetadata',
      type: 'AWS::CDK::Metadata',
    });
    (template.Resources[STREAM] as { Condition?: string }).Condition = 'IsProd';
    expect(() => describeStack(template, { cdkOutDir: FIXTURE_DIR })).toThrow(UnsupportedTemplateError);
  });

  it('rejects an event source that is not a Kinesis stream of the template', () => {
    const template = withMapping({ EventSourceArn: { 'Fn::GetAtt': [QUEUE, 'Arn'] } });
    expect(() => mappingOf(template)).toThrow(UnsupportedTemplateError);
    expect(() => mappingOf(template)).toThrow(/emulates Kinesis event source mappings only/);
  });

  it('rejects a mapping whose function is not in the template', () => {
    expect(() => mappingOf(withMapping({ FunctionName: 'someone-elses-function' }))).toThrow(
      UnsupportedTemplateError,
    );
  });
});

describe('event source mapping limits (AWS Lambda, Kinesis)', () => {
  const outOfRange: [string, CfnValue][] = [
    ['BatchSize', 0],
    ['BatchSize', 10_001],
    ['BatchSize', 2.5],
    ['MaximumBatchingWindowInSeconds', -1],
    ['MaximumBatchingWindowInSeconds', 301],
    ['MaximumRetryAttempts', -2],
    ['MaximumRetryAttempts', 10_001],
    ['MaximumRecordAgeInSeconds', 0],
    ['MaximumRecordAgeInSeconds', 59],
    ['MaximumRecordAgeInSeconds', 604_801],
    ['ParallelizationFactor', 0],
    ['ParallelizationFactor', 11],
    ['TumblingWindowInSeconds', -1],
    ['TumblingWindowInSeconds', 901],
    ['StartingPosition', 'AT_SEQUENCE_NUMBER'],
    ['FunctionResponseTypes', ['ReportEverything']],
  ];

  it.each(outOfRange)('rejects %s = %j with InvalidEventSourceMappingError', (property, value) => {
    const template = withMapping({ [property]: value });
    expect(() => mappingOf(template)).toThrow(InvalidEventSourceMappingError);
    try {
      mappingOf(template);
    } catch (error) {
      expect((error as InvalidEventSourceMappingError).property).toBe(property);
      expect((error as Error).message).toMatch(/fix the KinesisEventSource settings in lib\//);
    }
  });

  const atTheLimits: [string, number][] = [
    ['BatchSize', 1],
    ['BatchSize', 10_000],
    ['MaximumBatchingWindowInSeconds', 300],
    ['MaximumRetryAttempts', -1],
    ['MaximumRetryAttempts', 10_000],
    ['MaximumRecordAgeInSeconds', -1],
    ['MaximumRecordAgeInSeconds', 60],
    ['MaximumRecordAgeInSeconds', 604_800],
    ['ParallelizationFactor', 10],
    ['TumblingWindowInSeconds', 900],
  ];

  it.each(atTheLimits)('accepts %s = %d', (property, value) => {
    expect(mappingOf(withMapping({ [property]: value }))[property as 'BatchSize']).toBe(value);
  });

  it('requires a starting position', () => {
    expect(() => mappingOf(withMapping({ StartingPosition: undefined }))).toThrow(
      InvalidEventSourceMappingError,
    );
  });

  it('requires a timestamp with AT_TIMESTAMP', () => {
    expect(() => mappingOf(withMapping({ StartingPosition: 'AT_TIMESTAMP' }))).toThrow(
      /StartingPositionTimestamp is null/,
    );
  });
});

describe('resolveValue', () => {
  it('resolves the AWS:: pseudo parameters', () => {
    expect(resolveValue({ Ref: 'AWS::AccountId' }, {}, PSEUDO)).toBe('000000000000');
    expect(resolveValue({ Ref: 'AWS::Region' }, {}, PSEUDO)).toBe('us-east-1');
    expect(resolveValue({ Ref: 'AWS::Partition' }, {}, PSEUDO)).toBe('aws');
    expect(resolveValue({ Ref: 'AWS::URLSuffix' }, {}, PSEUDO)).toBe('amazonaws.com');
    expect(resolveValue({ Ref: 'AWS::StackName' }, {}, { ...PSEUDO, stackName: 'Shardline-test' })).toBe(
      'Shardline-test',
    );
  });

  it('resolves Ref to what CloudFormation returns: the queue URL for a queue, the name otherwise', () => {
    expect(resolveValue({ Ref: QUEUE }, REFS, PSEUDO)).toBe(QUEUE_URL);
    expect(resolveValue({ Ref: STREAM }, REFS, PSEUDO)).toBe('shardline-test-events');
  });

  it('resolves Fn::GetAtt in both its list and its dotted form', () => {
    expect(resolveValue({ 'Fn::GetAtt': [QUEUE, 'Arn'] }, REFS, PSEUDO)).toBe(
      'arn:aws:sqs:us-east-1:000000000000:shardline-test-dlq',
    );
    expect(resolveValue({ 'Fn::GetAtt': `${QUEUE}.QueueName` }, REFS, PSEUDO)).toBe('shardline-test-dlq');
  });

  it('resolves the Fn::Join bucket name of the template to the local account and region', () => {
    const [bucket] = model.buckets;
    expect(resolveString(bucket?.name ?? '', REFS, PSEUDO)).toBe(
      'shardline-test-lake-000000000000-us-east-1',
    );
  });

  it('resolves Fn::Sub with pseudo parameters, resource attributes, local variables and escapes', () => {
    const value = {
      'Fn::Sub': [
        `arn:\${AWS::Partition}:kinesis:\${AWS::Region}:\${AWS::AccountId}:\${Kind}/\${${STREAM}} \${!Literal} \${${QUEUE}.Arn}`,
        { Kind: 'stream' },
      ],
    };
    expect(resolveValue(value, REFS, PSEUDO)).toBe(
      `arn:aws:kinesis:us-east-1:000000000000:stream/shardline-test-events \${Literal} arn:aws:sqs:us-east-1:000000000000:shardline-test-dlq`,
    );
  });

  it('resolves Fn::Select over Fn::Split, as CDK does to take an ARN apart', () => {
    const value = { 'Fn::Select': [5, { 'Fn::Split': [':', { 'Fn::GetAtt': [STREAM, 'Arn'] }] }] };
    expect(resolveValue(value, REFS, PSEUDO)).toBe('stream/shardline-test-events');
  });

  it('resolves intrinsics nested in objects and lists, dropping AWS::NoValue', () => {
    const value = { Keep: [{ Ref: TABLE }, { Ref: 'AWS::NoValue' }], Drop: { Ref: 'AWS::NoValue' } };
    expect(resolveValue(value, REFS, PSEUDO)).toEqual({ Keep: ['shardline-test-state'] });
  });

  it('resolves the consumer environment: DLQ_URL becomes the local queue URL', () => {
    const consumer = model.functions.find((fn) => fn.logicalId === CONSUMER);
    expect(resolveEnvironment(consumer?.environment ?? {}, REFS, PSEUDO)).toEqual({
      STREAM_NAME: 'shardline-test-events',
      BUCKET_NAME: 'shardline-test-lake-000000000000-us-east-1',
      TABLE_NAME: 'shardline-test-state',
      DLQ_URL: QUEUE_URL,
      SHARDLINE_STAGE: 'test',
    });
  });

  it('names the intrinsic and where it is when it is not supported', () => {
    const value = { Variables: { MODE: { 'Fn::If': ['IsProd', 'a', 'b'] } } };
    expect(() => resolveValue(value, REFS, PSEUDO)).toThrow(UnsupportedIntrinsicError);
    expect(() => resolveValue(value, REFS, PSEUDO)).toThrow(/Fn::If at \$\.Variables\.MODE/);
  });

  it('names a reference to a resource that was not provisioned', () => {
    expect(() => resolveValue({ Ref: 'ConsumerServiceRoleF0394C51' }, REFS, PSEUDO)).toThrow(
      UnresolvedReferenceError,
    );
  });

  it('lists the attributes a resource has when asked for another', () => {
    expect(() => resolveValue({ 'Fn::GetAtt': [TABLE, 'StreamArn'] }, REFS, PSEUDO)).toThrow(
      /has no StreamArn \(available: Arn\)/,
    );
  });
});

describe('referencedLogicalIds', () => {
  it('collects Ref, Fn::GetAtt and Fn::Sub references but not pseudo parameters', () => {
    const value = {
      A: { Ref: STREAM },
      B: { 'Fn::GetAtt': [QUEUE, 'Arn'] },
      C: { 'Fn::Sub': `\${AWS::Region}-\${${TABLE}}-\${!Escaped}` },
      D: { Ref: 'AWS::AccountId' },
    };
    expect(referencedLogicalIds(value)).toEqual(new Set([STREAM, QUEUE, TABLE]));
  });
});

describe('the real Shardline stack (lib/app.ts)', () => {
  const stage = 'unittest';
  const names = resourceNames(stage);
  let outdir: string;
  let real: LocalModel;
  let realStack: StackTemplate;

  beforeAll(async () => {
    outdir = mkdtempSync(join(tmpdir(), 'shardline-template-test-'));
    const { app } = buildApp({ stage, outdir, bundling: false, validation: false });
    app.synth();
    realStack = await loadStackTemplate(outdir, names.stackName);
    real = describeStack(realStack.template, realStack);
  });

  afterAll(() => rmSync(outdir, { recursive: true, force: true }));

  it('describes one stream, table and queue, and the lake, failures and access-log buckets, named after the stage', () => {
    const pseudo = PSEUDO;
    expect(real.streams.map((stream) => stream.name)).toEqual([names.streamName]);
    expect(real.tables.map((table) => table.name)).toEqual([names.tableName]);
    expect(real.queues.map((queue) => queue.name)).toEqual([names.dlqName]);
    expect(real.buckets.map((bucket) => resolveString(bucket.name, {}, pseudo)).sort()).toEqual([
      `${names.prefix}-fail-000000000000-us-east-1`,
      `${names.bucketNamePrefix}-000000000000-us-east-1`,
      `${names.prefix}-logs-000000000000-us-east-1`,
    ]);
  });

  it('describes the consumer event source mapping with the failures bucket as on-failure destination', () => {
    const [mapping] = real.eventSourceMappings;
    const consumer = real.functions.find((fn) => fn.name === names.consumerFunctionName);
    const [queue] = real.queues;
    const failures = real.buckets.find((bucket) =>
      JSON.stringify(bucket.name).includes(`${names.prefix}-fail-`),
    );
    expect(mapping?.functionLogicalId).toBe(consumer?.logicalId);
    expect(mapping?.eventSourceLogicalId).toBe(real.streams[0]?.logicalId);
    expect(mapping?.DestinationConfig.OnFailure?.destinationLogicalId).toBe(failures?.logicalId);
    expect(mapping?.FunctionResponseTypes).toEqual(['ReportBatchItemFailures']);
    expect(consumer?.environment.DLQ_URL).toEqual({ Ref: queue?.logicalId });
  });

  it('points asset paths at absolute directories', () => {
    for (const fn of real.functions) expect(fn.assetPath).toBe(resolve(fn.assetPath ?? ''));
  });
});
