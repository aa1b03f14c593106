import { createReadStream, statSync } from 'node:fs';
import { PassThrough, type Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { CliError } from '../errors';

/** The formats `produce --file` reads. */
export const INPUT_FORMATS = ['ndjson', 'json', 'csv'] as const;
export type InputFormat = (typeof INPUT_FORMATS)[number];

export interface InputSource {
  /** The decompressed bytes. */
  stream: Readable;
  format: InputFormat;
  gzip: boolean;
  /** Size of the file on disk (compressed if gzip); null for standard input. */
  totalBytes: number | null;
  /** Bytes read from the file so far (compressed if gzip), for progress. */
  bytesRead: () => number;
}

const GZIP_MAGIC = [0x1f, 0x8b];

/**
 * The format a path names by its extension (`.gz` looked through), or null when it does not say.
 *
 * @example
 * ```ts
 * formatFromPath('events.csv.gz'); // 'csv'
 * formatFromPath('-'); // null
 * ```
 */
export function formatFromPath(path: string): InputFormat | null {
  const name = path.toLowerCase().replace(/\.gz$/, '');
  if (name.endsWith('.csv')) return 'csv';
  if (name.endsWith('.ndjson') || name.endsWith('.jsonl')) return 'ndjson';
  if (name.endsWith('.json')) return 'json';
  return null;
}

/**
 * The format the first bytes show: a `[` opens a JSON array, anything else is taken as NDJSON. CSV is
 * never guessed: name the file `.csv` or pass `--format csv`.
 *
 * @example
 * ```ts
 * sniffFormat(Buffer.from(' [{"a":1}]')); // 'json'
 * ```
 */
export function sniffFormat(head: Uint8Array): InputFormat {
  const text = Buffer.from(head)
    .toString('utf8')
    .replace(/^\uFEFF/, '');
  return text.trimStart().startsWith('[') ? 'json' : 'ndjson';
}

/** Reads the first chunk of a stream and gives back a stream that still starts with it. */
async function peek(stream: Readable): Promise<{ head: Buffer; stream: Readable }> {
  const iterator = stream[Symbol.asyncIterator]();
  const first = await iterator.next();
  const head: Buffer = first.done ? Buffer.alloc(0) : Buffer.from(first.value as Uint8Array);
  const rest = new PassThrough({ highWaterMark: 64 * 1024 });
  rest.write(head);
  (async () => {
    try {
      for (let next = await iterator.next(); !next.done; next = await iterator.next())
        if (!rest.write(next.value)) await new Promise((resolve) => rest.once('drain', resolve));
      rest.end();
    } catch (error) {
      rest.destroy(error as Error);
    }
  })();
  return { head, stream: rest };
}

/**
 * Opens `path` (`-` for standard input) as a stream of decompressed bytes with its format: gzip is
 * recognised by its magic bytes whatever the name, the format by `format`, else the extension, else the
 * first bytes. Reading is lazy and back-pressured: memory stays bounded whatever the size.
 *
 * @example
 * ```ts
 * const source = await openInput('events.ndjson.gz');
 * for await (const chunk of source.stream) { … }
 * ```
 */
export async function openInput(
  path: string,
  format?: InputFormat,
  stdin: Readable = process.stdin,
): Promise<InputSource> {
  let raw: Readable;
  let totalBytes: number | null = null;
  if (path === '-') raw = stdin;
  else {
    try {
      const stat = statSync(path);
      if (!stat.isFile()) throw new CliError(`${path} is not a file: give a file or - for standard input`);
      totalBytes = stat.size;
    } catch (error) {
      if (error instanceof CliError) throw error;
      throw new CliError(
        `cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
      );
    }
    raw = createReadStream(path, { highWaterMark: 256 * 1024 });
  }
  let read = 0;
  const counted = raw.pipe(
    new PassThrough({
      highWaterMark: 256 * 1024,
      transform(chunk: Buffer, _encoding, done) {
        read += chunk.byteLength;
        done(null, chunk);
      },
    }),
  );
  raw.on('error', (error) => counted.destroy(error));
  const peeked = await peek(counted);
  const gzip = peeked.head[0] === GZIP_MAGIC[0] && peeked.head[1] === GZIP_MAGIC[1];
  let stream = peeked.stream;
  if (gzip) {
    const gunzip = createGunzip();
    stream.on('error', (error) => gunzip.destroy(error));
    stream = stream.pipe(gunzip);
  }
  let chosen = format ?? (path === '-' ? null : formatFromPath(path));
  if (chosen === null) {
    const sniffed = await peek(stream);
    stream = sniffed.stream;
    chosen = sniffFormat(sniffed.head);
  }
  return { stream, format: chosen, gzip, totalBytes, bytesRead: () => read };
}
