import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { dynamoClient, kinesisClient, s3Client, sqsClient } from '../lambdas/shared/clients';
import { resourceNames } from '../lambdas/shared/naming';
import { type RuntimeInfo, readRuntime } from '../local/runtimeState';
import { CliError } from './errors';

/**
 * Where a command acts: the Docker-free local runtime, LocalStack, or AWS. Each target resolves to the
 * same shape: resource names (from the local runtime or from the stack outputs of a deploy) and SDK
 * clients pointed at the right endpoints with the right credentials.
 */
export type TargetName = 'local' | 'localstack' | 'aws';
export const TARGETS: readonly TargetName[] = ['local', 'localstack', 'aws'];

export const LOCALSTACK_ENDPOINT = 'http://localhost.localstack.cloud:4566';
const LOCALSTACK_HEALTH = 'http://localhost:4566/_localstack/health';
const LOCALSTACK_CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test' };

export interface TargetResources {
  stage: string;
  region: string;
  streamName: string;
  tableName: string;
  bucketName: string;
  dlqUrl: string;
  /** The S3 bucket of failed batches (stack output FailuresBucketName); absent for a stack deployed before it. */
  failuresBucketName?: string;
  producerFunctionName: string;
  consumerFunctionName: string;
}

export interface ClientSettings {
  endpoint?: string;
  region: string;
  credentials?: { accessKeyId: string; secretAccessKey: string };
}

export interface ResolvedTarget {
  name: TargetName;
  resources: TargetResources;
  clientSettings: ClientSettings;
  /** The running local pipeline, on the local target only. */
  runtime?: RuntimeInfo;
}

/** The stack outputs file that `shardline deploy` writes (`cdk deploy --outputs-file`). */
export const outputsFile = (dataDir: string, target: Exclude<TargetName, 'local'>, stage: string) =>
  join(dataDir, 'outputs', `${target}-${stage}.json`);

type StackOutputs = Record<string, Record<string, string>>;

/**
 * Reads the outputs a deploy wrote, mapping the stack's CfnOutputs onto resource names.
 *
 * @example
 * ```ts
 * const resources = resourcesFromOutputs(JSON.parse(text), 'dev');
 * ```
 */
export function resourcesFromOutputs(outputs: StackOutputs, stage: string): TargetResources {
  const stackName = resourceNames(stage).stackName;
  const stack = outputs[stackName];
  if (!stack) throw new CliError(`the outputs file has no stack ${stackName}; deploy stage ${stage} first`);
  const need = (key: string) => {
    const value = stack[key];
    if (!value)
      throw new CliError(
        `stack output ${key} is missing from ${stackName}; redeploy with \`npm run deploy\``,
      );
    return value;
  };
  return {
    stage,
    region: need('Region'),
    streamName: need('StreamName'),
    tableName: need('TableName'),
    bucketName: need('BucketName'),
    dlqUrl: need('DlqUrl'),
    ...(stack.FailuresBucketName ? { failuresBucketName: stack.FailuresBucketName } : {}),
    producerFunctionName: need('ProducerFunctionName'),
    consumerFunctionName: need('ConsumerFunctionName'),
  };
}

function readOutputs(dataDir: string, target: Exclude<TargetName, 'local'>, stage: string): TargetResources {
  const file = outputsFile(dataDir, target, stage);
  if (!existsSync(file)) {
    const command = target === 'aws' ? 'npm run deploy' : 'npm run deploy:localstack';
    throw new CliError(
      `no deployed stack for stage ${stage} on ${target}: run \`${command} -- --stage ${stage}\` (no ${file})`,
    );
  }
  return resourcesFromOutputs(JSON.parse(readFileSync(file, 'utf8')) as StackOutputs, stage);
}

/** Fails with the one-line fix when LocalStack is not answering. */
export async function assertLocalStackUp(fetchImpl: typeof fetch = fetch): Promise<void> {
  try {
    const response = await fetchImpl(LOCALSTACK_HEALTH, { signal: AbortSignal.timeout(2_000) });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
  } catch {
    throw new CliError('no LocalStack on localhost:4566: run `docker compose up -d`');
  }
}

export interface ResolveTargetOptions {
  target: TargetName;
  stage: string;
  dataDir: string;
  /** Injected in tests. */
  fetchImpl?: typeof fetch;
}

/**
 * Resolves a target to resource names, endpoints and credentials.
 *
 * @example
 * ```ts
 * const target = await resolveTarget({ target: 'local', stage: 'dev', dataDir: '.shardline' });
 * const { kinesis } = targetClients(target);
 * ```
 */
export async function resolveTarget(options: ResolveTargetOptions): Promise<ResolvedTarget> {
  switch (options.target) {
    case 'local':
      return localTarget(readRuntime(options.dataDir));
    case 'localstack': {
      await assertLocalStackUp(options.fetchImpl);
      const resources = readOutputs(options.dataDir, 'localstack', options.stage);
      return {
        name: 'localstack',
        resources,
        clientSettings: {
          endpoint: process.env.AWS_ENDPOINT_URL ?? LOCALSTACK_ENDPOINT,
          region: resources.region,
          credentials: LOCALSTACK_CREDENTIALS,
        },
      };
    }
    case 'aws': {
      const resources = readOutputs(options.dataDir, 'aws', options.stage);
      // No credentials: the SDK's default chain (env, profile, SSO, instance role). No endpoint either,
      // unless AWS_ENDPOINT_URL names a stand-in for AWS (moto in `npm run check:deploy`): passing it
      // explicitly makes SQS use it instead of the queue URL's host, and S3 use path-style requests.
      const endpoint = process.env.AWS_ENDPOINT_URL;
      return {
        name: 'aws',
        resources,
        clientSettings: { region: resources.region, ...(endpoint ? { endpoint } : {}) },
      };
    }
  }
}

/** The local target of a running (or just started) local pipeline. */
export function localTarget(runtime: RuntimeInfo): ResolvedTarget {
  return {
    name: 'local',
    runtime,
    resources: {
      stage: runtime.stage,
      region: runtime.region,
      ...runtime.resources,
      producerFunctionName: runtime.functions.producer.name,
      consumerFunctionName: runtime.functions.consumer.name,
    },
    // Each emulator has its own endpoint: targetClients takes them from the runtime.
    clientSettings: { region: runtime.region, credentials: runtime.credentials },
  };
}

/** SDK clients for a resolved target. */
export function targetClients(target: ResolvedTarget) {
  const forService = (service: 'kinesis' | 'dynamodb' | 's3' | 'sqs') => ({
    ...target.clientSettings,
    ...(target.runtime ? { endpoint: target.runtime.endpoints[service] } : {}),
  });
  return {
    kinesis: kinesisClient(forService('kinesis')),
    dynamo: dynamoClient(forService('dynamodb')),
    s3: s3Client(forService('s3')),
    sqs: sqsClient(forService('sqs')),
    lambda: new LambdaClient({ ...target.clientSettings }),
  };
}

export type TargetClients = ReturnType<typeof targetClients>;
