import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../../local/pipeline';
import { CliError } from '../errors';

/**
 * `shardline bench`: the benchmarks, as `npm run bench` runs them (bench/run.ts), in a child process with
 * the terminal; its arguments pass through (`--only consumer,cost`, `--quick`, `--render`).
 */
export async function bench(args: readonly string[]): Promise<void> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(PROJECT_ROOT, 'bench', 'run.ts'), ...args], {
    cwd: PROJECT_ROOT,
    stdio: 'inherit',
  });
  const [code] = (await once(child, 'exit')) as [number | null];
  if (code !== 0)
    throw new CliError(
      `the benchmarks stopped with exit code ${code}; see the output above`,
      code === 2 ? 'usage' : 'environment',
    );
}
