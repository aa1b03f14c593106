import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isProcessAlive } from '../../local/processes';
import { CLI, PROJECT_ROOT } from './cli';

/** Process ids whose process group is `group`, from /proc. */
function groupMembers(group: number): number[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .filter((pid) => {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]) === group;
      } catch {
        return false;
      }
    })
    .map(Number);
}

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
      const group = child.pid as number;
      process.kill(-group, 'SIGKILL');
      await exited;
      // The emulators die with the group; wait until none is left holding a port or a lock.
      for (const deadline = Date.now() + 10_000; Date.now() < deadline; ) {
        if (groupMembers(group).every((pid) => !isProcessAlive(pid))) return;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      throw new Error(`processes of group ${group} survived SIGKILL`);
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      await exited;
    },
  };
}
