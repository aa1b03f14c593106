import { appendFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListShardsCommand } from '@aws-sdk/client-kinesis';
import { invokeLocal } from '../../cli/invokeLocal';
import { localTarget } from '../../cli/targets';
import type { VerifyReport } from '../../cli/verify/reconcile';
import { verifyTarget } from '../../cli/verify/verifyTarget';
import { readCheckpoint } from '../../lambdas/consumer/checkpoint';
import { dynamoClient, kinesisClient } from '../../lambdas/shared/clients';
import { clientOptionsFor } from '../../local/emulators';
import { type LocalPipeline, type PipelineOptions, startLocalPipeline } from '../../local/pipeline';

/**
 * The real local pipeline (synthesized stack, emulators, consumer behind the event source mapping) driven
 * from a test or the soak: produce through the producer Lambda, wait until the checkpoints have committed
 * every record, and reconcile with `shardline verify`'s own code.
 */
export interface PipelineHarness {
  pipeline: LocalPipeline;
  dataDir: string;
  /**
   * Every line the pipeline logged (emulator lifecycle, consumer output, event source mapping decisions),
   * also appended to `<dataDir>/logs/pipeline.log`.
   */
  logLines: string[];
  /** Invokes the producer Lambda, as `shardline produce` does. */
  produce(request: ProduceRequest): Promise<{ sent: number; failed: number }>;
  /** Records committed by the consumer's checkpoints, every shard together. */
  committedRecords(): Promise<number>;
  /** Resolves with the time it took, once `target` records are committed; throws after `timeoutMs`. */
  waitForCommitted(target: number, timeoutMs?: number): Promise<number>;
  verify(): Promise<VerifyReport & { dlqDuplicateCopies: number }>;
  /** Stops the pipeline; removes the data directory unless `keep`. */
  stop(options?: { keep?: boolean }): Promise<void>;
}

export interface ProduceRequest {
  count: number;
  seed: number;
  invalidRatio?: number;
  ratePerSecond?: number;
}

export interface StartHarnessOptions {
  stage: string;
  /** Default: a new temporary directory. */
  dataDir?: string;
  functionEndpoints?: PipelineOptions['functionEndpoints'];
  /** Event source mapping knobs (default: the pipeline's, about a second for each, as Lambda). */
  pollIntervalMs?: number;
  retryBackoffMs?: number;
  /** Also receives every pipeline log line. */
  log?: (line: string) => void;
  /** Keep log lines in memory (default true; the soak turns it off). */
  keepLogLines?: boolean;
}

