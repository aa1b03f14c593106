import { type AttributeValue, type DynamoDBClient, QueryCommand } from '@aws-sdk/client-dynamodb';
import { readDeadLetters } from '../deadLetters';
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
export async function verifyTarget(
  target: ResolvedTarget,
  dataDir: string,
): Promise<VerifyReport & { dlqDuplicateCopies: number }> {
  const clients = targetClients(target);
  const inventory = await readStreamInventory(clients.kinesis, target.resources.streamName);
  const { lake } = await openTargetLake(target, dataDir);
  try {
    const parquet = await countsFrom(lake, 'events');
    const csv = await countsFrom(lake, 'events_csv');
    const deadLetters = await readDeadLetters(clients.sqs, target.resources.dlqUrl);
    const dlq: OutputCounts = new Map(deadLetters.invalidRecords.map((m) => [m.recordId, 1]));
    const excuse = excuseFrom(
      deadLetters.onFailure.map(({ KinesisBatchInfo: batch }) => ({
        shardId: batch.shardId,
        start: batch.startSequenceNumber,
        end: batch.endSequenceNumber,
      })),
      await redrivenIds(clients.dynamo, target.resources.tableName),
    );
    return {
      ...reconcile(inventory, { parquet, csv, dlq }, excuse),
      dlqDuplicateCopies: deadLetters.duplicateCopies,
    };
  } finally {
    lake.close();
  }
}

export function renderVerify(report: VerifyReport & { dlqDuplicateCopies: number }): string {
  const table = formatTable({
    columns: ['output', 'expected', 'found', 'missing', 'duplicated', 'unexpected', 'on-failure/redriven'],
    rows: report.outputs.map((o) => [
      o.output,
      o.expected,
      o.found,
      o.missing,
      o.duplicated,
      o.unexpected,
      o.excused,
    ]),
  });
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
    ...(examples.length > 0 ? ['Examples:', ...examples] : []),
    report.ok ? 'OK: every record is in its outputs exactly once.' : 'MISMATCH: see above.',
  ].join('\n');
}

export async function verify(options: TargetOptions): Promise<void> {
  const report = await verifyTarget(await resolveTarget(options), options.dataDir);
  console.log(options.json ? JSON.stringify(report, null, 2) : renderVerify(report));
  if (!report.ok) process.exitCode = 1;
}
