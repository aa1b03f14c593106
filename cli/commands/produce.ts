import { readRuntime } from '../../local/runtimeState';
import { invokeLocal } from '../invokeLocal';
import { fileLog } from '../logs';
import type { GlobalOptions } from '../main';

export interface ProduceOptions extends GlobalOptions {
  events: number;
  invalidRatio: number;
  seed: number;
  tenants: number;
  rate?: number;
}

interface ProducerResponse {
  sent: number;
  failed: number;
  shards: Record<string, number>;
}

/** Builds the producer Lambda's request from CLI options. */
export const producerRequest = (options: Omit<ProduceOptions, keyof GlobalOptions>) => ({
  count: options.events,
  seed: options.seed,
  invalidRatio: options.invalidRatio,
  tenants: options.tenants,
  ...(options.rate === undefined ? {} : { ratePerSecond: options.rate }),
});

export async function produceCommand(options: ProduceOptions): Promise<void> {
  const runtime = readRuntime(options.dataDir);
  const started = Date.now();
  const log = await fileLog(options.dataDir, 'producer.log');
  const response = (await invokeLocal(runtime.functions.producer, producerRequest(options), log).finally(() =>
    log.close(),
  )) as ProducerResponse;
  const elapsedMs = Date.now() - started;
  if (options.json) {
    console.log(JSON.stringify({ ...response, elapsedMs }));
  } else {
    const perShard = Object.entries(response.shards)
      .map(([shard, n]) => `${shard}: ${n}`)
      .join(', ');
    console.log(`sent ${response.sent} records (${response.failed} failed) in ${elapsedMs} ms: ${perShard}`);
  }
  if (response.failed > 0) process.exitCode = 1;
}
