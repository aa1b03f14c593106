import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { listCommitRecordKeys, parseCommitRecord } from '../../lambdas/consumer/commitRecord';

/**
 * The final keys the lake's commit records list: what a batch-atomic reader may read. A commit record is
 * written after every object of its commit, so an object it lists is whole, and every object of its
 * batch is there. Commit records never change, so each is fetched once and remembered in the mirror
 * folder (`.commits-index.json`).
 */

const INDEX_FILE = '.commits-index.json';

type CommitIndex = Record<string, string[]>;

async function readIndex(dir: string): Promise<CommitIndex> {
  try {
    return JSON.parse(await readFile(join(dir, INDEX_FILE), 'utf8')) as CommitIndex;
  } catch {
    return {};
  }
}

/**
 * Every final key a commit record lists, fetching only the records not seen before.
 *
 * @example
 * ```ts
 * const allowed = await committedKeys(s3, bucket, '.shardline/mirror/local-dev');
 * ```
 */
export async function committedKeys(s3: S3Client, bucket: string, dir: string): Promise<Set<string>> {
  const index = await readIndex(dir);
  const recordKeys = await listCommitRecordKeys(s3, bucket);
  const unseen = recordKeys.filter((key) => !(key in index));
  const worker = async () => {
    for (let key = unseen.shift(); key; key = unseen.shift()) {
      const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      index[key] = parseCommitRecord(key, (await object.Body?.transformToString()) ?? '').keys;
    }
  };
  const fetched = unseen.length;
  await Promise.all(Array.from({ length: 16 }, worker));
  if (fetched > 0) await writeFile(join(dir, INDEX_FILE), JSON.stringify(index));
  return new Set(Object.values(index).flat());
}
