import { GetObjectCommand, PutObjectCommand, paginateListObjectsV2, type S3Client } from '@aws-sdk/client-s3';
import { ShardlineError } from '../shared/errors';
import { COMMITS_PREFIX, commitRecordKey, commitRecordPrefix } from '../shared/lakeLayout';
import { isInSequenceRange } from '../shared/sequence';
import type { CommittedRows } from './checkpoint';

/**
 * Commit records: one small JSON object per commit, written after the commit's final objects
 * (docs/EXACTLY_ONCE.md, "Publish"). They are the catalogue of what was committed: `verify`, `dlq
 * redrive` and Shardline's own views read them, and a reader that goes through them sees each batch
 * whole or not at all.
 */

/** Rows a batch wrote per dataset: the same counts the checkpoint sums. */
export type CommitRecordRows = CommittedRows;

/** A batch as an attempt processed it: what its bundle carries and its commit record repeats. */
export interface CommittedBatch {
  streamName: string;
  shardId: string;
  /** The attempt (its random id also names its staging bundle and state snapshot). */
  attemptId: string;
  /**
   * The first and last sequence numbers of the records the batch covers: every record of the shard in
   * this range that the mapping delivered is in the lake (valid) or in the DLQ (invalid).
   */
  firstSequenceNumber: string;
  lastSequenceNumber: string;
  /** Records covered, valid and invalid. */
  records: number;
  rows: CommitRecordRows;
}

export interface CommitRecord extends CommittedBatch {
  format: 1;
  /** The final keys of the commit, every one written before this record. */
  keys: string[];
  /** When the commit landed (epoch ms). */
  committedAt: number;
}

export class CorruptCommitRecordError extends ShardlineError {
  constructor(key: string, reason: string) {
    super(`commit record ${key} is not valid (${reason}): it was not written by Shardline's consumer`);
    this.name = 'CorruptCommitRecordError';
  }
}

/**
 * Parses a commit record's body.
 *
 * @example
 * ```ts
 * const record = parseCommitRecord(key, await body.transformToString());
 * ```
 */
export function parseCommitRecord(key: string, body: string): CommitRecord {
  let value: Partial<CommitRecord>;
  try {
    value = JSON.parse(body);
  } catch (error) {
    throw new CorruptCommitRecordError(key, (error as Error).message);
  }
  if (
    value?.format !== 1 ||
    typeof value.shardId !== 'string' ||
    typeof value.firstSequenceNumber !== 'string' ||
    typeof value.lastSequenceNumber !== 'string' ||
    !Array.isArray(value.keys)
  )
    throw new CorruptCommitRecordError(key, 'missing fields');
  return value as CommitRecord;
}

/**
 * Writes a commit record. The key is fixed by the shard and the last sequence number, and the body by
 * the commit, so writing it again (a repeated publication) writes the same bytes.
 *
 * @example
 * ```ts
 * await putCommitRecord(s3, bucket, record);
 * ```
 */
export async function putCommitRecord(s3: S3Client, bucket: string, record: CommitRecord): Promise<string> {
  const key = commitRecordKey(record.shardId, record.lastSequenceNumber);
  await s3.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: key,
      Body: JSON.stringify(record),
      ContentType: 'application/json',
    }),
  );
  return key;
}

/**
 * The keys of every commit record, of one shard or of all, in commit order per shard.
 *
 * @example
 * ```ts
 * const keys = await listCommitRecordKeys(s3, bucket, 'shardId-000000000000');
 * ```
 */
export async function listCommitRecordKeys(
  s3: S3Client,
  bucket: string,
  shardId?: string,
): Promise<string[]> {
  const keys: string[] = [];
  const prefix = shardId === undefined ? `${COMMITS_PREFIX}/` : commitRecordPrefix(shardId);
  for await (const page of paginateListObjectsV2({ client: s3 }, { Bucket: bucket, Prefix: prefix })) {
    for (const object of page.Contents ?? []) if (object.Key?.endsWith('.json')) keys.push(object.Key);
  }
  return keys.sort();
}

/**
 * Reads every commit record, of one shard or of all.
 *
 * @example
 * ```ts
 * const records = await readCommitRecords(s3, bucket);
 * const covered = isCoveredByCommit(records, shardId, sequenceNumber);
 * ```
 */
export async function readCommitRecords(
  s3: S3Client,
  bucket: string,
  shardId?: string,
): Promise<CommitRecord[]> {
  const keys = await listCommitRecordKeys(s3, bucket, shardId);
  const records: CommitRecord[] = [];
  // A few at a time: a lake of many commits must not open thousands of sockets at once.
  for (let i = 0; i < keys.length; i += 16) {
    const slice = keys.slice(i, i + 16);
    records.push(
      ...(await Promise.all(
        slice.map(async (key) => {
          const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
          return parseCommitRecord(key, (await object.Body?.transformToString()) ?? '');
        }),
      )),
    );
  }
  return records;
}

/**
 * Whether a commit covers the record at `sequenceNumber` of `shardId`: it is in the lake or the DLQ
 * already, and must not be put back on the stream.
 *
 * @example
 * ```ts
 * isCoveredByCommit(records, 'shardId-000000000000', '4955…'); // true once committed
 * ```
 */
export function isCoveredByCommit(
  records: readonly CommitRecord[],
  shardId: string,
  sequenceNumber: string,
): boolean {
  return records.some(
    (r) =>
      r.shardId === shardId &&
      isInSequenceRange(sequenceNumber, { first: r.firstSequenceNumber, last: r.lastSequenceNumber }),
  );
}
