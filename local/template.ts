/**
 * The synthesized CloudFormation template as the local runtime's single source of truth: which
 * streams, tables, queues, buckets and functions exist, with which settings, and how the event source
 * mapping behaves. Nothing here repeats a setting of the CDK stack.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ShardlineError } from '../lambdas/shared/errors';

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

/** A stack template read from a cloud assembly (`cdk.out`). */
export interface StackTemplate {
  stackName: string;
  templatePath: string;
  /** Absolute path of the cloud assembly directory: asset paths are relative to it. */
  cdkOutDir: string;
  template: CfnTemplate;
}

export interface StreamModel {
  logicalId: string;
  /** Physical name, possibly an intrinsic (resolve it with `resolveValue`). */
  name: CfnValue;
  streamMode: 'PROVISIONED' | 'ON_DEMAND';
  shardCount: number;
  retentionPeriodHours: number;
}

export interface KeySchemaElement {
  AttributeName: string;
  KeyType: 'HASH' | 'RANGE';
}

export interface AttributeDefinition {
  AttributeName: string;
  AttributeType: 'S' | 'N' | 'B';
}

export interface TableModel {
  logicalId: string;
  name: CfnValue;
  KeySchema: KeySchemaElement[];
  AttributeDefinitions: AttributeDefinition[];
  BillingMode: 'PROVISIONED' | 'PAY_PER_REQUEST';
  ProvisionedThroughput?: { ReadCapacityUnits: number; WriteCapacityUnits: number };
  GlobalSecondaryIndexes?: CfnValue[];
  LocalSecondaryIndexes?: CfnValue[];
  /** The attribute DynamoDB expires items by, when TimeToLiveSpecification is enabled. */
  ttlAttribute?: string;
}

export interface QueueModel {
  logicalId: string;
  name: CfnValue;
  /** SQS attribute name → unresolved value (RedrivePolicy is still an object here). */
  attributes: Record<string, CfnValue>;
  tags: Record<string, CfnValue>;
}

export interface BucketModel {
  logicalId: string;
  /** The bucket name expression: the stack appends account and region with Fn::Join. */
  name: CfnValue;
}

export interface FunctionModel {
  logicalId: string;
  name: CfnValue;
  /** `file.export`, e.g. 'index.handler'. */
  handler: string;
  runtime: string;
  architectures: string[];
  timeoutSeconds: number;
  memoryMb: number;
  /** Environment variables with intrinsics unresolved (see `resolveEnvironment`). */
  environment: Record<string, CfnValue>;
  /**
   * Absolute path of the code directory: the asset's `aws:asset:path` metadata resolved against cdk.out,
   * else the staged `asset.<hash>` directory named by the S3 key. Undefined for inline code.
   */
  assetPath?: string;
}

export type StartingPosition = 'TRIM_HORIZON' | 'LATEST' | 'AT_TIMESTAMP';

/**
 * A Kinesis event source mapping with every setting that shapes its behaviour, CloudFormation defaults
 * applied. Property names are CloudFormation's (AWS::Lambda::EventSourceMapping), so each one can be
 * checked against the AWS documentation.
 */
