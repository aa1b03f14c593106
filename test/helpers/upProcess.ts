import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLI, PROJECT_ROOT } from './cli';

/**
 * `shardline up` as a separate process group (so that a test can SIGKILL it with every emulator it
 * started), plus what it publishes in its data directory.
 */
export interface UpProcess {
  child: ChildProcess;
  /** The consumer's execution-environment processes, from the stats `up` publishes every second. */
  consumerPids(): number[];
  /** SIGKILL the whole process group: `up`, the emulators and the consumer. */
  killGroup(): Promise<void>;
  stop(): Promise<void>;
}

export async function startUp(dataDir: string, extraArgs: string[] = []): Promise<UpProcess> {
  const child = spawn(process.execPath, [CLI, 'up', '--json', '--data-dir', dataDir, ...extraArgs], {
    cwd: PROJECT_ROOT,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk) => {
    stderr += chunk;
  });
  await new Promise<void>((resolve, reject) => {
    let stdout = '';
    const timer = setTimeout(
      () => reject(new Error(`shardline up did not become ready: ${stderr.slice(-2000)}`)),
      120_000,
    );
    child.stdout?.on('data', (chunk) => {
      stdout += chunk;
      if (stdout.includes('"ready":true')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`shardline up exited with ${code}: ${stderr.slice(-2000)}`));
    });
  });
  const exited = once(child, 'exit');
  return {
    child,
    consumerPids() {
      try {
        return (JSON.parse(readFileSync(join(dataDir, 'stats.json'), 'utf8')).consumerPids ?? []) as number[];
      } catch {
        return [];
      }
    },
    async killGroup() {
      process.kill(-(child.pid as number), 'SIGKILL');
      await exited;
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      await exited;
    },
  };
}
