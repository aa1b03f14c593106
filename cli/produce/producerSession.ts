import { createFunctionHost } from '../../local/lambda';
import { CliError } from '../errors';
import { invokeProducer, type ProducerResponse } from '../invokeProducer';
import type { ResolvedTarget, TargetClients } from '../targets';

export interface ProducerSession {
  send(request: unknown): Promise<ProducerResponse>;
  close(): Promise<void>;
}

/**
 * The producer function of a target, for many invocations in a row: on local one bundled handler
 * process kept for the whole file (starting one per chunk would cost more than the chunk), on
 * LocalStack and AWS a synchronous Lambda Invoke per request.
 *
 * @example
 * ```ts
 * const producer = openProducerSession(target, clients);
 * await producer.send({ records });
 * await producer.close();
 * ```
 */
export function openProducerSession(
  target: ResolvedTarget,
  clients: Pick<TargetClients, 'lambda'>,
  log?: (line: string) => void,
): ProducerSession {
  const fn = target.runtime?.functions.producer;
  if (!fn)
    return {
      send: (request) => invokeProducer(target, clients, request, log),
      close: async () => {},
    };
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
    async send(request) {
      const outcome = await host.invoke(request);
      if (!outcome.ok)
        throw new CliError(
          `${fn.name} failed (${outcome.reason}): ${outcome.errorType}: ${outcome.errorMessage}`,
        );
      return outcome.result as ProducerResponse;
    },
    close: () => host.stop(),
  };
}