export interface EventSourceMappingModel {
  logicalId: string;
  functionLogicalId: string;
  eventSourceLogicalId: string;
  BatchSize: number;
  MaximumBatchingWindowInSeconds: number;
  StartingPosition: StartingPosition;
  /** Epoch seconds; only with AT_TIMESTAMP. */
  StartingPositionTimestamp?: number;
  BisectBatchOnFunctionError: boolean;
  /** -1 retries until the record expires. */
  MaximumRetryAttempts: number;
  /** -1 means no limit (the stream's retention). */
  MaximumRecordAgeInSeconds: number;
  FunctionResponseTypes: 'ReportBatchItemFailures'[];
  ParallelizationFactor: number;
  /** 0 means no tumbling window. */
  TumblingWindowInSeconds: number;
  DestinationConfig: {
    /** `Destination` unresolved; `destinationLogicalId` when it points at a resource of the template. */
    OnFailure?: { Destination: CfnValue; destinationLogicalId?: string };
  };
  FilterCriteria?: { Filters: { Pattern: string }[] };
  Enabled: boolean;
  /** Properties set in the template that the local runtime does not emulate (e.g. MetricsConfig). */
  ignoredProperties: string[];
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

/** One provisioned resource: what `Ref` and `Fn::GetAtt` return for it. */
export interface ResolvedResource {
  type: string;
  ref: string;
  attributes: Record<string, string>;
}

export type ResolvedResources = Record<string, ResolvedResource>;

export interface PseudoParameters {
  region: string;
  accountId: string;
  partition: string;
  stackName?: string;
  urlSuffix?: string;
}

export class TemplateNotFoundError extends ShardlineError {
  constructor(cdkOutDir: string, detail?: string) {
    super(`no synthesized template in ${cdkOutDir} (run \`npx cdk synth\`)${detail ? `: ${detail}` : ''}`);
    this.name = 'TemplateNotFoundError';
  }
}

export class StackNotFoundError extends ShardlineError {
  constructor(cdkOutDir: string, wanted: string | undefined, available: string[]) {
    super(
      wanted === undefined
        ? `${cdkOutDir} holds ${available.length} stacks (${available.join(', ')}): pass the stack name to load`
        : `stack ${wanted} is not in ${cdkOutDir} (it holds ${available.join(', ') || 'no stack'}): synthesize it with \`npx cdk synth -c stage=<stage>\``,
    );
    this.name = 'StackNotFoundError';
  }
}

/** The template declares something the local runtime cannot run; the message says what to change. */
export class UnsupportedTemplateError extends ShardlineError {
  constructor(logicalId: string, reason: string) {
    super(`${logicalId}: ${reason}`);
    this.name = 'UnsupportedTemplateError';
  }
}

/** An event source mapping setting outside what AWS Lambda accepts for Kinesis. */
export class InvalidEventSourceMappingError extends ShardlineError {
  constructor(
    readonly logicalId: string,
    readonly property: string,
    readonly value: unknown,
    readonly allowed: string,
  ) {
    super(
      `event source mapping ${logicalId}: ${property} is ${JSON.stringify(value)}, but AWS Lambda allows ${allowed} for Kinesis; fix the KinesisEventSource settings in lib/ and synthesize again`,
    );
    this.name = 'InvalidEventSourceMappingError';
  }
}

export class UnsupportedIntrinsicError extends ShardlineError {
  constructor(intrinsic: string, where: string) {
    super(
      `${intrinsic} at ${where} cannot be resolved locally (supported: Ref, Fn::GetAtt, Fn::Join, Fn::Sub, Fn::Select, Fn::Split, Fn::Base64 and the AWS:: pseudo parameters); compute the value in the CDK stack instead`,
    );
    this.name = 'UnsupportedIntrinsicError';
  }
}

export class UnresolvedReferenceError extends ShardlineError {
  constructor(reference: string, where: string, reason: string) {
    super(`${reference} at ${where} cannot be resolved: ${reason}`);
    this.name = 'UnresolvedReferenceError';
  }
}

/**
 * Reads a stack template from a cloud assembly, finding it through `manifest.json`.
 *
 * @example
 * ```ts
 * const stack = await loadStackTemplate('cdk.out', 'Shardline-dev');
 * const model = describeStack(stack.template, stack);
 * ```
 */
export async function loadStackTemplate(cdkOutDir: string, stackName?: string): Promise<StackTemplate> {
  const root = resolve(cdkOutDir);
  const stacks = await listStacks(root);
  if (stacks.length === 0) throw new TemplateNotFoundError(root, 'manifest.json lists no stack');
  const names = stacks.map((stack) => stack.stackName);
  const chosen =
    stackName === undefined
      ? stacks.length === 1
        ? stacks[0]
        : undefined
      : stacks.find((stack) => stack.stackName === stackName || stack.artifactId === stackName);
  if (!chosen) throw new StackNotFoundError(root, stackName, names);
  if (!existsSync(chosen.templatePath)) {
    throw new TemplateNotFoundError(root, `manifest.json names ${chosen.templatePath}, which is missing`);
  }
  const template = JSON.parse(await readFile(chosen.templatePath, 'utf8')) as CfnTemplate;
  return { stackName: chosen.stackName, templatePath: chosen.templatePath, cdkOutDir: root, template };
}

interface StackArtifact {
  artifactId: string;
  stackName: string;
  templatePath: string;
}

interface Manifest {
  artifacts?: Record<
    string,
    {
      type: string;
      displayName?: string;
      properties?: { templateFile?: string; stackName?: string; directoryName?: string };
    }
  >;
}

async function listStacks(dir: string, depth = 0): Promise<StackArtifact[]> {
  const manifestPath = join(dir, 'manifest.json');
  if (!existsSync(manifestPath)) throw new TemplateNotFoundError(dir);
  const manifest = JSON.parse(await readFile(manifestPath, 'utf8')) as Manifest;
  const stacks: StackArtifact[] = [];
  for (const [artifactId, artifact] of Object.entries(manifest.artifacts ?? {})) {
    if (artifact.type === 'aws:cloudformation:stack' && artifact.properties?.templateFile) {
      stacks.push({
        artifactId,
        stackName: artifact.properties.stackName ?? artifactId,
        templatePath: join(dir, artifact.properties.templateFile),
      });
    } else if (artifact.type === 'cdk:cloud-assembly' && artifact.properties?.directoryName && depth < 4) {
      // Stacks inside a CDK Stage live in a nested assembly.
      stacks.push(...(await listStacks(join(dir, artifact.properties.directoryName), depth + 1)));
    }
  }
  return stacks;
}

const RESOURCE_TYPES = {
  stream: 'AWS::Kinesis::Stream',
  table: 'AWS::DynamoDB::Table',
  queue: 'AWS::SQS::Queue',
  bucket: 'AWS::S3::Bucket',
  function: 'AWS::Lambda::Function',
  eventSourceMapping: 'AWS::Lambda::EventSourceMapping',
} as const;

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

/** Every AWS::Lambda::EventSourceMapping property that shapes a Kinesis mapping's behaviour. */
const KINESIS_MAPPING_PROPERTIES = new Set([
  'FunctionName',
  'EventSourceArn',
  'BatchSize',
  'MaximumBatchingWindowInSeconds',
  'StartingPosition',
  'StartingPositionTimestamp',
  'BisectBatchOnFunctionError',
  'MaximumRetryAttempts',
  'MaximumRecordAgeInSeconds',
  'FunctionResponseTypes',
  'ParallelizationFactor',
  'TumblingWindowInSeconds',
  'DestinationConfig',
  'FilterCriteria',
  'Enabled',
]);

const STARTING_POSITIONS: readonly StartingPosition[] = ['TRIM_HORIZON', 'LATEST', 'AT_TIMESTAMP'];

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
  const resources = template.Resources ?? {};
  const model: LocalModel = {
    streams: [],
    tables: [],
    queues: [],
    buckets: [],
    functions: [],
    eventSourceMappings: [],
    otherResources: [],
  };
  const defaultName = (logicalId: string) => `${options.stackName ?? 'local'}-${logicalId}`;
  for (const [logicalId, resource] of Object.entries(resources)) {
    const modelled = (Object.values(RESOURCE_TYPES) as string[]).includes(resource.Type);
    // CDK puts a Condition on its own AWS::CDK::Metadata resource; that one can be ignored.
    if (modelled && resource.Condition !== undefined) {
      throw new UnsupportedTemplateError(
        logicalId,
        `${resource.Type} with a Condition cannot be evaluated locally: create it unconditionally in the CDK stack`,
      );
    }
    const props = resource.Properties ?? {};
    switch (resource.Type) {
      case RESOURCE_TYPES.stream:
        model.streams.push(describeStream(logicalId, props, defaultName(logicalId)));
        break;
      case RESOURCE_TYPES.table:
        model.tables.push(describeTable(logicalId, props, defaultName(logicalId)));
        break;
      case RESOURCE_TYPES.queue:
        model.queues.push(describeQueue(logicalId, props, defaultName(logicalId)));
        break;
      case RESOURCE_TYPES.bucket:
        model.buckets.push({ logicalId, name: props.BucketName ?? defaultName(logicalId).toLowerCase() });
        break;
      case RESOURCE_TYPES.function:
        model.functions.push(
          describeFunction(logicalId, resource, defaultName(logicalId), options.cdkOutDir),
        );
        break;
      case RESOURCE_TYPES.eventSourceMapping:
        break;
      default:
        model.otherResources.push({ logicalId, type: resource.Type });
    }
  }
  for (const [logicalId, resource] of Object.entries(resources)) {
    if (resource.Type === RESOURCE_TYPES.eventSourceMapping) {
      model.eventSourceMappings.push(describeEventSourceMapping(logicalId, resource.Properties ?? {}, model));
    }
  }
  return model;
}

