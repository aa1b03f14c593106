import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CloudAssembly } from 'aws-cdk-lib/cx-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENV } from '../../lambdas/shared/config';
import { resourceNames } from '../../lambdas/shared/naming';
import { buildApp } from '../../lib/app';

// One real synthesis, as `cdk synth` does it: esbuild bundling and CloudFormation validation on.
const SYNTH_TIMEOUT_MS = 240_000;
const names = resourceNames('test');
const OPTIONAL_SDK_PACKAGE = '@aws-sdk/signature-v4-crt';

type FunctionResource = {
  Properties: { FunctionName: string; Code: { S3Key: string } };
  Metadata: Record<string, string>;
};

let outdir: string;
let assembly: CloudAssembly;

beforeAll(() => {
  outdir = mkdtempSync(join(tmpdir(), 'shardline-cdk-synth-'));
  assembly = buildApp({ stage: 'test', outdir, bundling: true }).app.synth();
}, SYNTH_TIMEOUT_MS);

afterAll(() => {
  rmSync(outdir, { recursive: true, force: true });
});

function functionResource(functionName: string): FunctionResource {
  const resources = assembly.getStackByName(names.stackName).template.Resources as Record<
    string,
    FunctionResource & { Type: string }
  >;
  const found = Object.values(resources).filter(
    (resource) =>
      resource.Type === 'AWS::Lambda::Function' && resource.Properties.FunctionName === functionName,
  );
  expect(found).toHaveLength(1);
  return found[0] as FunctionResource;
}

/** The directory holding a function's bundled code, as its template metadata names it. */
function assetDirectory(functionName: string): string {
  return join(assembly.directory, functionResource(functionName).Metadata['aws:asset:path'] as string);
}

describe('a real synthesis with bundling', () => {
  it('writes the cloud assembly manifest and the stack template', () => {
    expect(existsSync(join(outdir, 'manifest.json'))).toBe(true);
    expect(existsSync(join(outdir, `${names.stackName}.template.json`))).toBe(true);
  });

  it('points each function at its bundle directory, named after the S3 key of its code', () => {
    for (const functionName of [names.producerFunctionName, names.consumerFunctionName]) {
      const resource = functionResource(functionName);
      expect(`${resource.Metadata['aws:asset:path']}.zip`).toBe(`asset.${resource.Properties.Code.S3Key}`);
    }
  });

  it('bundles the consumer into index.js with its source map', () => {
    const files = readdirSync(assetDirectory(names.consumerFunctionName));
    expect(files).toEqual(expect.arrayContaining(['index.js', 'index.js.map']));
  });

  it('ships parquet_wasm_bg.wasm next to the consumer bundle', () => {
    const wasm = readFileSync(join(assetDirectory(names.consumerFunctionName), 'parquet_wasm_bg.wasm'));
    const original = readFileSync(
      fileURLToPath(new URL('../../node_modules/parquet-wasm/node/parquet_wasm_bg.wasm', import.meta.url)),
    );
    expect(wasm.equals(original)).toBe(true);
  });

  it('loads the consumer bundle, WebAssembly module included, in a plain Node process', () => {
    const bundle = join(assetDirectory(names.consumerFunctionName), 'index.js');
    const exported = execFileSync(
      process.execPath,
      ['-e', `process.stdout.write(typeof require(${JSON.stringify(bundle)}).handler)`],
      {
        cwd: tmpdir(),
        env: {
          PATH: process.env.PATH,
          AWS_REGION: 'us-east-1',
          [ENV.stage]: 'test',
          [ENV.bucketName]: 'bucket',
          [ENV.tableName]: 'table',
          [ENV.dlqUrl]: 'http://127.0.0.1/queue',
          [ENV.streamName]: 'stream',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    expect(exported.toString()).toBe('function');
  });

  it('ships the producer as index.js and its source map only', () => {
    expect(readdirSync(assetDirectory(names.producerFunctionName)).sort()).toEqual([
      'index.js',
      'index.js.map',
    ]);
  });

  it.each([
    ['producer', names.producerFunctionName],
    ['consumer', names.consumerFunctionName],
  ])('bundles the AWS SDK into the %s instead of loading the runtime copy', (_, functionName) => {
    const bundle = readFileSync(join(assetDirectory(functionName), 'index.js'), 'utf8');
    const required = new Set(
      [...bundle.matchAll(/require\("(@aws-sdk\/[^"]+)"\)/g)].map((match) => match[1]),
    );
    // The SDK loads its optional CRT signer inside a try/catch; it is not installed and not needed.
    required.delete(OPTIONAL_SDK_PACKAGE);
    expect([...required]).toEqual([]);
  });
});
