import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Duration } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { afterAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../lib/app';
import {
  InvalidStackPropError,
  ShardlineStack,
  type ShardlineStackProps,
  type StageProfile,
} from '../../lib/shardline-stack';

const outdirs: string[] = [];
const outdir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'shardline-profile-test-'));
  outdirs.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of outdirs) rmSync(dir, { recursive: true, force: true });
});

function mappingOf(props: Omit<ShardlineStackProps, 'stage'>) {
  const app = new App({
    outdir: outdir(),
    context: { 'aws:cdk:bundling-stacks': [] },
    builtinCloudFormationValidation: false,
  });
  const stack = new ShardlineStack(app, 'Profile', { stage: 'test', ...props });
  const mappings = Template.fromStack(stack).findResources('AWS::Lambda::EventSourceMapping');
  return Object.values(mappings)[0]?.Properties as Record<string, unknown>;
}

describe('stage profiles', () => {
  it('keep the one-second window of development unless told otherwise', () => {
    expect(mappingOf({})).toMatchObject({ BatchSize: 1000, MaximumBatchingWindowInSeconds: 1 });
  });

  it('gather up to 60 s and 10,000 records in production, the window the cost model picks', () => {
    expect(mappingOf({ profile: 'production' })).toMatchObject({
      BatchSize: 10_000,
      MaximumBatchingWindowInSeconds: 60,
    });
  });

  it('let an explicit batch size or window override the profile', () => {
    expect(
      mappingOf({ profile: 'production', batchSize: 500, maxBatchingWindow: Duration.seconds(5) }),
    ).toMatchObject({ BatchSize: 500, MaximumBatchingWindowInSeconds: 5 });
  });

  it('refuse a profile they do not know', () => {
    expect(() => mappingOf({ profile: 'staging' as StageProfile })).toThrow(InvalidStackPropError);
  });

  it('are chosen with the context value `profile`', () => {
    const { stack } = buildApp({
      stage: 'test',
      outdir: outdir(),
      bundling: false,
      validation: false,
      nag: false,
      context: { profile: 'production' },
    });
    const mapping = Object.values(
      Template.fromStack(stack).findResources('AWS::Lambda::EventSourceMapping'),
    )[0]?.Properties;
    expect(mapping).toMatchObject({ MaximumBatchingWindowInSeconds: 60 });
  });
});
