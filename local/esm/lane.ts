import { MAX_INVOCATION_PAYLOAD_BYTES, planBatch, shouldInvoke } from './batcher';
import type { EventRecord } from './eventShape';
import { decideAfterInvocation, expiredRecordCount, retryDelayMs } from './failurePolicy';
import { type BatchInvocation, invokeBatch } from './invoker';
import {
  buildOnFailureMessage,
  type OnFailureCondition,
  type OnFailureDestination,
} from './onFailureDestination';
import { reportsBatchItemFailures } from './settings';
import type { EsmLogger, EventSourceMappingOptions, EventSourceMappingSettings, RetryBackoff } from './types';
import { sleep, Wakeup } from './waiting';

/** Counters of one shard, shared by its lanes and reported by stats(). */
export interface ShardCounters {
  invocations: number;
  errors: number;
  retries: number;
  recordsSentToOnFailure: number;
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

/** A batch on its way through the failure policy, with what its records went through so far. */
interface Attempt {
  records: EventRecord[];
  retriesUsed: number;
  /** Retries of any kind, for the backoff (uncounted ones included). */
  retryNumber: number;
  invokeCount: number;
  lastInvocation: BatchInvocation | undefined;
}

/**
 * One ordered lane of a shard. With ParallelizationFactor 1 a shard has one lane; with N it has N, and
 * each partition key always maps to the same lane. A lane runs one batch at a time: it gathers records
 * (the batcher), invokes, and applies the failure policy until every record of the batch is done.
 */
export class Lane {
  private readonly queue: EventRecord[] = [];
  private readonly wakeup: Wakeup;
  private busy = false;
  private sourceEnded = false;

  constructor(private readonly context: LaneContext) {
    this.wakeup = new Wakeup(context.signal);
  }

  get queued(): number {
    return this.queue.length;
  }

  get idle(): boolean {
    return !this.busy && this.queue.length === 0;
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

  /** Runs until the source ends and the queue is empty, or the mapping stops. */
  async run(): Promise<void> {
    const { settings, signal } = this.context;
    const windowMs = settings.MaximumBatchingWindowInSeconds * 1000;
    const limits = {
      batchSize: settings.BatchSize,
      maxPayloadBytes: this.context.maxPayloadBytes ?? MAX_INVOCATION_PAYLOAD_BYTES,
    };
    // The batching window starts when the previous invocation completes (for streams, per the Lambda docs).
    let readySinceMs = Date.now();
    while (!signal.aborted) {
      if (this.queue.length === 0) {
        if (this.sourceEnded) return;
        await this.wakeup.wait();
        continue;
      }
      const plan = planBatch(this.queue, limits);
      const nowMs = Date.now();
      const windowEndsAtMs = readySinceMs + windowMs;
      if (!shouldInvoke(plan, { nowMs, windowEndsAtMs, sourceExhausted: this.sourceEnded })) {
        await this.wakeup.wait(windowEndsAtMs - nowMs);
        continue;
      }
      this.busy = true;
      const batch = this.queue.splice(0, plan.count);
      this.context.taken();
      try {
        await this.process(batch);
      } finally {
        this.busy = false;
      }
      readySinceMs = Date.now();
    }
  }

  private async process(batch: EventRecord[]): Promise<void> {
    const { context } = this;
    const { settings, counters, signal, log } = context;
    const policy = {
      bisectBatchOnFunctionError: settings.BisectBatchOnFunctionError,
      maximumRetryAttempts: settings.MaximumRetryAttempts,
    };
    const work: Attempt[] = [
      { records: batch, retriesUsed: 0, retryNumber: 0, invokeCount: 0, lastInvocation: undefined },
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

      counters.invocations += 1;
      counters.inFlight += 1;
      let invocation: BatchInvocation;
      try {
        invocation = await invokeBatch(context.invoke, attempt.records, reportsBatchItemFailures(settings));
      } finally {
        counters.inFlight -= 1;
      }
      log({
        level: 'debug',
        message: `invoked with ${attempt.records.length} records: ${invocation.result.kind}`,
        shardId: context.shardId,
        requestId: invocation.requestId,
        durationMs: invocation.outcome?.durationMs,
        ...rangeOf(attempt.records),
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
          break;
        case 'bisect': {
          const first = attempt.records.slice(0, decision.firstHalfSize);
          const second = attempt.records.slice(decision.firstHalfSize);
          log({
            level: 'info',
            message: `bisecting a failed batch of ${attempt.records.length} records (splits do not count as retries)`,
            shardId: context.shardId,
            ...range,
            failure: invocation.failure,
          });
          work.splice(0, 1, { ...attempt, records: first }, { ...attempt, records: second });
          break;
        }
        case 'retry': {
          this.done(attempt.records.slice(0, decision.doneCount));
          attempt.records = attempt.records.slice(decision.doneCount);
          attempt.retriesUsed = decision.retriesUsed;
          attempt.retryNumber += 1;
          if (decision.countsAsRetry) counters.retries += 1;
          const delayMs = retryDelayMs(attempt.retryNumber, context.backoff);
          log({
            level: 'warn',
            message: `retrying ${attempt.records.length} records in ${delayMs} ms`,
            shardId: context.shardId,
            ...rangeOf(attempt.records),
            retry: decision.countsAsRetry ? attempt.retriesUsed : undefined,
            maximumRetryAttempts: settings.MaximumRetryAttempts,
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
          break;
        }
      }
    }
  }

  private done(records: readonly EventRecord[]) {
    const last = records[records.length - 1];
    if (!last) return;
    this.context.counters.iteratorAgeMs = Math.max(
      0,
      this.context.clock() - last.source.approximateArrivalTimestampMs,
    );
    this.context.complete(records);
  }

  /**
   * Sends the on-failure record for discarded records, retrying until SQS takes it (the checkpoint does
   * not move past records whose failure was not recorded). False if the mapping stopped first.
   */
  private async discard(
    records: EventRecord[],
    condition: OnFailureCondition,
    attempt: Attempt,
  ): Promise<boolean> {
    const { context } = this;
    const message = buildOnFailureMessage({
      requestId: attempt.lastInvocation?.requestId,
      functionArn: context.functionArn,
      condition,
      approximateInvokeCount: attempt.invokeCount,
      response: attempt.lastInvocation?.response,
      discardedAt: new Date(),
      shardId: context.shardId,
      streamArn: context.streamArn,
      records: records.map((record) => record.source),
    });
    const details = { condition, ...message.KinesisBatchInfo };
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
        await context.destination.send(message);
        context.counters.recordsSentToOnFailure += records.length;
        context.log({ level: 'warn', message: `sent ${records.length} records on-failure`, ...details });
        this.done(records);
        return true;
      } catch (error) {
        failures += 1;
        context.log({
          level: 'error',
          message: `could not send the on-failure record: ${(error as Error).message}; retrying`,
          ...details,
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