function describeStream(
  logicalId: string,
  props: Record<string, CfnValue>,
  defaultName: string,
): StreamModel {
  const mode = objectProp(props.StreamModeDetails)?.StreamMode ?? 'PROVISIONED';
  if (mode !== 'PROVISIONED' && mode !== 'ON_DEMAND') {
    throw new UnsupportedTemplateError(logicalId, `unknown StreamMode ${JSON.stringify(mode)}`);
  }
  return {
    logicalId,
    name: props.Name ?? defaultName,
    streamMode: mode,
    shardCount: literalInteger(logicalId, 'ShardCount', props.ShardCount, 1),
    retentionPeriodHours: literalInteger(logicalId, 'RetentionPeriodHours', props.RetentionPeriodHours, 24),
  };
}

function describeTable(logicalId: string, props: Record<string, CfnValue>, defaultName: string): TableModel {
  const ttl = objectProp(props.TimeToLiveSpecification);
  const billingMode = props.BillingMode ?? 'PROVISIONED';
  if (billingMode !== 'PROVISIONED' && billingMode !== 'PAY_PER_REQUEST') {
    throw new UnsupportedTemplateError(logicalId, `unknown BillingMode ${JSON.stringify(billingMode)}`);
  }
  const throughput = objectProp(props.ProvisionedThroughput);
  return {
    logicalId,
    name: props.TableName ?? defaultName,
    KeySchema: (props.KeySchema ?? []) as unknown as KeySchemaElement[],
    AttributeDefinitions: (props.AttributeDefinitions ?? []) as unknown as AttributeDefinition[],
    BillingMode: billingMode,
    ...(throughput
      ? {
          ProvisionedThroughput: {
            ReadCapacityUnits: literalInteger(
              logicalId,
              'ReadCapacityUnits',
              throughput.ReadCapacityUnits,
              5,
            ),
            WriteCapacityUnits: literalInteger(
              logicalId,
              'WriteCapacityUnits',
              throughput.WriteCapacityUnits,
              5,
            ),
          },
        }
      : {}),
    ...(Array.isArray(props.GlobalSecondaryIndexes)
      ? { GlobalSecondaryIndexes: props.GlobalSecondaryIndexes }
      : {}),
    ...(Array.isArray(props.LocalSecondaryIndexes)
      ? { LocalSecondaryIndexes: props.LocalSecondaryIndexes }
      : {}),
    ...(ttl && literalBoolean(logicalId, 'TimeToLiveSpecification.Enabled', ttl.Enabled, false)
      ? { ttlAttribute: String(ttl.AttributeName) }
      : {}),
  };
}

