import type { Readable } from 'node:stream';
import { readCsv } from './csv';
import type { InputRecord } from './inputRecord';
import type { InputFormat } from './inputSource';
import { readJsonArray } from './jsonArray';
import { readNdjson } from './ndjson';

/**
 * The records of a decompressed input stream in the given format, one at a time.
 *
 * @example
 * ```ts
 * const source = await openInput('events.csv.gz');
 * for await (const record of readRecords(source.stream, source.format)) send(record);
 * ```
 */
export function readRecords(stream: Readable, format: InputFormat): AsyncGenerator<InputRecord> {
  switch (format) {
    case 'ndjson':
      return readNdjson(stream);
    case 'json':
      return readJsonArray(stream);
    case 'csv':
      return readCsv(stream);
  }
}
