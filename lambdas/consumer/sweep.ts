import {
  type AttributeValue,
  type DynamoDBClient,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import type { ShardKey } from './checkpoint';

/**
 * The late-PUT sweep (docs/EXACTLY_ONCE.md). Deleting a rolled-back attempt's objects is not the end of
 * them: a PUT of that attempt may still be in flight (its process killed at a timeout, or its client gave
 * up on a request that the server still completes) and land after the delete, leaving an object that no
 * checkpoint covers. So before deleting, the rollback records the keys in a sweep item; once no request of
 * that attempt can still be running, a later invocation of the shard deletes the keys again and drops the
 * item. The keys carry the attempt's fencing token, so no committed object ever shares one: deleting them
 * again is always safe.
 */

/**
 * How long after a rollback its keys are deleted again: Lambda's longest timeout (15 minutes), plus a
 * minute for a request already on the wire.
 */
export const SWEEP_DELAY_MS = 16 * 60 * 1000;
/** A sweep item that nobody sweeps (the shard went quiet, or was closed) expires after a week. */
const SWEEP_ITEM_TTL_MS = 7 * 24 * 60 * 60 * 1000;
const SWEEP_PREFIX = 'sweep#';

const pk = (shard: ShardKey): AttributeValue => ({ S: `${shard.streamName}#${shard.shardId}` });

/**
 * Records that `keys` of the attempt `intentId` must be deleted again after SWEEP_DELAY_MS. Idempotent:
 * a second rollback of the same intent writes the same item again (with a later due time).
 *
 * @example
 * ```ts
 * await scheduleSweep(dynamo, shard, intent.id, intent.objectKeys, Date.now());
 * ```
 */
export async function scheduleSweep(
  dynamo: DynamoDBClient,
  shard: ShardKey,
  intentId: string,
  keys: readonly string[],
  nowMs: number,
): Promise<void> {
  if (keys.length === 0) return;
  await dynamo.send(
    new PutItemCommand({
      TableName: shard.tableName,
      Item: {
        pk: pk(shard),
        sk: { S: `${SWEEP_PREFIX}${intentId}` },
        keys: { L: keys.map((key) => ({ S: key })) },
        dueAt: { N: String(nowMs + SWEEP_DELAY_MS) },
        expires_at: { N: String(Math.ceil((nowMs + SWEEP_ITEM_TTL_MS) / 1000)) },
      },
    }),
  );
}

export interface DueSweep {
  intentId: string;
  keys: string[];
}

/** The shard's sweep items whose time has come. */
export async function dueSweeps(dynamo: DynamoDBClient, shard: ShardKey, nowMs: number): Promise<DueSweep[]> {
  const due: DueSweep[] = [];
  let start: Record<string, AttributeValue> | undefined;
  do {
    const page = await dynamo.send(
      new QueryCommand({
        TableName: shard.tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        FilterExpression: 'dueAt <= :now',
        ExpressionAttributeValues: {
          ':pk': pk(shard),
          ':prefix': { S: SWEEP_PREFIX },
          ':now': { N: String(nowMs) },
        },
        ExclusiveStartKey: start,
      }),
    );
    for (const item of page.Items ?? []) {
      due.push({
        intentId: (item.sk?.S ?? '').slice(SWEEP_PREFIX.length),
        keys: (item.keys?.L ?? []).map((key) => key.S ?? '').filter(Boolean),
      });
    }
    start = page.LastEvaluatedKey;
  } while (start);
  return due;
}

/**
 * Marks a sweep item done once its keys are deleted again: without `dueAt` no sweep picks it up, and the
 * table's TTL removes it. (An UpdateItem rather than a DeleteItem keeps the consumer's role without
 * DeleteItem.)
 */
export async function finishSweep(
  dynamo: DynamoDBClient,
  shard: ShardKey,
  intentId: string,
  nowMs: number,
): Promise<void> {
  await dynamo.send(
    new UpdateItemCommand({
      TableName: shard.tableName,
      Key: { pk: pk(shard), sk: { S: `${SWEEP_PREFIX}${intentId}` } },
      UpdateExpression: 'SET expires_at = :now, sweptAt = :nowMs REMOVE dueAt',
      ExpressionAttributeValues: {
        ':now': { N: String(Math.floor(nowMs / 1000)) },
        ':nowMs': { N: String(nowMs) },
      },
    }),
  );
}
