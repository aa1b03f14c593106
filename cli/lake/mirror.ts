import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { ShardlineError } from '../../lambdas/shared/errors';
import { committedKeys } from './commitCatalog';

/**
 * Incremental local mirror of the lake, so DuckDB can read it without httpfs (which cannot be installed
 * offline). Only new or changed objects are downloaded; objects that vanished from the bucket vanish
 * from the mirror too, so a query never counts what the bucket no longer holds. With `committedOnly`, only
 * objects a commit record lists are mirrored: every batch is in the mirror whole or not at all.
 */
export interface MirrorResult {
  downloaded: number;
  removed: number;
  unchanged: number;
  bytesDownloaded: number;
}

type MirrorIndex = Record<string, string>;

/** An object key that would land outside the mirror folder (`..` segments): refused, never written. */
export class UnsafeMirrorKeyError extends ShardlineError {
  constructor(
    readonly key: string,
    readonly dir: string,
  ) {
    super(
      `refusing to mirror object key ${JSON.stringify(key)}: it resolves outside ${dir}; remove the object from the bucket`,
    );
    this.name = 'UnsafeMirrorKeyError';
  }
}

/**
 * The local path of an object key inside the mirror folder. Throws `UnsafeMirrorKeyError` for a key
 * that resolves outside it (`events/../../../.bashrc`), whatever the bucket holds.
 *
 * @example
 * ```ts
 * mirrorPath('/tmp/mirror', 'events/parquet/a.parquet'); // '/tmp/mirror/events/parquet/a.parquet'
 * ```
 */
export function mirrorPath(dir: string, key: string): string {
  const root = resolve(dir);
  const path = resolve(root, key);
  if (!path.startsWith(root + sep) || key.includes('\0')) throw new UnsafeMirrorKeyError(key, root);
  return path;
}

const INDEX_FILE = '.mirror-index.json';

async function readIndex(dir: string): Promise<MirrorIndex> {
  try {
    return JSON.parse(await readFile(join(dir, INDEX_FILE), 'utf8')) as MirrorIndex;
  } catch {
    return {};
  }
}

/** Lists every key under a prefix. No delimiter: s3rver loses deep common prefixes with one. */
export async function listAllObjects(s3: S3Client, bucket: string, prefix: string) {
  const objects: { key: string; etag: string; size: number }[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
    );
    for (const o of page.Contents ?? []) {
      if (o.Key) objects.push({ key: o.Key, etag: o.ETag ?? '', size: o.Size ?? 0 });
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return objects;
}

/**
 * Brings `dir` up to date with the bucket's objects under the given prefixes.
 *
 * @example
 * ```ts
 * await mirrorBucket(s3, 'shardline-dev-lake-…', ['events/'], '.shardline/mirror', undefined, { committedOnly: true });
 * ```
 */
export async function mirrorBucket(
  s3: S3Client,
  bucket: string,
  prefixes: readonly string[],
  dir: string,
  onProgress?: (done: number, total: number) => void,
  options: { committedOnly?: boolean } = {},
): Promise<MirrorResult> {
  await mkdir(dir, { recursive: true });
  const index = await readIndex(dir);
  // The commit records are listed before the objects: an object listed later than its record is whole.
  const allowed = options.committedOnly ? await committedKeys(s3, bucket, dir) : null;
  const all = (await Promise.all(prefixes.map((p) => listAllObjects(s3, bucket, p)))).flat();
  const listed = allowed ? all.filter((o) => allowed.has(o.key)) : all;
  const result: MirrorResult = { downloaded: 0, removed: 0, unchanged: 0, bytesDownloaded: 0 };
  const present = new Set(listed.map((o) => o.key));
  for (const key of Object.keys(index)) {
    if (!present.has(key) && prefixes.some((p) => key.startsWith(p))) {
      await rm(mirrorPath(dir, key), { force: true });
      delete index[key];
      result.removed++;
    }
  }
  // Every key is checked before anything is downloaded, so a hostile key stops the mirror with nothing written.
  for (const o of listed) mirrorPath(dir, o.key);
  const toFetch = listed.filter((o) => index[o.key] !== o.etag);
  result.unchanged = listed.length - toFetch.length;
  let done = 0;
  const queue = [...toFetch];
  const worker = async () => {
    for (let o = queue.shift(); o; o = queue.shift()) {
      const response = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: o.key }));
      const bytes = await response.Body?.transformToByteArray();
      if (!bytes) throw new Error(`empty body for s3://${bucket}/${o.key}`);
      const path = mirrorPath(dir, o.key);
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, bytes);
      index[o.key] = o.etag;
      result.downloaded++;
      result.bytesDownloaded += bytes.byteLength;
      onProgress?.(++done, toFetch.length);
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
  await writeFile(join(dir, INDEX_FILE), JSON.stringify(index));
  return result;
}
