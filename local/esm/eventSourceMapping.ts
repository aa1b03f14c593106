import { createHash } from 'node:crypto';
import { type ListedShard, listShards } from '../../lambdas/shared/kinesisShards';
import { isS3BucketArn, isSqsQueueArn, parseArn } from './arn';
import { CheckpointStore, type MappingState } from './checkpointStore';
import {
  EsmIdleTimeoutError,
  StateDirMismatchError,
  StreamUnavailableError,
  UnsupportedOnFailureDestinationError,
} from './errors';
import { compileFilterCriteria, type RecordFilter } from './filterCriteria';
import { jsonLineLogger } from './logger';
import {
  type OnFailureDestination,
  s3OnFailureDestination,
  sqsOnFailureDestination,
} from './onFailureDestination';
import { settingWarnings, validateSettings } from './settings';
import { planShardStart } from './shardDiscovery';
import { ShardPoller, type ShardStartPosition } from './shardPoller';
import { ShardProcessor } from './shardProcessor';
import type {
  EsmLogger,
  EsmStats,
  EventSourceMapping,
  EventSourceMappingOptions,
  ShardStats,
  WaitUntilIdleOptions,
} from './types';
import { sleep } from './waiting';

const DEFAULTS = {
  pollIntervalMs: 1_000,
  retryBackoff: { initialMs: 1_000, maxMs: 30_000 },
  shardDiscoveryIntervalMs: 10_000,
  maxBufferedRecordsPerShard: 10_000,
  idleTimeoutMs: 30_000,
};

/**
 * Starts a local Kinesis event source mapping that behaves like Lambda's, setting by setting: it polls
 * every shard (parents before children), batches records (BatchSize, MaximumBatchingWindowInSeconds, the
 * 6 MB payload limit), drops records that match none of the FilterCriteria, invokes the function with
 * the exact Kinesis event (with TumblingWindowInSeconds: the window, its state and a final invocation),
 * applies the failure policy (retries, BisectBatchOnFunctionError, MaximumRecordAgeInSeconds,
 * ReportBatchItemFailures), sends on-failure records to SQS, and persists per-shard checkpoints in
 * `stateDir`. Invalid settings or filter patterns are refused with a named error before anything starts.
 * Resolves once every shard's start position is fixed: with LATEST, records written after that are
 * processed.
 *
 * @example
 * ```ts
 * const host = createFunctionHost({ functionName, assetPath, handler: 'index.handler', environment,
 *   timeoutSeconds: 30, memoryMb: 512 });
 * const mapping = await startEventSourceMapping({
 *   settings: withKinesisDefaults({ StartingPosition: 'TRIM_HORIZON', BisectBatchOnFunctionError: true,
 *     MaximumRetryAttempts: 2, DestinationConfig: { OnFailure: { Destination: dlqArn } } }),
 *   streamName, streamArn, functionArn: host.functionArn,
 *   kinesis: kinesisClient({ endpoint }), sqs: sqsClient({ endpoint: sqsEndpoint }),
 *   resolveQueueUrl: () => dlqUrl,
 *   invoke: (event) => host.invoke(event),
 *   stateDir: '.shardline/esm/consumer',
 * });
 * await mapping.waitUntilIdle();
 * console.log(mapping.stats());
 * await mapping.stop();
 * ```
 */
export async function startEventSourceMapping(
  options: EventSourceMappingOptions,
): Promise<EventSourceMapping> {
  const { settings } = options;
  validateSettings(settings);
  const log = options.logger ?? jsonLineLogger();
  for (const { setting, warning } of settingWarnings(settings)) {
    log({ level: 'warn', message: warning, setting });
  }
  const filter = compileFilterCriteria(settings.FilterCriteria);
  const destinationArn = settings.DestinationConfig?.OnFailure?.Destination;
  if (
    destinationArn !== undefined &&
    !isSqsQueueArn(destinationArn) &&
    !(isS3BucketArn(destinationArn) && options.s3 !== undefined)
  ) {
    throw new UnsupportedOnFailureDestinationError(destinationArn);
  }
  if (!settings.Enabled) {
    log({
      level: 'info',
      message: 'the event source mapping is disabled (Enabled: false): nothing is polled',
    });
    return {
      stop: async () => {},
      stats: () => ({ idle: true, shards: [] }),
      waitUntilIdle: async () => {},
    };
  }
  const coordinator = new ShardCoordinator(options, log, destinationArn, filter);
  await coordinator.start();
  return {
    stop: () => coordinator.stop(),
    stats: () => coordinator.stats(),
    waitUntilIdle: (waitOptions) => coordinator.waitUntilIdle(waitOptions),
  };
}

/** Finds the shards, starts a processor per shard in parent-before-child order, and aggregates stats. */
class ShardCoordinator {
  private readonly controller = new AbortController();
  private readonly store: CheckpointStore;
  private readonly destination: OnFailureDestination | undefined;
  private readonly processors = new Map<string, ShardProcessor>();
  private readonly runs: Promise<unknown>[] = [];
  private readonly waiting = new Map<string, string[]>();
  private readonly ended = new Set<string>();
  private readonly endedCheckpoints = new Map<string, string | undefined>();
  private mappingState: MappingState | undefined;
  private reconciling: Promise<void> = Promise.resolve();
  private reconcilesPending = 0;
  private discovery: Promise<void> = Promise.resolve();

