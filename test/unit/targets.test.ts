import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { cdkArguments } from '../../cli/commands/deploy';
import { CliError } from '../../cli/errors';
import { invokeProducer } from '../../cli/invokeProducer';
import { LOCALSTACK_ENDPOINT, outputsFile, resolveTarget, targetClients } from '../../cli/targets';

/** Each target resolves the right names, endpoints and credentials, and produce sends the right Invoke. */
const dataDir = mkdtempSync(join(tmpdir(), 'shardline-targets-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

function writeOutputs(target: 'aws' | 'localstack', stage: string, region: string) {
  const file = outputsFile(dataDir, target, stage);
  mkdirSync(dirname(file), { recursive: true });
  const stack = `Shardline-${stage}`;
  writeFileSync(
    file,
    JSON.stringify({
      [stack]: {
        Stage: stage,
        Region: region,
        StreamName: `shardline-${stage}-events`,
        StreamArn: `arn:aws:kinesis:${region}:123456789012:stream/shardline-${stage}-events`,
        TableName: `shardline-${stage}-state`,
        BucketName: `shardline-${stage}-lake-123456789012-${region}`,
        DlqUrl: `https://sqs.${region}.amazonaws.com/123456789012/shardline-${stage}-dlq`,
        DlqArn: `arn:aws:sqs:${region}:123456789012:shardline-${stage}-dlq`,
        ProducerFunctionName: `shardline-${stage}-producer`,
        ConsumerFunctionName: `shardline-${stage}-consumer`,
      },
    }),
  );
}

const healthy = (async () => new Response('{"services":{}}', { status: 200 })) as typeof fetch;
const unreachable = (async () => {
  throw new TypeError('fetch failed');
}) as typeof fetch;

describe('the aws target', () => {
  it('takes resource names and region from the deploy outputs and leaves credentials to the default chain', async () => {
    writeOutputs('aws', 'prod', 'eu-west-1');
    const target = await resolveTarget({ target: 'aws', stage: 'prod', dataDir });
    expect(target.resources).toMatchObject({
      streamName: 'shardline-prod-events',
      tableName: 'shardline-prod-state',
      bucketName: 'shardline-prod-lake-123456789012-eu-west-1',
      producerFunctionName: 'shardline-prod-producer',
      region: 'eu-west-1',
    });
    expect(target.clientSettings).toEqual({ region: 'eu-west-1' });
    const { kinesis } = targetClients(target);
    expect(await kinesis.config.region()).toBe('eu-west-1');
    expect(kinesis.config.endpoint).toBeUndefined();
  });

  it('says exactly what to run when the stage was never deployed', async () => {
    const attempt = resolveTarget({ target: 'aws', stage: 'staging', dataDir });
    await expect(attempt).rejects.toThrowError(CliError);
    await expect(attempt).rejects.toThrowError(
      /no deployed stack for stage staging on aws: run `npm run deploy -- --stage staging`/,
    );
  });
});

describe('the localstack target', () => {
  it('points every client at LocalStack with its test credentials', async () => {
    writeOutputs('localstack', 'dev', 'us-east-1');
    const target = await resolveTarget({ target: 'localstack', stage: 'dev', dataDir, fetchImpl: healthy });
    expect(target.clientSettings.endpoint).toBe(process.env.AWS_ENDPOINT_URL ?? LOCALSTACK_ENDPOINT);
    const { s3, sqs } = targetClients(target);
    expect(await s3.config.credentials()).toMatchObject({ accessKeyId: 'test', secretAccessKey: 'test' });
    expect(s3.config.forcePathStyle).toBe(true);
    const endpoint = await sqs.config.endpoint?.();
    expect(`${endpoint?.protocol}//${endpoint?.hostname}:${endpoint?.port}`).toBe(
      'http://localhost.localstack.cloud:4566',
    );
  });

  it('says how to start LocalStack when it is not running', async () => {
    await expect(
      resolveTarget({ target: 'localstack', stage: 'dev', dataDir, fetchImpl: unreachable }),
    ).rejects.toThrowError('no LocalStack on localhost:4566: run `docker compose up -d`');
  });

  it('says how to deploy when LocalStack runs but the stack is not there', async () => {
    await expect(
      resolveTarget({ target: 'localstack', stage: 'qa', dataDir, fetchImpl: healthy }),
    ).rejects.toThrowError(/run `npm run deploy:localstack -- --stage qa`/);
  });
});

describe('the local target', () => {
  it('needs a running shardline up', async () => {
    await expect(resolveTarget({ target: 'local', stage: 'dev', dataDir })).rejects.toThrowError(
      /shardline up is not running/,
    );
  });
});

describe('produce on a deployed target', () => {
  const lambda = mockClient(LambdaClient);
  beforeEach(() => lambda.reset());
  afterAll(() => lambda.restore());

  it('sends a synchronous Lambda Invoke of the producer with the request as its payload', async () => {
    writeOutputs('aws', 'prod', 'eu-west-1');
    const target = await resolveTarget({ target: 'aws', stage: 'prod', dataDir });
    lambda.on(InvokeCommand).resolves({
      StatusCode: 200,
      Payload: new TextEncoder().encode(
        JSON.stringify({ sent: 10, failed: 0, shards: { 'shardId-000000000000': 10 } }),
      ) as never,
    });
    const response = await invokeProducer(target, { lambda: new LambdaClient({}) }, { count: 10, seed: 3 });

    expect(response.sent).toBe(10);
    const input = lambda.commandCalls(InvokeCommand)[0]?.args[0].input;
    expect(input?.FunctionName).toBe('shardline-prod-producer');
    expect(input?.InvocationType).toBe('RequestResponse');
    expect(JSON.parse(new TextDecoder().decode(input?.Payload as Uint8Array))).toEqual({
      count: 10,
      seed: 3,
    });
  });

  it('turns a function error into a one-line CLI error', async () => {
    const target = await resolveTarget({ target: 'aws', stage: 'prod', dataDir });
    lambda.on(InvokeCommand).resolves({
      StatusCode: 200,
      FunctionError: 'Unhandled',
      Payload: new TextEncoder().encode(
        JSON.stringify({ errorType: 'InvalidProduceRequestError', errorMessage: 'count: too big' }),
      ) as never,
    });
    await expect(invokeProducer(target, { lambda: new LambdaClient({}) }, {})).rejects.toThrowError(
      'shardline-prod-producer failed on aws: InvalidProduceRequestError: count: too big',
    );
  });
});

describe('deploy arguments', () => {
  it('pass the stage as context and write the outputs where the CLI reads them', () => {
    expect(cdkArguments('deploy', { target: 'aws', stage: 'dev', dataDir: '/d', yes: true })).toEqual([
      'deploy',
      '-c',
      'stage=dev',
      '--outputs-file',
      '/d/outputs/aws-dev.json',
      '--require-approval',
      'never',
    ]);
    expect(cdkArguments('destroy', { target: 'localstack', stage: 'qa', dataDir: '/d', yes: true })).toEqual([
      'destroy',
      '-c',
      'stage=qa',
      '-c',
      'athena=false',
      '--force',
    ]);
  });
});
