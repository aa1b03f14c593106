/**
 * The synthesized CloudFormation template as the local runtime's single source of truth: which
 * streams, tables, queues, buckets and functions exist, with which settings, and how the event source
 * mapping behaves. Each resource type is read by its own module under `local/resources/`; this module
 * only dispatches to them. Nothing here repeats a setting of the CDK stack.
 */
import type { TableModel } from './resources/dynamodbTable';
import { UnsupportedTemplateError } from './resources/errors';
import type { StreamModel } from './resources/kinesisStream';
import type { EventSourceMappingModel } from './resources/lambdaEventSourceMapping';
import type { FunctionModel } from './resources/lambdaFunction';
import { RESOURCE_TYPES } from './resources/registry';
import type { BucketModel } from './resources/s3Bucket';
import type { QueueModel } from './resources/sqsQueue';

/** A JSON value of a CloudFormation template, intrinsic functions left in place. */
export type CfnValue = string | number | boolean | null | CfnValue[] | { [key: string]: CfnValue };

export interface CfnResource {
  Type: string;
  Properties?: Record<string, CfnValue>;
  Metadata?: Record<string, CfnValue>;
  Condition?: string;
  DependsOn?: string | string[];
}

export interface CfnTemplate {
  Resources: Record<string, CfnResource>;
  [section: string]: unknown;
}

/** What the local runtime provisions and runs, read from one stack template. */
export interface LocalModel {
  streams: StreamModel[];
  tables: TableModel[];
  queues: QueueModel[];
  buckets: BucketModel[];
  functions: FunctionModel[];
  eventSourceMappings: EventSourceMappingModel[];
  /** Resources with no local counterpart (IAM, log groups, policies, …), for the record. */
  otherResources: { logicalId: string; type: string }[];
}

/**
 * Reads what the local runtime needs from a stack template: resources, their settings, and each Kinesis
 * event source mapping with CloudFormation's defaults applied and AWS's limits checked. Pure.
 *
 * @example
 * ```ts
 * const { template, cdkOutDir, stackName } = await loadStackTemplate('cdk.out');
 * const model = describeStack(template, { cdkOutDir, stackName });
 * model.eventSourceMappings[0].BatchSize; // 1000 (or 100 when the stack does not set it)
 * ```
 */
export function describeStack(
  template: CfnTemplate,
  options: { cdkOutDir: string; stackName?: string } = { cdkOutDir: process.cwd() },
): LocalModel {
  const resources = Object.entries(template.Resources ?? {});
  const model: LocalModel = {
    streams: [],
    tables: [],
    queues: [],
    buckets: [],
    functions: [],
    eventSourceMappings: [],
    otherResources: [],
  };
  const understood = new Set(RESOURCE_TYPES.map((type) => type.cfnType));
  for (const [logicalId, resource] of resources) {
    if (!understood.has(resource.Type)) {
      model.otherResources.push({ logicalId, type: resource.Type });
    } else if (resource.Condition !== undefined) {
      // CDK puts a Condition on its own AWS::CDK::Metadata resource; that one is among otherResources.
      throw new UnsupportedTemplateError(
        logicalId,
        `${resource.Type} with a Condition cannot be evaluated locally: create it unconditionally in the CDK stack`,
      );
    }
  }
  for (const type of RESOURCE_TYPES) {
    const described = model[type.modelKey] as ReturnType<typeof type.describe>[];
    for (const [logicalId, resource] of resources) {
      if (resource.Type !== type.cfnType) continue;
      const defaultName = `${options.stackName ?? 'local'}-${logicalId}`;
      described.push(
        type.describe(logicalId, resource, { cdkOutDir: options.cdkOutDir, defaultName, model }),
      );
    }
  }
  return model;
}
