import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import {
  type Checkpoint,
  type CommittedRows,
  committedRowsBy,
  readCheckpoint,
} from '../../lambdas/consumer/checkpoint';
import { listShards } from '../../lambdas/shared/kinesisShards';
import { readStats } from '../../local/runtimeState';
import { type DeadLetterSnapshot, readDeadLetters } from '../deadLetters';
import { type FailureStoreSummary, formatAge, summarizeFailureStore } from '../dlq/failureStore';
import { formatTable } from '../format';
import { listAllObjects } from '../lake/mirror';
import type { TargetOptions } from '../main';
import {
  type ResolvedTarget,
  resolveTarget,
  type TargetClients,
  type TargetResources,
  targetClients,
} from '../targets';
import { countRecordsBehind } from '../verify/readStream';

export interface ShardStatus {
  shardId: string;
  lastCommittedSequenceNumber: string | null;
  committedRecords: number;
  /** Records on the shard after its checkpoint; null if they could not be counted. */
  recordsBehind: number | null;
  /** False when the count stopped at its cap (RECORDS_BEHIND_CAP): there are at least that many. */
  recordsBehindComplete: boolean;
  pendingPublication: boolean;
  millisBehindLatest: number | null;
  iteratorAgeMs: number | null;
  inFlight: number | null;
  invocations: number | null;
  errors: number | null;
  retries: number | null;
  recordsSentToOnFailure: number | null;
}

export interface StatusReport {
  target: string;
  stage: string;
  /** The local runtime's process and endpoints; absent on LocalStack and AWS. */
  local: { pid: number; dataDir: string; endpoints: Record<string, string> } | null;
  resources: TargetResources;
  shards: ShardStatus[];
  /** Rows committed per dataset, all shards together, from the checkpoints' exactly-once counters. */
  rows: CommittedRows;
  /** The end of the newest window committed on any shard (ISO 8601); null before the first. */
  latestWindowEnd: string | null;
  /** The last commit on any shard (ISO 8601); null before the first. */
  lastCommitAt: string | null;
  dlqDepth: number;
  /** Failed batches in the S3 failure store (records included); null when the stack has none. */
  failureStore: FailureStoreSummary | null;
  /** Event objects (Parquet and CSV, under events/). */
  objects: { parquet: number; csv: number; bytes: number };
  /** Objects and bytes per top-level dataset prefix (events/parquet, events/csv, windows, sessions, …). */
  prefixes: Record<string, { objects: number; bytes: number }>;
  /** Only when asked for (it reads the whole queue): the DLQ by kind, and its newest invalid records. */
  deadLetters: {
    invalidRecords: number;
    onFailureBatches: number;
    repeatedCopies: number;
    lastErrors: Array<{ recordId: string; reason: string; at: string; issue: string }>;
  } | null;
  idle: boolean | null;
}

/** Per-shard stats that `up` publishes from its event source mapping. */
interface PublishedStats {
  idle?: boolean;
  shards?: Array<{
    shardId: string;
    millisBehindLatest?: number;
    iteratorAgeMs?: number;
    inFlight?: number;
    invocations?: number;
    errors?: number;
    retries?: number;
    recordsSentToOnFailure?: number;
  }>;
}

/**
 * Records behind counted per shard: on AWS each count costs GetRecords calls that the consumer's
 * mapping shares (5 per second per shard), so it stops here and says "at least".
 */
export const RECORDS_BEHIND_CAP = 100_000;
/** The same for `status --watch` and the dashboard, which read it every second or two. */
export const WATCH_RECORDS_BEHIND_CAP = 10_000;

/**
 * Gathers the state of a pipeline from its services (checkpoints, DLQ, objects) and, on the local target,
 * from the event source mapping's published stats.
 */
