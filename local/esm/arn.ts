import { InvalidArnError } from './errors';

export interface ParsedArn {
  partition: string;
  service: string;
  region: string;
  accountId: string;
  resource: string;
}

/**
 * Splits an ARN into its parts (`arn:partition:service:region:account:resource`).
 *
 * @example
 * ```ts
 * parseArn('arn:aws:kinesis:eu-west-1:123456789012:stream/events').region; // 'eu-west-1'
 * ```
 */
export function parseArn(arn: string, expected = 'an ARN'): ParsedArn {
  const parts = arn.split(':');
  if (parts.length < 6 || parts[0] !== 'arn') throw new InvalidArnError(arn, expected);
  const [, partition = '', service = '', region = '', accountId = ''] = parts;
  return { partition, service, region, accountId, resource: parts.slice(5).join(':') };
}

/**
 * Whether an ARN names an S3 bucket (`arn:aws:s3:::name`), an on-failure destination the local mapping supports.
 *
 * @example
 * ```ts
 * isS3BucketArn('arn:aws:s3:::shardline-dev-failures'); // true
 * ```
 */
export function isS3BucketArn(arn: string): boolean {
  const parts = arn.split(':');
  return (
    parts.length === 6 &&
    parts[0] === 'arn' &&
    parts[2] === 's3' &&
    /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(parts[5] ?? '')
  );
}

/**
 * Whether an ARN names an SQS queue, an on-failure destination the local mapping supports.
 *
 * @example
 * ```ts
 * isSqsQueueArn('arn:aws:sqs:eu-west-1:000000000000:shardline-dev-dlq'); // true
 * ```
 */
export function isSqsQueueArn(arn: string): boolean {
  const parts = arn.split(':');
  return parts.length === 6 && parts[0] === 'arn' && parts[2] === 'sqs' && (parts[5] ?? '') !== '';
}
