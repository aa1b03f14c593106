import { type AttributeValue, type DynamoDBClient, QueryCommand } from '@aws-sdk/client-dynamodb';
import { readDeadLetters } from '../deadLetters';
import { readFailedBatches } from '../dlq/failureStore';
import { formatTable } from '../format';
import type { TargetOptions } from '../main';
import { type ResolvedTarget, resolveTarget, targetClients } from '../targets';
import { readStreamInventory } from '../verify/readStream';
import { excuseFrom, type OutputCounts, reconcile, type VerifyReport } from '../verify/reconcile';
import { openTargetLake } from './query';

async function countsFrom(lake: { query(sql: string): Promise<{ rows: unknown[][] }> }, view: string) {
  const result = await lake.query(
    `SELECT shard_id || ':' || sequence_number AS id, count(*) AS n FROM ${view} GROUP BY ALL`,
  );
  const counts: OutputCounts = new Map();
  for (const [id, n] of result.rows) counts.set(String(id), Number(n));
  return counts;
}

/** DLQ entries a redrive has put back on the stream (the ledger in the state table). */
async function redrivenIds(dynamo: DynamoDBClient, tableName: string): Promise<Set<string>> {
  const ids = new Set<string>();
  let start: Record<string, AttributeValue> | undefined;
  do {
    const page = await dynamo.send(
      new QueryCommand({
        TableName: tableName,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': { S: 'redrive' } },
        ExclusiveStartKey: start,
      }),
    );
    for (const item of page.Items ?? []) if (item.status?.S === 'done' && item.sk?.S) ids.add(item.sk.S);
    start = page.LastEvaluatedKey;
  } while (start);
  return ids;
}

/** Reconciles the stream of a target against its lake and DLQ. */
/** The failure store as verify reports it: failed batches not yet redriven, and their records. */
export interface FailureStoreCheck {
  batches: number;
  /** Records of those batches: waiting for a redrive, not in the lake. */
  records: number;
  /** Of those, records the stream no longer holds: only the failure store has them. */
  beyondStream: number;
}

export type VerifyTargetReport = VerifyReport & {
  dlqDuplicateCopies: number;
  /** Null when the stack has no failure store (deployed before it). */
  failureStore: FailureStoreCheck | null;
};

export async function verifyTarget(target: ResolvedTarget, dataDir: string): Promise<VerifyTargetReport> {
  const clients = targetClients(target);
  const inventory = await readStreamInventory(clients.kinesis, target.resources.streamName);
  const { lake } = await openTargetLake(target, dataDir);
  try {
    const parquet = await countsFrom(lake, 'events');
    const csv = await countsFrom(lake, 'events_csv');
    const deadLetters = await readDeadLetters(clients.sqs, target.resources.dlqUrl);
    const dlq: OutputCounts = new Map(deadLetters.invalidRecords.map((m) => [m.recordId, 1]));
    const redriven = await redrivenIds(clients.dynamo, target.resources.tableName);
    const bucket = target.resources.failuresBucketName;
    const pending = bucket
      ? (await readFailedBatches(clients.s3, bucket)).filter((batch) => !redriven.has(batch.id))
      : null;
    const pendingIds = new Set(
      (pending ?? []).flatMap((batch) => batch.records.map((record) => record.eventID)),
    );
    const excuse = excuseFrom(
      deadLetters.onFailure.map(({ KinesisBatchInfo: batch }) => ({
        shardId: batch.shardId,
        start: batch.startSequenceNumber,
        end: batch.endSequenceNumber,
      })),
      redriven,
      pendingIds,
    );
    const inStream = new Set([...inventory.valid, ...inventory.invalid]);
    return {
      ...reconcile(inventory, { parquet, csv, dlq }, excuse),
      dlqDuplicateCopies: deadLetters.duplicateCopies,
      failureStore:
        pending === null
          ? null
          : {
              batches: pending.length,
              records: pendingIds.size,
              beyondStream: [...pendingIds].filter((id) => !inStream.has(id)).length,
            },
    };
  } finally {
    lake.close();
  }
}

export function renderVerify(report: VerifyTargetReport): string {
  const table = formatTable({
    columns: [
      'output',
      'expected',
      'found',
      'missing',
      'duplicated',
      'unexpected',
      'on-failure/redriven',
      'in failure store',
    ],
    rows: report.outputs.map((o) => [
      o.output,
      o.expected,
      o.found,
      o.missing,
      o.duplicated,
      o.unexpected,
      o.excused,
      o.inFailureStore,
    ]),
  });
  const store = report.failureStore;
  const examples = report.outputs.flatMap((o) =>
    (['missing', 'duplicated', 'unexpected'] as const)
      .filter((kind) => o.examples[kind].length > 0)
      .map((kind) => `  ${o.output} ${kind}: ${o.examples[kind].join(', ')}`),
  );
  return [
    `${report.streamRecords} records in the stream: ${report.valid} valid, ${report.invalid} invalid`,
    table,
    ...(report.dlqDuplicateCopies > 0
      ? [
          `(${report.dlqDuplicateCopies} repeated DLQ message(s) from replays, deduplicated on read by recordId)`,
        ]
      : []),
    ...(store && store.records > 0
      ? [
          `NOT DELIVERED: ${store.records} record(s) in ${store.batches} failed batch(es) wait in the failure ` +
            `store (${store.beyondStream} no longer in the stream); put them back with \`npx shardline dlq redrive\``,
        ]
      : []),
    ...(store === null
      ? ['(no failure store: the stack predates it; redeploy to add FailuresBucketName)']
      : []),
    ...(examples.length > 0 ? ['Examples:', ...examples] : []),
    report.ok ? 'OK: every record is in its outputs exactly once.' : 'MISMATCH: see above.',
  ].join('\n');
}

export async function verify(options: TargetOptions): Promise<void> {
  const report = await verifyTarget(await resolveTarget(options), options.dataDir);
  console.log(options.json ? JSON.stringify(report, null, 2) : renderVerify(report));
  if (!report.ok) process.exitCode = 1;
}
