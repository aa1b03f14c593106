export { type ListedShard, listShards } from '../../lambdas/shared/kinesisShards';
export {
  compareSequenceNumbers,
  isSequenceNumber,
  lowestSequenceNumber,
} from '../../lambdas/shared/sequence';
export { isSqsQueueArn, type ParsedArn, parseArn } from './arn';
export {
  type BatchLimits,
  type BatchPlan,
  type BatchTiming,
  eventPayloadBytes,
  MAX_INVOCATION_PAYLOAD_BYTES,
  planBatch,
  shouldInvoke,
} from './batcher';
export { CheckpointStore, type MappingState, type ShardCheckpoint } from './checkpointStore';
export { CheckpointTracker } from './checkpointTracker';
export {
  EsmIdleTimeoutError,
  InvalidArnError,
  InvalidEventSourceMappingSettingError,
  InvalidFilterCriteriaError,
  StateDirMismatchError,
  StreamUnavailableError,
  UnsupportedOnFailureDestinationError,
} from './errors';
export {
  type EventRecord,
  type EventRecordSource,
  kinesisStreamEvent,
  prepareEventRecord,
  type StreamRecord,
  toKinesisEventRecord,
} from './eventShape';
export { startEventSourceMapping } from './eventSourceMapping';
export {
  type BatchAttempt,
  decideAfterInvocation,
  expiredRecordCount,
  type FailureDecision,
  type FailurePolicySettings,
  type InvocationResult,
  retriesExhausted,
  retryDelayMs,
} from './failurePolicy';
export {
  compileFilterCriteria,
  DEFAULT_MAX_FILTERS,
  filterableRecord,
  MAX_FILTERS_WITH_QUOTA_INCREASE,
  MAX_PATTERN_LENGTH,
  type RecordFilter,
} from './filterCriteria';
export { type BatchInvocation, invokeBatch } from './invoker';
export { jsonLineLogger } from './logger';
export {
  buildOnFailureMessage,
  type KinesisOnFailureMessage,
  type KinesisS3OnFailureObject,
  type OnFailureCondition,
  type OnFailureDestination,
  type OnFailureMessageInput,
  type ResponseContext,
  S3_ON_FAILURE_PREFIX,
  s3OnFailureDestination,
  s3OnFailureObject,
  s3OnFailureObjectKey,
  sqsOnFailureDestination,
} from './onFailureDestination';
export { laneForPartitionKey } from './parallelization';
export { type BatchResponseVerdict, interpretBatchResponse } from './partialBatchResponse';
export {
  KINESIS_DEFAULTS,
  reportsBatchItemFailures,
  settingWarnings,
  validateSettings,
  withKinesisDefaults,
} from './settings';
export {
  planShardStart,
  type ShardStartContext,
  type ShardStartPlan,
} from './shardDiscovery';
export { InvalidCheckpointError, type PollResult, ShardPoller, type ShardStartPosition } from './shardPoller';
export {
  formatWindowTime,
  MAX_WINDOW_STATE_BYTES,
  readWindowState,
  stateBytes,
  tumblingWindowEvent,
  WINDOW_CLOSE_GRACE_MS,
  type WindowBounds,
  type WindowInvocation,
  type WindowState,
  windowEnvelopeBytes,
  windowFor,
} from './tumblingWindow';
export type {
  EsmLogEntry,
  EsmLogger,
  EsmStats,
  EventSourceMapping,
  EventSourceMappingOptions,
  EventSourceMappingSettings,
  InvokeOutcome,
  KinesisStreamEvent,
  KinesisStreamRecord,
  KinesisTimeWindowEvent,
  RetryBackoff,
  ShardStats,
  StartingPosition,
  WaitUntilIdleOptions,
} from './types';
