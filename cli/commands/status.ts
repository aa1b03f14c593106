import { ListShardsCommand } from '@aws-sdk/client-kinesis';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { readCheckpoint } from '../../lambdas/consumer/checkpoint';
import { type RuntimeInfo, readRuntime, readStats } from '../../local/runtimeState';
import { formatTable } from '../format';
import { listAllObjects } from '../lake/mirror';
import { type LocalClients, localClients } from '../localClients';
import type { GlobalOptions } from '../main';

export interface ShardStatus {
  shardId: string;
  lastCommittedSequenceNumber: string | null;
  committedRecords: number;
  pendingIntent: boolean;
  millisBehindLatest: number | null;
  inFlight: boolean | null;
  invocations: number | null;
  errors: number | null;
  retries: number | null;
}

export interface StatusReport {
  dataDir: string;
  stage: string;
  pid: number;
  endpoints: RuntimeInfo['endpoints'];
  resources: RuntimeInfo['resources'];
  shards: ShardStatus[];
  dlqDepth: number;
  objects: { parquet: number; csv: number; bytes: number };
  idle: boolean | null;
}

/** Per-shard stats that `up` publishes from its event source mapping. */
interface PublishedStats {
  idle?: boolean;
  shards?: Array<{
    shardId: string;
    millisBehindLatest?: number;
    inFlight?: boolean;
    invocations?: number;
    errors?: number;
    retries?: number;
  }>;
}

/**
 * Gathers the state of a running local pipeline from the emulators themselves and from the event source
 * mapping's published stats.
 */
export async function collectStatus(runtime: RuntimeInfo, clients: LocalClients): Promise<StatusReport> {
  const stats = readStats<PublishedStats>(runtime.dataDir);
  const { Shards = [] } = await clients.kinesis.send(
    new ListShardsCommand({ StreamName: runtime.resources.streamName }),
  );
  const shards = await Promise.all(
    Shards.map(async ({ ShardId = '' }): Promise<ShardStatus> => {
      const checkpoint = await readCheckpoint(clients.dynamo, {
        tableName: runtime.resources.tableName,
        streamName: runtime.resources.streamName,
        shardId: ShardId,
      });
      const esm = stats?.shards?.find((s) => s.shardId === ShardId);
      return {
        shardId: ShardId,
        lastCommittedSequenceNumber: checkpoint.lastCommittedSequenceNumber,
        committedRecords: checkpoint.committedRecords,
        pendingIntent: checkpoint.intent !== null,
        millisBehindLatest: esm?.millisBehindLatest ?? null,
        inFlight: esm?.inFlight ?? null,
        invocations: esm?.invocations ?? null,
        errors: esm?.errors ?? null,
        retries: esm?.retries ?? null,
      };
    }),
  );
  const { Attributes = {} } = await clients.sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: runtime.resources.dlqUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  const objects = await listAllObjects(clients.s3, runtime.resources.bucketName, 'events/');
  return {
    dataDir: runtime.dataDir,
    stage: runtime.stage,
    pid: runtime.pid,
    endpoints: runtime.endpoints,
    resources: runtime.resources,
    shards,
    dlqDepth:
      Number(Attributes.ApproximateNumberOfMessages ?? 0) +
      Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0),
    objects: {
      parquet: objects.filter((o) => o.key.endsWith('.parquet')).length,
      csv: objects.filter((o) => o.key.endsWith('.csv')).length,
      bytes: objects.reduce((sum, o) => sum + o.size, 0),
    },
    idle: stats?.idle ?? null,
  };
}

const orDash = (value: unknown) => (value === null || value === undefined ? '-' : String(value));

export function renderStatus(report: StatusReport): string {
  const shardTable = formatTable({
    columns: ['shard', 'committed records', 'checkpoint', 'ms behind', 'invocations', 'errors', 'retries'],
    rows: report.shards.map((s) => [
      s.shardId,
      s.committedRecords,
      s.lastCommittedSequenceNumber
        ? `…${s.lastCommittedSequenceNumber.slice(-12)}${s.pendingIntent ? ' (intent)' : ''}`
        : '-',
      orDash(s.millisBehindLatest),
      orDash(s.invocations),
      orDash(s.errors),
      orDash(s.retries),
    ]),
  });
  const endpoints = Object.entries(report.endpoints)
    .map(([service, url]) => `  ${service.padEnd(9)}${url}`)
    .join('\n');
  return [
    `shardline ${report.stage} (pid ${report.pid}, ${report.idle ? 'idle' : 'processing'}), data in ${report.dataDir}`,
    '',
    shardTable,
    '',
    `DLQ depth: ${report.dlqDepth} message(s)`,
    `Lake: ${report.objects.parquet} Parquet and ${report.objects.csv} CSV object(s), ${(report.objects.bytes / 1024).toFixed(1)} KiB`,
    '',
    'Endpoints:',
    endpoints,
  ].join('\n');
}

export async function status(options: GlobalOptions): Promise<void> {
  const runtime = readRuntime(options.dataDir);
  const report = await collectStatus(runtime, localClients(runtime));
  console.log(options.json ? JSON.stringify(report, null, 2) : renderStatus(report));
}
