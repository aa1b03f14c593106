import { type DynamoDBClient, paginateQuery } from '@aws-sdk/client-dynamodb';
import { readDeadLetters } from '../deadLetters';
import { readFailedBatches } from '../dlq/failureStore';
import { formatTable } from '../format';
import { resolveTargetOrStoppedCopy, type StoppedLakeCopy } from '../lake/localCopy';
import type { TargetOptions } from '../main';
import { type ResolvedTarget, targetClients } from '../targets';
import { waitForPublications } from '../verify/pendingPublications';
import { readStreamInventory } from '../verify/readStream';
import {
  excuseFrom,
  type LakeCopyReport,
  type OutputCounts,
  reconcile,
  reconcileLakeCopy,
  type VerifyReport,
} from '../verify/reconcile';
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
  const pages = paginateQuery(
    { client: dynamo },
    {
      TableName: tableName,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': { S: 'redrive' } },
    },
  );
  for await (const page of pages) {
    for (const item of page.Items ?? []) if (item.status?.S === 'done' && item.sk?.S) ids.add(item.sk.S);
  }
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
  /** Shards whose last commit is not all published yet: its records are counted missing until it is. */
  publicationsOwed: string[];
};

export async function verifyTarget(target: ResolvedTarget, dataDir: string): Promise<VerifyTargetReport> {
  const clients = targetClients(target);
  const inventory = await readStreamInventory(clients.kinesis, target.resources.streamName);
  // A publication in progress takes milliseconds: wait for it, so that what is read is settled.
  const owed = await waitForPublications(clients.kinesis, clients.dynamo, target.resources);
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
      publicationsOwed: owed.shards,
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
    ...(report.publicationsOwed.length > 0
      ? [
          `PUBLICATION OWED on ${report.publicationsOwed.join(', ')}: committed records not yet in the lake; ` +
            'the scheduled publisher (every minute) or the next batch finishes it: run verify again in a minute',
        ]
      : []),
    ...(examples.length > 0 ? ['Examples:', ...examples] : []),
    report.ok ? 'OK: every record is in its outputs exactly once.' : 'MISMATCH: see above.',
  ].join('\n');
}

/** The one line `verify` prints on a stopped copy for what it could not check. */
const uncheckedOffline = (dataDir: string) =>
  `not checked: the stream and the DLQ (up is not running; start \`npx shardline up --data-dir ${dataDir}\` and verify again)`;

export function renderLakeCopyCheck(report: LakeCopyReport): string {
  const table = formatTable({
    columns: ['output', 'records', 'found', 'only in the other output', 'duplicated'],
    rows: report.outputs.map((o) => [o.output, o.expected, o.found, o.missing, o.duplicated]),
  });
  return [
    `${report.records} records in the stopped copy of the lake`,
    table,
    report.ok
      ? 'OK: Parquet and CSV hold the same records, each exactly once.'
      : 'MISMATCH: Parquet and CSV disagree, see above.',
  ].join('\n');
}

/**
 * On a stopped copy only the outputs can be compared with each other: exit 1 if they disagree, else 2,
 * since the check against the stream did not run.
 */
async function verifyStoppedCopy(copy: StoppedLakeCopy, options: TargetOptions): Promise<void> {
  let report: LakeCopyReport;
  try {
    report = reconcileLakeCopy({
      parquet: await countsFrom(copy.lake, 'events'),
      csv: await countsFrom(copy.lake, 'events_csv'),
    });
  } finally {
    copy.lake.close();
  }
  console.log(
    options.json
      ? JSON.stringify({ stoppedCopy: copy.mirrorDir, checked: 'lake copy', ...report }, null, 2)
      : renderLakeCopyCheck(report),
  );
  process.stderr.write(`shardline: ${uncheckedOffline(options.dataDir)}\n`);
  process.exitCode = report.ok ? 2 : 1;
}

export async function verify(options: TargetOptions): Promise<void> {
  const resolved = await resolveTargetOrStoppedCopy(options);
  if ('copy' in resolved) return verifyStoppedCopy(resolved.copy, options);
  const report = await verifyTarget(resolved.target, options.dataDir);
  console.log(options.json ? JSON.stringify(report, null, 2) : renderVerify(report));
  if (!report.ok) process.exitCode = 1;
}
