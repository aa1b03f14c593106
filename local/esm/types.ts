import type { KinesisClient } from '@aws-sdk/client-kinesis';
import type { S3Client } from '@aws-sdk/client-s3';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { KinesisStreamEvent, KinesisStreamRecord } from 'aws-lambda';
import type { KinesisMappingSettings, StartingPosition } from '../../lib/eventSourceMappingProperties';
import type { InvokeOutcome } from '../lambda/types';

export type { InvokeOutcome, KinesisStreamEvent, KinesisStreamRecord, StartingPosition };

/**
 * The event of an invocation with a tumbling window, as in the AWS example `KinesisTimeWindowEvent`
 * (`@types/aws-lambda` lacks `shardId` and `eventSourceARN`).
 */
export interface KinesisTimeWindowEvent extends KinesisStreamEvent {
  window: { start: string; end: string };
  state: Record<string, unknown>;
  shardId: string;
  eventSourceARN: string;
  isFinalInvokeForWindow: boolean;
  isWindowTerminatedEarly: boolean;
}

/**
 * The Kinesis-relevant properties of `AWS::Lambda::EventSourceMapping`, named as in CloudFormation, with
 * Lambda's defaults applied (see `withKinesisDefaults`). The settings with a value of their own, their
 * ranges and defaults are declared in lib/eventSourceMappingProperties.ts.
 */
export interface EventSourceMappingSettings extends KinesisMappingSettings {
  FilterCriteria?: { Filters?: ReadonlyArray<{ Pattern?: string }> };
  DestinationConfig?: { OnFailure?: { Destination: string } };
  /**
   * Properties the template sets that the local mapping does not emulate (MetricsConfig, KmsKeyArn, …), as
   * local/resources/lambdaEventSourceMapping.ts lists them: each is logged at start, never ignored silently.
   */
  ignoredProperties?: readonly string[];
}

/** One structured log entry; `message` says what happened, the other fields are data. */
export interface EsmLogEntry {
  level: 'debug' | 'info' | 'warn' | 'error';
  message: string;
  [field: string]: unknown;
}

export type EsmLogger = (entry: EsmLogEntry) => void;

export interface RetryBackoff {
  /** Wait before the first retry of a batch; doubles with each further retry. */
  initialMs: number;
  maxMs: number;
}

export interface EventSourceMappingOptions {
  settings: EventSourceMappingSettings;
  streamName: string;
  streamArn: string;
  functionArn: string;
  /** The function's execution role, sent as `invokeIdentityArn`. Default: a role named after the function. */
  executionRoleArn?: string;
  /** Configured for the Kinesis emulator (HTTP/1.1 handler: see lambdas/shared/clients.ts). */
  kinesis: KinesisClient;
  sqs: SQSClient;
  /** For an S3 bucket as on-failure destination (path-style, see lambdas/shared/clients.ts). */
  s3?: S3Client;
  /** The mapping's UUID, in S3 on-failure keys. Default: derived from the function and stream ARNs. */
  mappingUuid?: string;
  /** Maps the on-failure destination (an SQS queue ARN) to its queue URL. */
  resolveQueueUrl: (queueArn: string) => string | Promise<string>;
  /** Invokes the function synchronously; with a tumbling window the event is a KinesisTimeWindowEvent. */
  invoke: (event: KinesisStreamEvent | KinesisTimeWindowEvent) => Promise<InvokeOutcome>;
  /** Where the per-shard checkpoints live, so that a restart resumes where processing stopped. */
  stateDir: string;
  /** Wait between polls of a caught-up shard. Lambda polls each shard about once a second. Default 1000. */
  pollIntervalMs?: number;
  /** Backoff between retries of a failed batch. Default 1 s doubling to 30 s (AWS does not document its own). */
  retryBackoff?: RetryBackoff;
  /** How often the shard list is read again to find children after resharding. Default 10 s. */
  shardDiscoveryIntervalMs?: number;
  /** Records read ahead per shard before polling pauses. Default 10,000 (one full GetRecords). */
  maxBufferedRecordsPerShard?: number;
  /** Wall clock for record ages (MaximumRecordAgeInSeconds, iterator age). Tests move it forward. */
  clock?: () => number;
  logger?: EsmLogger;
}

export interface ShardStats {
  shardId: string;
  status: 'waiting-for-parents' | 'processing' | 'ended';
  /** The checkpoint: every record up to and including it is processed or was sent on-failure. */
  lastProcessedSequenceNumber: string | undefined;
  /** As returned by the last GetRecords. */
  millisBehindLatest: number;
  /** Lambda's IteratorAge metric: the age of the last record of the last batch when it finished. */
  iteratorAgeMs: number;
  /** Batches being invoked right now (at most ParallelizationFactor). */
  inFlight: number;
  bufferedRecords: number;
  invocations: number;
  /** Invocations that failed (function error, timeout, crash, or an invalid partial batch response). */
  errors: number;
  retries: number;
  /** Records covered by the on-failure messages sent. */
  recordsSentToOnFailure: number;
  /** Records that matched none of the FilterCriteria: dropped, and counted as processed. */
  recordsFilteredOut: number;
  /** The tumbling window being aggregated, if any (TumblingWindowInSeconds > 0). */
  openWindow?: { start: string; end: string; stateBytes: number; invocations: number };
}

export interface EsmStats {
  /** Every shard caught up, nothing buffered or in flight, no retry pending. */
  idle: boolean;
  shards: ShardStats[];
}

export interface WaitUntilIdleOptions {
  /** Default 30 s. */
  timeoutMs?: number;
}

export interface EventSourceMapping {
  /** Stops polling, lets in-flight invocations finish, and persists the checkpoints. */
  stop(): Promise<void>;
  stats(): EsmStats;
  /**
   * Resolves once every shard has completed a poll that started after this call and the mapping is
   * idle: records written before the call have then been processed (or sent on-failure).
   */
  waitUntilIdle(options?: WaitUntilIdleOptions): Promise<void>;
}
