import type { StatusReport } from '../status/collectStatus';
import type { LakeSnapshot } from './lakeSnapshot';
import { type CommitSample, latestRate, type RatePoint, ratePoints } from './rateSeries';

/**
 * The JSON the dashboard page polls (`GET /api/state`): either the empty state, when no `shardline up`
 * runs in the data directory, or what the dashboard has observed of the running pipeline. Built by
 * pure functions from plain observations, so every number on the page can be checked without a server.
 */

export interface NotRunningState {
  status: 'not-running';
  generatedAt: string;
  dataDir: string;
  /** The command that starts the pipeline in this data directory. */
  startCommand: string;
}

export interface ShardPanel {
  shardId: string;
  committedRecords: number;
  lastCommittedSequenceNumber: string | null;
  /** Records on the stream after the checkpoint; null when status could not count them. */
  recordsBehind: number | null;
  /** False when the count stopped at status's cap: there are at least `recordsBehind`. */
  recordsBehindComplete: boolean;
  millisBehindLatest: number | null;
  iteratorAgeMs: number | null;
  invocations: number | null;
  errors: number | null;
}

export interface RunningState {
  status: 'running';
  generatedAt: string;
  dataDir: string;
  stage: string;
  pid: number;
  startedAt: string;
  /** null until the first status read (or when `up` published no stats yet). */
  idle: boolean | null;
  /** Why the last read of the pipeline failed; the numbers shown are then the last good ones. */
  warning: string | null;
  rates: { windowSeconds: number; points: RatePoint[]; latestIn: number | null; latestOut: number | null };
  committedRecords: number | null;
  /** Rows committed per dataset and when; null before the first status read. */
  committed: CommittedSummary | null;
  shards: ShardPanel[];
  dlq: { depth: number | null; history: number[] };
  /** Failed batches kept in the S3 failure store; null before the first report or without a store. */
  failureStore: StatusReport['failureStore'];
  objects: StatusReport['objects'] | null;
  lake: { snapshot: LakeSnapshot | null; error: string | null };
}

/** What the checkpoints' exactly-once counters say was committed, all shards together. */
export interface CommittedSummary {
  rows: StatusReport['rows'];
  /** The end of the newest committed window, in event time (ISO 8601); null before the first. */
  latestWindowEnd: string | null;
  /** When the last commit landed (ISO 8601); null before the first. */
  lastCommitAt: string | null;
}

export type DashboardState = NotRunningState | RunningState;

export interface DlqSample {
  atMs: number;
  depth: number;
}

/** Everything the dashboard has gathered about one run of `shardline up`. */
export interface PipelineObservations {
  runtime: { pid: number; stage: string; startedAt: string };
  report: StatusReport | null;
  reportError: string | null;
  arrivalsBySecond: ReadonlyMap<number, number>;
  arrivalsCountedFromSecond: number | null;
  commitSamples: readonly CommitSample[];
  dlqSamples: readonly DlqSample[];
  lake: LakeSnapshot | null;
  lakeError: string | null;
}

/**
 * How to start `up` for this data directory: the short command when it is the default one.
 *
 * @example
 * ```ts
 * startCommand('/home/me/app/.shardline', '/home/me/app/.shardline'); // 'npx shardline up'
 * startCommand('/tmp/run', '/home/me/app/.shardline'); // 'npx shardline up --data-dir /tmp/run'
 * ```
 */
export function startCommand(dataDir: string, defaultDataDir: string): string {
  return dataDir === defaultDataDir ? 'npx shardline up' : `npx shardline up --data-dir ${dataDir}`;
}

/**
 * The empty state: nothing runs in the data directory.
 *
 * @example
 * ```ts
 * const state = notRunningState({ dataDir, defaultDataDir, nowMs: Date.now() });
 * ```
 */
export function notRunningState(input: {
  dataDir: string;
  defaultDataDir: string;
  nowMs: number;
}): NotRunningState {
  return {
    status: 'not-running',
    generatedAt: new Date(input.nowMs).toISOString(),
    dataDir: input.dataDir,
    startCommand: startCommand(input.dataDir, input.defaultDataDir),
  };
}

function shardPanels(report: StatusReport): ShardPanel[] {
  return report.shards.map((shard) => ({
    shardId: shard.shardId,
    committedRecords: shard.committedRecords,
    lastCommittedSequenceNumber: shard.lastCommittedSequenceNumber,
    recordsBehind: shard.recordsBehind,
    recordsBehindComplete: shard.recordsBehindComplete,
    millisBehindLatest: shard.millisBehindLatest,
    iteratorAgeMs: shard.iteratorAgeMs,
    invocations: shard.invocations,
    errors: shard.errors,
  }));
}

/**
 * The running state: the latest status report, plus the rate and DLQ series over the window.
 *
 * @example
 * ```ts
 * const state = runningState({ dataDir, observations, nowMs: Date.now(), windowSeconds: 120 });
 * ```
 */
export function runningState(input: {
  dataDir: string;
  observations: PipelineObservations;
  nowMs: number;
  windowSeconds: number;
}): RunningState {
  const { observations: o, nowMs, windowSeconds } = input;
  const points = ratePoints({
    nowMs,
    windowSeconds,
    arrivalsBySecond: o.arrivalsBySecond,
    arrivalsCountedFromSecond: o.arrivalsCountedFromSecond,
    commitSamples: o.commitSamples,
  });
  const windowStartMs = nowMs - windowSeconds * 1000;
  return {
    status: 'running',
    generatedAt: new Date(nowMs).toISOString(),
    dataDir: input.dataDir,
    stage: o.runtime.stage,
    pid: o.runtime.pid,
    startedAt: o.runtime.startedAt,
    idle: o.report?.idle ?? null,
    warning: o.reportError,
    rates: {
      windowSeconds,
      points,
      latestIn: latestRate(points, 'in'),
      latestOut: latestRate(points, 'out'),
    },
    committedRecords: o.report ? o.report.shards.reduce((sum, s) => sum + s.committedRecords, 0) : null,
    committed: o.report
      ? {
          rows: o.report.rows,
          latestWindowEnd: o.report.latestWindowEnd,
          lastCommitAt: o.report.lastCommitAt,
        }
      : null,
    shards: o.report ? shardPanels(o.report) : [],
    dlq: {
      depth: o.report?.dlqDepth ?? null,
      history: o.dlqSamples.filter((s) => s.atMs >= windowStartMs).map((s) => s.depth),
    },
    failureStore: o.report?.failureStore ?? null,
    objects: o.report?.objects ?? null,
    lake: { snapshot: o.lake, error: o.lakeError },
  };
}
