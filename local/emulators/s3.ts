/**
 * Child process: s3rver (S3) on 127.0.0.1, objects as files in `--dir`.
 *
 * Node must run with `--openssl-legacy-provider` (startEmulators passes it): without it s3rver answers
 * every truncated listing (more keys than MaxKeys) with HTTP 500.
 */
import { createHash } from 'node:crypto';
import { copyFile, mkdir, rename, rm, writeFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { refuseBrowserRequests } from './browserGuard';
import { runEmulator } from './launcher';

interface S3rverOptions {
  address: string;
  port: number;
  directory: string;
  silent: boolean;
  /** Virtual-hosted buckets would need DNS for <bucket>.localhost; clients use path-style instead. */
  vhostBuckets: boolean;
}

interface S3rverInstance {
  run(): Promise<unknown>;
  /** The HTTP server `run()` created. */
  readonly httpServer: Server;
  close(): Promise<void>;
}

const require = createRequire(import.meta.url);
const S3rver = require('s3rver') as new (options: S3rverOptions) => S3rverInstance;

interface StoredObject {
  bucket: string;
  key: string;
  content: Buffer | Readable;
  metadata: Record<string, string>;
}

interface FilesystemStore {
  getResourcePath(bucket: string, key: string, resource: string): string;
  getMetadata(bucket: string, key: string): Promise<Record<string, unknown>>;
  putMetadata(bucket: string, key: string, metadata: Record<string, string>, md5?: string): Promise<void>;
  putObject(object: StoredObject): Promise<{ size: number; md5: string }>;
  copyObject(
    srcBucket: string,
    srcKey: string,
    destBucket: string,
    destKey: string,
    replacementMetadata?: Record<string, string>,
  ): Promise<Record<string, unknown>>;
}

const FilesystemStore = require('s3rver/lib/stores/filesystem') as { prototype: FilesystemStore };
/** A directory that a concurrent DeleteObject removed (it empties key prefixes) is made again this often. */
const PUT_ATTEMPTS = 5;

let temporaryFiles = 0;

/**
 * A name beside `path` for writing it before the rename. It does not end in `._S3rver_object`, so
 * listings never show it, and it keeps the directory non-empty while it exists.
 */
function temporaryPathFor(path: string): string {
  temporaryFiles += 1;
  return join(dirname(path), `.${basename(path)}.${process.pid}-${temporaryFiles}.tmp`);
}

/**
 * Replaces a file as S3 makes an object visible: whole or not at all. `fill` writes a temporary file in
 * the same directory, then one rename (atomic within a file system) replaces the old file, so a reader
 * of the emulator's files (or a GET racing the PUT) never sees a truncated object.
 */
async function replaceAtomically(path: string, fill: (temporary: string) => Promise<void>): Promise<void> {
  const temporary = temporaryPathFor(path);
  try {
    await fill(temporary);
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}

const writeFileAtomic = (path: string, content: Buffer | string) =>
  replaceAtomically(path, (temporary) => writeFile(temporary, content));

/*
 * s3rver's putObject makes the key's directory, then opens the file with no 'error' listener. A
 * DeleteObject of another key in the same prefix removes the directory once it looks empty, so when it
 * lands between the two, the open fails with ENOENT and the unhandled error kills the emulator (seen when
 * the consumer rolls back one shard's attempt while the other shard writes to the same hour). This
 * version buffers the body, writes the file with an awaited call, and makes the directory again on ENOENT.
 * It also truncated the object file and then streamed into it; here every file is written atomically
 * (writeFileAtomic), the metadata before the object, so a new key appears with its metadata in place.
 */
FilesystemStore.prototype.putObject = async function putObject(this: FilesystemStore, object) {
  const content = Buffer.isBuffer(object.content) ? object.content : await readAll(object.content);
  const md5 = createHash('md5').update(content).digest('hex');
  const objectPath = this.getResourcePath(object.bucket, object.key, 'object');
  for (let attempt = 1; ; attempt++) {
    try {
      await mkdir(dirname(objectPath), { recursive: true });
      await this.putMetadata(object.bucket, object.key, object.metadata, md5);
      await writeFileAtomic(objectPath, content);
      return { size: content.length, md5 };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || attempt >= PUT_ATTEMPTS) throw error;
    }
  }
};

const S3Object = require('s3rver/lib/models/object') as { ALLOWED_METADATA: readonly string[] };

/** s3rver's putMetadata (only the metadata S3 stores, and the MD5), each file written atomically. */
FilesystemStore.prototype.putMetadata = async function putMetadata(
  this: FilesystemStore,
  bucket,
  key,
  metadata,
  md5,
) {
  const stored = Object.fromEntries(
    Object.entries(metadata).filter(
      ([name]) => S3Object.ALLOWED_METADATA.includes(name) || name.startsWith('x-amz-meta-'),
    ),
  );
  if (md5) await writeFileAtomic(this.getResourcePath(bucket, key, 'object.md5'), md5);
  await writeFileAtomic(this.getResourcePath(bucket, key, 'metadata.json'), JSON.stringify(stored, null, 2));
};

/** CopyObject: s3rver copies into the destination files in place; copy beside them and rename instead. */
FilesystemStore.prototype.copyObject = async function copyObject(
  this: FilesystemStore,
  srcBucket,
  srcKey,
  destBucket,
  destKey,
  replacementMetadata,
) {
  const path = (bucket: string, key: string, resource: string) => this.getResourcePath(bucket, key, resource);
  if (path(srcBucket, srcKey, 'object') !== path(destBucket, destKey, 'object')) {
    await mkdir(dirname(path(destBucket, destKey, 'object')), { recursive: true });
    for (const resource of ['object.md5', 'metadata.json']) {
      await copyFileAtomic(path(srcBucket, srcKey, resource), path(destBucket, destKey, resource), true);
    }
    if (replacementMetadata) await this.putMetadata(destBucket, destKey, replacementMetadata);
    await copyFileAtomic(path(srcBucket, srcKey, 'object'), path(destBucket, destKey, 'object'), false);
  } else if (replacementMetadata) {
    await this.putMetadata(destBucket, destKey, replacementMetadata);
  }
  return this.getMetadata(destBucket, destKey);
};

async function copyFileAtomic(source: string, destination: string, optional: boolean): Promise<void> {
  try {
    await replaceAtomically(destination, (temporary) => copyFile(source, temporary));
  } catch (error) {
    if (optional && (error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks);
}

if (!process.execArgv.includes('--openssl-legacy-provider')) {
  console.error('[s3] warning: node runs without --openssl-legacy-provider; truncated listings will fail');
}

await runEmulator('s3', async ({ port, dir }) => {
  const server = new S3rver({
    address: '127.0.0.1',
    port,
    directory: dir,
    silent: true,
    vhostBuckets: false,
  });
  await server.run();
  refuseBrowserRequests(server.httpServer);
  return () => server.close();
});
