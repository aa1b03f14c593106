import type { IncomingHttpHeaders, RequestListener, Server } from 'node:http';

/** Host names an SDK client on this machine uses to reach an emulator. */
const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

/**
 * Whether a request comes from a web browser or reached us under a foreign host name: it carries an
 * `Origin` (every cross-origin fetch and preflight, every POST) or a `Sec-Fetch-*` header (every request a
 * current browser makes), or its `Host` is not a loopback name (DNS rebinding). The AWS SDK and the CLI
 * send none of these.
 *
 * @example
 * ```ts
 * isBrowserRequest({ host: '127.0.0.1:4567', origin: 'https://evil.example' }); // true
 * isBrowserRequest({ host: '127.0.0.1:4567' }); // false
 * ```
 */
export function isBrowserRequest(headers: IncomingHttpHeaders): boolean {
  if (headers.origin !== undefined) return true;
  if (Object.keys(headers).some((name) => name.startsWith('sec-fetch-'))) return true;
  const host = (headers.host ?? '').replace(/:\d+$/, '').toLowerCase();
  return !LOOPBACK_HOSTS.has(host);
}

/**
 * Puts a guard in front of an emulator's HTTP server: requests from a browser (see `isBrowserRequest`)
 * get 403 with no CORS header, so a web page that finds the port can neither read the stream nor
 * rewrite checkpoints; kinesalite and dynalite would otherwise answer its preflight with
 * `Access-Control-Allow-Origin: *`. Every other request goes to the emulator's own listeners unchanged.
 * Call it once the server exists, before or after it listens.
 *
 * @example
 * ```ts
 * const server = kinesalite({ path: dir });
 * refuseBrowserRequests(server);
 * await listen(server, port);
 * ```
 */
export function refuseBrowserRequests(server: Server): void {
  const emulator = server.listeners('request') as RequestListener[];
  server.removeAllListeners('request');
  server.on('request', (request, response) => {
    if (isBrowserRequest(request.headers)) {
      response.writeHead(403, { 'content-type': 'text/plain; charset=utf-8', connection: 'close' });
      response.end('Shardline local emulators refuse requests from web browsers\n');
      return;
    }
    for (const listener of emulator) listener.call(server, request, response);
  });
}