function describeQueue(logicalId: string, props: Record<string, CfnValue>, defaultName: string): QueueModel {
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
}

function describeFunction(
  logicalId: string,
  resource: CfnResource,
  defaultName: string,
  cdkOutDir: string,
): FunctionModel {
  const props = resource.Properties ?? {};
  if (typeof props.Handler !== 'string') {
    throw new UnsupportedTemplateError(
      logicalId,
      'the function has no Handler (container image functions cannot run locally): package it as a zip (NodejsFunction)',
    );
  }
  const environment = objectProp(objectProp(props.Environment)?.Variables) ?? {};
  const architectures = Array.isArray(props.Architectures) ? props.Architectures.map(String) : ['x86_64'];
  return {
    logicalId,
    name: props.FunctionName ?? defaultName,
    handler: props.Handler,
    runtime: String(props.Runtime ?? ''),
    architectures,
    timeoutSeconds: literalInteger(logicalId, 'Timeout', props.Timeout, 3),
    memoryMb: literalInteger(logicalId, 'MemorySize', props.MemorySize, 128),
    environment,
    ...assetPathOf(resource, cdkOutDir),
  };
}

function assetPathOf(resource: CfnResource, cdkOutDir: string): { assetPath?: string } {
  const metadataPath = resource.Metadata?.['aws:asset:path'];
  if (typeof metadataPath === 'string') return { assetPath: resolve(cdkOutDir, metadataPath) };
  // Without asset metadata (synthesized with it off), the staged directory is named after the S3 key.
  const s3Key = objectProp(resource.Properties?.Code)?.S3Key;
  if (typeof s3Key === 'string' && /^[0-9a-f]{64}\.zip$/.test(s3Key)) {
    return { assetPath: resolve(cdkOutDir, `asset.${s3Key.slice(0, -'.zip'.length)}`) };
  }
  return {};
}