export async function collectStatus(
  target: ResolvedTarget,
  clients: Pick<TargetClients, 'kinesis' | 'dynamo' | 'sqs' | 's3'>,
  options: { deadLetters?: boolean; recordsBehindCap?: number } = {},
): Promise<StatusReport> {
  const { resources, runtime } = target;
  const stats = runtime ? readStats<PublishedStats>(runtime.dataDir) : null;
  const listed = await listShards(clients.kinesis, resources.streamName);
  const checkpoints: Checkpoint[] = [];
  const shards = await Promise.all(
    listed.map(async ({ shardId }): Promise<ShardStatus> => {
      const checkpoint = await readCheckpoint(clients.dynamo, {
        tableName: resources.tableName,
        streamName: resources.streamName,
        shardId,
      });
      const esm = stats?.shards?.find((s) => s.shardId === shardId);
      const behind = await countRecordsBehind(
        clients.kinesis,
        resources.streamName,
        shardId,
        checkpoint.lastCommittedSequenceNumber,
        options.recordsBehindCap ?? RECORDS_BEHIND_CAP,
      ).catch(() => null);
      checkpoints.push(checkpoint);
      return {
        shardId,
        lastCommittedSequenceNumber: checkpoint.lastCommittedSequenceNumber,
        committedRecords: checkpoint.committedRecords,
        recordsBehind: behind?.count ?? null,
        recordsBehindComplete: behind?.complete ?? false,
        pendingPublication: checkpoint.pending !== null,
        millisBehindLatest: esm?.millisBehindLatest ?? null,
        iteratorAgeMs: esm?.iteratorAgeMs ?? null,
        inFlight: esm?.inFlight ?? null,
        invocations: esm?.invocations ?? null,
        errors: esm?.errors ?? null,
        retries: esm?.retries ?? null,
        recordsSentToOnFailure: esm?.recordsSentToOnFailure ?? null,
      };
    }),
  );
  const { Attributes = {} } = await clients.sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: resources.dlqUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  const all = await listAllObjects(clients.s3, resources.bucketName, '');
  const objects = all.filter((o) => o.key.startsWith('events/'));
  const prefixes: StatusReport['prefixes'] = {};
  for (const o of all) {
    const prefix = o.key.startsWith('events/')
      ? o.key.split('/').slice(0, 2).join('/')
      : (o.key.split('/')[0] ?? '');
    const entry = prefixes[prefix] ?? { objects: 0, bytes: 0 };
    entry.objects++;
    entry.bytes += o.size;
    prefixes[prefix] = entry;
  }
  const failureStore = resources.failuresBucketName
    ? await summarizeFailureStore(clients.s3, resources.failuresBucketName)
    : null;
  const deadLetters = options.deadLetters
    ? summariseDeadLetters(await readDeadLetters(clients.sqs, resources.dlqUrl))
    : null;
  return {
    target: target.name,
    stage: resources.stage,
    local: runtime ? { pid: runtime.pid, dataDir: runtime.dataDir, endpoints: runtime.endpoints } : null,
    resources,
    shards,
    ...sumCheckpoints(checkpoints),
    dlqDepth:
      Number(Attributes.ApproximateNumberOfMessages ?? 0) +
      Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0),
    failureStore,
    objects: {
      parquet: objects.filter((o) => o.key.endsWith('.parquet')).length,
      csv: objects.filter((o) => o.key.endsWith('.csv')).length,
      bytes: objects.reduce((sum, o) => sum + o.size, 0),
    },
    prefixes,
    deadLetters,
    // The mapping calls itself idle once its reader is at the tip, which it may be while the consumer
    // still works through a batch: idle only when no shard has records behind its checkpoint either.
    idle: stats?.idle === undefined ? null : stats.idle && shards.every((s) => (s.recordsBehind ?? 0) === 0),
  };
}

function sumCheckpoints(
  checkpoints: Checkpoint[],
): Pick<StatusReport, 'rows' | 'latestWindowEnd' | 'lastCommitAt'> {
  const rows = committedRowsBy((dataset) =>
    checkpoints.reduce((sum, c) => sum + c.committedRows[dataset], 0),
  );
  const newest = (values: Array<number | null>) => {
    const present = values.filter((v): v is number => v !== null);
    return present.length > 0 ? new Date(Math.max(...present)).toISOString() : null;
  };
  return {
    rows,
    latestWindowEnd: newest(checkpoints.map((c) => c.latestWindowEnd)),
    lastCommitAt: newest(checkpoints.map((c) => c.committedAt)),
  };
}

function summariseDeadLetters(snapshot: DeadLetterSnapshot): NonNullable<StatusReport['deadLetters']> {
  const newest = [...snapshot.invalidRecords].sort((a, b) => (a.failedAt < b.failedAt ? 1 : -1)).slice(0, 3);
  return {
    invalidRecords: snapshot.invalidRecords.length,
    onFailureBatches: snapshot.onFailure.length,
    repeatedCopies: snapshot.duplicateCopies,
    lastErrors: newest.map((m) => ({
      recordId: m.recordId,
      reason: m.reason,
      at: m.failedAt,
      issue: m.issues[0] ? `${m.issues[0].path || '(root)'}: ${m.issues[0].message}`.slice(0, 120) : '',
    })),
  };
}

