import { DeleteObjectsCommand, ListObjectVersionsCommand, NoSuchBucket, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { EmptyBucketError, emptyBucket } from '../../cli/lake/emptyBucket';

const s3 = mockClient(S3Client);
const client = () => new S3Client({ region: 'us-east-1' });

beforeEach(() => s3.reset());

describe('emptying a bucket before its stack is deleted', () => {
  it('deletes every version and delete marker, page by page', async () => {
    s3.on(ListObjectVersionsCommand, { KeyMarker: undefined })
      .resolves({
        Versions: [
          { Key: 'events/a', VersionId: 'v2' },
          { Key: 'events/a', VersionId: 'v1' },
        ],
        DeleteMarkers: [{ Key: 'state/b', VersionId: 'm1' }],
        IsTruncated: true,
        NextKeyMarker: 'state/b',
        NextVersionIdMarker: 'm1',
      })
      .on(ListObjectVersionsCommand, { KeyMarker: 'state/b' })
      .resolves({ Versions: [{ Key: 'z', VersionId: 'null' }], IsTruncated: false });
    s3.on(DeleteObjectsCommand).resolves({});

    expect(await emptyBucket(client(), 'lake')).toBe(4);
    expect(s3.commandCalls(DeleteObjectsCommand).map((call) => call.args[0].input.Delete?.Objects)).toEqual([
      [
        { Key: 'events/a', VersionId: 'v2' },
        { Key: 'events/a', VersionId: 'v1' },
        { Key: 'state/b', VersionId: 'm1' },
      ],
      [{ Key: 'z', VersionId: 'null' }],
    ]);
  });

  it('counts a bucket that is already gone as empty', async () => {
    s3.on(ListObjectVersionsCommand).rejects(new NoSuchBucket({ message: 'gone', $metadata: {} }));
    expect(await emptyBucket(client(), 'lake')).toBe(0);
  });

  it('fails, naming the keys, when S3 refuses to delete some of them', async () => {
    s3.on(ListObjectVersionsCommand).resolves({ Versions: [{ Key: 'events/a', VersionId: 'v1' }] });
    s3.on(DeleteObjectsCommand).resolves({
      Errors: [{ Key: 'events/a', Code: 'AccessDenied', Message: 'no' }],
    });
    await expect(emptyBucket(client(), 'lake')).rejects.toThrow(EmptyBucketError);
    await expect(emptyBucket(client(), 'lake')).rejects.toThrow(/events\/a: AccessDenied/);
  });
});
