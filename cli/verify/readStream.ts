import type { KinesisClient } from '@aws-sdk/client-kinesis';
import type { KinesisStreamRecord } from 'aws-lambda';
import { decodeRecord } from '../../lambdas/consumer/decode';
import { listShards, readShardToTip, type ShardReadStart } from '../../lambdas/shared/kinesisShards';
import type { StreamInventory } from './reconcile';

/**
 * Reads every record the stream still retains, from TRIM_HORIZON to the tip of each shard, and sorts
 * them into valid and invalid with the consumer's own decoder, so both sides agree on what "valid" means.
 *
 * @example
 * ```ts
 * const inventory = await readStreamInventory(kinesis, 'shardline-dev-events');
 * ```
 */
export async function readStreamInventory(
  kinesis: KinesisClient,
  streamName: string,
): Promise<StreamInventory> {
  const inventory: StreamInventory = { valid: new Set(), invalid: new Set(), oldestRetained: new Map() };
  for (const { shardId, startingSequenceNumber } of await listShards(kinesis, streamName)) {
    for await (const records of readShardToTip(kinesis, streamName, shardId, {
      ShardIteratorType: 'TRIM_HORIZON',
    })) {
      for (const record of records) {
        const sequenceNumber = record.SequenceNumber ?? '';
        if (!inventory.oldestRetained.has(shardId)) inventory.oldestRetained.set(shardId, sequenceNumber);
        const asLambdaRecord = {
          kinesis: {
            data: Buffer.from(record.Data ?? new Uint8Array()).toString('base64'),
            // The decoder checks the partition key too (it becomes the partition_key column).
            partitionKey: record.PartitionKey ?? '',
          },
        } as KinesisStreamRecord;
        const id = `${shardId}:${sequenceNumber}`;
        (decodeRecord(asLambdaRecord).ok ? inventory.valid : inventory.invalid).add(id);
      }
    }
    if (!inventory.oldestRetained.has(shardId))
      inventory.oldestRetained.set(shardId, startingSequenceNumber ?? '0');
  }
  return inventory;
}

export interface RecordsBehind {
  count: number;
  /** False when the count stopped at `maxRecords` (there may be more). */
  complete: boolean;
}

/**
 * Counts the records a shard holds after `afterSequenceNumber` (all it retains when null): how far the
 * consumer's checkpoint is behind the tip, in records. Reads at most `maxRecords`, since on AWS every
 * GetRecords call shares the shard's 5 reads per second with the consumer.
 *
 * @example
 * ```ts
 * const { count } = await countRecordsBehind(kinesis, 'shardline-dev-events', 'shardId-000000000000', lastSeq);
 * ```
 */
export async function countRecordsBehind(
  kinesis: KinesisClient,
  streamName: string,
  shardId: string,
  afterSequenceNumber: string | null,
  maxRecords = 100_000,
): Promise<RecordsBehind> {
  const start: ShardReadStart = afterSequenceNumber
    ? { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', StartingSequenceNumber: afterSequenceNumber }
    : { ShardIteratorType: 'TRIM_HORIZON' };
  let count = 0;
  const remaining = () => Math.min(10_000, maxRecords - count);
  for await (const records of readShardToTip(kinesis, streamName, shardId, start, remaining))
    count += records.length;
  return { count, complete: count < maxRecords };
}
