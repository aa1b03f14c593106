import type { CheckpointStore, ShardCheckpoint } from './checkpointStore';
import { CheckpointTracker } from './checkpointTracker';
import {
  type EventRecord,
  type EventRecordSource,
  prepareEventRecord,
  type StreamRecord,
} from './eventShape';
import type { RecordFilter } from './filterCriteria';
import { Lane, type LaneContext, type ShardCounters } from './lane';
import type { OnFailureDestination } from './onFailureDestination';
import { laneForPartitionKey } from './parallelization';
import {
  InvalidCheckpointError,
  MAX_GET_RECORDS_LIMIT,
  type ShardPoller,
  type ShardStartPosition,
} from './shardPoller';
import { WINDOW_CLOSE_GRACE_MS } from './tumblingWindow';
import type {
  EsmLogger,
  EventSourceMappingOptions,
  EventSourceMappingSettings,
  RetryBackoff,
  ShardStats,
} from './types';
import { sleep, Wakeup } from './waiting';

export interface ShardProcessorOptions {
  shardId: string;
  start: ShardStartPosition;
  /** The persisted checkpoint this processor resumes from (if any), kept in the state it writes. */
  checkpoint: ShardCheckpoint | undefined;
  createPoller: (start: ShardStartPosition) => ShardPoller;
  /** Where to restart if the persisted checkpoint is not in the stream any more. */
  fallbackStart: ShardStartPosition;
  settings: EventSourceMappingSettings;
  /** The compiled FilterCriteria; undefined when every record goes to the function. */
  filter: RecordFilter | undefined;
  eventSource: Omit<EventRecordSource, 'shardId'>;
  functionArn: string;
  invoke: EventSourceMappingOptions['invoke'];
  destination: OnFailureDestination | undefined;
  store: CheckpointStore;
  pollIntervalMs: number;
  maxBufferedRecords: number;
  backoff: RetryBackoff;
  clock: () => number;
  log: EsmLogger;
  /** The mapping's stop signal. */
  signal: AbortSignal;
}

export type ShardRunResult = 'ended' | 'stopped';

/**
 * Everything Lambda's event source mapping does for one shard: a poller reads records in order, lanes
 * (one per ParallelizationFactor) batch and invoke them, and the checkpoint moves over the records that
 * are done and is persisted so that a restart resumes there.
 */
export class ShardProcessor {
  readonly shardId: string;
  private readonly counters: ShardCounters = {
    invocations: 0,
    errors: 0,
    retries: 0,
    recordsSentToOnFailure: 0,
    recordsFilteredOut: 0,
    inFlight: 0,
    iteratorAgeMs: 0,
  };
  private readonly tracker = new CheckpointTracker();
  private readonly lanes: Lane[];
  private readonly drained: Wakeup;
  private poller: ShardPoller;
  private status: ShardStats['status'] = 'processing';
  private lastProcessedSequenceNumber: string | undefined;
  private millisBehindLatest = 0;
  private caughtUp = false;
  /** The closed shard's last record was read; not idle until it is marked ended (its children may start). */
  private endReached = false;
  /** performance.now() at the start of the last poll that completed. */
  private lastCompletedPollStartedAt = Number.NEGATIVE_INFINITY;

  constructor(private readonly options: ShardProcessorOptions) {
    this.shardId = options.shardId;
    this.lastProcessedSequenceNumber = options.checkpoint?.lastProcessedSequenceNumber;
    this.poller = options.createPoller(options.start);
    this.drained = new Wakeup(options.signal);
    const laneContext: LaneContext = {
      shardId: options.shardId,
      streamArn: options.eventSource.streamArn,
      functionArn: options.functionArn,
      settings: options.settings,
      invoke: options.invoke,
      destination: options.destination,
      backoff: options.backoff,
      clock: options.clock,
      signal: options.signal,
      log: options.log,
      counters: this.counters,
      complete: (records) => this.complete(records),
      taken: () => this.drained.notify(),
    };
    // A tumbling window's state is per shard, so a windowed shard runs one lane (see settingWarnings).
    const laneCount =
      options.settings.TumblingWindowInSeconds > 0 ? 1 : options.settings.ParallelizationFactor;
    this.lanes = Array.from({ length: laneCount }, () => new Lane(laneContext));
  }

