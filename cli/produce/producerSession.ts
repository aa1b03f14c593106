import { startLocalFunction } from '../invokeLocal';
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
  const local = startLocalFunction(fn, log);
  return {
    send: async (request) => (await local.invoke(request)) as ProducerResponse,
    close: () => local.stop(),
  };
}
