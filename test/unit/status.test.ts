import { describe, expect, it } from 'vitest';
import { renderStatus, type StatusReport } from '../../cli/commands/status';

const report: StatusReport = {
  target: 'local',
  stage: 'dev',
  local: { pid: 42, dataDir: '/tmp/run', endpoints: { kinesis: 'http://127.0.0.1:4567' } },
  resources: {
    stage: 'dev',
    region: 'us-east-1',
    streamName: 's',
    tableName: 't',
    bucketName: 'b',
    dlqUrl: 'q',
    producerFunctionName: 'p',
    consumerFunctionName: 'c',
  },
  shards: [
    { behind: 12, complete: true },
    { behind: 100_000, complete: false },
  ].map(({ behind, complete }, n) => ({
    shardId: `shardId-00000000000${n}`,
    lastCommittedSequenceNumber: `4968000000000000000000${n}`,
    committedRecords: 1000 + n,
    recordsBehind: behind,
    recordsBehindComplete: complete,
    pendingIntent: n === 1,
    millisBehindLatest: 100 * n,
    iteratorAgeMs: 250,
    inFlight: 0,
    invocations: 3,
    errors: n,
    retries: 0,
    recordsSentToOnFailure: 0,
  })),
  rows: { events: 1990, invalid: 11, windows: 40, sessions: 6, alerts: 1, lateEvents: 0 },
  latestWindowEnd: '2026-11-01T00:05:00.000Z',
  lastCommitAt: '2026-11-01T00:06:00.000Z',
  dlqDepth: 11,
  objects: { parquet: 4, csv: 4, bytes: 2048 },
  prefixes: { 'events/parquet': { objects: 4, bytes: 1024 }, alerts: { objects: 1, bytes: 512 } },
  deadLetters: null,
  idle: false,
};

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

  it('shows the committed rows of every dataset and the newest window', () => {
    const text = renderStatus(report);
    expect(text).toContain(
      'Rows committed: 1990 event(s), 11 invalid, 40 window(s), 6 session(s), 1 alert(s), 0 late event(s)',
    );
    expect(text).toContain(
      'newest window ends 2026-11-01T00:05:00.000Z, last commit 2026-11-01T00:06:00.000Z',
    );
  });
});
