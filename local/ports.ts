import { createServer, type Server } from 'node:net';

/** The only address the local emulators listen on: nothing is reachable from another machine. */
export const LOOPBACK = '127.0.0.1';

/**
 * Asks the kernel for `count` distinct free TCP ports on the loopback interface.
 *
 * All probe sockets stay open until every port is chosen, so the ports are distinct; they are closed
 * before this resolves, so a child process can bind them. Another process could take a port in between
 * (the usual race of this technique): the emulator then fails to start and says so in its log.
 *
 * @example
 * ```ts
 * const [kinesisPort, dynamoPort] = await freePorts(2); // e.g. [41235, 38811]
 * ```
 */
export async function freePorts(count: number, host: string = LOOPBACK): Promise<number[]> {
  const servers: Server[] = [];
  try {
    const ports: number[] = [];
    for (let i = 0; i < count; i++) {
      const server = createServer();
      servers.push(server);
      ports.push(await listenOnAnyPort(server, host));
    }
    return ports;
  } finally {
    await Promise.all(servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
  }
}

/**
 * One free TCP port on the loopback interface.
 *
 * @example
 * ```ts
 * const port = await freePort(); // e.g. 41235
 * ```
 */
export async function freePort(host: string = LOOPBACK): Promise<number> {
  const [port] = await freePorts(1, host);
  if (port === undefined) throw new Error('the kernel returned no free port');
  return port;
}

function listenOnAnyPort(server: Server, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: 0, host, exclusive: true }, () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        reject(new Error(`could not read the port bound on ${host}`));
        return;
      }
      resolve(address.port);
    });
  });
}
