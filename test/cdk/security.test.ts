import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../lib/app';

/**
 * Security properties of the whole template, asserted over every resource of each kind, so that a resource
 * added later is covered too. test/cdk/stack.test.ts asserts the same settings resource by resource; the
 * emulators' loopback-only binding is asserted in test/integration/emulators.test.ts ("binds only the
 * loopback interface") and the fault proxy's in test/integration/faults.test.ts.
 */
type Statement = {
  Effect: 'Allow' | 'Deny';
  Action: string | string[];
  Resource: unknown;
  Principal?: unknown;
  Condition?: unknown;
};
type Resource = { Type: string; Properties: Record<string, unknown>; DeletionPolicy?: string };

let outdir: string;
let resources: Record<string, Resource>;

beforeAll(() => {
  outdir = mkdtempSync(join(tmpdir(), 'shardline-security-'));
  const { stack } = buildApp({ stage: 'sec', outdir, bundling: false, validation: false });
  resources = Template.fromStack(stack).toJSON().Resources as Record<string, Resource>;
});

afterAll(() => rmSync(outdir, { recursive: true, force: true }));

const ofType = (type: string) => Object.entries(resources).filter(([, resource]) => resource.Type === type);
const list = <T>(value: T | T[]) => (Array.isArray(value) ? value : [value]);

/** Every statement of every identity and resource policy, with where it comes from. */
function statements(): Array<Statement & { policy: string }> {
  return ['AWS::IAM::Policy', 'AWS::S3::BucketPolicy', 'AWS::SQS::QueuePolicy'].flatMap((type) =>
    ofType(type).flatMap(([id, resource]) =>
      (resource.Properties.PolicyDocument as { Statement: Statement[] }).Statement.map((statement) => ({
        ...statement,
        policy: id,
      })),
    ),
  );
}

const allows = () => statements().filter((statement) => statement.Effect === 'Allow');

/** A resource as readable text: `Fn::GetAtt` and `Fn::Join` rendered, literals kept. */
function render(value: unknown): string {
  if (typeof value === 'string') return value;
  const object = value as Record<string, unknown>;
  if (object['Fn::GetAtt']) return `<${(object['Fn::GetAtt'] as string[]).join('.')}>`;
  if (object['Fn::Join']) {
    const [separator, parts] = object['Fn::Join'] as [string, unknown[]];
    return parts.map(render).join(separator);
  }
  if (object.Ref) return `<${object.Ref}>`;
  return JSON.stringify(value);
}

const logicalIdOf = (prefix: string) =>
  (Object.keys(resources).find((id) => id.startsWith(prefix) && !id.includes('Policy')) as string) ?? '';

