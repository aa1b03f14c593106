/**
 * Child process: s3rver (S3) on 127.0.0.1, objects as files in `--dir`.
 *
 * Node must run with `--openssl-legacy-provider` (startEmulators passes it): without it s3rver answers
 * every truncated listing (more keys than MaxKeys) with HTTP 500.
 */
import { createRequire } from 'node:module';
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
  close(): Promise<void>;
}

const require = createRequire(import.meta.url);
const S3rver = require('s3rver') as new (options: S3rverOptions) => S3rverInstance;

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
  return () => server.close();
});
