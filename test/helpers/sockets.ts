import { existsSync, readFileSync } from 'node:fs';

/** Local addresses of the listening TCP sockets on `port`, from /proc/net/tcp (Linux; 127.0.0.1 is 0100007F). */
export function listeningAddresses(port: number): string[] {
  const portHex = port.toString(16).toUpperCase().padStart(4, '0');
  return ['/proc/net/tcp', '/proc/net/tcp6']
    .filter((file) => existsSync(file))
    .flatMap((file) => readFileSync(file, 'utf8').split('\n').slice(1))
    .map((line) => line.trim().split(/\s+/))
    .filter((fields) => fields[1]?.endsWith(`:${portHex}`) && fields[3] === '0A')
    .map((fields) => fields[1]?.split(':')[0] ?? '');
}
