import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { readCheckpoint } from '../../lambdas/consumer/checkpoint';
import { listShards } from '../../lambdas/shared/kinesisShards';

/**
 * Commits whose objects are not all published yet. A commit lands before its final objects are written,
 * so a reader that looks right after a commit may find them on their way; one an invocation could not
 * finish waits for the next invocation or the scheduled publisher (every minute).
 */
export interface PendingPublications {
  /** Shards whose checkpoint still owes a publication. */
  shards: string[];
}

/**
 * Waits up to `timeoutMs` for every shard's publication to be finished, and says which are still owed.
 *
 * @example
 * ```ts
 * const { shards } = await waitForPublications(kinesis, dynamo, { streamName, tableName });
 * ```
 */
export async function waitForPublications(
  kinesis: KinesisClient,
  dynamo: DynamoDBClient,
  resources: { streamName: string; tableName: string },
  timeoutMs = 5_000,
): Promise<PendingPublications> {
  const shardIds = (await listShards(kinesis, resources.streamName)).map((shard) => shard.shardId);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const owed: string[] = [];
    for (const shardId of shardIds) {
      const checkpoint = await readCheckpoint(dynamo, { ...resources, shardId });
      if (checkpoint.pending) owed.push(shardId);
    }
    if (owed.length === 0 || Date.now() >= deadline) return { shards: owed };
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
