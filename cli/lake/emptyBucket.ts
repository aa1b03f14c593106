import {
  DeleteObjectsCommand,
  ListObjectVersionsCommand,
  NoSuchBucket,
  type ObjectIdentifier,
  type S3Client,
} from '@aws-sdk/client-s3';
import { ShardlineError } from '../../lambdas/shared/errors';

/** An object version DeleteObjects would not delete. */
export class EmptyBucketError extends ShardlineError {
  constructor(bucket: string, failures: string[]) {
    super(`could not empty s3://${bucket}: ${failures.slice(0, 3).join('; ')}`);
    this.name = 'EmptyBucketError';
  }
}

/**
 * Deletes every object version and delete marker of a bucket, so CloudFormation can delete the bucket
 * itself (a versioned bucket is empty only once its noncurrent versions are gone too). A bucket that does
 * not exist counts as empty. Returns how many versions and markers it deleted.
 *
 * @example
 * ```ts
 * await emptyBucket(s3, 'shardline-dev-lake-123456789012-us-east-1'); // 42
 * ```
 */
export async function emptyBucket(s3: S3Client, bucket: string): Promise<number> {
  let deleted = 0;
  let keyMarker: string | undefined;
  let versionIdMarker: string | undefined;
  try {
    do {
      const page = await s3.send(
        new ListObjectVersionsCommand({
          Bucket: bucket,
          KeyMarker: keyMarker,
          VersionIdMarker: versionIdMarker,
        }),
      );
      const objects: ObjectIdentifier[] = [...(page.Versions ?? []), ...(page.DeleteMarkers ?? [])]
        .filter((entry) => entry.Key !== undefined)
        .map((entry) => ({ Key: entry.Key as string, VersionId: entry.VersionId }));
      if (objects.length > 0) {
        const result = await s3.send(
          new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: objects, Quiet: true } }),
        );
        if (result.Errors?.length) {
          throw new EmptyBucketError(
            bucket,
            result.Errors.map((error) => `${error.Key}: ${error.Code} ${error.Message ?? ''}`.trim()),
          );
        }
        deleted += objects.length;
      }
      keyMarker = page.IsTruncated ? page.NextKeyMarker : undefined;
      versionIdMarker = page.IsTruncated ? page.NextVersionIdMarker : undefined;
    } while (keyMarker !== undefined);
  } catch (error) {
    if (error instanceof NoSuchBucket || (error as { name?: string }).name === 'NoSuchBucket') return deleted;
    throw error;
  }
  return deleted;
}
