import { describe, expect, it } from 'vitest';
import { renderStatus } from '../../cli/commands/status';
import { statusReport } from '../helpers/statusReport';

const behind = [
  { recordsBehind: 12, recordsBehindComplete: true },
  { recordsBehind: 100_000, recordsBehindComplete: false, pendingPublication: true },
];
const report = statusReport(
  { idle: false, local: { pid: 42, dataDir: '/tmp/run', endpoints: { kinesis: 'http://127.0.0.1:4567' } } },
  (n) => ({ ...behind[n], lastCommittedSequenceNumber: `4968000000000000000000${n}` }),
);

describe('shardline status, rendered', () => {
  it('shows records behind per shard, with "≥" when the count stopped at its cap', () => {
    const lines = renderStatus(report).split('\n');
    const header = lines.find((l) => l.includes('records behind')) ?? '';
    const column = header.indexOf('records behind');
    const cell = (shard: string) =>
      (lines.find((l) => l.startsWith(shard)) ?? '').slice(column).trim().split(/\s+/)[0];
    expect(cell('shardId-000000000000')).toBe('12');
    expect(cell('shardId-000000000001')).toBe('≥100000');
  });

  it('shows the invocations in flight and the retries per shard', () => {
    const inFlight = renderStatus(statusReport({}, (n) => ({ inFlight: n, retries: 7 * n })));
    const lines = inFlight.split('\n');
    const header = lines.find((l) => l.includes('in flight')) ?? '';
    const cell = (shard: string, column: string) =>
      (lines.find((l) => l.startsWith(shard)) ?? '').slice(header.indexOf(column)).trim().split(/\s+/)[0];
    expect(cell('shardId-000000000001', 'in flight')).toBe('1');
    expect(cell('shardId-000000000001', 'retries')).toBe('7');
    expect(cell('shardId-000000000000', 'retries')).toBe('0');
  });

  it('shows the committed rows of every dataset and the newest window', () => {
    const text = renderStatus(report);
    expect(text).toContain(
      'Rows committed: 1990 event(s), 11 invalid, 40 window(s), 6 session(s), 1 alert(s), 0 late event(s)',
    );
    expect(text).toContain(
      'newest window ends 2026-11-01T00:05:00.000Z, last commit 2026-11-01T00:06:00.000Z',
    );
  });

  it('shows the failure store: how many failed batches it keeps and how old the oldest is', () => {
    expect(renderStatus(report)).toContain('Failure store: 2 failed batch(es), 4096 bytes, oldest 5h old');
    expect(renderStatus(statusReport({ failureStore: null }))).toContain('Failure store: none');
  });
});