function describeEventSourceMapping(
  logicalId: string,
  props: Record<string, CfnValue>,
  model: LocalModel,
): EventSourceMappingModel {
  const functionLogicalId = functionOf(logicalId, props.FunctionName, model);
  const eventSourceLogicalId = streamOf(logicalId, props.EventSourceArn, model);

  const integer = (property: string, fallback: number, min: number, max: number, allowed?: string) => {
    const value = numberProp(logicalId, property, props[property], fallback);
    if (!Number.isInteger(value) || value < min || value > max) {
      throw new InvalidEventSourceMappingError(
        logicalId,
        property,
        value,
        allowed ?? `an integer from ${min} to ${max}`,
      );
    }
    return value;
  };
  const BatchSize = integer('BatchSize', 100, 1, 10_000);
  const MaximumBatchingWindowInSeconds = integer('MaximumBatchingWindowInSeconds', 0, 0, 300);
  const MaximumRetryAttempts = integer('MaximumRetryAttempts', -1, -1, 10_000);
  const MaximumRecordAgeInSeconds = integer('MaximumRecordAgeInSeconds', -1, -1, 604_800);
  if (MaximumRecordAgeInSeconds !== -1 && MaximumRecordAgeInSeconds < 60) {
    throw new InvalidEventSourceMappingError(
      logicalId,
      'MaximumRecordAgeInSeconds',
      MaximumRecordAgeInSeconds,
      '-1 (no limit) or an integer from 60 to 604800',
    );
  }
  const ParallelizationFactor = integer('ParallelizationFactor', 1, 1, 10);
  const TumblingWindowInSeconds = integer('TumblingWindowInSeconds', 0, 0, 900);

  const startingPosition = props.StartingPosition;
  if (!STARTING_POSITIONS.includes(startingPosition as StartingPosition)) {
    throw new InvalidEventSourceMappingError(
      logicalId,
      'StartingPosition',
      startingPosition ?? null,
      STARTING_POSITIONS.join(', '),
    );
  }
  const StartingPosition = startingPosition as StartingPosition;
  let StartingPositionTimestamp: number | undefined;
  if (StartingPosition === 'AT_TIMESTAMP') {
    StartingPositionTimestamp = numberProp(
      logicalId,
      'StartingPositionTimestamp',
      props.StartingPositionTimestamp,
      -1,
    );
    if (StartingPositionTimestamp < 0) {
      throw new InvalidEventSourceMappingError(
        logicalId,
        'StartingPositionTimestamp',
        props.StartingPositionTimestamp ?? null,
        'epoch seconds (required with AT_TIMESTAMP)',
      );
    }
  }

  const responseTypes = props.FunctionResponseTypes ?? [];
  if (!Array.isArray(responseTypes) || responseTypes.some((type) => type !== 'ReportBatchItemFailures')) {
    throw new InvalidEventSourceMappingError(
      logicalId,
      'FunctionResponseTypes',
      responseTypes,
      '[] or ["ReportBatchItemFailures"]',
    );
  }

  const onFailure = objectProp(objectProp(props.DestinationConfig)?.OnFailure)?.Destination;
  const destinationLogicalId = onFailure === undefined ? undefined : referencedResource(onFailure);
  const filterCriteria = objectProp(props.FilterCriteria);
  const filters = filterCriteria?.Filters;

  return {
    logicalId,
    functionLogicalId,
    eventSourceLogicalId,
    BatchSize,
    MaximumBatchingWindowInSeconds,
    StartingPosition,
    ...(StartingPositionTimestamp === undefined ? {} : { StartingPositionTimestamp }),
    BisectBatchOnFunctionError: literalBoolean(
      logicalId,
      'BisectBatchOnFunctionError',
      props.BisectBatchOnFunctionError,
      false,
    ),
    MaximumRetryAttempts,
    MaximumRecordAgeInSeconds,
    FunctionResponseTypes: responseTypes as 'ReportBatchItemFailures'[],
    ParallelizationFactor,
    TumblingWindowInSeconds,
    DestinationConfig:
      onFailure === undefined
        ? {}
        : {
            OnFailure: { Destination: onFailure, ...(destinationLogicalId ? { destinationLogicalId } : {}) },
          },
    ...(Array.isArray(filters)
      ? {
          FilterCriteria: {
            Filters: filters.map((filter) => ({ Pattern: String(objectProp(filter)?.Pattern) })),
          },
        }
      : {}),
    Enabled: literalBoolean(logicalId, 'Enabled', props.Enabled, true),
    ignoredProperties: Object.keys(props).filter((property) => !KINESIS_MAPPING_PROPERTIES.has(property)),
  };
}

function functionOf(logicalId: string, functionName: CfnValue | undefined, model: LocalModel): string {
  const referenced = functionName === undefined ? undefined : referencedResource(functionName);
  const byReference = model.functions.find((fn) => fn.logicalId === referenced);
  if (byReference) return byReference.logicalId;
  // A literal name, or an ARN ending in `:function:<name>`.
  const byName = model.functions.find(
    (fn) =>
      typeof functionName === 'string' &&
      typeof fn.name === 'string' &&
      (functionName === fn.name || functionName.endsWith(`:function:${fn.name}`)),
  );
  if (byName) return byName.logicalId;
  throw new UnsupportedTemplateError(
    logicalId,
    `the event source mapping invokes ${JSON.stringify(functionName)}, which is not a function of this template`,
  );
}

