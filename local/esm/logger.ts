import type { EsmLogEntry, EsmLogger } from './types';

const ORDER: Record<EsmLogEntry['level'], number> = { debug: 0, info: 1, warn: 2, error: 3 };

/**
 * The default logger: one JSON object per line on stderr, from `minLevel` up.
 *
 * @example
 * ```ts
 * const log = jsonLineLogger('warn');
 * log({ level: 'warn', message: 'retrying 100 records in 1000 ms', shardId: 'shardId-000000000000' });
 * // {"time":"…","component":"esm","level":"warn","message":"retrying 100 records in 1000 ms",…}
 * ```
 */
export function jsonLineLogger(
  minLevel: EsmLogEntry['level'] = 'info',
  write: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
): EsmLogger {
  return (entry) => {
    if (ORDER[entry.level] < ORDER[minLevel]) return;
    write(JSON.stringify({ time: new Date().toISOString(), component: 'esm', ...entry }));
  };
}
