import { join } from 'node:path';
import { NotRunningError, type RuntimeInfo, readRuntime } from '../../local/runtimeState';
import { mirrorBucket } from '../lake/mirror';
import { LAKE_PREFIXES } from '../lake/targetLake';
import { openLake } from '../lake/views';
import { collectStatus, type StatusReport, WATCH_RECORDS_BEHIND_CAP } from '../status/collectStatus';
import { localTarget, type ResolvedTarget, type TargetClients, targetClients } from '../targets';
import {
  type DashboardState,
  type DlqSample,
  notRunningState,
  type PipelineObservations,
  runningState,
} from './dashboardState';
import { type LakeSnapshot, readLakeSnapshot } from './lakeSnapshot';
import type { CommitSample } from './rateSeries';
import { StreamTap } from './streamTap';

/**
 * Watches a data directory for a running `shardline up` and observes it: the status report (the same
 * one `shardline status` prints) and the stream's arrivals every second, the lake every few seconds.
 * When `up` stops, the observations go; when it starts again, a new watch begins by itself.
 */

export interface PipelineMonitorOptions {
  dataDir: string;
  /** The data directory `shardline up` uses when given none, for the empty state's hint. */
  defaultDataDir: string;
  /** Seconds of history in the charts. */
  windowSeconds?: number;
  statusIntervalMs?: number;
  /** Mirroring the lake and opening DuckDB costs more than a status read: do it less often. */
  lakeIntervalMs?: number;
}

/** One run of `up`, from the moment the monitor saw it until it stops. */
class PipelineWatch {
  readonly target: ResolvedTarget;
  readonly clients: TargetClients;
  readonly tap: StreamTap;
  readonly mirrorDir: string;
  report: StatusReport | null = null;
  reportError: string | null = null;
  commitSamples: CommitSample[] = [];
  dlqSamples: DlqSample[] = [];
  lake: LakeSnapshot | null = null;
  lakeError: string | null = null;
  lakeRefreshedAtMs = 0;
  lakeRefresh: Promise<void> | null = null;

  constructor(
    readonly runtime: RuntimeInfo,
    windowSeconds: number,
  ) {
    this.target = localTarget(runtime);
    this.clients = targetClients(this.target);
    this.tap = new StreamTap(
      this.clients.kinesis,
      runtime.resources.streamName,
      Date.now() - windowSeconds * 1000,
    );
    // Its own mirror, so that a `shardline query` running meanwhile never reads a file being rewritten.
    this.mirrorDir = join(runtime.dataDir, 'mirror', `dashboard-local-${runtime.stage}`);
  }

  isSameRun(runtime: RuntimeInfo): boolean {
    return runtime.pid === this.runtime.pid && runtime.startedAt === this.runtime.startedAt;
  }

  observations(): PipelineObservations {
    return {
      runtime: this.runtime,
      report: this.report,
      reportError: this.reportError,
      arrivalsBySecond: this.tap.arrivalsBySecond,
      arrivalsCountedFromSecond: this.tap.countedFromSecond,
      commitSamples: this.commitSamples,
      dlqSamples: this.dlqSamples,
      lake: this.lake,
      lakeError: this.lakeError,
    };
  }

  close(): void {
    for (const client of Object.values(this.clients)) client.destroy();
  }
}

const errorText = (error: unknown) => (error instanceof Error ? error.message : String(error));

export class PipelineMonitor {
  private readonly windowSeconds: number;
  private readonly statusIntervalMs: number;
  private readonly lakeIntervalMs: number;
  private watch: PipelineWatch | null = null;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | null = null;
  private stopped = false;

  constructor(private readonly options: PipelineMonitorOptions) {
    this.windowSeconds = options.windowSeconds ?? 120;
    this.statusIntervalMs = options.statusIntervalMs ?? 1_000;
    this.lakeIntervalMs = options.lakeIntervalMs ?? 5_000;
  }