function streamOf(logicalId: string, eventSourceArn: CfnValue | undefined, model: LocalModel): string {
  const referenced = eventSourceArn === undefined ? undefined : referencedResource(eventSourceArn);
  const stream = model.streams.find((candidate) => candidate.logicalId === referenced);
  if (stream) return stream.logicalId;
  throw new UnsupportedTemplateError(
    logicalId,
    `the event source ${JSON.stringify(eventSourceArn)} is not a Kinesis stream of this template; the local runtime emulates Kinesis event source mappings only`,
  );
}

/** The logical id a `Ref` or `Fn::GetAtt` points at, if the value is one. */
function referencedResource(value: CfnValue): string | undefined {
  const object = objectProp(value);
  if (!object) return undefined;
  if (typeof object.Ref === 'string' && !object.Ref.startsWith('AWS::')) return object.Ref;
  const getAtt = object['Fn::GetAtt'];
  if (Array.isArray(getAtt) && typeof getAtt[0] === 'string') return getAtt[0];
  if (typeof getAtt === 'string') return getAtt.split('.')[0];
  return undefined;
}

function objectProp(value: CfnValue | undefined): Record<string, CfnValue> | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? value : undefined;
}

function numberProp(
  logicalId: string,
  property: string,
  value: CfnValue | undefined,
  fallback: number,
): number {
  if (value === undefined) return fallback;
  // CloudFormation accepts numbers written as strings.
  const number = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof number !== 'number' || Number.isNaN(number)) {
    throw new UnsupportedTemplateError(
      logicalId,
      `${property} must be a literal number locally (got ${JSON.stringify(value)})`,
    );
  }
  return number;
}

function literalInteger(
  logicalId: string,
  property: string,
  value: CfnValue | undefined,
  fallback: number,
): number {
  const number = numberProp(logicalId, property, value, fallback);
  if (!Number.isInteger(number)) {
    throw new UnsupportedTemplateError(
      logicalId,
      `${property} must be an integer (got ${JSON.stringify(value)})`,
    );
  }
  return number;
}

function literalBoolean(
  logicalId: string,
  property: string,
  value: CfnValue | undefined,
  fallback: boolean,
): boolean {
  if (value === undefined) return fallback;
  if (value === true || value === 'true') return true;
  if (value === false || value === 'false') return false;
  throw new UnsupportedTemplateError(
    logicalId,
    `${property} must be a literal boolean locally (got ${JSON.stringify(value)})`,
  );
}

/** `Ref: AWS::NoValue`: the property or list element is left out. */
const NO_VALUE: unique symbol = Symbol('AWS::NoValue');

/**
 * Resolves the intrinsic functions in a template value against provisioned resources: Ref, Fn::GetAtt,
 * Fn::Join, Fn::Sub, Fn::Select, Fn::Split, Fn::Base64 and the AWS:: pseudo parameters. Pure.
 *
 * @example
 * ```ts
 * resolveValue({ 'Fn::Join': ['-', ['lake', { Ref: 'AWS::AccountId' }]] }, {}, pseudo); // 'lake-000000000000'
 * resolveValue({ Ref: 'DlqD1FAA4AD' }, resolved, pseudo); // 'http://127.0.0.1:4566/000000000000/shardline-dev-dlq'
 * ```
 */
export function resolveValue(
  value: CfnValue,
  refs: ResolvedResources,
  pseudo: PseudoParameters,
  where = '$',
): CfnValue {
  const resolved = resolveAny(value, refs, pseudo, where);
  if (resolved === NO_VALUE)
    throw new UnresolvedReferenceError('AWS::NoValue', where, 'a value is required here');
  return resolved;
}

/**
 * Resolves a value that must end up a string (a name, an ARN, a URL).
 *
 * @example
 * ```ts
 * resolveString(bucket.name, {}, { region: 'us-east-1', accountId: '000000000000', partition: 'aws' });
 * ```
 */
export function resolveString(
  value: CfnValue,
  refs: ResolvedResources,
  pseudo: PseudoParameters,
  where = '$',
): string {
  const resolved = resolveValue(value, refs, pseudo, where);
  if (typeof resolved === 'string') return resolved;
  if (typeof resolved === 'number' || typeof resolved === 'boolean') return String(resolved);
  throw new UnresolvedReferenceError(
    JSON.stringify(value),
    where,
    `it resolves to ${JSON.stringify(resolved)}, not a string`,
  );
}

/**
 * Resolves a function's environment variables to the strings a handler process receives.
 *
 * @example
 * ```ts
 * const env = resolveEnvironment(consumer.environment, resolved, pseudo);
 * env.DLQ_URL; // the fauxqs queue URL
 * ```
 */
