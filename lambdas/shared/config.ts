import { ShardlineError } from './errors';
/**
 * The environment contract between the CDK stack (which sets these variables on each function),
 * the local runtime (which copies them from the synthesized template) and the handlers.
 */
export const ENV = {
  stage: 'SHARDLINE_STAGE',
  streamName: 'STREAM_NAME',
  bucketName: 'BUCKET_NAME',
  tableName: 'TABLE_NAME',
  dlqUrl: 'DLQ_URL',
  /**
   * The event source mapping's ParallelizationFactor, set by the stack from the mapping it declares. The
   * commit protocol needs one writer per shard: the consumer refuses to run above 1 (the event itself
   * does not carry the factor).
   */
  parallelizationFactor: 'SHARDLINE_PARALLELIZATION_FACTOR',
  /** Set only by the local runtime: s3rver needs path-style addressing. */
  s3ForcePathStyle: 'SHARDLINE_S3_FORCE_PATH_STYLE',
} as const;

export class MissingConfigError extends ShardlineError {
  constructor(variable: string) {
    super(`environment variable ${variable} is not set (the CDK stack or \`shardline up\` sets it)`);
    this.name = 'MissingConfigError';
  }
}

/** Reads a required environment variable, failing with the name of what is missing. */
export function requireEnv(variable: string, env: NodeJS.ProcessEnv = process.env): string {
  const value = env[variable];
  if (value === undefined || value === '') throw new MissingConfigError(variable);
  return value;
}

export interface ProducerConfig {
  streamName: string;
}

export interface ConsumerConfig {
  bucketName: string;
  tableName: string;
  dlqUrl: string;
  streamName: string;
}

/** The scheduled publisher's settings: the consumer's, without the DLQ. */
export type PublisherConfig = Omit<ConsumerConfig, 'dlqUrl'>;

export function publisherConfig(env: NodeJS.ProcessEnv = process.env): PublisherConfig {
  return {
    bucketName: requireEnv(ENV.bucketName, env),
    tableName: requireEnv(ENV.tableName, env),
    streamName: requireEnv(ENV.streamName, env),
  };
}

export function producerConfig(env: NodeJS.ProcessEnv = process.env): ProducerConfig {
  return { streamName: requireEnv(ENV.streamName, env) };
}

export function consumerConfig(env: NodeJS.ProcessEnv = process.env): ConsumerConfig {
  return {
    bucketName: requireEnv(ENV.bucketName, env),
    tableName: requireEnv(ENV.tableName, env),
    dlqUrl: requireEnv(ENV.dlqUrl, env),
    streamName: requireEnv(ENV.streamName, env),
  };
}
