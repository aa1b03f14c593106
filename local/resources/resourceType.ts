import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import type { S3Client } from '@aws-sdk/client-s3';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { RunningEmulators } from '../emulators';
import type { PseudoParameters, ResolvedResource, ResolvedResources } from '../intrinsics';
import type { CfnResource, LocalModel } from '../template';
import { ProvisionTimeoutError } from './errors';

/** The models `describeStack` reads, by the key of `LocalModel` that lists them. */
export type ResourceModels = Omit<LocalModel, 'otherResources'>;

/** What reading one resource may use besides its own properties. */
export interface DescribeContext {
  /** The cloud assembly directory: asset paths are relative to it. */
  cdkOutDir: string;
  /** The physical name CloudFormation would generate when the template names none. */
  defaultName: string;
  /** The resources read so far: types earlier in the registry are complete. */
  model: ResourceModels;
}

export type ProvisionAction = 'created' | 'exists' | 'updated';

export interface ProvisionContext {
  clients: { kinesis: KinesisClient; dynamodb: DynamoDBClient; s3: S3Client; sqs: SQSClient };
  running: RunningEmulators;
  pseudo: PseudoParameters;
  /** What is provisioned so far, for resolving names and attributes. */
  resolved: ResolvedResources;
  log: (line: string) => void;
  onAction: (logicalId: string, action: ProvisionAction) => void;
  activeTimeoutMs: number;
}

/**
 * One CloudFormation resource type the local runtime understands: how a resource of it is read from the
 * template, and, for those the emulators hold, how it is provisioned there. Each lives in a module of
 * its own under `local/resources/`; `describeStack` and `provision` only dispatch to them.
 */
export interface LocalResourceType<K extends keyof ResourceModels> {
  cfnType: string;
  /** Where `describeStack` lists its resources. */
  modelKey: K;
  describe(logicalId: string, resource: CfnResource, context: DescribeContext): ResourceModels[K][number];
  /** Creates it (or finds it) and returns what Ref and Fn::GetAtt give for it. */
  provision?(model: ResourceModels[K][number], context: ProvisionContext): Promise<ResolvedResource>;
  /** Logical ids to provision first, beyond those its name refers to (a queue's dead-letter queue). */
  dependsOn?(model: ResourceModels[K][number]): Set<string>;
}

/**
 * Logs what provisioning did to one resource and tells `onAction`.
 *
 * @example
 * ```ts
 * report(context, 'Dlq', 'sqs queue shardline-dev-dlq (Dlq)', 'created', queueUrl);
 * ```
 */
export function report(
  context: ProvisionContext,
  logicalId: string,
  label: string,
  action: ProvisionAction,
  detail?: string,
) {
  context.log(`${label}: ${action}${detail ? ` (${detail})` : ''}`);
  context.onAction(logicalId, action);
}

const POLL_MS = 25;

/**
 * Reads until the value is ready (a stream or table ACTIVE), or fails after `activeTimeoutMs` pointing at
 * the emulator's log.
 *
 * @example
 * ```ts
 * const table = await waitUntil(() => describe(name), (t) => t?.TableStatus === 'ACTIVE', label, 'dynamodb', context);
 * ```
 */
export async function waitUntil<T>(
  read: () => Promise<T | undefined>,
  isReady: (value: T | undefined) => boolean,
  what: string,
  service: 'kinesis' | 'dynamodb',
  context: ProvisionContext,
): Promise<T> {
  const deadline = Date.now() + context.activeTimeoutMs;
  for (;;) {
    const value = await read();
    if (value !== undefined && isReady(value)) return value;
    if (Date.now() > deadline) {
      throw new ProvisionTimeoutError(what, context.activeTimeoutMs, context.running.logFiles[service]);
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}