export function resolveEnvironment(
  environment: Record<string, CfnValue>,
  refs: ResolvedResources,
  pseudo: PseudoParameters,
): Record<string, string> {
  return Object.fromEntries(
    Object.entries(environment).map(([name, value]) => [
      name,
      resolveString(value, refs, pseudo, `environment.${name}`),
    ]),
  );
}

/**
 * The logical ids a value refers to through Ref, Fn::GetAtt and Fn::Sub (pseudo parameters excluded),
 * so resources can be provisioned after what they depend on.
 *
 * @example
 * ```ts
 * referencedLogicalIds({ 'Fn::GetAtt': ['Dlq', 'Arn'] }); // Set { 'Dlq' }
 * ```
 */
export function referencedLogicalIds(value: CfnValue | undefined): Set<string> {
  const ids = new Set<string>();
  const visit = (node: CfnValue | undefined) => {
    if (Array.isArray(node)) {
      node.forEach(visit);
      return;
    }
    const object = objectProp(node);
    if (!object) return;
    const keys = Object.keys(object);
    if (keys.length === 1 && keys[0] === 'Ref' && typeof object.Ref === 'string') {
      if (!object.Ref.startsWith('AWS::')) ids.add(object.Ref);
      return;
    }
    if (keys.length === 1 && keys[0] === 'Fn::Sub') {
      const sub = object['Fn::Sub'];
      const [text, variables] = Array.isArray(sub) ? sub : [sub, undefined];
      const local = new Set(Object.keys(objectProp(variables) ?? {}));
      for (const match of String(text).matchAll(/\$\{([^!}][^}]*)\}/g)) {
        const name = (match[1] ?? '').split('.')[0] ?? '';
        if (!name.startsWith('AWS::') && !local.has(name)) ids.add(name);
      }
      visit(variables);
      return;
    }
    const referenced = referencedResource(object);
    if (referenced !== undefined) ids.add(referenced);
    Object.values(object).forEach(visit);
  };
  visit(value);
  return ids;
}

type Resolved = CfnValue | typeof NO_VALUE;

function resolveAny(
  value: CfnValue,
  refs: ResolvedResources,
  pseudo: PseudoParameters,
  where: string,
): Resolved {
  if (Array.isArray(value)) {
    return value
      .map((item, index) => resolveAny(item, refs, pseudo, `${where}[${index}]`))
      .filter((item): item is CfnValue => item !== NO_VALUE);
  }
  const object = objectProp(value);
  if (!object) return value;
  const keys = Object.keys(object);
  const [key] = keys;
  if (keys.length === 1 && key !== undefined && (key === 'Ref' || key.startsWith('Fn::'))) {
    return resolveIntrinsic(key, object[key] as CfnValue, refs, pseudo, where);
  }
  const result: Record<string, CfnValue> = {};
  for (const [name, item] of Object.entries(object)) {
    const resolved = resolveAny(item, refs, pseudo, `${where}.${name}`);
    if (resolved !== NO_VALUE) result[name] = resolved;
  }
  return result;
}

function resolveIntrinsic(
  name: string,
  argument: CfnValue,
  refs: ResolvedResources,
  pseudo: PseudoParameters,
  where: string,
): Resolved {
  const at = `${where}.${name}`;
  switch (name) {
    case 'Ref':
      if (typeof argument !== 'string') throw new UnsupportedIntrinsicError('Ref to a non-string', at);
      return resolveRef(argument, refs, pseudo, at);
    case 'Fn::GetAtt': {
      const [logicalId, attribute] = Array.isArray(argument)
        ? [argument[0], resolveAny(argument[1] ?? null, refs, pseudo, at)]
        : splitOnce(String(argument));
      if (typeof logicalId !== 'string' || typeof attribute !== 'string') {
        throw new UnsupportedIntrinsicError('Fn::GetAtt with a non-string argument', at);
      }
      return getAtt(logicalId, attribute, refs, at);
    }
    case 'Fn::Join': {
      const [delimiter, list] = expectArray(argument, 2, name, at);
      const items = resolveAny(list as CfnValue, refs, pseudo, at);
      if (typeof delimiter !== 'string' || !Array.isArray(items)) {
        throw new UnsupportedIntrinsicError('Fn::Join without [delimiter, list]', at);
      }
      return items.map((item) => scalar(item, at)).join(delimiter);
    }
    case 'Fn::Select': {
      const [index, list] = expectArray(argument, 2, name, at);
      const position = Number(resolveAny(index as CfnValue, refs, pseudo, at));
      const items = resolveAny(list as CfnValue, refs, pseudo, at);
      if (!Array.isArray(items) || !Number.isInteger(position) || position < 0 || position >= items.length) {
        throw new UnresolvedReferenceError(
          'Fn::Select',
          at,
          `index ${JSON.stringify(index)} is outside the list`,
        );
      }
      return items[position] as CfnValue;
    }
    case 'Fn::Split': {
      const [delimiter, source] = expectArray(argument, 2, name, at);
      const text = resolveAny(source as CfnValue, refs, pseudo, at);
      if (typeof delimiter !== 'string' || typeof text !== 'string') {
        throw new UnsupportedIntrinsicError('Fn::Split without [delimiter, string]', at);
      }
      return text.split(delimiter);
    }
    case 'Fn::Base64':
      return Buffer.from(scalar(resolveAny(argument, refs, pseudo, at), at)).toString('base64');
    case 'Fn::Sub':
      return substitute(argument, refs, pseudo, at);
    default:
      throw new UnsupportedIntrinsicError(name, where);
  }
}

