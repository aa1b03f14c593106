/**
 * Child process: kinesalite (Kinesis) on 127.0.0.1, LevelDB data in `--dir`.
 * The kinesalite CLI binds every interface, hence this programmatic launcher.
 */
import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import { refuseBrowserRequests } from './browserGuard';
import { closeServer, listen, runEmulator } from './launcher';

interface KinesaliteOptions {
  path: string;
  createStreamMs: number;
  deleteStreamMs: number;
  updateStreamMs: number;
  shardLimit: number;
}

const require = createRequire(import.meta.url);
const kinesalite = require('kinesalite') as (options: KinesaliteOptions) => Server;

await runEmulator('kinesis', async ({ port, dir }) => {
  const server = kinesalite({
    path: dir,
    // Streams become ACTIVE almost at once; the default 500 ms only slows `shardline up`.
    createStreamMs: 50,
    deleteStreamMs: 50,
    updateStreamMs: 50,
    shardLimit: 50,
  });
  refuseBrowserRequests(server);
  await listen(server, port);
  return () => closeServer(server);
});