export class NotCommittedError extends Error {
  constructor(committed: number, target: number, timeoutMs: number, dataDir: string, evidence = '') {
    super(
      `only ${committed}/${target} records committed after ${timeoutMs} ms: a batch was discarded ` +
        `or the consumer is stuck; see the logs in ${dataDir}/logs and the pipeline log lines${evidence}`,
    );
    this.name = 'NotCommittedError';
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Synthesizes the stack into the data directory and starts the local pipeline on it.
 *
 * @example
 * ```ts
 * const harness = await startHarness({ stage: 'faults' });
 * await harness.produce({ count: 500, seed: 1 });
 * await harness.waitForCommitted(500);
 * const report = await harness.verify();
 * await harness.stop();
 * ```
 */
export async function startHarness(options: StartHarnessOptions): Promise<PipelineHarness> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), `shardline-${options.stage}-`));
  const logLines: string[] = [];
  const keep = options.keepLogLines ?? true;
  const logFile = join(dataDir, 'logs', 'pipeline.log');
  mkdirSync(join(dataDir, 'logs'), { recursive: true });
  const log = (line: string) => {
    if (keep) logLines.push(line);
    appendFileSync(logFile, `${line}\n`);
    options.log?.(line);
  };
  const pipeline = await startLocalPipeline({
    dataDir,
    stage: options.stage,
    cdkOutDir: join(dataDir, 'cdk.out'),
    log,
    ...(options.functionEndpoints ? { functionEndpoints: options.functionEndpoints } : {}),
    ...(options.pollIntervalMs === undefined ? {} : { pollIntervalMs: options.pollIntervalMs }),
    ...(options.retryBackoffMs === undefined ? {} : { retryBackoffMs: options.retryBackoffMs }),
  });
  const { runtime } = pipeline;
  const kinesis = kinesisClient(clientOptionsFor(pipeline.emulators, 'kinesis'));
  const dynamo = dynamoClient(clientOptionsFor(pipeline.emulators, 'dynamodb'));
  const { Shards = [] } = await kinesis.send(
    new ListShardsCommand({ StreamName: runtime.resources.streamName }),
  );
  const shardIds = Shards.map((shard) => shard.ShardId as string);

  const checkpoints = () =>
    Promise.all(
      shardIds.map((shardId) =>
        readCheckpoint(dynamo, {
          tableName: runtime.resources.tableName,
          streamName: runtime.resources.streamName,
          shardId,
        }),
      ),
    );
  const committedRecords = async () => {
    const all = await checkpoints();
    return all.reduce((sum, checkpoint) => sum + checkpoint.committedRecords, 0);
  };

  return {
    pipeline,
    dataDir,
    logLines,
    async produce(request) {
      const response = (await invokeLocal(runtime.functions.producer, { tenants: 3, ...request }, log)) as {
        sent: number;
        failed: number;
      };
      return { sent: response.sent, failed: response.failed };
    },
    committedRecords,
    async waitForCommitted(target, timeoutMs = 60_000) {
      const started = Date.now();
      let committed = 0;
      let owedSince: number | null = null;
      while (Date.now() - started < timeoutMs) {
        // The state table may be restarting under a fault test: an unanswered read is "not yet".
        committed = await committedRecords().catch(() => committed);
        if (committed >= target) {
          // Committed is not yet readable: a commit's objects are published just after it.
          const owed = (await checkpoints().catch(() => [{ pending: true }])).some((c) => c.pending);
          if (!owed) return Date.now() - started;
          // A publication left unfinished (a failed PUT after the commit) on a shard that gets no more
          // batches waits for the scheduled publisher (every minute): run it now instead.
          owedSince ??= Date.now();
          if (Date.now() - owedSince > 1_000) {
            await pipeline.schedules.runNow().catch(() => undefined);
            owedSince = Date.now();
          }
        } else owedSince = null;
        await sleep(100);
      }
      // The data directory is gone once the test cleans up: carry what explains the wait in the message.
      const shards = pipeline.mapping
        .stats()
        .shards.map(
          ({
            shardId,
            status,
            inFlight,
            bufferedRecords,
            invocations,
            errors,
            retries,
            recordsSentToOnFailure,
          }) =>
            JSON.stringify({
              shardId,
              status,
              inFlight,
              bufferedRecords,
              invocations,
              errors,
              retries,
              recordsSentToOnFailure,
            }),
        );
      const owed = await checkpoints().then(
        (all) =>
          all.map((c) =>
            JSON.stringify({ last: c.lastCommittedSequenceNumber, pending: c.pending !== null }),
          ),
        (error: Error) => [`checkpoints unreadable: ${error.message}`],
      );
      const problems = logLines.filter((line) => /error|warn|fail|timed out|retry/i.test(line)).slice(-30);
      const evidence = `\nshards: ${shards.join(' ')}\ncheckpoints: ${owed.join(' ')}\n${problems.join('\n')}`;
      throw new NotCommittedError(committed, target, timeoutMs, dataDir, evidence);
    },
    // A publication an invocation left unfinished (a failed PUT after its commit) is finished by the
    // scheduled publisher within a minute in AWS; run the schedule now rather than wait for it.
    verify: async () => {
      await pipeline.schedules.runNow();
      return verifyTarget(localTarget(runtime), dataDir);
    },
    async stop(stopOptions = {}) {
      kinesis.destroy();
      dynamo.destroy();
      await pipeline.stop();
      if (!stopOptions.keep) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * The parts of a verify report that must all be zero for "nothing lost, nothing duplicated": records
 * excused because they went to the on-failure destination count as lost here, since they are not in the
 * lake until someone redrives them.
 *
 * @example
 * ```ts
 * expect(lossAndDuplicates(await harness.verify())).toEqual([]);
 * ```
 */
export function lossAndDuplicates(report: VerifyReport): string[] {
  return report.outputs.flatMap((output) =>
    (['missing', 'duplicated', 'unexpected', 'excused'] as const)
      .filter((kind) => output[kind] > 0)
      .map((kind) => `${output.output}: ${output[kind]} ${kind}`),
  );
}
