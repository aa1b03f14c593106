/** Why an invocation failed, in the terms Lambda's own logs and metrics use. */
export type InvokeFailureReason = 'error' | 'timeout' | 'crash';

/**
 * The result of one invocation, as Lambda's synchronous Invoke reports it: the handler's JSON response,
 * or a function error (`FunctionError: Unhandled`) with the error type and message the runtime reported.
 */
export type InvokeOutcome =
  | { ok: true; result: unknown; durationMs: number; requestId?: string }
  | {
      ok: false;
      errorType: string;
      errorMessage: string;
      reason: InvokeFailureReason;
      durationMs: number;
      requestId?: string;
    };

export interface FunctionHostOptions {
  functionName: string;
  /** The unpacked code asset: Lambda's `LAMBDA_TASK_ROOT` and the working directory of the handler. */
  assetPath: string;
  /** As in CloudFormation: `index.handler` is the export `handler` of `index.js` (or .mjs, .cjs, .ts). */
  handler: string;
  /** The function's environment variables (the template's `Environment.Variables`, resolved). */
  environment: Record<string, string>;
  timeoutSeconds: number;
  memoryMb: number;
  /** Receives every log line: the handler's console output and Lambda's START/END/REPORT lines. */
  log?: (line: string) => void;
  /** Region and account of the function's ARN; the region defaults to `environment.AWS_REGION`. */
  region?: string;
  accountId?: string;
  /** Runtime identifier, used for `AWS_EXECUTION_ENV`. Default `nodejs22.x`. */
  runtime?: string;
  /**
   * Most execution environments (child processes) running at once. Lambda gives each concurrent
   * invocation its own environment; locally we cap it. Invocations beyond the cap wait. Default 4.
   */
  maxConcurrency?: number;
}

export interface FunctionHost {
  /** Runs the handler once in a warm environment (or a cold one if none is free). Never rejects. */
  invoke(event: unknown): Promise<InvokeOutcome>;
  /** Kills every execution environment; later invocations fail with `HostStoppedError`. */
  stop(): Promise<void>;
  /** Process id of the first execution environment (the one sequential invocations reuse). */
  readonly pid: number | undefined;
  /** Process ids of every live execution environment. */
  readonly pids: number[];
  /** How many environments were replaced after a timeout, a crash or a failed init. */
  readonly restarts: number;
  readonly functionArn: string;
}
