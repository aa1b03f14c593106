import { describe, expect, test } from 'vitest';
import { jsonLineLogger } from '../../../local/esm/logger';

describe('structured log lines', () => {
  test('each entry is written as one JSON object on one line, with time, component, level and message first', () => {
    const lines: string[] = [];
    const log = jsonLineLogger('debug', (line) => lines.push(line));
    log({
      level: 'warn',
      message: 'retrying 1 records in 10 ms',
      decision: 'retry',
      shardId: 'shardId-000000000000',
    });
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toContain('\n');
    const parsed = JSON.parse(lines[0] ?? '');
    expect(Object.keys(parsed).slice(0, 4)).toEqual(['time', 'component', 'level', 'message']);
    expect(parsed).toMatchObject({ component: 'esm', decision: 'retry', shardId: 'shardId-000000000000' });
    expect(new Date(parsed.time).toISOString()).toBe(parsed.time);
  });

  test('entries below the minimum level are dropped (the default is info: per-invocation lines are debug)', () => {
    const lines: string[] = [];
    const log = jsonLineLogger(undefined, (line) => lines.push(line));
    log({ level: 'debug', message: 'invoked with 1 records: success', decision: 'invoke' });
    log({ level: 'info', message: 'bisecting', decision: 'bisect' });
    expect(lines.map((line) => JSON.parse(line).decision)).toEqual(['bisect']);
  });
});