  constructor(
    private readonly options: EventSourceMappingOptions,
    private readonly log: EsmLogger,
    destinationArn: string | undefined,
    private readonly filter: RecordFilter | undefined,
  ) {
    this.store = new CheckpointStore(options.stateDir);
    this.destination =
      destinationArn === undefined
        ? undefined
        : isS3BucketArn(destinationArn) && options.s3
          ? s3OnFailureDestination(options.s3, destinationArn, mappingUuidOf(options))
          : sqsOnFailureDestination(options.sqs, destinationArn, options.resolveQueueUrl);
  }

  async start(): Promise<void> {
    let listed: ListedShard[];
    try {
      listed = await listShards(this.options.kinesis, this.options.streamName, this.controller.signal);
    } catch (error) {
      throw new StreamUnavailableError(
        this.options.streamName,
        `${(error as Error).name}: ${(error as Error).message}`,
      );
    }
    this.mappingState = await this.store.loadMapping();
    if (this.mappingState && this.mappingState.streamArn !== this.options.streamArn) {
      throw new StateDirMismatchError(
        this.options.stateDir,
        this.mappingState.streamArn,
        this.options.streamArn,
      );
    }
    if (!this.mappingState) {
      this.mappingState = {
        streamArn: this.options.streamArn,
        functionArn: this.options.functionArn,
        initialShardIds: listed.map((shard) => shard.shardId),
        createdAtMs: Date.now(),
      };
      await this.store.saveMapping(this.mappingState);
    }
    this.log({
      level: 'info',
      message: `event source mapping started on ${this.options.streamName} (${listed.length} shards)`,
      streamArn: this.options.streamArn,
      functionArn: this.options.functionArn,
    });
    await this.reconcile(listed);
    this.discovery = this.discoverPeriodically();
  }

  async stop(): Promise<void> {
    this.controller.abort();
    await this.discovery;
    await this.reconciling;
    await Promise.all(this.runs);
    await this.store.flush();
    this.log({ level: 'info', message: `event source mapping on ${this.options.streamName} stopped` });
  }

  stats(): EsmStats {
    const shards: ShardStats[] = [...this.processors.values()].map((processor) => processor.stats());
    for (const [shardId] of this.waiting) shards.push(emptyStats(shardId, 'waiting-for-parents', undefined));
    for (const [shardId, checkpoint] of this.endedCheckpoints) {
      if (!this.processors.has(shardId)) shards.push(emptyStats(shardId, 'ended', checkpoint));
    }
    shards.sort((a, b) => a.shardId.localeCompare(b.shardId));
    return { idle: this.isIdle(), shards };
  }

