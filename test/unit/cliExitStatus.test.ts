import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CliError } from '../../cli/errors';
import { main } from '../../cli/main';
import { exitStatusOf, ShardlineError } from '../../lambdas/shared/errors';
import { OldDataLayoutError } from '../../local/dataLayout';

let stderr = '';
beforeEach(() => {
  stderr = '';
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
    stderr += String(chunk);
    return true;
  });
  vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
});
afterEach(() => {
  vi.restoreAllMocks();
  process.exitCode = undefined;
});

const nowhere = () => join(mkdtempSync(join(tmpdir(), 'shardline-exit-')), 'nothing-here');

describe('the CLI exit status', () => {
  it('is 2 for an option the command does not know', async () => {
    expect(await main(['node', 'shardline', 'status', '--no-such-option'])).toBe(2);
    expect(stderr).toMatch(/unknown option '--no-such-option'/);
  });

  it('is 2, with one line saying how to start it, when the local runtime is not running', async () => {
    expect(await main(['node', 'shardline', 'status', '--data-dir', nowhere()])).toBe(2);
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).toMatch(/^shardline: shardline up is not running/);
  });

  it('prints the error as one JSON object on stderr under --json', async () => {
    expect(await main(['node', 'shardline', 'status', '--json', '--data-dir', nowhere()])).toBe(2);
    const { error } = JSON.parse(stderr);
    expect(error.code).toBe('NOT_RUNNING');
    expect(error.message).toMatch(/shardline up is not running/);
  });

  it('prints a usage error as JSON under --json too', async () => {
    expect(await main(['node', 'shardline', 'status', '--json', '--bogus'])).toBe(2);
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(JSON.parse(stderr).error).toEqual({
      code: 'USAGE_UNKNOWNOPTION',
      message: "unknown option '--bogus'",
    });
  });

  it('is 0 for --version', async () => {
    expect(await main(['node', 'shardline', '--version'])).toBe(0);
  });
});

describe('error kinds and codes', () => {
  it('maps a failed check to 1, usage and environment errors to 2, anything else to 3', () => {
    expect(exitStatusOf(new CliError('verify found 3 missing records', 'check'))).toBe(1);
    expect(exitStatusOf(new CliError('bad stage', 'usage'))).toBe(2);
    expect(exitStatusOf(new OldDataLayoutError('/tmp/x', 1))).toBe(2);
    expect(exitStatusOf(new TypeError('undefined is not a function'))).toBe(3);
  });

  it('derives a machine-readable code from the class name, keeps one given, and carries the cause', () => {
    const cause = new Error('ECONNREFUSED');
    expect(new OldDataLayoutError('/tmp/x', 1).code).toBe('OLD_DATA_LAYOUT');
    const error = new ShardlineError('emulator down', { code: 'EMULATOR_DOWN', cause });
    expect(error.code).toBe('EMULATOR_DOWN');
    expect(error.cause).toBe(cause);
  });
});
