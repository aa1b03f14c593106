import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resourcesFromOutputs } from '../../cli/targets';
import { resourceNames } from '../../lambdas/shared/naming';

/**
 * `npx cdk synth` exactly as a user or `cdk deploy` runs it: the CDK CLI, cdk.json's app command, the
 * bundling, and CDK's built-in CloudFormation validation, which is on unless `--no-validation` or
 * CDK_VALIDATION=false turns it off. By default that validation only warns (the feature flag
 * @aws-cdk/core:validateAgainstDefaultRules makes it fail synth), so a clean exit code proves little:
 * the report it leaves in the cloud assembly is what these tests read.
 * test/cdk/synth.test.ts synthesizes in-process and checks the bundles; this file checks the CLI path.
 */
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const STAGE = 'test';
const names = resourceNames(STAGE);
const SYNTH_TIMEOUT_MS = 300_000;

type Template = {
  Resources: Record<string, { Type: string }>;
  Outputs: Record<string, { Value: unknown; Export?: { Name: string } }>;
};

let outdir: string;

beforeAll(async () => {
  outdir = mkdtempSync(join(tmpdir(), 'shardline-cdk-cli-'));
  const env: NodeJS.ProcessEnv = { ...process.env, CDK_DISABLE_CLI_TELEMETRY: 'true' };
  // Whatever the caller's shell says, this test is about synthesis with the validation on.
  delete env.CDK_VALIDATION;
  const synth = spawn(
    'npx',
    ['--no-install', 'cdk', 'synth', '--quiet', '-o', outdir, '-c', `stage=${STAGE}`],
    {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let stderr = '';
  synth.stderr.on('data', (chunk) => {
    stderr += chunk;
  });
  const [code] = (await once(synth, 'close')) as [number | null];
  expect(code, `npx cdk synth failed:\n${stderr}`).toBe(0);
}, SYNTH_TIMEOUT_MS);

afterAll(() => rmSync(outdir, { recursive: true, force: true }));

function readAssemblyFile<T>(name: string): T {
  return JSON.parse(readFileSync(join(outdir, name), 'utf8')) as T;
}

describe('npx cdk synth', () => {
  it('runs the built-in CloudFormation validation, which writes its report into the cloud assembly', () => {
    expect(existsSync(join(outdir, 'validation-report.json'))).toBe(true);
  });

  it('gets no finding from the validation: no error, no warning, nothing informational', () => {
    // cdk-nag (lib/app.ts) reports here too: acknowledged findings are listed apart, open ones fail synth.
    const report = readAssemblyFile<{
      pluginReports: Array<{ pluginName: string; conclusion: string; violations: unknown[] }>;
    }>('validation-report.json');
    expect(
      report.pluginReports.map(({ pluginName, conclusion, violations }) => ({
        pluginName,
        conclusion,
        violations,
      })),
    ).toEqual([{ pluginName: 'AwsSolutions', conclusion: 'success', violations: [] }]);
  });

  it('writes the stack template with the whole pipeline in it', () => {
    const template = readAssemblyFile<Template>(`${names.stackName}.template.json`);
    const count = (type: string) =>
      Object.values(template.Resources).filter((resource) => resource.Type === type).length;
    expect({
      streams: count('AWS::Kinesis::Stream'),
      tables: count('AWS::DynamoDB::Table'),
      queues: count('AWS::SQS::Queue'),
      buckets: count('AWS::S3::Bucket'),
      functions: count('AWS::Lambda::Function'),
      eventSourceMappings: count('AWS::Lambda::EventSourceMapping'),
      scheduleRules: count('AWS::Events::Rule'),
    }).toEqual({
      streams: 1,
      tables: 1,
      queues: 1,
      buckets: 3,
      functions: 3,
      eventSourceMappings: 1,
      scheduleRules: 1,
    });
  });

  it('declares every stack output the CLI reads back from the outputs file a deploy writes', () => {
    const template = readAssemblyFile<Template>(`${names.stackName}.template.json`);
    // `cdk deploy --outputs-file` writes each output's resolved value under the stack name.
    const outputsFile = {
      [names.stackName]: Object.fromEntries(
        Object.keys(template.Outputs).map((key) => [key, `value-of-${key}`]),
      ),
    };
    expect(resourcesFromOutputs(outputsFile, STAGE)).toMatchObject({
      region: 'value-of-Region',
      streamName: 'value-of-StreamName',
      tableName: 'value-of-TableName',
      bucketName: 'value-of-BucketName',
      dlqUrl: 'value-of-DlqUrl',
      producerFunctionName: 'value-of-ProducerFunctionName',
      consumerFunctionName: 'value-of-ConsumerFunctionName',
    });
  });
});
