import { type BatchLimits, MAX_INVOCATION_PAYLOAD_BYTES, planBatch, shouldInvoke } from './batcher';
import type { EventRecord } from './eventShape';
import { decideAfterInvocation, expiredRecordCount, retryDelayMs } from './failurePolicy';
import { type BatchInvocation, invokeBatch } from './invoker';
import {
  buildOnFailureMessage,
  type OnFailureCondition,
  type OnFailureDestination,
} from './onFailureDestination';
import { reportsBatchItemFailures } from './settings';
import {
  formatWindowTime,
  MAX_WINDOW_STATE_BYTES,
  stateBytes,
  type WindowBounds,
  type WindowInvocation,
  type WindowState,
  windowEnvelopeBytes,
  windowFor,
} from './tumblingWindow';
import type {
  EsmLogger,
  EventSourceMappingOptions,
  EventSourceMappingSettings,
  RetryBackoff,
  ShardStats,
} from './types';
import { sleep, Wakeup } from './waiting';

/** Counters of one shard, shared by its lanes and reported by stats(). */
export interface ShardCounters {
  invocations: number;
  errors: number;
  retries: number;
  recordsSentToOnFailure: number;
  recordsFilteredOut: number;
  inFlight: number;
  iteratorAgeMs: number;
}

export interface LaneContext {
  shardId: string;
  streamArn: string;
  functionArn: string;
  settings: EventSourceMappingSettings;
  invoke: EventSourceMappingOptions['invoke'];
  destination: OnFailureDestination | undefined;
  backoff: RetryBackoff;
  clock: () => number;
  /** Aborted when the mapping stops: no new invocation or retry starts after that. */
  signal: AbortSignal;
  log: EsmLogger;
  counters: ShardCounters;
  /** Records are done (processed, or sent on-failure): the checkpoint may move over them. */
  complete: (records: readonly EventRecord[]) => void;
  /** Records left the read-ahead buffer: the poller may read more. */
  taken: () => void;
  maxPayloadBytes?: number;
}

/** What an invocation is for its tumbling window. */
type WindowRole =
  /** Records of the window, aggregated into its state. */
  | 'aggregate'
  /** The last invocation of the window (`isFinalInvokeForWindow`): the remaining records, or none. */
  | 'final'
  /** No records: the state grew past 1 MB, the window goes on with a fresh state (`isWindowTerminatedEarly`). */
  | 'terminate-early';

/** A batch on its way through the failure policy, with what its records went through so far. */
interface Attempt {
  records: EventRecord[];
  retriesUsed: number;
  /** Retries of any kind, for the backoff (uncounted ones included). */
  retryNumber: number;
  invokeCount: number;
  lastInvocation: BatchInvocation | undefined;
  /** With a tumbling window. `terminatedEarly` marks a final invocation made before the window's end. */
  window?: { role: WindowRole; terminatedEarly: boolean };
}

/** The tumbling window a lane is aggregating. */
interface OpenWindow {
  bounds: WindowBounds;
  /** What the last successful invocation of the window returned (`{}` at first). */
  state: WindowState;
  /**
   * Records of the window that are processed or were sent on-failure. They are checkpointed when the
   * window completes ("after successful invocation [of the final processing], your function checkpoints
   * the sequence number"), so a restart replays an unfinished window from its start with a fresh state.
   */
  done: EventRecord[];
  invocations: number;
}

/**
 * One ordered lane of a shard. With ParallelizationFactor 1 a shard has one lane; with N it has N, and
 * each partition key always maps to the same lane. A lane runs one batch at a time: it gathers records
 * (the batcher), invokes, and applies the failure policy until every record of the batch is done. With a
 * tumbling window (one lane per shard) batches never span two windows, each invocation carries the
 * window's state, and the window ends with a final invocation.
 */
export class Lane {
  private readonly queue: EventRecord[] = [];
  private readonly wakeup: Wakeup;
  private readonly windowed: boolean;
  private busy = false;
  private sourceEnded = false;
  private open: OpenWindow | undefined;
  /** Every record of the shard that arrived before this time has been read (see advanceWatermark). */
  private watermarkMs = Number.NEGATIVE_INFINITY;

  constructor(private readonly context: LaneContext) {
    this.wakeup = new Wakeup(context.signal);
    this.windowed = context.settings.TumblingWindowInSeconds > 0;
  }

  get queued(): number {
    return this.queue.length;
  }

