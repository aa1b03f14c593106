import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { isSynthCurrent, markSynthesized, synthInputsHash } from '../../local/synthCache';

const manifestHolding = (stackName: string) =>
  JSON.stringify({ version: '48.0.0', artifacts: { [stackName]: { type: 'aws:cloudformation:stack' } } });

/** A project with one file under each kind of synth input, and a cdk.out with a manifest. */
const root = mkdtempSync(join(tmpdir(), 'shardline-synth-cache-'));
const cdkOut = join(root, 'cdk.out');
const write = (path: string, text: string) => {
  mkdirSync(join(root, path, '..'), { recursive: true });
  writeFileSync(join(root, path), text);
};

beforeEach(() => {
  rmSync(root, { recursive: true, force: true });
  write('bin/app.ts', 'app');
  write('lib/stack.ts', 'stack');
  write('lambdas/consumer/handler.ts', 'handler');
  write('cdk.json', '{}');
  write('package-lock.json', '{}');
  write('tsconfig.json', '{}');
  write('cdk.out/manifest.json', manifestHolding('Shardline-dev'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('the synth cache', () => {
  it('hashes the same inputs the same way, and any change to a file, a new file or the stage differently', async () => {
    const base = await synthInputsHash(root, 'dev');
    expect(await synthInputsHash(root, 'dev')).toBe(base);
    expect(await synthInputsHash(root, 'prod')).not.toBe(base);

    write('lambdas/consumer/handler.ts', 'handler, changed');
    const changed = await synthInputsHash(root, 'dev');
    expect(changed).not.toBe(base);
    write('lambdas/shared/new.ts', 'new');
    expect(await synthInputsHash(root, 'dev')).not.toBe(changed);
  });

  it('ignores files that are not synth inputs', async () => {
    const base = await synthInputsHash(root, 'dev');
    write('README.md', 'docs');
    write('test/some.test.ts', 'test');
    expect(await synthInputsHash(root, 'dev')).toBe(base);
  });

  it('calls a cloud assembly current only once marked with the same hash, and never without a manifest', async () => {
    const hash = await synthInputsHash(root, 'dev');
    expect(await isSynthCurrent(cdkOut, hash)).toBe(false);
    await markSynthesized(cdkOut, hash);
    expect(await isSynthCurrent(cdkOut, hash)).toBe(true);
    expect(await isSynthCurrent(cdkOut, await synthInputsHash(root, 'prod'))).toBe(false);
    rmSync(join(cdkOut, 'manifest.json'));
    expect(await isSynthCurrent(cdkOut, hash)).toBe(false);
  });

  it('synthesizes again after another synth rewrote the assembly (`npx cdk synth -c stage=prod` before `up`)', async () => {
    const hash = await synthInputsHash(root, 'dev');
    await markSynthesized(cdkOut, hash);
    // The CDK CLI writes the prod stack's assembly over cdk.out and leaves our marker in place.
    write('cdk.out/manifest.json', manifestHolding('Shardline-prod'));
    expect(await isSynthCurrent(cdkOut, hash)).toBe(false);
    await markSynthesized(cdkOut, hash);
    expect(await isSynthCurrent(cdkOut, hash)).toBe(true);
  });
});
