import { writeFile } from 'node:fs/promises';
import { startLocalPipeline } from '../../local/pipeline';
import { clearRuntime, NotRunningError, readRuntime, statsFile } from '../../local/runtimeState';
import { CliError } from '../errors';
import { fileLog } from '../logs';
import type { GlobalOptions } from '../main';
import { progressMessage, showProgress } from '../progress';

export interface UpOptions extends GlobalOptions {
  stage: string;
  synth: boolean;
}

function ensureNotRunning(dataDir: string) {
  let existing: { pid: number } | undefined;
  try {
    existing = readRuntime(dataDir);
  } catch (error) {
    if (error instanceof NotRunningError) return;
    throw error;
  }
  throw new CliError(
    `shardline up is already running in ${dataDir} (pid ${existing.pid}); stop it first or use another --data-dir`,
  );
}

/**
 * The live counter `up` redraws every second (on stderr): busy or idle, and per shard its invocations,
 * errors and lag.
 *
 * @example
 * ```ts
 * liveCounter({ idle: true, shards: [{ shardId: 'shardId-000000000000', invocations: 4, errors: 0, millisBehindLatest: 0 }] });
 * // 'idle       │ 000: 4 inv, 0 err, 0 ms behind'
 * ```
 */
export function liveCounter(stats: {
  idle: boolean;
  shards: ReadonlyArray<{
    shardId: string;
    invocations: number;
    errors: number;
    millisBehindLatest?: number;
  }>;
}): string {
  const shards = stats.shards
    .map(
      (s) =>
        `${s.shardId.slice(-3)}: ${s.invocations} inv, ${s.errors} err, ${s.millisBehindLatest ?? 0} ms behind`,
    )
    .join(' │ ');
  return `${stats.idle ? 'idle      ' : 'processing'} │ ${shards}`;
}

export async function up(options: UpOptions): Promise<void> {
  ensureNotRunning(options.dataDir);
  const log = await fileLog(options.dataDir, 'up.log');
  const started = Date.now();
  if (!options.json) progressMessage(`starting Shardline ${options.stage} in ${options.dataDir} …`);
  const pipeline = await startLocalPipeline({
    dataDir: options.dataDir,
    stage: options.stage,
    synth: options.synth,
    log,
  });
  const { runtime } = pipeline;
  if (options.json) {
    console.log(JSON.stringify({ ready: true, startupMs: Date.now() - started, ...runtime }));
  } else {
    console.log(`ready in ${Date.now() - started} ms`);
    for (const [service, url] of Object.entries(runtime.endpoints))
      console.log(`  ${service.padEnd(9)}${url}`);
    console.log(`  stream   ${runtime.resources.streamName}\n  bucket   ${runtime.resources.bucketName}`);
    console.log(`  table    ${runtime.resources.tableName}\n  dlq      ${runtime.resources.dlqUrl}`);
    console.log('produce events with `npx shardline produce --events 1000`; Ctrl-C stops.');
  }

  const ticker = setInterval(async () => {
    const stats = pipeline.mapping.stats();
    const published = { at: new Date().toISOString(), consumerPids: pipeline.consumerHost.pids, ...stats };
    await writeFile(statsFile(options.dataDir), JSON.stringify(published));
    if (!options.json) showProgress(liveCounter(stats));
  }, 1_000);

  await new Promise<void>((resolve) => {
    const shutdown = () => resolve();
    process.once('SIGINT', shutdown);
    process.once('SIGTERM', shutdown);
  });
  clearInterval(ticker);
  if (!options.json) {
    showProgress('');
    progressMessage('stopping …');
  }
  await pipeline.stop();
  await clearRuntime(options.dataDir);
  log.close();
}