  /** Nothing to do now: no batch running, nothing queued, no window waiting for its final invocation. */
  get idle(): boolean {
    return !this.busy && this.queue.length === 0 && !(this.open && this.windowClosing(this.open));
  }

  /** The tumbling window being aggregated, for stats(). */
  get openWindow(): ShardStats['openWindow'] {
    if (!this.open) return undefined;
    return {
      start: formatWindowTime(this.open.bounds.startMs),
      end: formatWindowTime(this.open.bounds.endMs),
      stateBytes: stateBytes(this.open.state),
      invocations: this.open.invocations,
    };
  }

  push(records: readonly EventRecord[]): void {
    for (const record of records) this.queue.push(record);
    this.wakeup.notify();
  }

  /** No more records will come (the shard ended): flush without waiting for the window, then finish. */
  endOfSource(): void {
    this.sourceEnded = true;
    this.wakeup.notify();
  }

  /**
   * Every record of the shard that arrived before `ms` has been read: a tumbling window that ends by then
   * is over and gets its final invocation.
   */
  advanceWatermark(ms: number): void {
    if (ms <= this.watermarkMs) return;
    this.watermarkMs = ms;
    this.wakeup.notify();
  }

  /** Runs until the source ends and the queue is empty, or the mapping stops. */
  run(): Promise<void> {
    return this.windowed ? this.runWindowed() : this.runPlain();
  }

  private limits(extraBytes = 0): BatchLimits {
    return {
      batchSize: this.context.settings.BatchSize,
      maxPayloadBytes: (this.context.maxPayloadBytes ?? MAX_INVOCATION_PAYLOAD_BYTES) - extraBytes,
    };
  }

  private async runPlain(): Promise<void> {
    const { settings, signal } = this.context;
    const batchingWindowMs = settings.MaximumBatchingWindowInSeconds * 1000;
    // The batching window starts when the previous invocation completes (for streams, per the Lambda docs).
    let readySinceMs = Date.now();
    while (!signal.aborted) {
      if (this.queue.length === 0) {
        if (this.sourceEnded) return;
        await this.wakeup.wait();
        continue;
      }
      const plan = planBatch(this.queue, this.limits());
      const nowMs = Date.now();
      const windowEndsAtMs = readySinceMs + batchingWindowMs;
      if (!shouldInvoke(plan, { nowMs, windowEndsAtMs, sourceExhausted: this.sourceEnded })) {
        await this.wakeup.wait(windowEndsAtMs - nowMs);
        continue;
      }
      await this.processBatch(plan.count, undefined);
      readySinceMs = Date.now();
    }
  }

  private async runWindowed(): Promise<void> {
    const { settings, signal, clock } = this.context;
    const batchingWindowMs = settings.MaximumBatchingWindowInSeconds * 1000;
    let readySinceMs = Date.now();
    while (!signal.aborted) {
      const open = this.open;
      if (open && this.windowClosing(open)) {
        // The window is over: its remaining records (or none) go in the final invocation.
        const inWindow = this.queuedInWindow(open, settings.BatchSize + 1);
        const count =
          inWindow === 0
            ? 0
            : planBatch(this.queue.slice(0, inWindow), this.limits(this.envelopeBytes(open))).count;
        const final = count >= inWindow;
        // A shard that ends (resharding) closes its window before the window's end time.
        const terminatedEarly =
          final && this.sourceEnded && this.watermarkMs < open.bounds.endMs && clock() < open.bounds.endMs;
        if (final) {
          this.context.log({
            level: 'info',
            message:
              `window ${describeWindow(open.bounds)} ends: final invocation with ${count} records` +
              (terminatedEarly ? ' (terminated early: the shard ended before the window)' : ''),
            decision: 'window-final-invoke',
            shardId: this.context.shardId,
            ...windowFields(open),
            records: count,
            isWindowTerminatedEarly: terminatedEarly,
          });
        }
        await this.processBatch(count, { role: final ? 'final' : 'aggregate', terminatedEarly });
        readySinceMs = Date.now();
        continue;
      }
      if (this.queue.length === 0) {
        if (this.sourceEnded) return;
        await this.wakeup.wait();
        continue;
      }
      if (!open) {
        this.openWindowFor(this.queue[0] as EventRecord);
        continue;
      }
      const inWindow = this.queuedInWindow(open, settings.BatchSize + 1);
      const plan = planBatch(this.queue.slice(0, inWindow), this.limits(this.envelopeBytes(open)));
      const nowMs = Date.now();
      const windowEndsAtMs = readySinceMs + batchingWindowMs;
      if (!shouldInvoke(plan, { nowMs, windowEndsAtMs, sourceExhausted: this.sourceEnded })) {
        await this.wakeup.wait(windowEndsAtMs - nowMs);
        continue;
      }
      await this.processBatch(plan.count, { role: 'aggregate', terminatedEarly: false });
      readySinceMs = Date.now();
    }
  }

