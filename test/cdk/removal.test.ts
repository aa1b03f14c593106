import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../lib/app';
import { retainsDataByDefault } from '../../lib/stagePolicy';

/**
 * The stage rule (lib/stagePolicy.ts): a development stage is deleted whole with its stack, so destroy
 * leaves nothing billing and a redeploy can reuse every fixed name; a production stage keeps the lake,
 * its access logs and the state table, with deletion protection on the table and termination protection
 * on the stack.
 */
type Resource = {
  Type: string;
  Properties: Record<string, unknown>;
  DeletionPolicy?: string;
  UpdateReplacePolicy?: string;
};

const outdirs: string[] = [];
const stacks: Record<string, { resources: Record<string, Resource>; terminationProtection?: boolean }> = {};

function synth(stage: string, context: Record<string, unknown> = {}) {
  const outdir = mkdtempSync(join(tmpdir(), 'shardline-removal-'));
  outdirs.push(outdir);
  const { stack } = buildApp({ stage, outdir, bundling: false, validation: false, nag: false, context });
  return {
    resources: Template.fromStack(stack).toJSON().Resources as Record<string, Resource>,
    terminationProtection: stack.terminationProtection,
  };
}

beforeAll(() => {
  stacks.dev = synth('dev');
  stacks.prod = synth('prod');
  stacks.prodRemovable = synth('prod', { retainData: 'false' });
});

afterAll(() => {
  for (const outdir of outdirs) rmSync(outdir, { recursive: true, force: true });
});

const byType = (stage: string, type: string) =>
  Object.entries(stacks[stage]?.resources ?? {}).filter(([, resource]) => resource.Type === type);
/** Resources that hold data or bill while they exist. */
const STATEFUL = [
  'AWS::Kinesis::Stream',
  'AWS::DynamoDB::Table',
  'AWS::SQS::Queue',
  'AWS::S3::Bucket',
  'AWS::Logs::LogGroup',
];

describe('the stage rule', () => {
  it.each([
    ['dev', false],
    ['qa', false],
    ['feature-x', false],
    ['prod', true],
    ['prod-eu', true],
    ['production', true],
  ])('%s retains its data by default: %s', (stage, retains) => {
    expect(retainsDataByDefault(stage)).toBe(retains);
  });
});

describe('a development stage', () => {
  it.each(STATEFUL)('deletes every %s with the stack and on replacement', (type) => {
    const all = byType('dev', type);
    expect(all.length).toBeGreaterThan(0);
    for (const [id, resource] of all) {
      expect([id, resource.DeletionPolicy, resource.UpdateReplacePolicy]).toEqual([id, 'Delete', 'Delete']);
    }
  });

  it('retains nothing at all', () => {
    const retained = Object.entries(stacks.dev?.resources ?? {}).filter(
      ([, resource]) => resource.DeletionPolicy === 'Retain' || resource.DeletionPolicy === 'Snapshot',
    );
    expect(retained.map(([id]) => id)).toEqual([]);
  });

  it('has no deletion or termination protection', () => {
    const [[, table] = []] = byType('dev', 'AWS::DynamoDB::Table');
    expect(table?.Properties.DeletionProtectionEnabled).toBeFalsy();
    expect(stacks.dev?.terminationProtection).toBeFalsy();
  });
});

describe('a production stage', () => {
  it.each(['AWS::DynamoDB::Table', 'AWS::S3::Bucket'])('keeps every %s when the stack is deleted', (type) => {
    const all = byType('prod', type);
    expect(all.length).toBeGreaterThan(0);
    for (const [id, resource] of all) {
      expect([id, resource.DeletionPolicy, resource.UpdateReplacePolicy]).toEqual([id, 'Retain', 'Retain']);
    }
  });

  it('protects the state table from deletion and the stack from termination', () => {
    const [[, table] = []] = byType('prod', 'AWS::DynamoDB::Table');
    expect(table?.Properties.DeletionProtectionEnabled).toBe(true);
    expect(stacks.prod?.terminationProtection).toBe(true);
  });

  it('still deletes the stream, which bills by the shard-hour and holds at most a day of records', () => {
    const [[, stream] = []] = byType('prod', 'AWS::Kinesis::Stream');
    expect(stream?.DeletionPolicy).toBe('Delete');
  });

  it('becomes removable with the context retainData=false', () => {
    const retained = Object.values(stacks.prodRemovable?.resources ?? {}).filter(
      (resource) => resource.DeletionPolicy === 'Retain',
    );
    expect(retained).toEqual([]);
    expect(stacks.prodRemovable?.terminationProtection).toBeFalsy();
  });
});

describe('the lake bucket on every stage', () => {
  it.each(['dev', 'prod'])('%s: is versioned and expires noncurrent versions after 30 days', (stage) => {
    const [, lake] = byType(stage, 'AWS::S3::Bucket').find(([id]) => id.startsWith('LakeBucket')) ?? [];
    expect(lake?.Properties.VersioningConfiguration).toEqual({ Status: 'Enabled' });
    expect(lake?.Properties.LifecycleConfiguration).toEqual({
      Rules: expect.arrayContaining([
        {
          Id: 'ExpireNoncurrentVersions',
          NoncurrentVersionExpiration: { NoncurrentDays: 30 },
          Status: 'Enabled',
        },
      ]),
    });
  });

  it('expires staged bundles after 7 days', () => {
    const [, lake] = byType('dev', 'AWS::S3::Bucket').find(([id]) => id.startsWith('LakeBucket')) ?? [];
    expect(lake?.Properties.LifecycleConfiguration).toEqual({
      Rules: expect.arrayContaining([
        { Id: 'ExpireStagedBundles', ExpirationInDays: 7, Prefix: 'staging/', Status: 'Enabled' },
      ]),
    });
  });
});
