import { ShardlineError } from '../shared/errors';
import type { CommittedBatch } from './commitRecord';

/**
 * A staged bundle: every output of one attempt (Parquet, CSV, analytics datasets) with the final key each
 * will be published under, in one object. Staged before the commit, so that whoever finishes the
 * publication (the attempt itself, the next invocation or the scheduled publisher) writes the same bytes
 * to the same keys.
 *
 * Layout: the 4 magic bytes `SLB1`, a 4-byte big-endian header length, the header as UTF-8 JSON, then the
 * objects' bodies back to back in header order.
 */

export interface BundledObject {
  key: string;
  contentType: string;
  body: Uint8Array;
}

export interface Bundle extends CommittedBatch {
  objects: BundledObject[];
}

interface BundleHeader extends Omit<Bundle, 'objects'> {
  format: 1;
  objects: { key: string; contentType: string; length: number }[];
}

const MAGIC = Buffer.from('SLB1', 'ascii');

export class CorruptBundleError extends ShardlineError {
  constructor(key: string, reason: string) {
    super(`staged bundle ${key} cannot be read (${reason})`);
    this.name = 'CorruptBundleError';
  }
}

/**
 * Encodes a bundle as one object body.
 *
 * @example
 * ```ts
 * const body = encodeBundle({ streamName, shardId, attemptId, firstSequenceNumber, lastSequenceNumber,
 *   records, rows, objects: [{ key, contentType: 'text/csv', body }] });
 * ```
 */
export function encodeBundle(bundle: Bundle): Uint8Array {
  const { objects, ...rest } = bundle;
  const header: BundleHeader = {
    format: 1,
    ...rest,
    objects: objects.map((o) => ({ key: o.key, contentType: o.contentType, length: o.body.byteLength })),
  };
  const headerBytes = Buffer.from(JSON.stringify(header), 'utf8');
  const length = Buffer.alloc(4);
  length.writeUInt32BE(headerBytes.byteLength);
  return Buffer.concat([MAGIC, length, headerBytes, ...objects.map((o) => o.body)]);
}

/**
 * Decodes a bundle body; the key is only for the error message.
 *
 * @example
 * ```ts
 * const bundle = decodeBundle(key, bytes);
 * ```
 */
export function decodeBundle(key: string, bytes: Uint8Array): Bundle {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buffer.byteLength < 8 || !buffer.subarray(0, 4).equals(MAGIC))
    throw new CorruptBundleError(key, 'no SLB1 magic');
  const headerLength = buffer.readUInt32BE(4);
  let header: BundleHeader;
  try {
    header = JSON.parse(buffer.subarray(8, 8 + headerLength).toString('utf8'));
  } catch (error) {
    throw new CorruptBundleError(key, (error as Error).message);
  }
  if (header.format !== 1) throw new CorruptBundleError(key, `unknown format ${header.format}`);
  let offset = 8 + headerLength;
  const objects = header.objects.map((o) => {
    const body = buffer.subarray(offset, offset + o.length);
    offset += o.length;
    if (body.byteLength !== o.length) throw new CorruptBundleError(key, `truncated at ${o.key}`);
    return { key: o.key, contentType: o.contentType, body: new Uint8Array(body) };
  });
  if (offset !== buffer.byteLength) throw new CorruptBundleError(key, 'trailing bytes');
  const { format: _format, objects: _objects, ...rest } = header;
  return { ...rest, objects };
}
