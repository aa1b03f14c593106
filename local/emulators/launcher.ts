import { mkdirSync } from 'node:fs';
import type { Server } from 'node:http';
import { parseArgs } from 'node:util';

/** What `startEmulators` passes to every launcher script on its command line. */
export interface LauncherArgs {
  /** Loopback port to listen on. */
  port: number;
  /** Directory the emulator persists its data in. */
  dir: string;
}

/** Stops an emulator: closes its server and flushes what it persists. */
export type CloseEmulator = () => Promise<void>;

const CLOSE_TIMEOUT_MS = 5_000;

/**
 * Runs one emulator as the body of a child process started by `startEmulators`.
 *
 * The child exits when it is told to (SIGTERM, SIGINT) and also when its parent goes away (the IPC
 * channel disconnects), so a crashed or killed `shardline up` never leaves an emulator holding a port
 * and a LevelDB lock in the data directory.
 *
 * @example
 * ```ts
 * await runEmulator('kinesis', async ({ port, dir }) => {
 *   const server = kinesalite({ path: dir });
 *   await listen(server, port);
 *   return () => closeServer(server);
 * });
 * ```
 */
export async function runEmulator(service: string, start: (args: LauncherArgs) => Promise<CloseEmulator>) {
  const args = parseLauncherArgs(process.argv.slice(2));
  mkdirSync(args.dir, { recursive: true });
  let close: CloseEmulator;
  try {
    close = await start(args);
  } catch (error) {
    console.error(`[${service}] failed to start:`, error);
    process.exit(1);
  }
  console.log(
    `[${service}] pid ${process.pid} listening on http://127.0.0.1:${args.port}, data in ${args.dir}`,
  );

  let stopping = false;
  const stop = (reason: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`[${service}] stopping (${reason})`);
    const timer = setTimeout(() => {
      console.error(`[${service}] did not close within ${CLOSE_TIMEOUT_MS} ms, exiting anyway`);
      process.exit(1);
    }, CLOSE_TIMEOUT_MS);
    timer.unref();
    close().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(`[${service}] error while closing:`, error);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('disconnect', () => stop('parent process went away'));
}

/**
 * Parses `--port <n> --dir <path>`.
 *
 * @example
 * ```ts
 * parseLauncherArgs(['--port', '4567', '--dir', '/tmp/k']); // { port: 4567, dir: '/tmp/k' }
 * ```
 */
export function parseLauncherArgs(argv: string[]): LauncherArgs {
  const { values } = parseArgs({
    args: argv,
    options: { port: { type: 'string' }, dir: { type: 'string' } },
  });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port <= 0 || port > 65_535 || values.dir === undefined) {
    throw new Error(`usage: <launcher> --port <1-65535> --dir <data directory> (got ${argv.join(' ')})`);
  }
  return { port, dir: values.dir };
}

/**
 * Listens on the loopback interface only.
 *
 * @example
 * ```ts
 * await listen(http.createServer(handler), 4567);
 * ```
 */
export function listen(server: Server, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/**
 * Closes a server, dropping idle keep-alive sockets that would otherwise hold it open for seconds.
 *
 * @example
 * ```ts
 * await closeServer(server);
 * ```
 */
export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.close((error) => (error ? reject(error) : resolve()));
    server.closeIdleConnections();
  });
}