  async waitUntilIdle(options: WaitUntilIdleOptions = {}): Promise<void> {
    const timeoutMs = options.timeoutMs ?? DEFAULTS.idleTimeoutMs;
    const since = performance.now();
    while (
      !(this.isIdle() && [...this.processors.values()].every((processor) => processor.polledSince(since)))
    ) {
      if (performance.now() - since > timeoutMs) {
        throw new EsmIdleTimeoutError(timeoutMs, JSON.stringify(this.stats()));
      }
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  private isIdle(): boolean {
    if (this.reconcilesPending > 0) return false;
    // A processor reports 'ended' a moment before the coordinator hears of it: count it as ended already.
    const ended = (shardId: string) =>
      this.ended.has(shardId) || this.processors.get(shardId)?.stats().status === 'ended';
    const startable = [...this.waiting.values()].some((parents) => parents.every(ended));
    return !startable && [...this.processors.values()].every((processor) => processor.idle);
  }

  private async discoverPeriodically(): Promise<void> {
    const { signal } = this.controller;
    const interval = this.options.shardDiscoveryIntervalMs ?? DEFAULTS.shardDiscoveryIntervalMs;
    while (!signal.aborted) {
      await sleep(interval, signal);
      if (signal.aborted) break;
      await this.rediscover();
    }
  }

  private async rediscover(): Promise<void> {
    try {
      await this.reconcile(
        await listShards(this.options.kinesis, this.options.streamName, this.controller.signal),
      );
    } catch (error) {
      if (!this.controller.signal.aborted) {
        this.log({ level: 'warn', message: `listing the shards failed: ${(error as Error).message}` });
      }
    }
  }

  /** Serialized: starts what can start, notes what waits for its parents. */
  private reconcile(listed: ListedShard[]): Promise<void> {
    this.reconcilesPending += 1;
    this.reconciling = this.reconciling
      .then(() => this.reconcileNow(listed))
      .finally(() => {
        this.reconcilesPending -= 1;
      });
    return this.reconciling;
  }

  private async reconcileNow(listed: ListedShard[]): Promise<void> {
    const listedShardIds = new Set(listed.map((shard) => shard.shardId));
    const initialShardIds = new Set(this.mappingState?.initialShardIds ?? []);
    for (const shard of listed) {
      if (this.controller.signal.aborted) return;
      if (this.processors.has(shard.shardId) || this.ended.has(shard.shardId)) continue;
      const checkpoint = await this.store.loadShard(shard.shardId);
      const plan = planShardStart(shard, {
        listedShardIds,
        endedShardIds: this.ended,
        initial: initialShardIds.has(shard.shardId),
        checkpoint,
        settings: this.options.settings,
        nowMs: Date.now(),
      });
      if (plan.action === 'ended') {
        this.markEnded(shard.shardId, checkpoint?.lastProcessedSequenceNumber);
        if (plan.persist) await this.store.saveShard({ shardId: shard.shardId, ended: true });
        continue;
      }
      if (plan.action === 'wait-for-parents') {
        if (!this.waiting.has(shard.shardId)) {
          this.log({
            level: 'info',
            message: `shard ${shard.shardId} waits for its parents to be processed`,
            shardId: shard.shardId,
            parents: plan.parents,
          });
        }
        this.waiting.set(shard.shardId, plan.parents);
        continue;
      }
      this.waiting.delete(shard.shardId);
      const startCheckpoint =
        plan.persistStartedAtMs === undefined
          ? checkpoint
          : { shardId: shard.shardId, startedAtMs: plan.persistStartedAtMs };
      if (plan.persistStartedAtMs !== undefined && startCheckpoint)
        await this.store.saveShard(startCheckpoint);
      await this.startProcessor(shard.shardId, plan.position, startCheckpoint);
    }
  }

  private async startProcessor(
    shardId: string,
    start: ShardStartPosition,
    checkpoint: Awaited<ReturnType<CheckpointStore['loadShard']>>,
  ): Promise<void> {
    const { options } = this;
    const streamRegion = parseArn(options.streamArn, 'a Kinesis stream ARN').region;
    const functionAccount = parseArn(options.functionArn, 'a Lambda function ARN').accountId;
    const functionName = options.functionArn.split(':').pop() ?? 'function';
    const processor = new ShardProcessor({
      shardId,
      start,
      checkpoint,
      createPoller: (position) => new ShardPoller(options.kinesis, options.streamName, shardId, position),
      fallbackStart: { type: 'TRIM_HORIZON' },
      settings: options.settings,
      filter: this.filter,
      eventSource: {
        streamArn: options.streamArn,
        awsRegion: streamRegion,
        invokeIdentityArn:
          options.executionRoleArn ?? `arn:aws:iam::${functionAccount}:role/${functionName}-role`,
      },
      functionArn: options.functionArn,
      invoke: options.invoke,
      destination: this.destination,
      store: this.store,
      pollIntervalMs: options.pollIntervalMs ?? DEFAULTS.pollIntervalMs,
      maxBufferedRecords: options.maxBufferedRecordsPerShard ?? DEFAULTS.maxBufferedRecordsPerShard,
      backoff: options.retryBackoff ?? DEFAULTS.retryBackoff,
      clock: options.clock ?? Date.now,
      log: this.log,
      signal: this.controller.signal,
    });
    this.processors.set(shardId, processor);
    this.log({ level: 'info', message: `processing shard ${shardId} from ${describe(start)}`, shardId });
    await processor.initialize();
    this.runs.push(
      processor.run().then(async (result) => {
        if (result !== 'ended') return;
        this.markEnded(shardId, processor.stats().lastProcessedSequenceNumber);
        // A closed shard has children: look for them now rather than at the next discovery tick.
        if (!this.controller.signal.aborted) await this.rediscover();
      }),
    );
  }

  private markEnded(shardId: string, lastProcessedSequenceNumber: string | undefined) {
    this.ended.add(shardId);
    this.endedCheckpoints.set(shardId, lastProcessedSequenceNumber);
    this.waiting.delete(shardId);
  }
}

/**
 * The mapping's UUID, as AWS names it in S3 on-failure keys: given, or derived from the function and the
 * stream so that a restarted mapping keeps it.
 */
function mappingUuidOf(options: EventSourceMappingOptions): string {
  if (options.mappingUuid) return options.mappingUuid;
  const hex = createHash('sha256').update(`${options.functionArn}\n${options.streamArn}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

function describe(start: ShardStartPosition): string {
  switch (start.type) {
    case 'AFTER_SEQUENCE_NUMBER':
      return `the checkpoint ${start.sequenceNumber}`;
    case 'AT_TIMESTAMP':
      return `AT_TIMESTAMP ${new Date(start.timestampMs).toISOString()}`;
    default:
      return start.type;
  }
}

function emptyStats(
  shardId: string,
  status: ShardStats['status'],
  lastProcessedSequenceNumber: string | undefined,
): ShardStats {
  return {
    shardId,
    status,
    lastProcessedSequenceNumber,
    millisBehindLatest: 0,
    iteratorAgeMs: 0,
    inFlight: 0,
    bufferedRecords: 0,
    invocations: 0,
    errors: 0,
    retries: 0,
    recordsSentToOnFailure: 0,
    recordsFilteredOut: 0,
  };
}
