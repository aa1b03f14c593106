/**
 * Child process: dynalite (DynamoDB) on 127.0.0.1, LevelDB data in `--dir`.
 */
import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import { refuseBrowserRequests } from './browserGuard';
import { closeServer, listen, runEmulator } from './launcher';

interface DynaliteOptions {
  path: string;
  createTableMs: number;
  deleteTableMs: number;
  updateTableMs: number;
}

const require = createRequire(import.meta.url);
const dynalite = require('dynalite') as (options: DynaliteOptions) => Server;

await runEmulator('dynamodb', async ({ port, dir }) => {
  const server = dynalite({ path: dir, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  refuseBrowserRequests(server);
  await listen(server, port);
  return () => closeServer(server);
});