  /**
   * A window is over once every record that arrived before its end has been read (a later record was
   * read, or a poll caught up after the end), or when the shard ends.
   */
  private windowClosing(open: OpenWindow): boolean {
    const head = this.queue[0];
    return (
      open.bounds.endMs <= this.watermarkMs ||
      this.sourceEnded ||
      (head !== undefined && head.source.approximateArrivalTimestampMs >= open.bounds.endMs)
    );
  }

  /** How many records at the head of the queue belong to the open window (counting stops at `limit`). */
  private queuedInWindow(open: OpenWindow, limit: number): number {
    let count = 0;
    while (
      count < Math.min(limit, this.queue.length) &&
      (this.queue[count] as EventRecord).source.approximateArrivalTimestampMs < open.bounds.endMs
    ) {
      count += 1;
    }
    return count;
  }

  private openWindowFor(record: EventRecord) {
    const bounds = windowFor(
      record.source.approximateArrivalTimestampMs,
      this.context.settings.TumblingWindowInSeconds,
    );
    this.open = { bounds, state: {}, done: [], invocations: 0 };
    this.context.log({
      level: 'debug',
      message: `window ${describeWindow(bounds)} opens`,
      decision: 'window-open',
      shardId: this.context.shardId,
      ...windowFields(this.open),
    });
  }

  private envelopeBytes(open: OpenWindow): number {
    return windowEnvelopeBytes(this.windowInvocation(open, 'aggregate', false));
  }

  private windowInvocation(open: OpenWindow, role: WindowRole, terminatedEarly: boolean): WindowInvocation {
    return {
      bounds: open.bounds,
      state: open.state,
      shardId: this.context.shardId,
      streamArn: this.context.streamArn,
      isFinalInvokeForWindow: role === 'final',
      isWindowTerminatedEarly: role === 'terminate-early' || terminatedEarly,
    };
  }

  /** Takes `count` records from the queue (possibly none, for a final invocation) and processes them. */
  private async processBatch(count: number, window: Attempt['window']): Promise<void> {
    this.busy = true;
    const batch = this.queue.splice(0, count);
    if (count > 0) this.context.taken();
    try {
      await this.process(batch, window);
    } finally {
      this.busy = false;
    }
  }

