import { createFunctionHost } from '../local/lambda';
import type { LocalFunction } from '../local/runtimeState';
import { CliError } from './errors';

/**
 * Invokes a function's bundled handler (the artifact `cdk deploy` uploads) once, as Lambda would: in its
 * own process, with the template's environment, timeout and memory. Used by `produce` and `demo` on the
 * local target.
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
  try {
    const outcome = await host.invoke(event);
    if (!outcome.ok) {
      throw new CliError(
        `${fn.name} failed (${outcome.reason}): ${outcome.errorType}: ${outcome.errorMessage}`,
      );
    }
    return outcome.result;
  } finally {
    await host.stop();
  }
}
