import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { DeadLetterMessage } from '../../lambdas/consumer/deadLetter';
import { CliError } from '../errors';

/**
 * Runs a `dlq redrive --fix` script in a child process that has none of the operator's AWS credentials:
 * only PATH, the locale and the time zone pass from the environment; HOME is an empty directory, the
 * shared credential and config files point nowhere, and the instance metadata service is off. The script
 * is the operator's own code but often copied from a ticket: it must not be able to act on the account
 * with the operator's rights. It is not a file-system sandbox (docs/ESM.md, "Redrive").
 */

export type FixResult = { fixed: unknown } | { error: string };

const WORKER = join(import.meta.dirname, 'fixWorker.ts');
/** Resolved here: the child runs in an empty directory, where `tsx` would not resolve. */
const TSX_LOADER = import.meta.resolve('tsx');
const PASSED_THROUGH = ['PATH', 'LANG', 'LC_ALL', 'TZ', 'SystemRoot'];

/**
 * The environment a fix script runs with: no credentials from the environment, the shared files or IMDS.
 *
 * @example
 * ```ts
 * fixEnvironment({ PATH: '/bin', AWS_SECRET_ACCESS_KEY: 's' }, '/tmp/h').AWS_SECRET_ACCESS_KEY; // undefined
 * ```
 */
export function fixEnvironment(parent: NodeJS.ProcessEnv, home: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const name of PASSED_THROUGH) if (parent[name] !== undefined) env[name] = parent[name];
  return {
    ...env,
    HOME: home,
    USERPROFILE: home,
    AWS_SHARED_CREDENTIALS_FILE: join(home, 'no-credentials'),
    AWS_CONFIG_FILE: join(home, 'no-config'),
    AWS_EC2_METADATA_DISABLED: 'true',
  };
}

/**
 * Applies a fix script to records in a child process without AWS credentials, in one run.
 *
 * @example
 * ```ts
 * const [result] = await runFixScript('fix.mjs', [{ record, message }]);
 * if ('fixed' in result && result.fixed !== null) putBack(result.fixed);
 * ```
 */
export async function runFixScript(
  modulePath: string,
  items: ReadonlyArray<{ record: unknown; message: DeadLetterMessage }>,
): Promise<FixResult[]> {
  const home = mkdtempSync(join(tmpdir(), 'shardline-fix-'));
  try {
    const child = spawn(process.execPath, ['--import', TSX_LOADER, WORKER], {
      env: fixEnvironment(process.env, home),
      cwd: home,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    const exited = new Promise<number | null>((done, fail) => {
      child.on('error', fail);
      child.on('close', done);
    });
    child.stdin.end(JSON.stringify({ modulePath: resolve(modulePath), items }));
    const code = await exited;
    if (code !== 0) {
      const reason = Buffer.concat(stderr).toString('utf8').trim().split('\n')[0] ?? `exit status ${code}`;
      throw new CliError(reason || `the fix script ${modulePath} failed (exit status ${code})`);
    }
    return (JSON.parse(Buffer.concat(stdout).toString('utf8')) as { results: FixResult[] }).results;
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}
