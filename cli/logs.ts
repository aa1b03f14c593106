import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * A log sink that appends every line to `<dataDir>/logs/<name>` and keeps the terminal for the
 * command's own output.
 *
 * @example
 * ```ts
 * const log = await fileLog('.shardline', 'up.log');
 * log('started');
 * log.close();
 * ```
 */
export async function fileLog(dataDir: string, name: string) {
  const dir = join(dataDir, 'logs');
  await mkdir(dir, { recursive: true });
  const stream = createWriteStream(join(dir, name), { flags: 'a' });
  return Object.assign((line: string) => void stream.write(`${line}\n`), {
    path: join(dir, name),
    close: () => stream.end(),
  });
}
