/**
 * Provisioning: creating in the running emulators exactly what the template declares. Each resource type
 * provisions itself in its module under `local/resources/`; this module builds the clients and runs
 * them in dependency order.
 */
import { dynamoClient, kinesisClient, s3Client, sqsClient } from '../lambdas/shared/clients';
import { clientOptionsFor, type RunningEmulators } from './emulators';
import {
  pseudoParametersFor,
  type ResolvedResource,
  type ResolvedResources,
  referencedLogicalIds,
} from './intrinsics';
import { ResourceConflictError } from './resources/errors';
import type { StreamModel } from './resources/kinesisStream';
import { lambdaFunction } from './resources/lambdaFunction';
import { type AnyResourceType, RESOURCE_TYPES } from './resources/registry';
import type { LocalResourceType, ProvisionAction, ProvisionContext } from './resources/resourceType';
import type { LocalModel } from './template';

export interface ProvisionOptions {
  /** Receives one line per resource and per note (e.g. TTL not emulated). */
  log?: (line: string) => void;
  /** Told what happened to each resource: a second run on the same data reports only 'exists'. */
  onAction?: (logicalId: string, action: ProvisionAction) => void;
  /** Resolves `AWS::StackName` where a name uses it. */
  stackName?: string;
  /** How long to wait for a stream or table to become ACTIVE (default 15 s). */
  activeTimeoutMs?: number;
}

interface Task {
  logicalId: string;
  dependsOn: Set<string>;
  run: (context: ProvisionContext) => Promise<ResolvedResource>;
}

/**
 * Creates in the running emulators exactly the streams, tables, queues and buckets the model declares,
 * idempotently: on existing data it changes nothing (a queue attribute that differs is updated, a
 * stream whose shard count differs is an error). Returns what Ref and Fn::GetAtt give for each resource,
 * functions included, for `resolveValue` and `resolveEnvironment`.
 *
 * @example
 * ```ts
 * const model = describeStack(stack.template, stack);
 * const resolved = await provision(model, running, { log: console.log });
 * const env = resolveEnvironment(model.functions[0].environment, resolved, pseudoParametersFor(running));
 * ```
 */
export async function provision(
  model: LocalModel,
  running: RunningEmulators,
  options: ProvisionOptions = {},
): Promise<ResolvedResources> {
  const clients = {
    kinesis: kinesisClient(clientOptionsFor(running, 'kinesis')),
    dynamodb: dynamoClient(clientOptionsFor(running, 'dynamodb')),
    s3: s3Client(clientOptionsFor(running, 's3')),
    sqs: sqsClient(clientOptionsFor(running, 'sqs')),
  };
  const context: ProvisionContext = {
    clients,
    running,
    pseudo: pseudoParametersFor(running, options.stackName),
    resolved: {},
    log: options.log ?? (() => {}),
    onAction: options.onAction ?? (() => {}),
    activeTimeoutMs: options.activeTimeoutMs ?? 15_000,
  };
  try {
    const tasksOfTypes = (types: readonly AnyResourceType[]) => types.flatMap((type) => tasksOf(type, model));
    await runInDependencyOrder(
      tasksOfTypes(RESOURCE_TYPES.filter((type) => type !== lambdaFunction)),
      context,
    );
    // Nothing is created for a function: it gets its name and ARN once the rest exists.
    await runInDependencyOrder(tasksOfTypes([lambdaFunction]), context);
    return context.resolved;
  } finally {
    for (const client of Object.values(clients)) client.destroy();
  }
}

/** One task per resource of a type that is provisioned, after what its name and `dependsOn` refer to. */
function tasksOf(type: AnyResourceType, model: LocalModel): Task[] {
  // The registry pairs each type with its own list of the model; streams stand for any of them here.
  const { provision, dependsOn } = type as LocalResourceType<'streams'>;
  if (!provision) return [];
  return (model[type.modelKey] as StreamModel[]).map((resource) => ({
    logicalId: resource.logicalId,
    dependsOn: new Set([...referencedLogicalIds(resource.name), ...(dependsOn?.(resource) ?? [])]),
    run: (context) => provision(resource, context),
  }));
}

/** A queue's RedrivePolicy needs the dead-letter queue's ARN: provision in rounds, dependencies first. */
async function runInDependencyOrder(tasks: Task[], context: ProvisionContext) {
  const provisionable = new Set(tasks.map((task) => task.logicalId));
  let pending = tasks;
  while (pending.length > 0) {
    const ready = pending.filter((task) =>
      [...task.dependsOn].every((id) => !provisionable.has(id) || id in context.resolved),
    );
    if (ready.length === 0) {
      throw new ResourceConflictError(
        `resources depend on each other in a cycle: ${pending.map((task) => task.logicalId).join(', ')}`,
      );
    }
    const results = await Promise.all(ready.map((task) => task.run(context)));
    ready.forEach((task, index) => {
      context.resolved[task.logicalId] = results[index] as ResolvedResource;
    });
    pending = pending.filter((task) => !ready.includes(task));
  }
}
