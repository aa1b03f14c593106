import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT, runCli } from '../helpers/cli';

const dataDir = mkdtempSync(join(tmpdir(), 'shardline-cli-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

describe('shardline demo', () => {
  it('runs the whole pipeline and prints counts that reconcile, as one JSON object', async () => {
    const run = await runCli(
      [
        'demo',
        '--events',
        '3000',
        '--invalid-ratio',
        '0.05',
        '--seed',
        '9',
        '--json',
        '--data-dir',
        join(dataDir, 'demo'),
      ],
      {
        timeoutMs: 180_000,
      },
    );
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const summary = JSON.parse(run.stdout);
    expect(summary.produced).toBe(3000);
    expect(summary.invalid).toBe(150);
    expect(summary.valid).toBe(2850);
    expect(summary.parquetRows).toBe(2850);
    expect(summary.csvRows).toBe(2850);
    expect(summary.dlqMessages).toBe(150);
    expect(summary.distinctEventIds).toBe(2850);
    expect(summary.verified).toBe(true);
    expect(summary.shards).toHaveLength(2);
    expect(summary.shards.reduce((sum: number, s: { records: number }) => sum + s.records, 0)).toBe(3000);
    for (const shard of summary.shards) expect(shard.checkpoint).toMatch(/^\d{20,}$/);
    expect(summary.elapsedMs).toBeGreaterThan(0);
  }, 240_000);

  it('leaves a copy of the lake that query reads once the demo has stopped, and says so', async () => {
    const run = await runCli([
      'query',
      '--data-dir',
      join(dataDir, 'demo'),
      '--json',
      'select count(*) AS n from events',
    ]);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual([{ n: 2850 }]);
    expect(run.stderr).toMatch(/up is not running in .*demo: reading the stopped copy of its lake/);
  });
});

describe('shardline commands without a running pipeline', () => {
  for (const command of ['produce', 'status', 'query', 'verify']) {
    it(`${command} fails with one line saying how to start one`, async () => {
      const args = command === 'query' ? [command, 'SELECT 1'] : [command];
      const run = await runCli([...args, '--data-dir', join(dataDir, 'nothing-here')]);
      expect(run.code).toBe(2);
      expect(run.stdout).toBe('');
      expect(run.stderr.trim().split('\n')).toHaveLength(1);
      expect(run.stderr).toMatch(
        /shardline up is not running in .*nothing-here \(start it with `npx shardline up`\)/,
      );
    });
  }
});

describe('shardline argument checking', () => {
  it('rejects a malformed number with a one-line message and a non-zero exit', async () => {
    const run = await runCli(['produce', '--events', 'lots']);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toMatch(/--events must be an integer/);
  });

  it('rejects an unknown command and suggests the closest one', async () => {
    const run = await runCli(['stauts']);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toMatch(/unknown command 'stauts'/);
    expect(run.stderr).toMatch(/status/);
  });

  it('rejects an invalid ratio', async () => {
    const run = await runCli(['demo', '--invalid-ratio', '1.5']);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toMatch(/must be a number from 0 to 1/);
  });

  it('passes bench its own arguments, and its refusal of a bad one comes back as a non-zero exit', async () => {
    const run = await runCli(['bench', '--only', 'nothing']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/nothing/);
    expect(run.stderr).toMatch(/shardline: the benchmarks stopped with exit code 2/);
  });

  it('prints the version from package.json with --version', async () => {
    const { version } = JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8'));
    const run = await runCli(['--version']);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(`${version}\n`);
    expect(run.stderr).toBe('');
  });

  it('documents every command in --help', async () => {
    const run = await runCli(['--help']);
    expect(run.code).toBe(0);
    for (const command of ['demo', 'up', 'produce', 'status', 'query', 'verify', 'dlq', 'dashboard', 'bench'])
      expect(run.stdout).toContain(command);
  });
});
