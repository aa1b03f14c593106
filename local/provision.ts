import { join } from 'node:path';
import {
  CreateTableCommand,
  type CreateTableCommandInput,
  DescribeTableCommand,
  type DynamoDBClient,
  ResourceNotFoundException as TableNotFoundException,
} from '@aws-sdk/client-dynamodb';
import {
  CreateStreamCommand,
  DecreaseStreamRetentionPeriodCommand,
  DescribeStreamSummaryCommand,
  IncreaseStreamRetentionPeriodCommand,
  type KinesisClient,
  type StreamDescriptionSummary,
  ResourceNotFoundException as StreamNotFoundException,
} from '@aws-sdk/client-kinesis';
import { CreateBucketCommand, HeadBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  QueueDoesNotExist,
  SetQueueAttributesCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { dynamoClient, kinesisClient, s3Client, sqsClient } from '../lambdas/shared/clients';
import { ShardlineError } from '../lambdas/shared/errors';
import { clientOptionsFor, type RunningEmulators } from './emulators';
import {
  type BucketModel,
  type CfnValue,
  type LocalModel,
  type PseudoParameters,
  type QueueModel,
  type ResolvedResource,
  type ResolvedResources,
  referencedLogicalIds,
  resolveString,
  resolveValue,
  type StreamModel,
  type TableModel,
} from './template';

export type ProvisionAction = 'created' | 'exists' | 'updated';

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

/** The data directory holds a resource that differs from the template in a way that cannot be updated. */
export class ResourceConflictError extends ShardlineError {
  constructor(message: string) {
    super(message);
    this.name = 'ResourceConflictError';
  }
}

export class ProvisionTimeoutError extends ShardlineError {
  constructor(what: string, timeoutMs: number, logFile: string) {
    super(`${what} did not become ACTIVE within ${timeoutMs} ms: see ${logFile}`);
    this.name = 'ProvisionTimeoutError';
  }
}

/** AWS creates an on-demand stream with capacity for 4 MB/s of writes, i.e. 4 shards. */
const ON_DEMAND_INITIAL_SHARDS = 4;
const POLL_MS = 25;

interface Clients {
  kinesis: KinesisClient;
  dynamodb: DynamoDBClient;
  s3: S3Client;
  sqs: SQSClient;
}

interface Context {
  clients: Clients;
  running: RunningEmulators;
  pseudo: PseudoParameters;
  resolved: ResolvedResources;
  log: (line: string) => void;
  onAction: (logicalId: string, action: ProvisionAction) => void;
  activeTimeoutMs: number;
}

interface Task {
  logicalId: string;
  dependsOn: Set<string>;
  run: (context: Context) => Promise<ResolvedResource>;
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
  const clients: Clients = {
    kinesis: kinesisClient(clientOptionsFor(running, 'kinesis')),
    dynamodb: dynamoClient(clientOptionsFor(running, 'dynamodb')),
    s3: s3Client(clientOptionsFor(running, 's3')),
    sqs: sqsClient(clientOptionsFor(running, 'sqs')),
  };
  const context: Context = {
    clients,
    running,
    pseudo: pseudoParametersFor(running, options.stackName),
    resolved: {},
    log: options.log ?? (() => {}),
    onAction: options.onAction ?? (() => {}),
    activeTimeoutMs: options.activeTimeoutMs ?? 15_000,
  };
  try {
    await runInDependencyOrder(tasksOf(model), context);
    for (const fn of model.functions) {
      const name = resolveString(fn.name, context.resolved, context.pseudo, `${fn.logicalId}.FunctionName`);
      context.resolved[fn.logicalId] = {
        type: 'AWS::Lambda::Function',
        ref: name,
        attributes: {
          Arn: `arn:${context.pseudo.partition}:lambda:${running.region}:${running.accountId}:function:${name}`,
        },
      };
    }
    return context.resolved;
  } finally {
    for (const client of Object.values(clients)) client.destroy();
  }
}

/**
 * The pseudo parameters of the local account and region.
 *
 * @example
 * ```ts
 * pseudoParametersFor(running); // { region: 'us-east-1', accountId: '000000000000', partition: 'aws' }
 * ```
 */
export function pseudoParametersFor(running: RunningEmulators, stackName?: string): PseudoParameters {
  return {
    region: running.region,
    accountId: running.accountId,
    partition: 'aws',
    ...(stackName === undefined ? {} : { stackName }),
  };
}

function tasksOf(model: LocalModel): Task[] {
  const task = <M extends { logicalId: string; name: CfnValue }>(
    resource: M,
    extra: CfnValue | undefined,
    run: (resource: M, context: Context) => Promise<ResolvedResource>,
  ): Task => ({
    logicalId: resource.logicalId,
    dependsOn: new Set([...referencedLogicalIds(resource.name), ...referencedLogicalIds(extra)]),
    run: (context) => run(resource, context),
  });
  return [
    ...model.streams.map((stream) => task(stream, undefined, provisionStream)),
    ...model.tables.map((table) => task(table, undefined, provisionTable)),
    ...model.queues.map((queue) => task(queue, queue.attributes, provisionQueue)),
    ...model.buckets.map((bucket) => task(bucket, undefined, provisionBucket)),
  ];
}

/** A queue's RedrivePolicy needs the dead-letter queue's ARN: provision in rounds, dependencies first. */
async function runInDependencyOrder(tasks: Task[], context: Context) {
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

async function provisionStream(stream: StreamModel, context: Context): Promise<ResolvedResource> {
  const { kinesis } = context.clients;
  const name = resolveString(stream.name, context.resolved, context.pseudo, `${stream.logicalId}.Name`);
  const label = `kinesis stream ${name} (${stream.logicalId})`;
  let wantedShards = stream.shardCount;
  if (stream.streamMode === 'ON_DEMAND') {
    wantedShards = ON_DEMAND_INITIAL_SHARDS;
    context.log(`${label}: kinesalite has no ON_DEMAND mode; using ${wantedShards} provisioned shards`);
  }

  let summary = await describeStream(kinesis, name);
  let action: ProvisionAction = 'exists';
  if (!summary) {
    await kinesis.send(new CreateStreamCommand({ StreamName: name, ShardCount: wantedShards }));
    action = 'created';
  }
  summary = await waitUntil(
    () => describeStream(kinesis, name),
    (candidate) => candidate?.StreamStatus === 'ACTIVE',
    label,
    context,
  );
  if (summary.OpenShardCount !== wantedShards) {
    const dir = join(context.running.dataDir, 'kinesis');
    throw new ResourceConflictError(
      `${label} exists in ${dir} with ${summary.OpenShardCount} open shards, but the template declares ${wantedShards}: ` +
        `delete ${dir} to recreate it (its records are lost), or synthesize the stack with ${summary.OpenShardCount} shards`,
    );
  }
  const retention = summary.RetentionPeriodHours ?? 24;
  if (retention !== stream.retentionPeriodHours) {
    const change = { StreamName: name, RetentionPeriodHours: stream.retentionPeriodHours };
    await kinesis.send(
      stream.retentionPeriodHours > retention
        ? new IncreaseStreamRetentionPeriodCommand(change)
        : new DecreaseStreamRetentionPeriodCommand(change),
    );
    if (action === 'exists') action = 'updated';
  }
  report(
    context,
    stream.logicalId,
    label,
    action,
    `${wantedShards} shards, ${stream.retentionPeriodHours} h retention`,
  );
  return { type: 'AWS::Kinesis::Stream', ref: name, attributes: { Arn: summary.StreamARN as string } };
}

async function describeStream(
  kinesis: KinesisClient,
  name: string,
): Promise<StreamDescriptionSummary | undefined> {
  try {
    const { StreamDescriptionSummary } = await kinesis.send(
      new DescribeStreamSummaryCommand({ StreamName: name }),
    );
    return StreamDescriptionSummary;
  } catch (error) {
    if (error instanceof StreamNotFoundException) return undefined;
    throw error;
  }
}

async function provisionTable(table: TableModel, context: Context): Promise<ResolvedResource> {
  const { dynamodb } = context.clients;
  const name = resolveString(table.name, context.resolved, context.pseudo, `${table.logicalId}.TableName`);
  const label = `dynamodb table ${name} (${table.logicalId})`;
  let description = await describeTable(dynamodb, name);
  let action: ProvisionAction = 'exists';
  if (!description) {
    const input: CreateTableCommandInput = {
      TableName: name,
      KeySchema: table.KeySchema,
      AttributeDefinitions: table.AttributeDefinitions,
      BillingMode: table.BillingMode,
      ...(table.BillingMode === 'PROVISIONED'
        ? {
            ProvisionedThroughput: table.ProvisionedThroughput ?? {
              ReadCapacityUnits: 5,
              WriteCapacityUnits: 5,
            },
          }
        : {}),
      ...(table.GlobalSecondaryIndexes
        ? {
            GlobalSecondaryIndexes: resolveValue(
              table.GlobalSecondaryIndexes,
              context.resolved,
              context.pseudo,
            ),
          }
        : {}),
      ...(table.LocalSecondaryIndexes
        ? {
            LocalSecondaryIndexes: resolveValue(
              table.LocalSecondaryIndexes,
              context.resolved,
              context.pseudo,
            ),
          }
        : {}),
    } as CreateTableCommandInput;
    await dynamodb.send(new CreateTableCommand(input));
    action = 'created';
  }
  description = await waitUntil(
    () => describeTable(dynamodb, name),
    (candidate) => candidate?.TableStatus === 'ACTIVE',
    label,
    context,
  );
  const existingKeys = keySchemaText(description.KeySchema ?? []);
  const declaredKeys = keySchemaText(table.KeySchema);
  if (existingKeys !== declaredKeys) {
    const dir = join(context.running.dataDir, 'dynamodb');
    throw new ResourceConflictError(
      `${label} exists in ${dir} with key schema ${existingKeys}, but the template declares ${declaredKeys}: ` +
        `delete ${dir} to recreate it (its items are lost)`,
    );
  }
  if (table.ttlAttribute !== undefined) {
    context.log(
      `${label}: TTL on "${table.ttlAttribute}" is not emulated (dynalite has no UpdateTimeToLive); expired items stay`,
    );
  }
  report(context, table.logicalId, label, action, table.BillingMode);
  return { type: 'AWS::DynamoDB::Table', ref: name, attributes: { Arn: description.TableArn as string } };
}

async function describeTable(dynamodb: DynamoDBClient, name: string) {
  try {
    return (await dynamodb.send(new DescribeTableCommand({ TableName: name }))).Table;
  } catch (error) {
    if (error instanceof TableNotFoundException) return undefined;
    throw error;
  }
}

function keySchemaText(keySchema: { AttributeName?: string; KeyType?: string }[]): string {
  return keySchema
    .map((key) => `${key.AttributeName} ${key.KeyType}`)
    .sort((a, b) => (a.endsWith('HASH') ? -1 : b.endsWith('HASH') ? 1 : 0))
    .join(', ');
}

async function provisionQueue(queue: QueueModel, context: Context): Promise<ResolvedResource> {
  const { sqs } = context.clients;
  const name = resolveString(queue.name, context.resolved, context.pseudo, `${queue.logicalId}.QueueName`);
  const label = `sqs queue ${name} (${queue.logicalId})`;
  const attributes = Object.fromEntries(
    Object.entries(queue.attributes).map(([attribute, value]) => [
      attribute,
      attributeText(resolveValue(value, context.resolved, context.pseudo, `${queue.logicalId}.${attribute}`)),
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
    type: 'AWS::SQS::Queue',
    ref: queueUrl,
    attributes: { Arn: QueueArn as string, QueueName: name, QueueUrl: queueUrl },
  };
}

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

async function provisionBucket(bucket: BucketModel, context: Context): Promise<ResolvedResource> {
  const { s3 } = context.clients;
  const name = resolveString(bucket.name, context.resolved, context.pseudo, `${bucket.logicalId}.BucketName`);
  const label = `s3 bucket ${name} (${bucket.logicalId})`;
  let action: ProvisionAction = 'exists';
  try {
    await s3.send(new HeadBucketCommand({ Bucket: name }));
  } catch (error) {
    if ((error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode !== 404) throw error;
    await s3.send(new CreateBucketCommand({ Bucket: name }));
    action = 'created';
  }
  report(context, bucket.logicalId, label, action);
  return {
    type: 'AWS::S3::Bucket',
    ref: name,
    attributes: { Arn: `arn:${context.pseudo.partition}:s3:::${name}` },
  };
}

function report(
  context: Context,
  logicalId: string,
  label: string,
  action: ProvisionAction,
  detail?: string,
) {
  context.log(`${label}: ${action}${detail ? ` (${detail})` : ''}`);
  context.onAction(logicalId, action);
}

async function waitUntil<T>(
  read: () => Promise<T | undefined>,
  isReady: (value: T | undefined) => boolean,
  what: string,
  context: Context,
): Promise<T> {
  const deadline = Date.now() + context.activeTimeoutMs;
  for (;;) {
    const value = await read();
    if (value !== undefined && isReady(value)) return value;
    if (Date.now() > deadline) {
      const service = what.startsWith('kinesis') ? 'kinesis' : 'dynamodb';
      throw new ProvisionTimeoutError(what, context.activeTimeoutMs, context.running.logFiles[service]);
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}
