import { crc32, deflateRawSync } from 'node:zlib';

/**
 * A minimal ZIP writer (deflate, no extras), enough to measure what a Lambda deployment package weighs:
 * CDK zips each asset directory with deflate at level 9, so this gives the same size to within the
 * headers.
 */

export interface ZipEntry {
  name: string;
  data: Uint8Array;
}

export interface ZipResult {
  bytes: Buffer;
  /** Compressed size of each entry's data (no headers). */
  entries: Array<{ name: string; size: number; compressedSize: number }>;
}

/**
 * Builds a ZIP archive of the entries, each deflated at the given level (default 9) unless storing it
 * is smaller.
 *
 * @example
 * ```ts
 * const { bytes } = zip([{ name: 'index.js', data: Buffer.from('exports.handler = 1') }]);
 * bytes.readUInt32LE(0) === 0x04034b50; // true: a local file header
 * ```
 */
export function zip(files: readonly ZipEntry[], level = 9): ZipResult {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  const entries: ZipResult['entries'] = [];
  let offset = 0;
  for (const file of files) {
    const name = Buffer.from(file.name, 'utf8');
    const deflated = deflateRawSync(file.data, { level });
    const stored = deflated.byteLength >= file.data.byteLength;
    const body = stored ? Buffer.from(file.data) : deflated;
    const method = stored ? 0 : 8;
    const checksum = crc32(file.data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4); // version needed
    local.writeUInt16LE(0x0800, 6); // UTF-8 names
    local.writeUInt16LE(method, 8);
    local.writeUInt32LE(0, 10); // time and date: fixed, so the archive is reproducible
    local.writeUInt32LE(checksum, 14);
    local.writeUInt32LE(body.byteLength, 18);
    local.writeUInt32LE(file.data.byteLength, 22);
    local.writeUInt16LE(name.byteLength, 26);
    local.writeUInt16LE(0, 28);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(0x031e, 4); // made by: Unix, spec 3.0
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(0x0800, 8);
    central.writeUInt16LE(method, 10);
    central.writeUInt32LE(0, 12);
    central.writeUInt32LE(checksum, 16);
    central.writeUInt32LE(body.byteLength, 20);
    central.writeUInt32LE(file.data.byteLength, 24);
    central.writeUInt16LE(name.byteLength, 28);
    central.writeUInt32LE((0o100644 << 16) >>> 0, 38); // external attributes: a regular file, rw-r--r--
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, body);
    centrals.push(central, name);
    offset += local.byteLength + name.byteLength + body.byteLength;
    entries.push({ name: file.name, size: file.data.byteLength, compressedSize: body.byteLength });
  }
  const centralSize = centrals.reduce((sum, part) => sum + part.byteLength, 0);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(files.length, 8);
  end.writeUInt16LE(files.length, 10);
  end.writeUInt32LE(centralSize, 12);
  end.writeUInt32LE(offset, 16);
  return { bytes: Buffer.concat([...locals, ...centrals, end]), entries };
}
