import { readRuntime } from '../../local/runtimeState';
import { readDeadLetters } from '../deadLetters';
import { formatTable } from '../format';
import { localClients } from '../localClients';
import type { GlobalOptions } from '../main';
import { readStreamInventory } from '../verify/readStream';
import { type OutputCounts, reconcile, type VerifyReport } from '../verify/reconcile';
import { openLocalLake } from './query';

async function countsFrom(lake: { query(sql: string): Promise<{ rows: unknown[][] }> }, view: string) {
  const result = await lake.query(
    `SELECT shard_id || ':' || sequence_number AS id, count(*) AS n FROM ${view} GROUP BY ALL`,
  );
  const counts: OutputCounts = new Map();
  for (const [id, n] of result.rows) counts.set(String(id), Number(n));
  return counts;
}

/** Reconciles the stream of a running local pipeline against its lake and DLQ. */
export async function verifyLocal(dataDir: string): Promise<VerifyReport & { dlqDuplicateCopies: number }> {
  const runtime = readRuntime(dataDir);
  const clients = localClients(runtime);
  const inventory = await readStreamInventory(clients.kinesis, runtime.resources.streamName);
  const { lake } = await openLocalLake(dataDir);
  try {
    const parquet = await countsFrom(lake, 'events');
    const csv = await countsFrom(lake, 'events_csv');
    const deadLetters = await readDeadLetters(clients.sqs, runtime.resources.dlqUrl);
    const dlq: OutputCounts = new Map(deadLetters.invalidRecords.map((m) => [m.recordId, 1]));
    return {
      ...reconcile(inventory, { parquet, csv, dlq }),
      dlqDuplicateCopies: deadLetters.duplicateCopies,
    };
  } finally {
    lake.close();
  }
}

export function renderVerify(report: VerifyReport & { dlqDuplicateCopies: number }): string {
  const table = formatTable({
    columns: ['output', 'expected', 'found', 'missing', 'duplicated', 'unexpected'],
    rows: report.outputs.map((o) => [o.output, o.expected, o.found, o.missing, o.duplicated, o.unexpected]),
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

export async function verify(options: GlobalOptions): Promise<void> {
  const report = await verifyLocal(options.dataDir);
  console.log(options.json ? JSON.stringify(report, null, 2) : renderVerify(report));
  if (!report.ok) process.exitCode = 1;
}
