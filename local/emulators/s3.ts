/**
 * Child process: s3rver (S3) on 127.0.0.1, objects as files in `--dir`.
 *
 * Node must run with `--openssl-legacy-provider` (startEmulators passes it): without it s3rver answers
 * every truncated listing (more keys than MaxKeys) with HTTP 500.
 */
import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
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
  putMetadata(bucket: string, key: string, metadata: Record<string, string>, md5: string): Promise<void>;
  putObject(object: StoredObject): Promise<{ size: number; md5: string }>;
}

const FilesystemStore = require('s3rver/lib/stores/filesystem') as { prototype: FilesystemStore };
/** A directory that a concurrent DeleteObject removed (it empties key prefixes) is made again this often. */
const PUT_ATTEMPTS = 5;

/*
 * s3rver's putObject makes the key's directory, then opens the file with no 'error' listener. A
 * DeleteObject of another key in the same prefix removes the directory once it looks empty, so when it
 * lands between the two, the open fails with ENOENT and the unhandled error kills the emulator (seen when
 * the consumer rolls back one shard's attempt while the other shard writes to the same hour). This
 * version buffers the body, writes the file with an awaited call, and makes the directory again on ENOENT.
 */
FilesystemStore.prototype.putObject = async function putObject(this: FilesystemStore, object) {
  const content = Buffer.isBuffer(object.content) ? object.content : await readAll(object.content);
  const md5 = createHash('md5').update(content).digest('hex');
  const objectPath = this.getResourcePath(object.bucket, object.key, 'object');
  for (let attempt = 1; ; attempt++) {
    try {
      await mkdir(dirname(objectPath), { recursive: true });
      await writeFile(objectPath, content);
      await this.putMetadata(object.bucket, object.key, object.metadata, md5);
      return { size: content.length, md5 };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || attempt >= PUT_ATTEMPTS) throw error;
    }
  }
};

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
