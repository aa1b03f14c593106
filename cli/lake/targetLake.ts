import { mkdir, writeFile } from 'node:fs/promises';
import { ANALYTICS_DATASET_NAMES, ANALYTICS_DATASETS } from '../../lambdas/shared/analyticsRows';
import { readDeadLetters } from '../deadLetters';
import { type ResolvedTarget, targetClients } from '../targets';
import { errorsSnapshotFile, lakeMirrorDir } from './localCopy';
import { mirrorBucket } from './mirror';
import { errorsView, openLake } from './views';

/** The lake's datasets, as prefixes of its bucket: what a mirror copies. */
export const LAKE_PREFIXES = [
  'events/',
  ...ANALYTICS_DATASET_NAMES.map((name) => `${ANALYTICS_DATASETS[name].prefix}/`),
];

/**
 * Mirrors the target's lake into `<dataDir>/mirror/<target>-<stage>` (only what changed) and opens DuckDB
 * on it.
 *
 * @example
 * ```ts
 * const { lake } = await openTargetLake(target, '.shardline');
 * ```
 */
export async function openTargetLake(target: ResolvedTarget, dataDir: string) {
  const { s3 } = targetClients(target);
  const mirrorDir = lakeMirrorDir(dataDir, target.name, target.resources.stage);
  const showProgress = process.stderr.isTTY;
  const mirrored = await mirrorBucket(
    s3,
    target.resources.bucketName,
    LAKE_PREFIXES,
    mirrorDir,
    (done, total) => {
      if (showProgress && total > 100) {
        const width = 30;
        const filled = Math.round((done / total) * width);
        process.stderr.write(
          `\r  mirroring [${'█'.repeat(filled)}${' '.repeat(width - filled)}] ${done}/${total} objects`,
        );
      }
    },
    { committedOnly: true },
  );
  if (showProgress && mirrored.downloaded > 100) process.stderr.write('\n');
  const lake = await openLake(mirrorDir);
  await lake.query(await writeErrorsSnapshot(target, mirrorDir));
  return { lake, mirrored };
}

/** Writes the DLQ's invalid records (deduplicated) next to the mirror, so SQL can join them with the lake. */
async function writeErrorsSnapshot(target: ResolvedTarget, mirrorDir: string): Promise<string> {
  const { sqs } = targetClients(target);
  const snapshot = await readDeadLetters(sqs, target.resources.dlqUrl);
  const rows = snapshot.invalidRecords.map((m) => ({
    record_id: m.recordId,
    reason: m.reason,
    issues: JSON.stringify(m.issues),
    shard_id: m.shardId,
    sequence_number: m.sequenceNumber,
    partition_key: m.partitionKey,
    arrival_time: m.approximateArrivalTimestamp,
    failed_at: m.failedAt,
    payload_bytes: m.payloadBytes,
    payload_s3_key: m.payloadS3Key ?? null,
  }));
  const file = errorsSnapshotFile(mirrorDir);
  await mkdir(mirrorDir, { recursive: true });
  await writeFile(file, rows.map((r) => JSON.stringify(r)).join('\n'));
  return errorsView(file, rows.length);
}
