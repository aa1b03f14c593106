import {
  GetRecordsCommand,
  GetShardIteratorCommand,
  type KinesisClient,
  ListShardsCommand,
  type Shard,
} from '@aws-sdk/client-kinesis';
import type { KinesisStreamRecord } from 'aws-lambda';
import { decodeRecord } from '../../lambdas/consumer/decode';
import type { StreamInventory } from './reconcile';

async function listShards(kinesis: KinesisClient, streamName: string): Promise<Shard[]> {
  const shards: Shard[] = [];
  let token: string | undefined;
  do {
    const page = await kinesis.send(
      token ? new ListShardsCommand({ NextToken: token }) : new ListShardsCommand({ StreamName: streamName }),
    );
    shards.push(...(page.Shards ?? []));
    token = page.NextToken;
  } while (token);
  return shards;
}

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
  for (const shard of await listShards(kinesis, streamName)) {
    const shardId = shard.ShardId ?? '';
    const { ShardIterator } = await kinesis.send(
      new GetShardIteratorCommand({
        StreamName: streamName,
        ShardId: shardId,
        ShardIteratorType: 'TRIM_HORIZON',
      }),
    );
    let iterator = ShardIterator;
    while (iterator) {
      const page = await kinesis.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 10_000 }));
      for (const record of page.Records ?? []) {
        const sequenceNumber = record.SequenceNumber ?? '';
        if (!inventory.oldestRetained.has(shardId))
          inventory.oldestRetained.set(shardId, BigInt(sequenceNumber));
        const asLambdaRecord = {
          kinesis: { data: Buffer.from(record.Data ?? new Uint8Array()).toString('base64') },
        } as KinesisStreamRecord;
        const id = `${shardId}:${sequenceNumber}`;
        (decodeRecord(asLambdaRecord).ok ? inventory.valid : inventory.invalid).add(id);
      }
      // At the tip an open shard keeps returning an iterator; stop once nothing is behind.
      if ((page.Records?.length ?? 0) === 0 && (page.MillisBehindLatest ?? 0) === 0) break;
      iterator = page.NextShardIterator;
    }
    if (!inventory.oldestRetained.has(shardId))
      inventory.oldestRetained.set(shardId, BigInt(shard.SequenceNumberRange?.StartingSequenceNumber ?? '0'));
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
  const { ShardIterator } = await kinesis.send(
    new GetShardIteratorCommand({
      StreamName: streamName,
      ShardId: shardId,
      ...(afterSequenceNumber
        ? { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', StartingSequenceNumber: afterSequenceNumber }
        : { ShardIteratorType: 'TRIM_HORIZON' }),
    }),
  );
  let count = 0;
  let iterator = ShardIterator;
  while (iterator && count < maxRecords) {
    const page = await kinesis.send(
      new GetRecordsCommand({ ShardIterator: iterator, Limit: Math.min(10_000, maxRecords - count) }),
    );
    count += page.Records?.length ?? 0;
    if ((page.Records?.length ?? 0) === 0 && (page.MillisBehindLatest ?? 0) === 0) break;
    iterator = page.NextShardIterator;
  }
  return { count, complete: count < maxRecords };
}
