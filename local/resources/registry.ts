import { dynamodbTable } from './dynamodbTable';
import { kinesisStream } from './kinesisStream';
import { lambdaEventSourceMapping } from './lambdaEventSourceMapping';
import { lambdaFunction } from './lambdaFunction';
import type { LocalResourceType, ResourceModels } from './resourceType';
import { s3Bucket } from './s3Bucket';
import { sqsQueue } from './sqsQueue';

export type AnyResourceType = { [K in keyof ResourceModels]: LocalResourceType<K> }[keyof ResourceModels];

/**
 * The resource types `describeStack` reads and `provision` provisions, in this order: a mapping is read
 * once its function and stream are, and functions get their name and ARN once the rest exists. A new
 * resource type is a module of its own and a line here.
 */
export const RESOURCE_TYPES: readonly AnyResourceType[] = [
  kinesisStream,
  dynamodbTable,
  sqsQueue,
  s3Bucket,
  lambdaFunction,
  lambdaEventSourceMapping,
];
