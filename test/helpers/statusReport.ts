import type { ShardStatus, StatusReport } from '../../cli/status/collectStatus';

/**
 * A `shardline status --json` report of a local pipeline with two shards, for the tests of what renders
 * it (the status text, the dashboard state). Shard `n` has `1000 + n` committed records, `5 * n` records
 * behind, `100 * n` ms behind and `n` errors.
 */
export function statusReport(
  overrides: Partial<StatusReport> = {},
  shard: (n: number) => Partial<ShardStatus> = () => ({}),
): StatusReport {
  return {
    target: 'local',
    stage: 'dev',
    local: { pid: 42, dataDir: '/tmp/run', endpoints: {} },
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
    shards: [0, 1].map((n) => ({
      shardId: `shardId-00000000000${n}`,
      lastCommittedSequenceNumber: `4968${n}`,
      committedRecords: 1000 + n,
      recordsBehind: 5 * n,
      recordsBehindComplete: true,
      pendingPublication: false,
      millisBehindLatest: 100 * n,
      iteratorAgeMs: 250,
      inFlight: 0,
      invocations: 3,
      errors: n,
      retries: 0,
      recordsSentToOnFailure: 0,
      ...shard(n),
    })),
    rows: { events: 1990, invalid: 11, windows: 40, sessions: 6, alerts: 1, lateEvents: 0, engagement: 0 },
    latestWindowEnd: '2026-11-01T00:05:00.000Z',
    lastCommitAt: '2026-11-01T00:06:00.000Z',
    dlqDepth: 17,
    failureStore: { batches: 2, bytes: 4096, oldestAgeMs: 5 * 3_600_000 },
    objects: { parquet: 4, csv: 4, bytes: 2048 },
    prefixes: { 'events/parquet': { objects: 4, bytes: 1024 }, 'events/csv': { objects: 4, bytes: 1024 } },
    deadLetters: null,
    idle: true,
    ...overrides,
  };
}
