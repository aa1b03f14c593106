import { rm } from 'node:fs/promises';
import { relative } from 'node:path';
import { readCheckpoint } from '../../lambdas/consumer/checkpoint';
import { startLocalPipeline } from '../../local/pipeline';
import { clearRuntime } from '../../local/runtimeState';
import { readDeadLetters } from '../deadLetters';
import { CliError } from '../errors';
import { formatTable } from '../format';
import { invokeProducer } from '../invokeProducer';
import { openTargetLake } from '../lake/targetLake';
import { fileLog } from '../logs';
import type { GlobalOptions } from '../main';
import { producerRequest } from '../produce/producerRequest';
import { progressMessage, showProgress } from '../progress';
import { localTarget, type TargetClients, targetClients } from '../targets';
import { verifyTarget } from '../verify/verifyTarget';

export interface DemoOptions extends GlobalOptions {
  events: number;
  invalidRatio: number;
  seed: number;
  stage: string;
  keep: boolean;
}

const DRAIN_TIMEOUT_MS = 10 * 60_000;

interface ShardProgress {
  shardId: string;
  checkpoint: string | null;
  records: number;
}

async function committedPerShard(
  clients: Pick<TargetClients, 'dynamo'>,
  tableName: string,
  streamName: string,
  shardIds: string[],
) {
  return Promise.all(
    shardIds.map(async (shardId): Promise<ShardProgress> => {
      const checkpoint = await readCheckpoint(clients.dynamo, { tableName, streamName, shardId });
      return {
        shardId,
        checkpoint: checkpoint.lastCommittedSequenceNumber,
        records: checkpoint.committedRecords,
      };
    }),
  );
}

/**
 * `npm start`: up → produce → wait until every shard's checkpoint has committed every record → summary
 * that reconciles the counts → a sample DuckDB query → clean stop.
 */
export async function demo(options: DemoOptions): Promise<void> {
  const started = Date.now();
  if (!options.keep) await rm(options.dataDir, { recursive: true, force: true });
  const log = await fileLog(options.dataDir, 'demo.log');
  const say = (text: string) => {
    if (!options.json) console.log(text);
  };
  // Steps as they happen go to stderr; stdout gets the summary.
  const step = (text: string) => {
    if (!options.json) progressMessage(text);
  };
  step(
    `Shardline demo: ${options.events} events, ${options.invalidRatio * 100}% invalid, seed ${options.seed}`,
  );
  step('  synthesizing the CDK app and starting the local AWS emulators …');
  const pipeline = await startLocalPipeline({ dataDir: options.dataDir, stage: options.stage, log });
  try {
    const { runtime } = pipeline;
    const readyMs = Date.now() - started;
    step(
      `  ready in ${(readyMs / 1000).toFixed(1)} s: ${Object.entries(runtime.endpoints)
        .map(([s, u]) => `${s} ${u}`)
        .join(', ')}`,
    );

    const target = localTarget(runtime);
    const clients = targetClients(target);
    const produceStarted = Date.now();
    const produced = await invokeProducer(target, clients, producerRequest({ ...options, tenants: 3 }), log);
    if (produced.failed > 0)
      throw new CliError(`the producer could not put ${produced.failed} records on the stream`);
    step(
      `  produced ${produced.sent} records in ${Date.now() - produceStarted} ms across ${Object.keys(produced.shards).length} shards`,
    );

    const shardIds = Object.keys(produced.shards).sort();
    let shards: ShardProgress[] = [];
    for (const deadline = Date.now() + DRAIN_TIMEOUT_MS; ; ) {
      shards = await committedPerShard(
        clients,
        runtime.resources.tableName,
        runtime.resources.streamName,
        shardIds,
      );
      const committed = shards.reduce((sum, s) => sum + s.records, 0);
      showProgress(`  processed ${committed}/${produced.sent} records`);
      if (committed >= produced.sent) break;
      if (Date.now() > deadline)
        throw new CliError(
          `timed out after ${DRAIN_TIMEOUT_MS / 1000} s with ${committed}/${produced.sent} records committed (see ${options.dataDir}/logs)`,
        );
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const drainedMs = Date.now() - produceStarted;
    showProgress('');
    step(`  every shard drained ${(drainedMs / 1000).toFixed(1)} s after the first put`);
    // A commit whose publication an invocation could not finish is finished by the scheduled publisher
    // (every minute); the demo runs it now instead of waiting.
    await pipeline.schedules.runNow();

    const { lake } = await openTargetLake(target, options.dataDir);
    const scalar = async (sql: string) => Number((await lake.query(sql)).rows[0]?.[0] ?? 0);
    const parquetRows = await scalar('SELECT count(*) FROM events');
    const csvRows = await scalar('SELECT count(*) FROM events_csv');
    const distinctEventIds = await scalar('SELECT count(DISTINCT event_id) FROM events');
    const sample = await lake.query(
      'SELECT event_type, count(*) AS events, round(sum(amount_usd), 2) AS usd FROM events GROUP BY ALL ORDER BY events DESC',
    );
    lake.close();
    const deadLetters = await readDeadLetters(clients.sqs, runtime.resources.dlqUrl);
    const dlqMessages = deadLetters.invalidRecords.length;
    const verification = await verifyTarget(target, options.dataDir);

    const elapsedMs = Date.now() - started;
    const summary = {
      produced: produced.sent,
      valid: verification.valid,
      invalid: verification.invalid,
      parquetRows,
      csvRows,
      dlqMessages,
      distinctEventIds,
      shards,
      verified: verification.ok,
      elapsedMs,
      readyMs,
      processingMs: drainedMs,
      eventsPerSecond: Math.round(produced.sent / (drainedMs / 1000)),
    };
    const checks = [
      ['parquetRows = csvRows = valid', parquetRows === csvRows && csvRows === summary.valid],
      ['dlqMessages = invalid', dlqMessages === summary.invalid],
      ['valid + invalid = produced', summary.valid + summary.invalid === summary.produced],
      ['count(distinct event_id) = parquetRows', distinctEventIds === parquetRows],
      ['shardline verify: no record missing or duplicated', verification.ok],
    ] as const;
    if (options.json) {
      console.log(JSON.stringify(summary));
    } else {
      say('');
      say(
        formatTable({
          columns: ['produced', 'valid', 'invalid', 'parquet rows', 'csv rows', 'dlq messages', 'events/s'],
          rows: [
            [
              summary.produced,
              summary.valid,
              summary.invalid,
              parquetRows,
              csvRows,
              dlqMessages,
              summary.eventsPerSecond,
            ],
          ],
        }),
      );
      say('');
      for (const [name, ok] of checks) say(`  ${ok ? '✓' : '✗'} ${name}`);
      say('');
      say(
        formatTable({
          columns: shards.length ? ['shard', 'checkpoint', 'records'] : [],
          rows: shards.map((s) => [s.shardId, s.checkpoint, s.records]),
        }),
      );
      say('');
      say(
        'SELECT event_type, count(*) AS events, round(sum(amount_usd), 2) AS usd FROM events GROUP BY ALL ORDER BY events DESC',
      );
      say(formatTable(sample));
      say('');
      say(
        `done in ${(elapsedMs / 1000).toFixed(1)} s. Explore the data: npx shardline query --data-dir ${relative(process.cwd(), options.dataDir) || '.'} "SELECT …"`,
      );
    }
    if (checks.some(([, ok]) => !ok)) process.exitCode = 1;
  } finally {
    await pipeline.stop();
    await clearRuntime(options.dataDir);
    log.close();
  }
}
