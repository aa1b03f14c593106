import { writeFile } from 'node:fs/promises';
import { startLocalPipeline } from '../../local/pipeline';
import { clearRuntime, NotRunningError, readRuntime, statsFile } from '../../local/runtimeState';
import { CliError } from '../errors';
import { fileLog } from '../logs';
import type { GlobalOptions } from '../main';

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

export async function up(options: UpOptions): Promise<void> {
  ensureNotRunning(options.dataDir);
  const log = await fileLog(options.dataDir, 'up.log');
  const started = Date.now();
  if (!options.json) console.log(`starting Shardline ${options.stage} in ${options.dataDir} …`);
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
    if (process.stdout.isTTY && !options.json) {
      const shards = stats.shards
        .map(
          (s) =>
            `${s.shardId.slice(-3)}: ${s.invocations} inv, ${s.errors} err, ${s.millisBehindLatest ?? 0} ms behind`,
        )
        .join(' │ ');
      process.stdout.write(`\r\x1b[2K${stats.idle ? 'idle      ' : 'processing'} │ ${shards}`);
    }
  }, 1_000);

  await new Promise<void>((resolve) => {
    const shutdown = () => resolve();
    process.once('SIGINT', shutdown);
    process.once('SIGTERM', shutdown);
  });
  clearInterval(ticker);
  if (!options.json) console.log('\nstopping …');
  await pipeline.stop();
  await clearRuntime(options.dataDir);
  log.close();
}