  /**
   * Gets the first shard iterator, which fixes a LATEST start position. Failures are logged and retried
   * by run().
   *
   * @example
   * ```ts
   * await processor.initialize();
   * void processor.run();
   * ```
   */
  async initialize(): Promise<void> {
    try {
      await this.poller.initialize(this.options.signal);
    } catch (error) {
      if (error instanceof InvalidCheckpointError) this.fallBack(error);
      else this.logPollError(error);
    }
  }

  /** Processes the shard until it ends (every record done) or the mapping stops. */
  async run(): Promise<ShardRunResult> {
    const laneRuns = this.lanes.map((lane) => lane.run());
    const ended = await this.pollLoop();
    for (const lane of this.lanes) lane.endOfSource();
    await Promise.all(laneRuns);
    await this.options.store.flush();
    if (!ended || this.options.signal.aborted || this.tracker.pending > 0) return 'stopped';
    this.status = 'ended';
    await this.options.store.saveShard({
      shardId: this.shardId,
      ...(this.lastProcessedSequenceNumber === undefined
        ? {}
        : { lastProcessedSequenceNumber: this.lastProcessedSequenceNumber }),
      ended: true,
    });
    this.options.log({
      level: 'info',
      message: `shard ${this.shardId} ended and is fully processed`,
      shardId: this.shardId,
    });
    return 'ended';
  }

  stats(): ShardStats {
    return {
      shardId: this.shardId,
      status: this.status,
      lastProcessedSequenceNumber: this.lastProcessedSequenceNumber,
      millisBehindLatest: this.millisBehindLatest,
      iteratorAgeMs: this.counters.iteratorAgeMs,
      inFlight: this.counters.inFlight,
      bufferedRecords: this.buffered(),
      invocations: this.counters.invocations,
      errors: this.counters.errors,
      retries: this.counters.retries,
      recordsSentToOnFailure: this.counters.recordsSentToOnFailure,
      recordsFilteredOut: this.counters.recordsFilteredOut,
      ...(this.lanes[0]?.openWindow ? { openWindow: this.lanes[0].openWindow } : {}),
    };
  }

  /** Caught up with the shard, nothing buffered, in flight or waiting for a retry. */
  get idle(): boolean {
    if (this.status === 'ended') return true;
    if (this.endReached) return false;
    return this.caughtUp && this.lanes.every((lane) => lane.idle);
  }

  /** Whether a poll that started after `since` (performance.now()) has completed. */
  polledSince(since: number): boolean {
    return this.status === 'ended' || this.lastCompletedPollStartedAt >= since;
  }

  private buffered(): number {
    return this.lanes.reduce((sum, lane) => sum + lane.queued, 0);
  }

  private async pollLoop(): Promise<boolean> {
    const { signal, pollIntervalMs } = this.options;
    while (!signal.aborted) {
      const room = this.options.maxBufferedRecords - this.buffered();
      if (room <= 0) {
        await this.drained.wait(pollIntervalMs);
        continue;
      }
      const startedAt = performance.now();
      const startedAtClockMs = this.options.clock();
      let result: Awaited<ReturnType<ShardPoller['poll']>>;
      try {
        result = await this.poller.poll(Math.min(room, MAX_GET_RECORDS_LIMIT), signal);
      } catch (error) {
        if (signal.aborted) break;
        if (error instanceof InvalidCheckpointError) this.fallBack(error);
        else this.logPollError(error);
        await sleep(pollIntervalMs, signal);
        continue;
      }
      this.millisBehindLatest = result.millisBehindLatest;
      this.dispatch(result.records);
      this.caughtUp = !result.moreAvailable;
      // Caught up: every record that arrived before this poll started has been read.
      if (this.caughtUp) this.advanceWatermark(startedAtClockMs - WINDOW_CLOSE_GRACE_MS);
      this.lastCompletedPollStartedAt = startedAt;
      if (result.shardEnded) {
        this.endReached = true;
        return true;
      }
      if (!result.moreAvailable) await sleep(pollIntervalMs, signal);
    }
    return false;
  }

