import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { paginateScan } from '@aws-sdk/client-dynamodb';
import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { PublisherConfig } from '../shared/config';
import { type Bundle, decodeBundle } from './bundle';
import {
  CHECKPOINT_SK,
  clearPending,
  type PendingPublication,
  parseCheckpoint,
  type ShardKey,
} from './checkpoint';
import { type CommitRecord, putCommitRecord } from './commitRecord';

/**
 * Publication: after a commit, the final objects go to keys fixed by the shard and the committed range,
 * then the commit record, then the replaced state snapshot is deleted and `pending` cleared
 * (docs/EXACTLY_ONCE.md). Every step writes the same bytes to the same keys however often it runs, so
 * anyone may finish a publication any number of times: the committing attempt from memory, the next
 * invocation of the shard or the scheduled publisher from the staged bundle.
 */

/** What publication needs. */
export interface PublisherDeps {
  s3: S3Client;
  dynamo: DynamoDBClient;
  config: PublisherConfig;
  now?: () => number;
  log?: (message: string, fields: Record<string, unknown>) => void;
}

export interface PublishSummary {
  /** Shards whose checkpoint carried an unfinished publication. */
  pending: number;
  /** Publications this run finished. */
  finished: number;
  /** Age in seconds of the oldest unfinished publication found (0 when none). */
  oldestPendingAgeSeconds: number;
}

/**
 * Publishes a committed bundle: final objects, commit record, old snapshot deleted, pending cleared.
 * Returns whether this call cleared `pending` (false: someone else finished it first).
 *
 * @example
 * ```ts
 * await publishBundle(deps, shard, checkpoint.pending, bundle, committedAt);
 * ```
 */
export async function publishBundle(
  deps: Pick<PublisherDeps, 's3' | 'dynamo' | 'config'>,
  shard: ShardKey,
  pending: PendingPublication,
  bundle: Bundle,
): Promise<boolean> {
  const bucket = deps.config.bucketName;
  await allSettled(
    bundle.objects.map((o) =>
      deps.s3.send(
        new PutObjectCommand({ Bucket: bucket, Key: o.key, Body: o.body, ContentType: o.contentType }),
      ),
    ),
  );
  const record: CommitRecord = {
    format: 1,
    streamName: bundle.streamName,
    shardId: bundle.shardId,
    attemptId: bundle.attemptId,
    firstSequenceNumber: bundle.firstSequenceNumber,
    lastSequenceNumber: bundle.lastSequenceNumber,
    records: bundle.records,
    keys: bundle.objects.map((o) => o.key),
    rows: bundle.rows,
    committedAt: pending.committedAt,
  };
  await putCommitRecord(deps.s3, bucket, record);
  // Deleting a key that is already gone succeeds: a repeated publication is harmless here too.
  if (pending.previousState)
    await deps.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: pending.previousState }));
  return clearPending(deps.dynamo, shard, pending.id);
}

/**
 * Reads a pending publication's staged bundle.
 *
 * @example
 * ```ts
 * const bundle = await readBundle(s3, bucket, checkpoint.pending.bundle);
 * ```
 */
export async function readBundle(s3: S3Client, bucket: string, key: string): Promise<Bundle> {
  const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  const bytes = await object.Body?.transformToByteArray();
  return decodeBundle(key, bytes ?? new Uint8Array(0));
}

/**
 * Finishes a publication that another attempt owes, from its staged bundle.
 *
 * @example
 * ```ts
 * if (checkpoint.pending) await finishPublication(deps, shard, checkpoint.pending);
 * ```
 */
export async function finishPublication(
  deps: Pick<PublisherDeps, 's3' | 'dynamo' | 'config'>,
  shard: ShardKey,
  pending: PendingPublication,
): Promise<boolean> {
  const bundle = await readBundle(deps.s3, deps.config.bucketName, pending.bundle);
  return publishBundle(deps, shard, pending, bundle);
}

/**
 * Finishes every unfinished publication of the stream's shards, closed parent shards included: it finds
 * them in the state table (a Scan of checkpoint items with a `pending` attribute), not through
 * ListShards, which stops listing a closed shard once its records expire. One shard's failure does not
 * stop the others; the run throws at the end if any failed, so the schedule's error alarm sees it.
 *
 * @example
 * ```ts
 * const summary = await publishPendingCommits({ s3, dynamo, config });
 * ```
 */
export async function publishPendingCommits(deps: PublisherDeps): Promise<PublishSummary> {
  const now = (deps.now ?? Date.now)();
  const prefix = `${deps.config.streamName}#`;
  const summary: PublishSummary = { pending: 0, finished: 0, oldestPendingAgeSeconds: 0 };
  const failures: Error[] = [];
  const pages = paginateScan(
    { client: deps.dynamo },
    {
      TableName: deps.config.tableName,
      FilterExpression: 'sk = :sk AND attribute_exists(pending) AND begins_with(pk, :prefix)',
      ExpressionAttributeValues: { ':sk': { S: CHECKPOINT_SK }, ':prefix': { S: prefix } },
      ConsistentRead: true,
    },
  );
  for await (const page of pages) {
    for (const item of page.Items ?? []) {
      const shardId = (item.pk?.S ?? '').slice(prefix.length);
      const checkpoint = parseCheckpoint(shardId, item);
      if (!checkpoint.pending) continue;
      summary.pending++;
      const age = Math.max(0, Math.round((now - checkpoint.pending.committedAt) / 1000));
      summary.oldestPendingAgeSeconds = Math.max(summary.oldestPendingAgeSeconds, age);
      const shard = { tableName: deps.config.tableName, streamName: deps.config.streamName, shardId };
      try {
        if (await finishPublication(deps, shard, checkpoint.pending)) summary.finished++;
        deps.log?.('finished a publication', { shardId, attemptId: checkpoint.pending.id, ageSeconds: age });
      } catch (error) {
        failures.push(error as Error);
        deps.log?.('could not finish a publication', { shardId, error: (error as Error).message });
      }
    }
  }
  if (failures.length > 0)
    throw new AggregateError(failures, `${failures.length} publication(s) could not be finished`);
  return summary;
}

/** Like Promise.all, but settles every PUT before reporting the first failure. */
async function allSettled(promises: Promise<unknown>[]): Promise<void> {
  const settled = await Promise.allSettled(promises);
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) throw failed.reason;
}