const orDash = (value: unknown) => (value === null || value === undefined ? '-' : String(value));

export function renderStatus(report: StatusReport): string {
  const shardTable = formatTable({
    columns: [
      'shard',
      'committed records',
      'records behind',
      'checkpoint',
      'ms behind',
      'iterator age ms',
      'invocations',
      'in flight',
      'errors',
      'retries',
      'on-failure',
    ],
    rows: report.shards.map((s) => [
      s.shardId,
      s.committedRecords,
      s.recordsBehind === null ? '-' : `${s.recordsBehindComplete ? '' : '≥'}${s.recordsBehind}`,
      s.lastCommittedSequenceNumber
        ? `…${s.lastCommittedSequenceNumber.slice(-12)}${s.pendingPublication ? ' (publishing)' : ''}`
        : '-',
      orDash(s.millisBehindLatest),
      orDash(s.iteratorAgeMs),
      orDash(s.invocations),
      orDash(s.inFlight),
      orDash(s.errors),
      orDash(s.retries),
      orDash(s.recordsSentToOnFailure),
    ]),
  });
  const where = report.local
    ? `local, pid ${report.local.pid}, ${report.idle ? 'idle' : 'processing'}, data in ${report.local.dataDir}`
    : report.target;
  const endpoints = report.local
    ? Object.entries(report.local.endpoints).map(([service, url]) => `  ${service.padEnd(9)}${url}`)
    : [`  region   ${report.resources.region}`];
  return [
    `shardline ${report.stage} (${where})`,
    '',
    shardTable,
    '',
    `DLQ depth: ${report.dlqDepth} message(s)${
      report.deadLetters
        ? `: ${report.deadLetters.invalidRecords} invalid record(s), ${report.deadLetters.onFailureBatches} on-failure batch(es)`
        : ''
    }`,
    report.failureStore
      ? `Failure store: ${report.failureStore.batches} failed batch(es), ${report.failureStore.bytes} bytes` +
        (report.failureStore.oldestAgeMs === null
          ? ''
          : `, oldest ${formatAge(report.failureStore.oldestAgeMs)} old (redrive with \`npx shardline dlq redrive\`)`)
      : 'Failure store: none (the stack predates it)',
    ...(report.deadLetters?.lastErrors ?? []).map(
      (e) => `  last error ${e.at}  ${e.reason}  ${e.issue}  (${e.recordId})`,
    ),
    `Rows committed: ${report.rows.events} event(s), ${report.rows.invalid} invalid, ${report.rows.windows} window(s), ` +
      `${report.rows.sessions} session(s), ${report.rows.alerts} alert(s), ${report.rows.lateEvents} late event(s), ${report.rows.engagement} engagement row(s)`,
    `  newest window ends ${report.latestWindowEnd ?? '-'}, last commit ${report.lastCommitAt ?? '-'}`,
    'Lake:',
    ...Object.entries(report.prefixes)
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(
        ([prefix, p]) =>
          `  ${prefix.padEnd(16)}${String(p.objects).padStart(7)} object(s) ${(p.bytes / 1024).toFixed(1).padStart(10)} KiB`,
      ),
    '',
    report.local ? 'Endpoints:' : 'AWS:',
    ...endpoints,
  ].join('\n');
}

export async function status(options: TargetOptions & { watch?: number | true }): Promise<void> {
  const target = await resolveTarget(options);
  const clients = targetClients(target);
  // Refreshed every few seconds, the records-behind count stops sooner, as the dashboard's does.
  const recordsBehindCap = options.watch === undefined ? RECORDS_BEHIND_CAP : WATCH_RECORDS_BEHIND_CAP;
  const show = async () => {
    const report = await collectStatus(target, clients, { deadLetters: true, recordsBehindCap });
    return options.json ? JSON.stringify(report) : renderStatus(report);
  };
  if (options.watch === undefined) {
    console.log(
      options.json
        ? JSON.stringify(
            await collectStatus(target, clients, { deadLetters: true, recordsBehindCap }),
            null,
            2,
          )
        : await show(),
    );
    return;
  }
  const everyMs = (options.watch === true ? 2 : options.watch) * 1000;
  let running = true;
  process.once('SIGINT', () => {
    running = false;
  });
  while (running) {
    const text = await show();
    // --json --watch prints one JSON object per line (NDJSON) for scripts; otherwise redraw the screen.
    if (options.json) console.log(text);
    else
      process.stdout.write(`\x1b[2J\x1b[H${text}\n\n(refreshing every ${everyMs / 1000} s; Ctrl-C stops)\n`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}