  private async process(batch: EventRecord[], window: Attempt['window']): Promise<void> {
    const { context } = this;
    const { settings, counters, signal, log } = context;
    const policy = {
      bisectBatchOnFunctionError: settings.BisectBatchOnFunctionError,
      maximumRetryAttempts: settings.MaximumRetryAttempts,
    };
    const work: Attempt[] = [
      {
        records: batch,
        retriesUsed: 0,
        retryNumber: 0,
        invokeCount: 0,
        lastInvocation: undefined,
        ...(window ? { window } : {}),
      },
    ];
    while (work.length > 0 && !signal.aborted) {
      const attempt = work[0] as Attempt;
      const expired = expiredRecordCount(
        attempt.records.map((record) => record.source.approximateArrivalTimestampMs),
        context.clock(),
        settings.MaximumRecordAgeInSeconds,
      );
      if (expired > 0) {
        if (!(await this.discard(attempt.records.slice(0, expired), 'RecordAgeExceeded', attempt))) return;
        attempt.records = attempt.records.slice(expired);
        if (attempt.records.length === 0) {
          work.shift();
          continue;
        }
      }

      const open = this.open;
      const windowInvocation =
        attempt.window && open
          ? this.windowInvocation(open, attempt.window.role, attempt.window.terminatedEarly)
          : undefined;
      counters.invocations += 1;
      counters.inFlight += 1;
      let invocation: BatchInvocation;
      try {
        invocation = await invokeBatch(
          context.invoke,
          attempt.records,
          reportsBatchItemFailures(settings),
          windowInvocation,
        );
      } finally {
        counters.inFlight -= 1;
      }
      log({
        level: 'debug',
        message: `invoked with ${attempt.records.length} records: ${invocation.result.kind}`,
        decision: 'invoke',
        shardId: context.shardId,
        requestId: invocation.requestId,
        durationMs: invocation.outcome?.durationMs,
        result: invocation.result.kind,
        ...rangeOf(attempt.records),
        ...(open && attempt.window
          ? {
              ...windowFields(open),
              isFinalInvokeForWindow: windowInvocation?.isFinalInvokeForWindow,
              isWindowTerminatedEarly: windowInvocation?.isWindowTerminatedEarly,
            }
          : {}),
      });
      if (invocation.result.kind !== 'not-invoked') attempt.invokeCount += 1;
      attempt.lastInvocation = invocation;
      if (invocation.result.kind === 'function-error' || invocation.result.kind === 'not-invoked') {
        counters.errors += 1;
      }

      const decision = decideAfterInvocation(
        invocation.result,
        { size: attempt.records.length, retriesUsed: attempt.retriesUsed },
        policy,
      );
      const range = rangeOf(attempt.records);
      switch (decision.action) {
        case 'checkpoint':
          this.done(attempt.records);
          work.shift();
          if (attempt.window && open) this.windowInvocationSucceeded(open, attempt, invocation, work);
          break;
        case 'bisect': {
          const first = attempt.records.slice(0, decision.firstHalfSize);
          const second = attempt.records.slice(decision.firstHalfSize);
          log({
            level: 'info',
            message: `bisecting a failed batch of ${attempt.records.length} records (splits do not count as retries)`,
            decision: 'bisect',
            shardId: context.shardId,
            ...range,
            firstHalf: first.length,
            secondHalf: second.length,
            failure: invocation.failure,
          });
          // Only the second half can be the window's final invocation.
          const firstWindow = attempt.window
            ? { role: 'aggregate' as const, terminatedEarly: false }
            : undefined;
          work.splice(
            0,
            1,
            { ...attempt, records: first, ...(firstWindow ? { window: firstWindow } : {}) },
            { ...attempt, records: second },
          );
          break;
        }
        case 'retry': {
          this.done(attempt.records.slice(0, decision.doneCount));
          // A partial batch response with a window: the state it returned covers the records before the
          // failure, so the retry carries it on (the AWS documentation is silent on this).
          if (open && attempt.window && invocation.state) open.state = invocation.state;
          attempt.records = attempt.records.slice(decision.doneCount);
          attempt.retriesUsed = decision.retriesUsed;
          attempt.retryNumber += 1;
          if (decision.countsAsRetry) counters.retries += 1;
          const delayMs = retryDelayMs(attempt.retryNumber, context.backoff);
          log({
            level: 'warn',
            message: `retrying ${attempt.records.length} records in ${delayMs} ms`,
            decision: 'retry',
            shardId: context.shardId,
            ...rangeOf(attempt.records),
            retry: decision.countsAsRetry ? attempt.retriesUsed : undefined,
            maximumRetryAttempts: settings.MaximumRetryAttempts,
            delayMs,
            failure: invocation.failure,
          });
          await sleep(delayMs, signal);
          break;
        }
        case 'discard': {
          this.done(attempt.records.slice(0, decision.doneCount));
          const rest = attempt.records.slice(decision.doneCount);
          if (!(await this.discard(rest, decision.condition, attempt))) return;
          work.shift();
          if (attempt.window && open) this.windowInvocationGaveUp(open, attempt, invocation);
          break;
        }
      }
    }
  }

  /** A window invocation succeeded: keep its state, end the window, or terminate it early. */
  private windowInvocationSucceeded(
    open: OpenWindow,
    attempt: Attempt,
    invocation: BatchInvocation,
    work: Attempt[],
  ) {
    const role = attempt.window?.role;
    open.invocations += 1;
    if (role === 'final') {
      this.closeWindow(open, 'completed');
      return;
    }
    if (role === 'terminate-early') {
      open.state = {};
      return;
    }
    open.state = invocation.state ?? open.state;
    const bytes = stateBytes(open.state);
    if (bytes > MAX_WINDOW_STATE_BYTES) {
      this.context.log({
        level: 'warn',
        message:
          `window ${describeWindow(open.bounds)} terminated early: the state is ${bytes} bytes, over the ` +
          `${MAX_WINDOW_STATE_BYTES}-byte limit; the window continues with a fresh state`,
        decision: 'window-terminated-early',
        shardId: this.context.shardId,
        ...windowFields(open),
      });
      work.unshift({
        records: [],
        retriesUsed: 0,
        retryNumber: 0,
        invokeCount: 0,
        lastInvocation: undefined,
        window: { role: 'terminate-early', terminatedEarly: true },
      });
    }
  }

