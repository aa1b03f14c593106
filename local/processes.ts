import { readFileSync } from 'node:fs';

/**
 * Whether a process is alive. A zombie (killed, not yet reaped by its parent) counts as dead: it holds no
 * ports, no files and no locks, and after a SIGKILL of a whole process group the children linger as
 * zombies until something reaps them.
 *
 * @example
 * ```ts
 * isProcessAlive(process.pid); // true
 * ```
 */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    // /proc/<pid>/stat: "pid (comm) state …"; comm may contain spaces and parentheses.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    // No procfs (macOS): kill(0) succeeding is the best answer there.
    return true;
  }
}
