import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { resourceNames } from '../../lambdas/shared/naming';
import { buildApp } from '../../lib/app';

/**
 * The template `npm run deploy:localstack` deploys, synthesized in the environment cdklocal gives the
 * CDK app: its own environment set-up (test credentials, us-east-1, AWS_ENDPOINT_URL pointing at
 * LocalStack), and the account LocalStack's STS reports for those credentials, which the CDK CLI
 * passes on as CDK_DEFAULT_ACCOUNT.
 *
 * Vitest runs each test file in a process of its own, so changing process.env here changes nothing
 * elsewhere. It must happen before any stack is built, so the suite below is imported afterwards.
 */
const require = createRequire(import.meta.url);
const cdklocal = require('aws-cdk-local/src/index.js') as {
  configureEnvironment(env: NodeJS.ProcessEnv, allowList: string): void;
};
/** The account LocalStack answers GetCallerIdentity with for its test credentials. */
const LOCALSTACK_ACCOUNT = '000000000000';

cdklocal.configureEnvironment(process.env, 'AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED');
process.env.CDK_DEFAULT_ACCOUNT = LOCALSTACK_ACCOUNT;
process.env.CDK_DEFAULT_REGION = process.env.AWS_REGION;

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const STAGE = 'test';
const names = resourceNames(STAGE);

type Resource = { Type: string; Properties: Record<string, unknown> };

/**
 * The LocalStack service behind each resource type the stack may use. A type missing here fails the
 * test below, so a new kind of resource gets its service added to docker-compose.yml.
 */
const SERVICE_OF_RESOURCE_TYPE: Record<string, string> = {
  'AWS::Kinesis::Stream': 'kinesis',
  'AWS::DynamoDB::Table': 'dynamodb',
  'AWS::SQS::Queue': 'sqs',
  'AWS::SQS::QueuePolicy': 'sqs',
  'AWS::S3::Bucket': 's3',
  'AWS::S3::BucketPolicy': 's3',
  'AWS::Lambda::Function': 'lambda',
  'AWS::Lambda::EventSourceMapping': 'lambda',
  'AWS::Lambda::Permission': 'lambda',
  'AWS::Events::Rule': 'events',
  'AWS::IAM::Role': 'iam',
  'AWS::IAM::Policy': 'iam',
  'AWS::Logs::LogGroup': 'logs',
  'AWS::CloudWatch::Alarm': 'cloudwatch',
  'AWS::SNS::Topic': 'sns',
  'AWS::SNS::TopicPolicy': 'sns',
  'AWS::SNS::Subscription': 'sns',
};

describe('the template under the LocalStack context', () => {
  let outdir: string;
  let resources: Resource[];
  let environment: { account: string; region: string };

  beforeAll(() => {
    outdir = mkdtempSync(join(tmpdir(), 'shardline-localstack-synth-'));
    // As `npm run deploy:localstack` synthesizes it: no Glue or Athena, which LocalStack's community edition lacks.
    const { app, stack } = buildApp({
      stage: STAGE,
      outdir,
      bundling: false,
      validation: false,
      context: { athena: 'false' },
    });
    const template = app.synth().getStackByName(stack.stackName).template as {
      Resources: Record<string, Resource>;
    };
    resources = Object.values(template.Resources);
    environment = { account: stack.account, region: stack.region };
  });

  afterAll(() => rmSync(outdir, { recursive: true, force: true }));

  it("is bound to LocalStack's account and cdklocal's region", () => {
    expect(process.env.AWS_ENDPOINT_URL).toBe('http://localhost.localstack.cloud:4566');
    expect(environment).toEqual({ account: LOCALSTACK_ACCOUNT, region: 'us-east-1' });
  });

  it('takes the function code from the staging bucket that `cdklocal bootstrap` creates', () => {
    const buckets = resources
      .filter((resource) => resource.Type === 'AWS::Lambda::Function')
      .map((resource) => (resource.Properties.Code as { S3Bucket: unknown }).S3Bucket);
    expect(buckets).toEqual([
      `cdk-hnb659fds-assets-${LOCALSTACK_ACCOUNT}-us-east-1`,
      `cdk-hnb659fds-assets-${LOCALSTACK_ACCOUNT}-us-east-1`,
      `cdk-hnb659fds-assets-${LOCALSTACK_ACCOUNT}-us-east-1`,
    ]);
  });

  it('publishes no container image, so deploying needs no ECR (a Pro service in LocalStack)', () => {
    const manifest = JSON.parse(readFileSync(join(outdir, `${names.stackName}.assets.json`), 'utf8')) as {
      files: Record<string, unknown>;
      dockerImages: Record<string, unknown>;
    };
    expect(Object.keys(manifest.files)).not.toHaveLength(0);
    expect(manifest.dockerImages).toEqual({});
  });

  it('uses only resource types whose LocalStack service docker-compose.yml loads', () => {
    const compose = parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8')) as {
      services: { localstack: { environment: { SERVICES: string } } };
    };
    const loaded = compose.services.localstack.environment.SERVICES.split(',');
    const types = [...new Set(resources.map((resource) => resource.Type))].sort();
    const unmapped = types.filter((type) => !(type in SERVICE_OF_RESOURCE_TYPE));
    expect(unmapped, 'resource types with no LocalStack service in SERVICE_OF_RESOURCE_TYPE').toEqual([]);
    const missing = types.filter((type) => !loaded.includes(SERVICE_OF_RESOURCE_TYPE[type] as string));
    expect(missing, 'resource types whose service docker-compose.yml does not load').toEqual([]);
  });
});

// Every assertion test/cdk/stack.test.ts makes about the template, now in the LocalStack context.
describe('the stack assertions of test/cdk/stack.test.ts, under the LocalStack context', async () => {
  await import('../cdk/stack.test');
});