  /** A window invocation's retries ran out (its records, if any, went on-failure). */
  private windowInvocationGaveUp(open: OpenWindow, attempt: Attempt, invocation: BatchInvocation) {
    const role = attempt.window?.role;
    if (role === 'terminate-early') {
      open.state = {};
    } else if (role === 'final' && attempt.records.length === 0) {
      // Nothing left to send on-failure: the window ends without a successful final invocation.
      this.closeWindow(open, 'abandoned', invocation.failure);
    }
    // A final invocation whose records went on-failure: the next loop makes an empty final invocation.
  }

  private closeWindow(open: OpenWindow, outcome: 'completed' | 'abandoned', failure?: string) {
    this.open = undefined;
    this.context.log({
      level: outcome === 'completed' ? 'info' : 'error',
      message:
        outcome === 'completed'
          ? `window ${describeWindow(open.bounds)} complete: ${open.done.length} records checkpointed, state dropped`
          : `window ${describeWindow(open.bounds)} ends without a successful final invocation (retries ` +
            `exhausted); ${open.done.length} records checkpointed, state dropped`,
      decision: outcome === 'completed' ? 'window-complete' : 'window-abandoned',
      shardId: this.context.shardId,
      ...windowFields(open),
      records: open.done.length,
      failure,
    });
    this.context.complete(open.done);
  }

  /** Records are done. With a tumbling window they are checkpointed when the window completes. */
  private done(records: readonly EventRecord[]) {
    const last = records[records.length - 1];
    if (!last) return;
    this.context.counters.iteratorAgeMs = Math.max(
      0,
      this.context.clock() - last.source.approximateArrivalTimestampMs,
    );
    if (this.windowed && this.open) this.open.done.push(...records);
    else this.context.complete(records);
  }

  /**
   * Sends the on-failure record for discarded records, retrying until the destination takes it (the checkpoint does
   * not move past records whose failure was not recorded). False if the mapping stopped first.
   */
  private async discard(
    records: EventRecord[],
    condition: OnFailureCondition,
    attempt: Attempt,
  ): Promise<boolean> {
    const { context } = this;
    if (records.length === 0) return true;
    const message = buildOnFailureMessage({
      requestId: attempt.lastInvocation?.requestId,
      functionArn: context.functionArn,
      condition,
      // AWS reports 1 for records discarded as too old before any invocation (test/fixtures/aws/).
      approximateInvokeCount: Math.max(1, attempt.invokeCount),
      response: attempt.lastInvocation?.response,
      discardedAt: new Date(),
      shardId: context.shardId,
      streamArn: context.streamArn,
      records: records.map((record) => record.source),
    });
    const details = { decision: 'discard', condition, ...message.KinesisBatchInfo };
    if (!context.destination) {
      context.log({
        level: 'warn',
        message: `discarded ${records.length} records (no on-failure destination)`,
        ...details,
      });
      this.done(records);
      return true;
    }
    let failures = 0;
    while (!context.signal.aborted) {
      try {
        await context.destination.send(
          message,
          records.map((record) => record.event),
        );
        context.counters.recordsSentToOnFailure += records.length;
        context.log({
          level: 'warn',
          message: `sent ${records.length} records on-failure (${condition})`,
          ...details,
          approximateInvokeCount: attempt.invokeCount,
        });
        this.done(records);
        return true;
      } catch (error) {
        failures += 1;
        context.log({
          level: 'error',
          message: `could not send the on-failure record: ${(error as Error).message}; retrying`,
          ...details,
          decision: 'on-failure-send-retry',
        });
        await sleep(retryDelayMs(failures, context.backoff), context.signal);
      }
    }
    return false;
  }
}

function rangeOf(records: readonly EventRecord[]) {
  return {
    firstSequenceNumber: records[0]?.source.sequenceNumber,
    lastSequenceNumber: records[records.length - 1]?.source.sequenceNumber,
    records: records.length,
  };
}

function describeWindow(bounds: WindowBounds): string {
  return `${formatWindowTime(bounds.startMs)}–${formatWindowTime(bounds.endMs)}`;
}

function windowFields(open: OpenWindow) {
  return {
    windowStart: formatWindowTime(open.bounds.startMs),
    windowEnd: formatWindowTime(open.bounds.endMs),
    stateBytes: stateBytes(open.state),
  };
}
