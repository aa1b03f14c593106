import { InvokeCommand } from '@aws-sdk/client-lambda';
import { CliError } from './errors';
import { invokeLocal } from './invokeLocal';
import type { ResolvedTarget, TargetClients } from './targets';

export interface ProducerResponse {
  sent: number;
  failed: number;
  shards: Record<string, number>;
}

/**
 * Invokes the producer on a target: on local, the bundled handler in its own process; on LocalStack and
 * AWS, the deployed function with a synchronous Lambda Invoke.
 *
 * @example
 * ```ts
 * const { sent } = await invokeProducer(target, clients, { count: 1000, seed: 1 });
 * ```
 */
export async function invokeProducer(
  target: ResolvedTarget,
  clients: Pick<TargetClients, 'lambda'>,
  request: unknown,
  log?: (line: string) => void,
): Promise<ProducerResponse> {
  if (target.runtime)
    return (await invokeLocal(target.runtime.functions.producer, request, log)) as ProducerResponse;
  const response = await clients.lambda.send(
    new InvokeCommand({
      FunctionName: target.resources.producerFunctionName,
      InvocationType: 'RequestResponse',
      Payload: new TextEncoder().encode(JSON.stringify(request)),
    }),
  );
  const text = new TextDecoder().decode(response.Payload ?? new Uint8Array());
  if (response.FunctionError) {
    let detail = text;
    try {
      const error = JSON.parse(text) as { errorType?: string; errorMessage?: string };
      detail = `${error.errorType}: ${error.errorMessage}`;
    } catch {
      // Not JSON: show it as it is.
    }
    throw new CliError(`${target.resources.producerFunctionName} failed on ${target.name}: ${detail}`);
  }
  return JSON.parse(text) as ProducerResponse;
}
