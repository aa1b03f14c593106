import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { DescribeTableCommand, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { DescribeStreamSummaryCommand, ListStreamsCommand } from '@aws-sdk/client-kinesis';
import {
  GetFunctionCommand,
  LambdaClient,
  ListEventSourceMappingsCommand,
  ListFunctionsCommand,
} from '@aws-sdk/client-lambda';
import { HeadBucketCommand, ListBucketsCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { GetQueueAttributesCommand, ListQueuesCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cdkArguments, emptyRemovableBuckets } from '../../cli/commands/deploy';
import { outputsFile } from '../../cli/targets';
import { dynamoClient, kinesisClient, s3Client, sqsClient } from '../../lambdas/shared/clients';
import { resourceNames } from '../../lambdas/shared/naming';
import { freePort } from '../../local/ports';
import { PROJECT_ROOT, runCli } from '../helpers/cli';
import { requireTool } from './tools';

/**
 * What a user does with an AWS account, against moto (a Python emulator of CloudFormation, S3, Kinesis,
 * DynamoDB, SQS, Lambda, IAM and Logs) on a loopback port: `cdk bootstrap`, `cdk deploy` with the CDK CLI
 * itself, the stack's outputs, its resources and the event source mapping read back through the AWS SDK,
 * `shardline status --target aws`, then destroy (buckets emptied by the CLI's code, `cdk destroy`), a
 * check that nothing billable is left, and a second deploy of the same names.
 *
 * Two things make the CDK CLI work here (docs/DEPLOY.md): the endpoint is `http://localhost:PORT`, not
 * 127.0.0.1, because the CLI builds the template URL from it and moto reads the bucket from the host
 * name unless it contains "localhost"; and `--method=direct`, because moto's ExecuteChangeSet creates the
 * resources but no stack outputs. moto creates no Glue, Athena, CloudWatch alarm or bucket/queue policy
 * resources and cannot run a function (Invoke needs Docker): those need a real account.
 */
const moto = requireTool('moto_server', "pip install 'moto[server]'");
const aws = requireTool('aws', 'pip install awscli (or apt-get install awscli)');
const run = promisify(execFile);
const STAGE = 'moto';
const names = resourceNames(STAGE);
const ACCOUNT = '123456789012';
const REGION = 'us-east-1';
const CDK_TIMEOUT_MS = 240_000;

let server: ChildProcess | undefined;
let work: string;
let assembly: string;
let dataDir: string;
let env: NodeJS.ProcessEnv;
let endpoint: string;

async function cdk(args: string[]): Promise<string> {
  const child = spawn('npx', ['--no-install', 'cdk', ...args], {
    cwd: PROJECT_ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk) => {
    output += chunk;
  });
  child.stderr?.on('data', (chunk) => {
    output += chunk;
  });
  const [code] = (await once(child, 'exit')) as [number | null];
  if (code !== 0) throw new Error(`cdk ${args.join(' ')} exited with ${code}:\n${output.slice(-3000)}`);
  return output;
}

const deployOptions = () => ({ target: 'aws' as const, stage: STAGE, dataDir, yes: true, json: false });
/** `npm run deploy`'s own arguments, on the synthesized assembly, deploying without a change set. */
const deploy = () => cdk([...cdkArguments('deploy', deployOptions()), '--app', assembly, '--method=direct']);

/**
 * `shardline destroy`'s first step, in this process (credentials and endpoint from the environment), then
 * CloudFormation's DeleteStack by stack name through the AWS CLI. Not `cdk destroy`: against moto 5.2.1 it
 * deletes a stack created with `--method=direct` from the stack list but leaves every resource behind
 * (DeleteStack by name or ARN with the test credentials deletes them; the CDK CLI's call through its
 * bootstrap roles does not).
 */
async function destroy(): Promise<void> {
  const saved = { ...process.env };
  Object.assign(process.env, env);
  try {
    await emptyRemovableBuckets(deployOptions());
  } finally {
    for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
    Object.assign(process.env, saved);
  }
  await run(aws.command, ['cloudformation', 'delete-stack', '--stack-name', names.stackName], { env });
  await run(
    aws.command,
    ['cloudformation', 'wait', 'stack-delete-complete', '--stack-name', names.stackName],
    {
      env,
    },
  );
}

function outputs(): Record<string, string> {
  const byStack = JSON.parse(readFileSync(outputsFile(dataDir, 'aws', STAGE), 'utf8')) as Record<
    string,
    Record<string, string>
  >;
  return byStack[names.stackName] ?? {};
}

const clientOptions = () => ({
  endpoint,
  region: REGION,
  credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
});

async function startMoto(port: number): Promise<ChildProcess> {
  const child = spawn(moto.command, ['-p', String(port), '-H', '127.0.0.1'], { stdio: 'ignore' });
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      const response = await fetch(`http://127.0.0.1:${port}/moto-api/`);
      if (response.ok) return child;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill();
      throw new Error(`moto_server did not answer on port ${port} within 30 s`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** What is left of the stack's billable resources, by kind. */
async function leftovers() {
  const options = clientOptions();
  const [streams, tables, buckets, queues, functions, mappings] = await Promise.all([
    kinesisClient(options).send(new ListStreamsCommand({})),
    dynamoClient(options).send(new ListTablesCommand({})),
    s3Client(options).send(new ListBucketsCommand({})),
    sqsClient(options).send(new ListQueuesCommand({})),
    new LambdaClient(options).send(new ListFunctionsCommand({})),
    new LambdaClient(options).send(new ListEventSourceMappingsCommand({})),
  ]);
  const ours = (name: string | undefined) => (name ?? '').startsWith(names.prefix);
  return {
    streams: (streams.StreamNames ?? []).filter(ours),
    tables: (tables.TableNames ?? []).filter(ours),
    buckets: (buckets.Buckets ?? []).map((bucket) => bucket.Name).filter(ours),
    queues: (queues.QueueUrls ?? []).filter((url) => url.includes(names.prefix)),
    functions: (functions.Functions ?? []).map((fn) => fn.FunctionName).filter(ours),
    eventSourceMappings: mappings.EventSourceMappings ?? [],
  };
}

describe.skipIf(!moto.available || !aws.available)('deploy, destroy and redeploy against moto', () => {
  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'shardline-moto-'));
    assembly = join(work, 'cdk.out');
    dataDir = join(work, 'data');
    mkdirSync(join(dataDir, 'outputs'), { recursive: true });
    const port = await freePort();
    endpoint = `http://localhost:${port}`;
    env = {
      ...process.env,
      AWS_ENDPOINT_URL: endpoint,
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      AWS_REGION: REGION,
      AWS_DEFAULT_REGION: REGION,
      CDK_DEFAULT_ACCOUNT: ACCOUNT,
      CDK_DEFAULT_REGION: REGION,
      CDK_DISABLE_CLI_TELEMETRY: 'true',
      // The CLI's account cache and notices live here, not in the user's home.
      HOME: work,
    };
    delete env.AWS_PROFILE;
    delete env.AWS_SESSION_TOKEN;
    server = await startMoto(port);
    // The emulated account and region; the app is synthesized once and deployed from the assembly.
    // CloudFormation validation of this template is test/deploy/cdkSynth.test.ts's job: skip it here.
    await cdk(['synth', '--quiet', '--no-validation', '-o', assembly, '-c', `stage=${STAGE}`]);
    await cdk(['bootstrap', `aws://${ACCOUNT}/${REGION}`, '--app', assembly]);
    await deploy();
  }, CDK_TIMEOUT_MS * 2);

  afterAll(async () => {
    server?.kill();
    if (server) await once(server, 'exit');
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('writes every stack output the CLI reads to the outputs file', () => {
    expect(outputs()).toMatchObject({
      Stage: STAGE,
      Region: REGION,
      StreamName: names.streamName,
      TableName: names.tableName,
      BucketName: `${names.bucketNamePrefix}-${ACCOUNT}-${REGION}`,
      AccessLogsBucketName: `${names.prefix}-logs-${ACCOUNT}-${REGION}`,
      FailuresBucketName: `${names.prefix}-fail-${ACCOUNT}-${REGION}`,
      DataRetention: 'destroy',
      DlqArn: `arn:aws:sqs:${REGION}:${ACCOUNT}:${names.dlqName}`,
      ProducerFunctionName: names.producerFunctionName,
      ConsumerFunctionName: names.consumerFunctionName,
    });
  });

  // moto ignores the stream's encryption and the buckets' versioning and lifecycle: test/cdk asserts those.
  it('creates the stream, the table, the three buckets, the queue and both functions as synthesized', async () => {
    const options = clientOptions();
    const stream = await kinesisClient(options).send(
      new DescribeStreamSummaryCommand({ StreamName: names.streamName }),
    );
    expect(stream.StreamDescriptionSummary).toMatchObject({
      OpenShardCount: 2,
      StreamModeDetails: { StreamMode: 'PROVISIONED' },
    });
    const table = await dynamoClient(options).send(new DescribeTableCommand({ TableName: names.tableName }));
    expect(table.Table?.BillingModeSummary?.BillingMode).toBe('PAY_PER_REQUEST');
    const { BucketName, AccessLogsBucketName, FailuresBucketName } = outputs();
    for (const bucket of [BucketName, AccessLogsBucketName, FailuresBucketName]) {
      await expect(s3Client(options).send(new HeadBucketCommand({ Bucket: bucket }))).resolves.toBeDefined();
    }
    const queue = await sqsClient(options).send(
      new GetQueueAttributesCommand({
        QueueUrl: outputs().DlqUrl,
        AttributeNames: ['MessageRetentionPeriod'],
      }),
    );
    expect(queue.Attributes?.MessageRetentionPeriod).toBe(String(14 * 24 * 3600));
    for (const name of [names.producerFunctionName, names.consumerFunctionName]) {
      const fn = await new LambdaClient(options).send(new GetFunctionCommand({ FunctionName: name }));
      // moto reports no Architectures: test/cdk/stack.test.ts asserts arm64.
      expect(fn.Configuration).toMatchObject({ Runtime: 'nodejs22.x', Handler: 'index.handler' });
    }
  });

  it('maps the stream to the consumer with the synthesized settings', async () => {
    const { EventSourceMappings: mappings = [] } = await new LambdaClient(clientOptions()).send(
      new ListEventSourceMappingsCommand({ FunctionName: names.consumerFunctionName }),
    );
    expect(mappings).toHaveLength(1);
    expect(mappings[0]).toMatchObject({
      EventSourceArn: outputs().StreamArn,
      StartingPosition: 'TRIM_HORIZON',
      BatchSize: 1000,
      MaximumBatchingWindowInSeconds: 1,
      BisectBatchOnFunctionError: true,
      MaximumRetryAttempts: 3,
      MaximumRecordAgeInSeconds: 3600,
      ParallelizationFactor: 1,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      // Failed batches go to the failures bucket with their records (invalid records go to the DLQ queue).
      DestinationConfig: { OnFailure: { Destination: `arn:aws:s3:::${outputs().FailuresBucketName}` } },
    });
  });

  it('answers `shardline status --target aws` from the deployed stack', async () => {
    const result = await runCli(
      ['status', '--target', 'aws', '--stage', STAGE, '--data-dir', dataDir, '--json'],
      {
        env,
      },
    );
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout) as { target: string; shards: Array<{ shardId: string }> };
    expect(report.target).toBe('aws');
    expect(report.shards.map((shard) => shard.shardId)).toEqual([
      'shardId-000000000000',
      'shardId-000000000001',
    ]);
  });

  it('destroys everything that bills, lake objects included, then deploys the same names again', async () => {
    const s3 = s3Client(clientOptions());
    // Objects in both buckets (two writes of one key): CloudFormation deletes only empty buckets.
    for (const body of ['first', 'second']) {
      await s3.send(new PutObjectCommand({ Bucket: outputs().BucketName, Key: 'events/x.json', Body: body }));
    }
    await s3.send(
      new PutObjectCommand({ Bucket: outputs().AccessLogsBucketName, Key: 'lake/log', Body: 'x' }),
    );
    await s3.send(
      new PutObjectCommand({ Bucket: outputs().FailuresBucketName, Key: 'aws/kinesis/x', Body: '{}' }),
    );

    await destroy();
    expect(await leftovers()).toEqual({
      streams: [],
      tables: [],
      buckets: [],
      queues: [],
      functions: [],
      eventSourceMappings: [],
    });

    await deploy();
    expect(outputs().StreamName).toBe(names.streamName);
    const again = await leftovers();
    expect(again.streams).toEqual([names.streamName]);
    const { AccessLogsBucketName, BucketName, FailuresBucketName } = outputs();
    expect(again.buckets.sort()).toEqual([AccessLogsBucketName, BucketName, FailuresBucketName].sort());
    await destroy();
  });
});
