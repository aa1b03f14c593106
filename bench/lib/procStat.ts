import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** CPU time of other processes, from Linux's /proc/<pid>/stat (user + system, in clock ticks). */

let ticksPerSecond: number | undefined;

/** `getconf CLK_TCK`, 100 on every common Linux. */
export function clockTicksPerSecond(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/**
 * User plus system CPU seconds of a process from the text of its /proc/<pid>/stat line. The command name
 * (field 2) may hold spaces and parentheses, so fields are counted from the last ')'.
 *
 * @example
 * ```ts
 * cpuSecondsFromStat('42 (node) S 1 42 42 0 -1 4194304 0 0 0 0 250 50 0 0', 100); // 3
 * ```
 */
export function cpuSecondsFromStat(stat: string, ticks: number): number {
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // After the name: state(3) ppid(4) … utime(14) stime(15), so utime is the 12th field here.
  return (Number(fields[11]) + Number(fields[12])) / ticks;
}

/** CPU seconds a live process has used so far, or undefined once it has gone. */
export function processCpuSeconds(pid: number): number | undefined {
  try {
    return cpuSecondsFromStat(readFileSync(`/proc/${pid}/stat`, 'utf8'), clockTicksPerSecond());
  } catch {
    return undefined;
  }
}

/**
 * Tracks the CPU seconds of a changing set of processes between `start()` and `stop()`: a process first
 * seen after the start counts from zero (it was born during the window); one that exits keeps its last
 * reading.
 */
export class CpuMeter {
  private readonly first = new Map<number, number>();
  private readonly last = new Map<number, number>();

  start(pids: readonly number[]) {
    for (const pid of pids) {
      const seconds = processCpuSeconds(pid);
      if (seconds !== undefined) {
        this.first.set(pid, seconds);
        this.last.set(pid, seconds);
      }
    }
  }

  sample(pids: readonly number[]) {
    for (const pid of pids) {
      const seconds = processCpuSeconds(pid);
      if (seconds === undefined) continue;
      if (!this.first.has(pid)) this.first.set(pid, 0);
      this.last.set(pid, seconds);
    }
  }

  /** CPU seconds used by each tracked pid since the start. */
  used(): Map<number, number> {
    const used = new Map<number, number>();
    for (const [pid, start] of this.first) used.set(pid, (this.last.get(pid) ?? start) - start);
    return used;
  }
}
