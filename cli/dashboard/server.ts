import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { ShardlineError } from '../../lambdas/shared/errors';
import type { DashboardState } from './dashboardState';

/**
 * The dashboard's HTTP server, on loopback only: the static page (cli/dashboard/page/) and
 * `GET /api/state`. It serves a fixed list of files, nothing from the network and nothing else from disk.
 */

const PAGE_DIR = join(import.meta.dirname, 'page');

const PAGE_FILES: Record<string, { file: string; type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/dashboard.css': { file: 'dashboard.css', type: 'text/css; charset=utf-8' },
  '/dashboard.js': { file: 'dashboard.js', type: 'text/javascript; charset=utf-8' },
  '/charts.js': { file: 'charts.js', type: 'text/javascript; charset=utf-8' },
};

export const LOOPBACK = '127.0.0.1';

export class PortInUseError extends ShardlineError {
  constructor(port: number) {
    super(
      `port ${port} on ${LOOPBACK} is in use: pick another with --port, or leave --port out for a free one`,
    );
    this.name = 'PortInUseError';
  }
}

export interface DashboardServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

export interface DashboardServerOptions {
  /** 0 or absent: a free port. */
  port?: number;
  state: () => DashboardState;
}

/**
 * Whether a request's Host header names this server. A page on another site that resolves its own
 * name to 127.0.0.1 (DNS rebinding) sends its own name, and gets nothing.
 */
export function isLoopbackHost(host: string | undefined, port: number): boolean {
  return host === `${LOOPBACK}:${port}` || host === `localhost:${port}`;
}

function send(response: ServerResponse, status: number, type: string, body: string | Buffer) {
  response.writeHead(status, {
    'content-type': type,
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    'content-security-policy': "default-src 'self'; style-src 'self'; img-src 'self' data:",
  });
  response.end(body);
}

/**
 * Starts the server on 127.0.0.1.
 *
 * @example
 * ```ts
 * const server = await startDashboardServer({ state: () => monitor.state() });
 * console.log(server.url); // http://127.0.0.1:41234/
 * await server.close();
 * ```
 */
export async function startDashboardServer(options: DashboardServerOptions): Promise<DashboardServer> {
  const files = new Map(
    Object.entries(PAGE_FILES).map(([path, { file, type }]) => [
      path,
      { type, body: readFileSync(join(PAGE_DIR, file)) },
    ]),
  );
  let port = options.port ?? 0;
  const handle = (request: IncomingMessage, response: ServerResponse) => {
    if (!isLoopbackHost(request.headers.host, port)) {
      return send(response, 403, 'text/plain; charset=utf-8', 'forbidden: open the dashboard by its URL\n');
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      return send(response, 405, 'text/plain; charset=utf-8', 'method not allowed\n');
    }
    const path = new URL(request.url ?? '/', `http://${LOOPBACK}`).pathname;
    if (path === '/api/state') {
      return send(response, 200, 'application/json; charset=utf-8', JSON.stringify(options.state()));
    }
    const file = files.get(path);
    if (file) return send(response, 200, file.type, file.body);
    return send(response, 404, 'text/plain; charset=utf-8', 'not found\n');
  };
  const server = createServer(handle);
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(error.code === 'EADDRINUSE' ? new PortInUseError(port) : error),
    );
    server.listen(port, LOOPBACK, () => resolve());
  });
  port = (server.address() as AddressInfo).port;
  return {
    url: `http://${LOOPBACK}:${port}/`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
