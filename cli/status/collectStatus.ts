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
import { type FailureStoreSummary, summarizeFailureStore } from '../dlq/failureStore';
import { listAllObjects } from '../lake/mirror';
import type { ResolvedTarget, TargetClients, TargetResources } from '../targets';
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
 * from the event source mapping's published stats: what `status` prints and the dashboard shows.
 *
 * @example
 * ```ts
 * const report = await collectStatus(target, targetClients(target), { deadLetters: true });
 * ```
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
