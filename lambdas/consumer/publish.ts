import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { PublisherConfig } from '../shared/config';
import { type Bundle, decodeBundle } from './bundle';
import { clearPending, type PendingPublication, type ShardKey } from './checkpoint';
import { type CommitRecord, putCommitRecord } from './commitRecord';

/**
 * Publication: after a commit, the final objects go to keys fixed by the shard and the committed range,
 * then the commit record, then the state snapshots the commit made obsolete are deleted and `pending` cleared
 * (docs/EXACTLY_ONCE.md). Every step writes the same bytes to the same keys however often it runs, so
 * anyone may finish a publication any number of times: the committing attempt from memory, the next
 * invocation of the shard or the scheduled publisher (lambdas/publisher/) from the staged bundle.
 */

/** What publication needs. */
export interface PublisherDeps {
  s3: S3Client;
  dynamo: DynamoDBClient;
  config: PublisherConfig;
  now?: () => number;
  log?: (message: string, fields: Record<string, unknown>) => void;
}

/**
 * Publishes a committed bundle: final objects, commit record, obsolete snapshots deleted, pending cleared.
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
  await allSettled(
    pending.obsoleteStates.map((key) => deps.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }))),
  );
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

/** Like Promise.all, but settles every PUT before reporting the first failure. */
async function allSettled(promises: Promise<unknown>[]): Promise<void> {
  const settled = await Promise.allSettled(promises);
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) throw failed.reason;
}
