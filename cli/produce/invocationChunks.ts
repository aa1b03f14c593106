import type { InputRecord } from './inputRecord';

/** Lambda's synchronous invocation payload limit is 6 MB (6,291,456 bytes); stay well under it. */
export const MAX_INVOCATION_BYTES = 5 * 1024 * 1024;
/** A Kinesis record holds at most 1 MiB of data (the partition key counts too: keep room for it). */
export const MAX_RECORD_BYTES = 1024 * 1024 - 256 * 4;

export interface InvocationChunk {
  /** What goes into the producer request's `records`: objects and raw strings, in file order. */
  records: (string | Record<string, unknown>)[];
  /** The encoded size of `{"records":[…]}`. */
  bytes: number;
  firstLine: number;
  lastLine: number;
}

/** A record too large for one Kinesis record: it cannot be sent as is. */
export interface OversizedRecord {
  line: number;
  bytes: number;
}

export interface ChunkOptions {
  maxBytes?: number;
  maxRecords?: number;
  onOversized?: (record: OversizedRecord) => void;
}

/**
 * Groups records into producer requests whose JSON stays under `maxBytes` (Lambda's 6 MB request limit,
 * with room to spare) and `maxRecords`, keeping file order and holding one chunk at a time. A record
 * larger than a Kinesis record can hold is reported through `onOversized` instead of being sent.
 *
 * @example
 * ```ts
 * for await (const chunk of invocationChunks(readRecords(stream, 'ndjson'))) await invoke({ records: chunk.records });
 * ```
 */
export async function* invocationChunks(
  records: AsyncIterable<InputRecord>,
  options: ChunkOptions = {},
): AsyncGenerator<InvocationChunk> {
  const maxBytes = options.maxBytes ?? MAX_INVOCATION_BYTES;
  const maxRecords = options.maxRecords ?? 50_000;
  const envelope = Buffer.byteLength('{"records":[]}');
  let current: InvocationChunk | null = null;
  for await (const record of records) {
    const text = typeof record.data === 'string' ? record.data : JSON.stringify(record.data);
    const dataBytes = Buffer.byteLength(text);
    if (dataBytes > MAX_RECORD_BYTES) {
      options.onOversized?.({ line: record.line, bytes: dataBytes });
      continue;
    }
    // As an element of the request: a string is encoded again (quotes, escapes), an object is the text.
    const size = (typeof record.data === 'string' ? Buffer.byteLength(JSON.stringify(text)) : dataBytes) + 1;
    if (current && (current.bytes + size > maxBytes || current.records.length >= maxRecords)) {
      yield current;
      current = null;
    }
    current ??= { records: [], bytes: envelope, firstLine: record.line, lastLine: record.line };
    current.records.push(record.data);
    current.bytes += size;
    current.lastLine = record.line;
  }
  if (current) yield current;
}