  private dispatch(records: readonly StreamRecord[]) {
    if (records.length === 0) return;
    const source: EventRecordSource = { ...this.options.eventSource, shardId: this.shardId };
    const { filter } = this.options;
    const perLane: EventRecord[][] = this.lanes.map(() => []);
    const filteredOut: StreamRecord[] = [];
    for (const record of records) {
      if (filter && !filter.matches(record)) {
        filteredOut.push(record);
        continue;
      }
      const lane = laneForPartitionKey(record.partitionKey, this.lanes.length);
      perLane[lane]?.push(prepareEventRecord(record, source));
    }
    this.tracker.track(records.map((record) => record.sequenceNumber));
    perLane.forEach((laneRecords, index) => {
      if (laneRecords.length > 0) this.lanes[index]?.push(laneRecords);
    });
    if (filteredOut.length > 0) this.filterOut(filteredOut);
    // Arrival times rise along a shard: nothing that arrived before the last record read is still unread.
    const lastArrivalMs = records.reduce(
      (latest, record) => Math.max(latest, record.approximateArrivalTimestampMs),
      Number.NEGATIVE_INFINITY,
    );
    this.advanceWatermark(lastArrivalMs);
  }

  /**
   * Records that match none of the filters never reach the function; Lambda's iterator moves past them,
   * so they count as processed and the checkpoint may move over them.
   */
  private filterOut(records: readonly StreamRecord[]) {
    this.counters.recordsFilteredOut += records.length;
    const last = records[records.length - 1] as StreamRecord;
    this.counters.iteratorAgeMs = Math.max(0, this.options.clock() - last.approximateArrivalTimestampMs);
    this.options.log({
      level: 'debug',
      message: `filtered out ${records.length} records that match none of the FilterCriteria`,
      decision: 'filter-out',
      shardId: this.shardId,
      records: records.length,
      firstSequenceNumber: records[0]?.sequenceNumber,
      lastSequenceNumber: last.sequenceNumber,
    });
    this.completeSequenceNumbers(records.map((record) => record.sequenceNumber));
  }

  private advanceWatermark(ms: number) {
    for (const lane of this.lanes) lane.advanceWatermark(ms);
  }

  private complete(records: readonly EventRecord[]) {
    this.completeSequenceNumbers(records.map((record) => record.source.sequenceNumber));
  }

  private completeSequenceNumbers(sequenceNumbers: readonly string[]) {
    const checkpoint = this.tracker.complete(sequenceNumbers);
    if (checkpoint === undefined) return;
    this.lastProcessedSequenceNumber = checkpoint;
    void this.options.store
      .saveShard({ shardId: this.shardId, lastProcessedSequenceNumber: checkpoint })
      .catch((error: Error) =>
        this.options.log({
          level: 'error',
          message: `could not persist the checkpoint of ${this.shardId}: ${error.message}`,
          shardId: this.shardId,
        }),
      );
  }

  private fallBack(error: InvalidCheckpointError) {
    this.options.log({
      level: 'warn',
      message: `${error.message}; reading the shard from ${this.options.fallbackStart.type} instead`,
      shardId: this.shardId,
    });
    this.poller = this.options.createPoller(this.options.fallbackStart);
  }

  private logPollError(error: unknown) {
    this.options.log({
      level: 'warn',
      message: `polling ${this.shardId} failed: ${(error as Error).name}: ${(error as Error).message}`,
      shardId: this.shardId,
    });
  }
}
