import { readDeadLetters } from '../deadLetters';
import { readFailedBatches } from '../dlq/failureStore';
import { redrivenIds } from '../dlq/redriveLedger';
import { openTargetLake } from '../lake/targetLake';
import { type ResolvedTarget, targetClients } from '../targets';
import { waitForPublications } from './pendingPublications';
import { readStreamInventory } from './readStream';
import { excuseFrom, type OutputCounts, reconcile, type VerifyReport } from './reconcile';

/**
 * How many times each record (`shardId:sequenceNumber`) stands in a view of the lake.
 *
 * @example
 * ```ts
 * const parquet = await recordCountsIn(lake, 'events'); // Map { 'shardId-000000000000:4959…' => 1, … }
 * ```
 */
export async function recordCountsIn(
  lake: { query(sql: string): Promise<{ rows: unknown[][] }> },
  view: string,
): Promise<OutputCounts> {
  const result = await lake.query(
    `SELECT shard_id || ':' || sequence_number AS id, count(*) AS n FROM ${view} GROUP BY ALL`,
  );
  const counts: OutputCounts = new Map();
  for (const [id, n] of result.rows) counts.set(String(id), Number(n));
  return counts;
}

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

/**
 * Reconciles the stream of a target against its lake (Parquet and CSV), its DLQ and its failure store.
 *
 * @example
 * ```ts
 * const report = await verifyTarget(target, '.shardline');
 * if (!report.ok) console.log(report.outputs);
 * ```
 */
export async function verifyTarget(target: ResolvedTarget, dataDir: string): Promise<VerifyTargetReport> {
  const clients = targetClients(target);
  const inventory = await readStreamInventory(clients.kinesis, target.resources.streamName);
  // A publication in progress takes milliseconds: wait for it, so that what is read is settled.
  const owed = await waitForPublications(clients.kinesis, clients.dynamo, target.resources);
  const { lake } = await openTargetLake(target, dataDir);
  try {
    const parquet = await recordCountsIn(lake, 'events');
    const csv = await recordCountsIn(lake, 'events_csv');
    const deadLetters = await readDeadLetters(clients.sqs, target.resources.dlqUrl);
    const dlq: OutputCounts = new Map(deadLetters.invalidRecords.map((m) => [m.recordId, 1]));
    const redriven = await redrivenIds({ dynamo: clients.dynamo, tableName: target.resources.tableName });
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
