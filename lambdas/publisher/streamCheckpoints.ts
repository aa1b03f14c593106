import { type DynamoDBClient, paginateScan } from '@aws-sdk/client-dynamodb';
import { CHECKPOINT_SK, type Checkpoint, parseCheckpoint, type ShardKey } from '../consumer/checkpoint';

/**
 * Every checkpoint of a stream's shards in the state table, closed parents included, by a strongly
 * consistent Scan; `withPending` keeps only those that owe a publication.
 *
 * @example
 * ```ts
 * for await (const { shardId, checkpoint } of streamCheckpoints(dynamo, shard, { withPending: true })) …
 * ```
 */
export async function* streamCheckpoints(
  dynamo: DynamoDBClient,
  stream: Pick<ShardKey, 'tableName' | 'streamName'>,
  { withPending = false }: { withPending?: boolean } = {},
): AsyncGenerator<{ shardId: string; checkpoint: Checkpoint }> {
  const prefix = `${stream.streamName}#`;
  const pages = paginateScan(
    { client: dynamo },
    {
      TableName: stream.tableName,
      FilterExpression: `sk = :sk AND begins_with(pk, :prefix)${withPending ? ' AND attribute_exists(pending)' : ''}`,
      ExpressionAttributeValues: { ':sk': { S: CHECKPOINT_SK }, ':prefix': { S: prefix } },
      ConsistentRead: true,
    },
  );
  for await (const page of pages)
    for (const item of page.Items ?? []) {
      const shardId = (item.pk?.S ?? '').slice(prefix.length);
      yield { shardId, checkpoint: parseCheckpoint(shardId, item) };
    }
}
