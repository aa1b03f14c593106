import { ShardlineError } from '../lambdas/shared/errors';
import {
  COMMITS_PREFIX,
  DLQ_PAYLOADS_PREFIX,
  FINAL_PREFIXES,
  STAGING_PREFIX,
  STATE_PREFIX,
} from '../lambdas/shared/lakeLayout';

/**
 * What each function may do, as data: the stack builds its policy statements from {@link FUNCTION_GRANTS},
 * and test/cdk/permissions.test.ts checks the synthesized policies against the AWS SDK commands each
 * handler's bundle calls, mapped to IAM actions by {@link SDK_COMMAND_ACTIONS}. The emulators enforce no
 * IAM, so this test is the only local check that a call AWS would deny is granted.
 */

/**
 * The IAM actions each AWS SDK v3 command needs (Service Authorization Reference: "Actions defined by …").
 * A command a handler uses that is missing here fails test/cdk/permissions.test.ts: add it.
 */
export const SDK_COMMAND_ACTIONS: Readonly<Record<string, readonly string[]>> = {
  // S3: ListObjectsV2 is authorized as s3:ListBucket; HeadObject as s3:GetObject.
  GetObjectCommand: ['s3:GetObject'],
  HeadObjectCommand: ['s3:GetObject'],
  PutObjectCommand: ['s3:PutObject'],
  CopyObjectCommand: ['s3:GetObject', 's3:PutObject'],
  DeleteObjectCommand: ['s3:DeleteObject'],
  DeleteObjectsCommand: ['s3:DeleteObject'],
  ListObjectsV2Command: ['s3:ListBucket'],
  // DynamoDB
  GetItemCommand: ['dynamodb:GetItem'],
  PutItemCommand: ['dynamodb:PutItem'],
  UpdateItemCommand: ['dynamodb:UpdateItem'],
  DeleteItemCommand: ['dynamodb:DeleteItem'],
  QueryCommand: ['dynamodb:Query'],
  ScanCommand: ['dynamodb:Scan'],
  BatchGetItemCommand: ['dynamodb:BatchGetItem'],
  BatchWriteItemCommand: ['dynamodb:BatchWriteItem'],
  // SQS: a batch send is authorized as SendMessage.
  SendMessageCommand: ['sqs:SendMessage'],
  SendMessageBatchCommand: ['sqs:SendMessage'],
  // Kinesis
  PutRecordCommand: ['kinesis:PutRecord'],
  PutRecordsCommand: ['kinesis:PutRecords'],
  ListShardsCommand: ['kinesis:ListShards'],
  DescribeStreamSummaryCommand: ['kinesis:DescribeStreamSummary'],
  GetShardIteratorCommand: ['kinesis:GetShardIterator'],
  GetRecordsCommand: ['kinesis:GetRecords'],
};

/**
 * What Lambda's event source mapping does with the function's role (CDK's KinesisEventSource grants the
 * stream reads, its on-failure destination the queue sends), not the function's code.
 */
export const EVENT_SOURCE_MAPPING_ACTIONS: readonly string[] = [
  'kinesis:DescribeStream',
  'kinesis:DescribeStreamConsumer',
  'kinesis:DescribeStreamSummary',
  'kinesis:GetRecords',
  'kinesis:GetShardIterator',
  'kinesis:ListShards',
  'kinesis:ListStreams',
  'kinesis:SubscribeToShard',
  'sqs:GetQueueAttributes',
  'sqs:GetQueueUrl',
  'sqs:SendMessage',
];

/** Object actions on the lake bucket, each on `<prefix>/*` of the listed prefixes only. */
export type LakeObjectGrants = Readonly<
  Partial<Record<'s3:PutObject' | 's3:GetObject' | 's3:DeleteObject', readonly string[]>>
>;

export interface FunctionGrants {
  /** Actions on the Kinesis stream. */
  readonly stream?: readonly string[];
  /** Actions on the state table. */
  readonly table?: readonly string[];
  /** Actions on the dead-letter queue. */
  readonly queue?: readonly string[];
  readonly lakeObjects?: LakeObjectGrants;
  /** Key prefixes the function may list (s3:ListBucket with an `s3:prefix` condition). */
  readonly lakeListPrefixes?: readonly string[];
}

/** Every prefix the commit protocol writes: final objects, staged bundles, state snapshots, commit records. */
const PROTOCOL_WRITES = [...FINAL_PREFIXES, STAGING_PREFIX, STATE_PREFIX, COMMITS_PREFIX];
/** Staged bundles are read back to publish them; snapshots to restore the analytics state. */
const PROTOCOL_READS = [STAGING_PREFIX, STATE_PREFIX];
/** Snapshots a compaction replaced, and those of attempts that never committed; nothing else is deleted. */
const PROTOCOL_DELETES = [STATE_PREFIX];

/** The grants of each function of the stack, by the name of its bundle (scripts/auditBundles/bundles.ts). */
export const FUNCTION_GRANTS = {
  producer: { stream: ['kinesis:PutRecords'] },
  consumer: {
    table: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
    queue: ['sqs:SendMessage'],
    lakeObjects: {
      's3:PutObject': [...PROTOCOL_WRITES, DLQ_PAYLOADS_PREFIX],
      's3:GetObject': PROTOCOL_READS,
      's3:DeleteObject': PROTOCOL_DELETES,
    },
    lakeListPrefixes: [COMMITS_PREFIX],
  },
  publisher: {
    // Scan: the publisher finds every shard, closed parents included, through the table.
    table: ['dynamodb:Scan', 'dynamodb:GetItem', 'dynamodb:UpdateItem'],
    lakeObjects: {
      's3:PutObject': PROTOCOL_WRITES,
      's3:GetObject': PROTOCOL_READS,
      's3:DeleteObject': PROTOCOL_DELETES,
    },
    // state/: the hourly sweep lists each shard's snapshots to find those no commit names.
    lakeListPrefixes: [COMMITS_PREFIX, STATE_PREFIX],
  },
} as const satisfies Record<string, FunctionGrants>;

export class UnmappedSdkCommandError extends ShardlineError {
  constructor(command: string) {
    super(
      `no IAM action is known for the AWS SDK command ${command}: add it to SDK_COMMAND_ACTIONS in lib/permissions.ts`,
    );
    this.name = 'UnmappedSdkCommandError';
  }
}

/**
 * The IAM actions a set of SDK commands needs, sorted and without repeats.
 *
 * @example
 * ```ts
 * actionsForCommands(['GetObjectCommand', 'SendMessageBatchCommand']); // ['s3:GetObject', 'sqs:SendMessage']
 * ```
 */
export function actionsForCommands(commands: Iterable<string>): string[] {
  const actions = new Set<string>();
  for (const command of commands) {
    const mapped = SDK_COMMAND_ACTIONS[command];
    if (!mapped) throw new UnmappedSdkCommandError(command);
    for (const action of mapped) actions.add(action);
  }
  return [...actions].sort();
}
