import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mirrorBucket, mirrorPath, UnsafeMirrorKeyError } from '../../cli/lake/mirror';

const s3 = mockClient(S3Client);
let root: string;
let dir: string;

beforeEach(() => {
  s3.reset();
  root = mkdtempSync(join(tmpdir(), 'shardline-mirror-'));
  dir = join(root, 'a', 'b', 'mirror');
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

function bucketHolds(keys: string[]) {
  s3.on(ListObjectsV2Command).resolves({
    Contents: keys.map((key) => ({ Key: key, ETag: `"${key}"`, Size: 4 })),
  });
  // The mirror reads a body only through transformToByteArray.
  s3.on(GetObjectCommand).callsFake(() => ({
    Body: { transformToByteArray: async () => new TextEncoder().encode('evil') },
  }));
}

describe('mirroring the lake', () => {
  it('writes an ordinary key under the mirror folder', async () => {
    bucketHolds(['events/parquet/dt=2026-01-01/hour=00/a.parquet']);
    const result = await mirrorBucket(new S3Client({ region: 'us-east-1' }), 'lake', ['events/'], dir);
    expect(result.downloaded).toBe(1);
    expect(readFileSync(join(dir, 'events/parquet/dt=2026-01-01/hour=00/a.parquet'), 'utf8')).toBe('evil');
  });

  it('refuses a key that climbs out of the mirror folder, and writes nothing at all', async () => {
    bucketHolds(['events/ok.parquet', 'events/../../../.bashrc']);
    await expect(
      mirrorBucket(new S3Client({ region: 'us-east-1' }), 'lake', ['events/'], dir),
    ).rejects.toBeInstanceOf(UnsafeMirrorKeyError);
    expect(existsSync(join(root, 'a', '.bashrc'))).toBe(false);
    expect(existsSync(join(dir, 'events/ok.parquet'))).toBe(false);
    expect(s3.commandCalls(GetObjectCommand)).toHaveLength(0);
  });

  it.each(['events/../../x', '../x', 'events/../..', 'events/a/../../../x'])(
    'maps no key that resolves outside the folder: %s',
    (key) => {
      expect(() => mirrorPath('/tmp/mirror', key)).toThrow(UnsafeMirrorKeyError);
    },
  );

  it('keeps a key whose dots stay inside the folder', () => {
    expect(mirrorPath('/tmp/mirror', 'events/x/../y.parquet')).toBe('/tmp/mirror/events/y.parquet');
  });
});
