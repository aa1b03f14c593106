/**
 * AWS::S3::Bucket: read by its name expression, and created in s3rver. Its lifecycle rules are applied
 * by a sweep of their own (bucketLifecycle.ts), since s3rver ignores lifecycle configuration.
 */
import { CreateBucketCommand, HeadBucketCommand } from '@aws-sdk/client-s3';
import { resolveString } from '../intrinsics';
import type { CfnValue } from '../template';
import { type LocalResourceType, type ProvisionAction, report } from './resourceType';

export interface BucketModel {
  logicalId: string;
  /** The bucket name expression: the stack appends account and region with Fn::Join. */
  name: CfnValue;
}

const CFN_TYPE = 'AWS::S3::Bucket';

export const s3Bucket: LocalResourceType<'buckets'> = {
  cfnType: CFN_TYPE,
  modelKey: 'buckets',

  describe: (logicalId, resource, { defaultName }) => ({
    logicalId,
    name: resource.Properties?.BucketName ?? defaultName.toLowerCase(),
  }),

  async provision(bucket, context) {
    const { s3 } = context.clients;
    const name = resolveString(
      bucket.name,
      context.resolved,
      context.pseudo,
      `${bucket.logicalId}.BucketName`,
    );
    const label = `s3 bucket ${name} (${bucket.logicalId})`;
    let action: ProvisionAction = 'exists';
    try {
      await s3.send(new HeadBucketCommand({ Bucket: name }));
    } catch (error) {
      if ((error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode !== 404)
        throw error;
      await s3.send(new CreateBucketCommand({ Bucket: name }));
      action = 'created';
    }
    report(context, bucket.logicalId, label, action);
    return {
      type: CFN_TYPE,
      ref: name,
      attributes: { Arn: `arn:${context.pseudo.partition}:s3:::${name}` },
    };
  },
};
