import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import type { InputRecord } from './inputRecord';

/**
 * Reads NDJSON: one record per non-blank line, as its text unchanged (a leading byte-order mark and the
 * line ending aside), so that a malformed line reaches the consumer exactly as written. One line at a
 * time: memory is bounded by the longest line.
 *
 * @example
 * ```ts
 * for await (const record of readNdjson(createReadStream('events.ndjson'))) console.log(record.line);
 * ```
 */
export async function* readNdjson(stream: Readable): AsyncGenerator<InputRecord> {
  const lines = createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY });
  let line = 0;
  for await (const text of lines) {
    line++;
    const data = line === 1 ? text.replace(/^\uFEFF/, '') : text;
    if (data.trim() === '') continue;
    yield { line, data };
  }
}