  /**
   * Starts observing; the first observation runs at once.
   *
   * @example
   * ```ts
   * const monitor = new PipelineMonitor({ dataDir: '/abs/.shardline', defaultDataDir: '/abs/.shardline' });
   * monitor.start();
   * monitor.state(); // { status: 'not-running', … } or { status: 'running', … }
   * await monitor.stop();
   * ```
   */
  start(): void {
    const loop = async () => {
      if (this.stopped) return;
      const startedMs = Date.now();
      this.running = this.observe().catch((error) => {
        process.stderr.write(`shardline dashboard: ${errorText(error)}\n`);
      });
      await this.running;
      // Start to start, so that samples stay about one interval apart however long a read takes.
      const delayMs = Math.max(0, this.statusIntervalMs - (Date.now() - startedMs));
      if (!this.stopped) this.timer = setTimeout(loop, delayMs);
    };
    void loop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
    await this.watch?.lakeRefresh;
    this.watch?.close();
    this.watch = null;
  }

  /** What the page shows now. */
  state(nowMs = Date.now()): DashboardState {
    const { dataDir, defaultDataDir } = this.options;
    if (!this.watch) return notRunningState({ dataDir, defaultDataDir, nowMs });
    return runningState({
      dataDir,
      observations: this.watch.observations(),
      nowMs,
      windowSeconds: this.windowSeconds,
    });
  }

  private async observe(): Promise<void> {
    const watch = this.currentWatch();
    if (!watch) return;
    try {
      // Every second: a smaller cap on the records-behind count, so a backlog does not make the dashboard
      // compete with the consumer for the stream's reads.
      const report = await collectStatus(watch.target, watch.clients, {
        recordsBehindCap: WATCH_RECORDS_BEHIND_CAP,
      });
      const atMs = Date.now();
      watch.report = report;
      watch.reportError = null;
      watch.commitSamples.push({
        atMs,
        committedRecords: report.shards.reduce((sum, s) => sum + s.committedRecords, 0),
      });
      watch.dlqSamples.push({ atMs, depth: report.dlqDepth });
      await watch.tap.poll();
    } catch (error) {
      watch.reportError = `could not read the pipeline: ${errorText(error)}`;
    }
    this.forgetOldSamples(watch);
    if (!watch.lakeRefresh && Date.now() - watch.lakeRefreshedAtMs >= this.lakeIntervalMs) {
      watch.lakeRefresh = this.refreshLake(watch).finally(() => {
        watch.lakeRefresh = null;
      });
    }
  }

  /** The watch of the running `up`, a new one if `up` (re)started, or null when none runs. */
  private currentWatch(): PipelineWatch | null {
    let runtime: RuntimeInfo;
    try {
      runtime = readRuntime(this.options.dataDir);
    } catch (error) {
      // Anything else is a runtime.json caught half-written: keep watching what we had.
      if (!(error instanceof NotRunningError)) return this.watch;
      this.watch?.close();
      this.watch = null;
      return null;
    }
    if (!this.watch?.isSameRun(runtime)) {
      this.watch?.close();
      this.watch = new PipelineWatch(runtime, this.windowSeconds);
    }
    return this.watch;
  }

  private forgetOldSamples(watch: PipelineWatch): void {
    // One sample before the window is kept: the rate of the window's first second needs it.
    const keepFromMs = Date.now() - (this.windowSeconds + 5) * 1000;
    const firstKept = (samples: { atMs: number }[]) => {
      const firstInWindow = samples.findIndex((s) => s.atMs >= keepFromMs);
      return Math.max(0, (firstInWindow === -1 ? samples.length : firstInWindow) - 1);
    };
    watch.commitSamples.splice(0, firstKept(watch.commitSamples));
    watch.dlqSamples.splice(0, firstKept(watch.dlqSamples));
    watch.tap.forgetBefore(Math.floor(keepFromMs / 1000));
  }

  private async refreshLake(watch: PipelineWatch): Promise<void> {
    try {
      const mirrored = await mirrorBucket(
        watch.clients.s3,
        watch.target.resources.bucketName,
        LAKE_PREFIXES,
        watch.mirrorDir,
        undefined,
        { committedOnly: true },
      );
      // An unchanged lake gives the same answers: skip DuckDB, the costly part of a refresh.
      if (watch.lake && mirrored.downloaded === 0 && mirrored.removed === 0) {
        watch.lakeError = null;
        return;
      }
      const lake = await openLake(watch.mirrorDir);
      try {
        watch.lake = await readLakeSnapshot(lake);
        watch.lakeError = null;
      } finally {
        lake.close();
      }
    } catch (error) {
      watch.lakeError = `could not read the lake: ${errorText(error)}`;
    } finally {
      watch.lakeRefreshedAtMs = Date.now();
    }
  }
}
