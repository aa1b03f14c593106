import { invokeProducer } from '../invokeProducer';
import { fileLog } from '../logs';
import type { TargetOptions } from '../main';
import { resolveTarget, targetClients } from '../targets';

export interface ProduceOptions extends TargetOptions {
  events: number;
  invalidRatio: number;
  seed: number;
  tenants: number;
  rate?: number;
  anomalies?: boolean;
}

/** Builds the producer Lambda's request from CLI options. */
export const producerRequest = (options: Omit<ProduceOptions, keyof TargetOptions>) => ({
  count: options.events,
  seed: options.seed,
  invalidRatio: options.invalidRatio,
  tenants: options.tenants,
  ...(options.rate === undefined ? {} : { ratePerSecond: options.rate }),
  ...(options.anomalies ? { anomalies: true } : {}),
});

export async function produceCommand(options: ProduceOptions): Promise<void> {
  const target = await resolveTarget(options);
  const started = Date.now();
  const log = await fileLog(options.dataDir, 'producer.log');
  const response = await invokeProducer(target, targetClients(target), producerRequest(options), log).finally(
    () => log.close(),
  );
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