describe('least privilege', () => {
  it('allows no action with a wildcard in any identity or resource policy, not even a suffix like s3:Abort*', () => {
    const wildcards = allows().flatMap((statement) =>
      list(statement.Action).filter((action) => action.includes('*')),
    );
    expect(wildcards).toEqual([]);
  });

  it('allows "*" as a resource only for writing X-Ray traces, which has no narrower resource', () => {
    const everywhere = allows().filter((statement) =>
      list(statement.Resource).some((resource) => resource === '*'),
    );
    expect(everywhere).toHaveLength(3);
    for (const statement of everywhere)
      expect(list(statement.Action).sort()).toEqual(['xray:PutTelemetryRecords', 'xray:PutTraceSegments']);
  });

  it('allows wildcard resources only where AWS requires them, and only these', () => {
    const lake = logicalIdOf('LakeBucket');
    const accessLogs = logicalIdOf('LakeAccessLogsBucket');
    const failures = logicalIdOf('FailuresBucket');
    const wildcardResources = allows().flatMap((statement) =>
      list(statement.Resource)
        .map(render)
        .filter((resource) => resource.includes('*'))
        .map((resource) => `${list(statement.Action).join(',')} on ${resource}`),
    );
    const protocol = [
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
    const objectGrants = (prefixes: string[]) => [
      ...prefixes.map((prefix) => `s3:PutObject on <${lake}.Arn>/${prefix}/*`),
      ...['staging', 'state'].map((prefix) => `s3:GetObject on <${lake}.Arn>/${prefix}/*`),
      `s3:DeleteObject on <${lake}.Arn>/state/*`,
    ];
    expect(wildcardResources.sort()).toEqual(
      [
        // The protocol names objects per shard, sequence range or attempt: object ARNs cannot be listed.
        // Consumer, then publisher (no DLQ payloads).
        ...objectGrants([...protocol, 'dlq-payloads']),
        ...objectGrants(protocol),
        // Active tracing, one statement per function: X-Ray has no resource narrower than `*`.
        ...Array.from({ length: 3 }, () => 'xray:PutTelemetryRecords,xray:PutTraceSegments on *'),
        // S3 server access log delivery chooses its own keys under the prefix; limited to the lake bucket.
        `s3:PutObject on <${accessLogs}.Arn>/lake/*`,
        `s3:PutObject on <${accessLogs}.Arn>/failures/*`,
        // Lambda names each failed-batch object itself (aws/lambda/<mapping>/<shard>/<date>/…): put only.
        `s3:PutObject on <${failures}.Arn>/*`,
      ].sort(),
    );
  });

  it('lets the consumer list the lake only under _commits/, and touch nothing under athena-results/', () => {
    const lake = logicalIdOf('LakeBucket');
    const consumer = allows().filter((statement) => statement.policy.startsWith('ConsumerRoleDefaultPolicy'));
    expect(consumer.length).toBeGreaterThan(0);
    const lists = consumer.filter(
      (statement) =>
        list(statement.Action).includes('s3:ListBucket') && render(statement.Resource).includes(lake),
    );
    expect(lists.map((statement) => [render(statement.Resource), statement.Condition])).toEqual([
      [`<${lake}.Arn>`, { StringLike: { 's3:prefix': ['_commits/*'] } }],
    ]);
    const onLake = consumer.flatMap((statement) => list(statement.Resource).map(render));
    expect(onLake.filter((resource) => resource.includes('athena-results'))).toEqual([]);
    expect(onLake).not.toContain(`<${lake}.Arn>/*`);
  });

  it('scopes each function to writing its own log group only (Lambda names the log streams)', () => {
    const logStatements = allows().filter((statement) =>
      list(statement.Action).some((a) => a.startsWith('logs:')),
    );
    expect(
      logStatements.map((statement) => [list(statement.Action), render(statement.Resource)]).sort(),
    ).toEqual(
      [
        [['logs:CreateLogStream', 'logs:PutLogEvents'], `<${logicalIdOf('ConsumerLogGroup')}.Arn>`],
        [['logs:CreateLogStream', 'logs:PutLogEvents'], `<${logicalIdOf('ProducerLogGroup')}.Arn>`],
        [['logs:CreateLogStream', 'logs:PutLogEvents'], `<${logicalIdOf('PublisherLogGroup')}.Arn>`],
      ].sort(),
    );
  });

  it('lets only the Lambda service assume the execution roles', () => {
    const roles = ofType('AWS::IAM::Role');
    expect(roles).toHaveLength(3);
    for (const [id, role] of roles) {
      const trust = (role.Properties.AssumeRolePolicyDocument as { Statement: Statement[] }).Statement;
      expect(trust, id).toEqual([
        { Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' } },
      ]);
    }
  });

  it('grants nothing to an anonymous or "*" principal in any resource policy', () => {
    const open = allows().filter((statement) => JSON.stringify(statement.Principal ?? {}).includes('"*"'));
    expect(open).toEqual([]);
  });
});

describe('encryption at rest', () => {
  it.each([
    [
      'AWS::Kinesis::Stream',
      (p: Record<string, unknown>) =>
        (p.StreamEncryption as { EncryptionType?: string })?.EncryptionType === 'KMS',
    ],
    [
      'AWS::DynamoDB::Table',
      (p: Record<string, unknown>) => (p.SSESpecification as { SSEEnabled?: boolean })?.SSEEnabled === true,
    ],
    [
      'AWS::SQS::Queue',
      (p: Record<string, unknown>) => p.SqsManagedSseEnabled === true || p.KmsMasterKeyId !== undefined,
    ],
    [
      'AWS::S3::Bucket',
      (p: Record<string, unknown>) =>
        (p.BucketEncryption as { ServerSideEncryptionConfiguration?: unknown[] })
          ?.ServerSideEncryptionConfiguration?.length === 1,
    ],
  ] as const)('encrypts every %s', (type, encrypted) => {
    const all = ofType(type);
    expect(all.length).toBeGreaterThan(0);
    for (const [id, resource] of all) expect(encrypted(resource.Properties), id).toBe(true);
  });
});

describe('encryption in transit', () => {
  it.each([
    ['AWS::S3::Bucket', 'AWS::S3::BucketPolicy', 'Bucket', 's3:*'],
    ['AWS::SQS::Queue', 'AWS::SQS::QueuePolicy', 'Queues', 'sqs:*'],
  ] as const)('denies every request without TLS on every %s', (type, policyType, targetProperty, action) => {
    for (const [id] of ofType(type)) {
      const policies = ofType(policyType).filter(([, policy]) =>
        JSON.stringify(policy.Properties[targetProperty]).includes(`"${id}"`),
      );
      const denies = policies.flatMap(([, policy]) =>
        (policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement.filter(
          (statement) =>
            statement.Effect === 'Deny' &&
            statement.Action === action &&
            JSON.stringify(statement.Condition) === '{"Bool":{"aws:SecureTransport":"false"}}',
        ),
      );
      expect(denies, id).toHaveLength(1);
    }
  });
});

describe('public access', () => {
  it('blocks every kind of public access on every bucket', () => {
    for (const [id, bucket] of ofType('AWS::S3::Bucket')) {
      expect(bucket.Properties.PublicAccessBlockConfiguration, id).toEqual({
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      });
    }
  });

  it('disables ACLs on the access-log bucket: log delivery is granted by bucket policy', () => {
    const [, accessLogs] =
      ofType('AWS::S3::Bucket').find(([id]) => id.startsWith('LakeAccessLogsBucket')) ?? [];
    expect(accessLogs?.Properties.OwnershipControls).toEqual({
      Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }],
    });
    expect(accessLogs?.Properties.AccessControl).toBeUndefined();
  });
});

describe('audit trail', () => {
  it('logs every request to the lake bucket into the access-log bucket, under lake/', () => {
    const [, lake] = ofType('AWS::S3::Bucket').find(([id]) => id.startsWith('LakeBucket')) ?? [];
    expect(lake?.Properties.LoggingConfiguration).toEqual({
      DestinationBucketName: { Ref: logicalIdOf('LakeAccessLogsBucket') },
      LogFilePrefix: 'lake/',
    });
  });

  it('keeps access logs for a year (whether they outlive the stack is the stage rule: test/cdk/removal.test.ts)', () => {
    const [, accessLogs] =
      ofType('AWS::S3::Bucket').find(([id]) => id.startsWith('LakeAccessLogsBucket')) ?? [];
    expect(accessLogs?.Properties.LifecycleConfiguration).toEqual({
      Rules: [{ ExpirationInDays: 365, Status: 'Enabled' }],
    });
  });
});
