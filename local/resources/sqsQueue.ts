/**
 * AWS::SQS::Queue: read with the properties that are SQS queue attributes, and created in fauxqs; on
 * existing data an attribute that differs is updated (FifoQueue cannot change).
 */

import { join } from 'node:path';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  QueueDoesNotExist,
  SetQueueAttributesCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { referencedLogicalIds, resolveString, resolveValue } from '../intrinsics';
import type { CfnValue } from '../template';
import { ResourceConflictError } from './errors';
import { objectProp } from './properties';
import { type LocalResourceType, type ProvisionAction, report } from './resourceType';

export interface QueueModel {
  logicalId: string;
  name: CfnValue;
  /** SQS attribute name → unresolved value (RedrivePolicy is still an object here). */
  attributes: Record<string, CfnValue>;
  tags: Record<string, CfnValue>;
}

const CFN_TYPE = 'AWS::SQS::Queue';

/** CloudFormation's AWS::SQS::Queue properties that are SQS queue attributes of the same name. */
const QUEUE_ATTRIBUTE_PROPERTIES = [
  'ContentBasedDeduplication',
  'DeduplicationScope',
  'DelaySeconds',
  'FifoQueue',
  'FifoThroughputLimit',
  'KmsDataKeyReusePeriodSeconds',
  'KmsMasterKeyId',
  'MaximumMessageSize',
  'MessageRetentionPeriod',
  'ReceiveMessageWaitTimeSeconds',
  'RedriveAllowPolicy',
  'RedrivePolicy',
  'SqsManagedSseEnabled',
  'VisibilityTimeout',
] as const;

export const sqsQueue: LocalResourceType<'queues'> = {
  cfnType: CFN_TYPE,
  modelKey: 'queues',

  describe(logicalId, resource, { defaultName }) {
    const props = resource.Properties ?? {};
    const attributes: Record<string, CfnValue> = {};
    for (const property of QUEUE_ATTRIBUTE_PROPERTIES) {
      const value = props[property];
      if (value !== undefined) attributes[property] = value;
    }
    const fifo = attributes.FifoQueue === true || attributes.FifoQueue === 'true';
    const tags = Array.isArray(props.Tags) ? props.Tags : [];
    return {
      logicalId,
      name: props.QueueName ?? (fifo ? `${defaultName}.fifo` : defaultName),
      attributes,
      tags: Object.fromEntries(
        tags.flatMap((tag) => {
          const { Key, Value } = objectProp(tag) ?? {};
          return typeof Key === 'string' && Value !== undefined ? [[Key, Value]] : [];
        }),
      ),
    };
  },

  /** A RedrivePolicy names the dead-letter queue's ARN: that queue comes first. */
  dependsOn: (queue) => referencedLogicalIds(queue.attributes),

  async provision(queue, context) {
    const { sqs } = context.clients;
    const name = resolveString(queue.name, context.resolved, context.pseudo, `${queue.logicalId}.QueueName`);
    const label = `sqs queue ${name} (${queue.logicalId})`;
    const attributes = Object.fromEntries(
      Object.entries(queue.attributes).map(([attribute, value]) => [
        attribute,
        attributeText(
          resolveValue(value, context.resolved, context.pseudo, `${queue.logicalId}.${attribute}`),
        ),
      ]),
    );
    const tags = Object.fromEntries(
      Object.entries(queue.tags).map(([key, value]) => [
        key,
        resolveString(value, context.resolved, context.pseudo),
      ]),
    );

    let queueUrl = await queueUrlOf(sqs, name);
    let action: ProvisionAction = 'exists';
    if (queueUrl === undefined) {
      const created = await sqs.send(
        new CreateQueueCommand({
          QueueName: name,
          Attributes: attributes,
          ...(Object.keys(tags).length > 0 ? { tags } : {}),
        }),
      );
      queueUrl = created.QueueUrl as string;
      action = 'created';
    } else {
      const existing: Record<string, string> =
        (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['All'] })))
          .Attributes ?? {};
      const changed = Object.fromEntries(
        Object.entries(attributes).filter(([attribute, value]) => existing[attribute] !== value),
      );
      if ('FifoQueue' in changed) {
        throw new ResourceConflictError(
          `${label} exists with FifoQueue=${existing.FifoQueue ?? 'false'}, which cannot change: delete ${join(context.running.dataDir, 'sqs')} to recreate it`,
        );
      }
      if (Object.keys(changed).length > 0) {
        await sqs.send(new SetQueueAttributesCommand({ QueueUrl: queueUrl, Attributes: changed }));
        action = 'updated';
        context.log(`${label}: updated ${Object.keys(changed).join(', ')}`);
      }
    }
    const { Attributes: { QueueArn } = {} } = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }),
    );
    report(context, queue.logicalId, label, action, queueUrl);
    return {
      type: CFN_TYPE,
      ref: queueUrl,
      attributes: { Arn: QueueArn as string, QueueName: name, QueueUrl: queueUrl },
    };
  },
};

async function queueUrlOf(sqs: SQSClient, name: string): Promise<string | undefined> {
  try {
    return (await sqs.send(new GetQueueUrlCommand({ QueueName: name }))).QueueUrl;
  } catch (error) {
    if (
      error instanceof QueueDoesNotExist ||
      (error as Error).name === 'AWS.SimpleQueueService.NonExistentQueue'
    ) {
      return undefined;
    }
    throw error;
  }
}

/** SQS attributes are strings; CloudFormation writes RedrivePolicy as an object and numbers as numbers. */
function attributeText(value: CfnValue): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}
