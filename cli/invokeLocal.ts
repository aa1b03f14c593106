import { createFunctionHost } from '../local/lambda';
import type { LocalFunction } from '../local/runtimeState';
import { CliError } from './errors';

/** A function's bundled handler in a process of its own, kept for as many invocations as needed. */
export interface LocalFunctionProcess {
  /** Invokes the handler once; a failed invocation throws a CliError that says why. */
  invoke(event: unknown): Promise<unknown>;
  stop(): Promise<void>;
}

/**
 * Starts a function's bundled handler (the artifact `cdk deploy` uploads) as Lambda would run it: in its
 * own process, with the template's environment, timeout and memory, one invocation at a time.
 *
 * @example
 * ```ts
 * const producer = startLocalFunction(runtime.functions.producer);
 * await producer.invoke({ count: 1000 });
 * await producer.stop();
 * ```
 */
export function startLocalFunction(fn: LocalFunction, log?: (line: string) => void): LocalFunctionProcess {
  const host = createFunctionHost({
    functionName: fn.name,
    assetPath: fn.assetPath,
    handler: fn.handler,
    environment: fn.environment,
    timeoutSeconds: fn.timeoutSeconds,
    memoryMb: fn.memoryMb,
    maxConcurrency: 1,
    ...(log ? { log } : {}),
  });
  return {
    async invoke(event) {
      const outcome = await host.invoke(event);
      if (!outcome.ok) {
        throw new CliError(
          `${fn.name} failed (${outcome.reason}): ${outcome.errorType}: ${outcome.errorMessage}`,
        );
      }
      return outcome.result;
    },
    stop: () => host.stop(),
  };
}

/**
 * Invokes a function's bundled handler once, in a process started for it and stopped after. Used by
 * `produce` and `demo` on the local target.
 *
 * @example
 * ```ts
 * const response = await invokeLocal(runtime.functions.producer, { count: 1000 });
 * ```
 */
export async function invokeLocal(
  fn: LocalFunction,
  event: unknown,
  log?: (line: string) => void,
): Promise<unknown> {
  const local = startLocalFunction(fn, log);
  try {
    return await local.invoke(event);
  } finally {
    await local.stop();
  }
}