function resolveRef(
  target: string,
  refs: ResolvedResources,
  pseudo: PseudoParameters,
  where: string,
): Resolved {
  switch (target) {
    case 'AWS::AccountId':
      return pseudo.accountId;
    case 'AWS::Region':
      return pseudo.region;
    case 'AWS::Partition':
      return pseudo.partition;
    case 'AWS::URLSuffix':
      return pseudo.urlSuffix ?? 'amazonaws.com';
    case 'AWS::NoValue':
      return NO_VALUE;
    case 'AWS::StackName':
      if (pseudo.stackName !== undefined) return pseudo.stackName;
      throw new UnresolvedReferenceError(target, where, 'no stack name was given to the resolver');
  }
  if (target.startsWith('AWS::')) throw new UnsupportedIntrinsicError(`Ref ${target}`, where);
  const resource = refs[target];
  if (!resource) throw missingResource(target, refs, where);
  return resource.ref;
}

function getAtt(logicalId: string, attribute: string, refs: ResolvedResources, where: string): string {
  const resource = refs[logicalId];
  if (!resource) throw missingResource(`${logicalId}.${attribute}`, refs, where, logicalId);
  const value = resource.attributes[attribute];
  if (value === undefined) {
    throw new UnresolvedReferenceError(
      `Fn::GetAtt ${logicalId}.${attribute}`,
      where,
      `the local ${resource.type} has no ${attribute} (available: ${Object.keys(resource.attributes).join(', ') || 'none'})`,
    );
  }
  return value;
}

function missingResource(reference: string, refs: ResolvedResources, where: string, logicalId = reference) {
  return new UnresolvedReferenceError(
    reference,
    where,
    `${logicalId} is not among the resources provisioned locally (Kinesis streams, DynamoDB tables, SQS queues, S3 buckets, Lambda functions: ${Object.keys(refs).join(', ') || 'none yet'})`,
  );
}

function substitute(
  argument: CfnValue,
  refs: ResolvedResources,
  pseudo: PseudoParameters,
  where: string,
): string {
  const [text, variables] = Array.isArray(argument) ? argument : [argument, undefined];
  if (typeof text !== 'string') throw new UnsupportedIntrinsicError('Fn::Sub without a string', where);
  const locals = Object.fromEntries(
    Object.entries(objectProp(variables) ?? {}).map(([name, value]) => [
      name,
      scalar(resolveAny(value, refs, pseudo, `${where}.${name}`), where),
    ]),
  );
  return text.replace(/\$\{([^}]*)\}/g, (_match, expression: string) => {
    if (expression.startsWith('!')) return `\${${expression.slice(1)}}`;
    const local = locals[expression];
    if (local !== undefined) return local;
    if (expression.startsWith('AWS::')) return scalar(resolveRef(expression, refs, pseudo, where), where);
    const [logicalId, attribute] = splitOnce(expression);
    return attribute === undefined
      ? scalar(resolveRef(logicalId, refs, pseudo, where), where)
      : getAtt(logicalId, attribute, refs, where);
  });
}

function splitOnce(text: string): [string, string | undefined] {
  const dot = text.indexOf('.');
  return dot === -1 ? [text, undefined] : [text.slice(0, dot), text.slice(dot + 1)];
}

function expectArray(argument: CfnValue, length: number, name: string, where: string): CfnValue[] {
  if (!Array.isArray(argument) || argument.length !== length) {
    throw new UnsupportedIntrinsicError(`${name} with ${JSON.stringify(argument)}`, where);
  }
  return argument;
}

function scalar(value: Resolved, where: string): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw new UnresolvedReferenceError(
    JSON.stringify(value === NO_VALUE ? 'AWS::NoValue' : value),
    where,
    'expected a string',
  );
}
