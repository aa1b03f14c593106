import { randomBytes } from 'node:crypto';
import { InvalidHandlerSettingError } from './errors';

/** A parsed `Handler` setting: the module (path inside the task root, no extension) and the export path. */
export interface HandlerSetting {
  /** Relative to the task root, without extension: `index`, `src/app`. */
  modulePath: string;
  /** The export, possibly nested: `handler`, `handlers.kinesis`. */
  exportPath: string[];
}

/**
 * Splits a handler setting the way the Node.js runtime does: everything up to the last `/` is a
 * directory, the first `.` after it separates the module from the (possibly nested) export.
 *
 * @example
 * ```ts
 * parseHandlerSetting('index.handler'); // { modulePath: 'index', exportPath: ['handler'] }
 * parseHandlerSetting('src/app.handlers.kinesis'); // { modulePath: 'src/app', exportPath: ['handlers', 'kinesis'] }
 * ```
 */
export function parseHandlerSetting(handler: string): HandlerSetting {
  const slash = handler.lastIndexOf('/');
  const directory = handler.slice(0, slash + 1);
  const base = handler.slice(slash + 1);
  const dot = base.indexOf('.');
  if (dot <= 0 || dot === base.length - 1) throw new InvalidHandlerSettingError(handler);
  const exportPath = base.slice(dot + 1).split('.');
  if (exportPath.some((part) => part === '')) throw new InvalidHandlerSettingError(handler);
  return { modulePath: `${directory}${base.slice(0, dot)}`, exportPath };
}

export interface RuntimeEnvironmentInput {
  functionName: string;
  handler: string;
  assetPath: string;
  memoryMb: number;
  region: string;
  runtime: string;
  logStreamName: string;
  environment: Record<string, string>;
}

/**
 * The environment variables one execution environment sees: the function's own, plus those Lambda's
 * managed Node.js runtime defines (reserved names win over the function's, as Lambda refuses to let a
 * function set them). Nothing else leaks in from the host process except `PATH`.
 *
 * @example
 * ```ts
 * const env = lambdaEnvironment({ functionName: 'f', handler: 'index.handler', assetPath: '/task',
 *   memoryMb: 256, region: 'eu-west-1', runtime: 'nodejs22.x', logStreamName: 's', environment: {} });
 * env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE; // '256'
 * ```
 */
export function lambdaEnvironment(input: RuntimeEnvironmentInput): Record<string, string> {
  const unreserved: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    LANG: 'en_US.UTF-8',
    TZ: ':UTC',
    AWS_REGION: input.region,
    AWS_DEFAULT_REGION: input.region,
  };
  const reserved: Record<string, string> = {
    _HANDLER: input.handler,
    AWS_EXECUTION_ENV: `AWS_Lambda_${input.runtime}`,
    AWS_LAMBDA_FUNCTION_NAME: input.functionName,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(input.memoryMb),
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
    AWS_LAMBDA_LOG_GROUP_NAME: logGroupName(input.functionName),
    AWS_LAMBDA_LOG_STREAM_NAME: input.logStreamName,
    LAMBDA_TASK_ROOT: input.assetPath,
  };
  return { ...unreserved, ...input.environment, ...reserved };
}

/**
 * The CloudWatch log group Lambda writes a function's logs to.
 *
 * @example
 * ```ts
 * logGroupName('shardline-dev-consumer'); // '/aws/lambda/shardline-dev-consumer'
 * ```
 */
export function logGroupName(functionName: string): string {
  return `/aws/lambda/${functionName}`;
}

/**
 * A log stream name in Lambda's format, one per execution environment: `2024/05/01/[$LATEST]<32 hex>`.
 *
 * @example
 * ```ts
 * newLogStreamName(new Date('2024-05-01T10:00:00Z')); // '2024/05/01/[$LATEST]9f0c…'
 * ```
 */
export function newLogStreamName(now: Date = new Date()): string {
  const day = now.toISOString().slice(0, 10).replaceAll('-', '/');
  return `${day}/[$LATEST]${randomBytes(16).toString('hex')}`;
}

/**
 * V8's old-space limit for a memory setting. Lambda's Node.js bootstrap caps the heap below the
 * function's memory so that buffers and native memory fit too; we use 90 % (an approximation).
 *
 * @example
 * ```ts
 * maxOldSpaceSizeMb(1024); // 921
 * ```
 */
export function maxOldSpaceSizeMb(memoryMb: number): number {
  return Math.max(16, Math.floor(memoryMb * 0.9));
}
