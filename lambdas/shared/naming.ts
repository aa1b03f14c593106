import { ShardlineError } from './errors';
/**
 * Every physical resource name derives from one stage prefix, so the CDK stack, the local runtime,
 * LocalStack and AWS all agree on what a resource is called.
 *
 * @example
 * ```ts
 * resourceNames('dev').streamName; // 'shardline-dev-events'
 * ```
 */
export function resourceNames(stage: string) {
  if (!/^[a-z][a-z0-9-]{0,19}$/.test(stage)) {
    throw new InvalidStageError(stage);
  }
  const prefix = `shardline-${stage}`;
  return {
    prefix,
    stackName: `Shardline-${stage}`,
    streamName: `${prefix}-events`,
    tableName: `${prefix}-state`,
    dlqName: `${prefix}-dlq`,
    /** Bucket names are global in AWS: the stack appends account and region to this prefix. */
    bucketNamePrefix: `${prefix}-lake`,
    producerFunctionName: `${prefix}-producer`,
    consumerFunctionName: `${prefix}-consumer`,
    publisherFunctionName: `${prefix}-publisher`,
    /** Glue names allow only lower case, digits and underscores. */
    glueDatabaseName: `shardline_${stage.replaceAll('-', '_')}`,
    athenaWorkGroupName: prefix,
  } as const;
}

export type ResourceNames = ReturnType<typeof resourceNames>;

export class InvalidStageError extends ShardlineError {
  constructor(stage: string) {
    super(`invalid stage "${stage}": use 1-20 lowercase letters, digits or dashes, starting with a letter`);
    this.name = 'InvalidStageError';
  }
}
