import {
  type _Record,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type KinesisClient,
  ListShardsCommand,
  type ListShardsCommandInput,
} from '@aws-sdk/client-kinesis';

/** A shard as ListShards describes it. */
export interface ListedShard {
  shardId: string;
  parentShardId?: string;
  adjacentParentShardId?: string;
  /** The first sequence number the shard was given (its records may have aged out since). */
  startingSequenceNumber?: string;
  /** Closed by a split or merge: it has an ending sequence number and takes no new records. */
  closed: boolean;
}

/**
 * Lists every shard of the stream (open and closed), sorted by shard id, following NextToken.
 *
 * The SDK has no `paginateListShards`: ListShards refuses a StreamName next to a NextToken, which its
 * generic paginator would send, so this is the one hand-written loop over its pages.
 *
 * @example
 * ```ts
 * const shards = await listShards(kinesis, 'shardline-dev-events');
 * ```
 */
export async function listShards(
  kinesis: KinesisClient,
  streamName: string,
  signal?: AbortSignal,
): Promise<ListedShard[]> {
  const shards: ListedShard[] = [];
  let input: ListShardsCommandInput = { StreamName: streamName };
  for (;;) {
    const page = await kinesis.send(new ListShardsCommand(input), { abortSignal: signal });
    for (const shard of page.Shards ?? []) {
      if (!shard.ShardId) continue;
      const range = shard.SequenceNumberRange;
      shards.push({
        shardId: shard.ShardId,
        ...(shard.ParentShardId ? { parentShardId: shard.ParentShardId } : {}),
        ...(shard.AdjacentParentShardId ? { adjacentParentShardId: shard.AdjacentParentShardId } : {}),
        ...(range?.StartingSequenceNumber ? { startingSequenceNumber: range.StartingSequenceNumber } : {}),
        closed: range?.EndingSequenceNumber !== undefined,
      });
    }
    if (!page.NextToken) break;
    input = { NextToken: page.NextToken };
  }
  return shards.sort((a, b) => a.shardId.localeCompare(b.shardId));
}

/** Where {@link readShardToTip} starts reading. */
export type ShardReadStart =
  | { ShardIteratorType: 'TRIM_HORIZON' }
  | { ShardIteratorType: 'AT_SEQUENCE_NUMBER' | 'AFTER_SEQUENCE_NUMBER'; StartingSequenceNumber: string };

/**
 * The pages of records a shard holds from `start` to its tip: the end of a closed shard, or the first
 * empty page with nothing behind on an open one (which otherwise keeps returning an iterator). `limit`
 * is asked before each page for its GetRecords Limit; 0 stops.
 *
 * @example
 * ```ts
 * for await (const records of readShardToTip(kinesis, 'shardline-dev-events', 'shardId-000000000000',
 *   { ShardIteratorType: 'TRIM_HORIZON' })) count += records.length;
 * ```
 */
export async function* readShardToTip(
  kinesis: KinesisClient,
  streamName: string,
  shardId: string,
  start: ShardReadStart,
  limit: () => number = () => 10_000,
): AsyncGenerator<_Record[]> {
  const { ShardIterator } = await kinesis.send(
    new GetShardIteratorCommand({ StreamName: streamName, ShardId: shardId, ...start }),
  );
  let iterator = ShardIterator;
  for (let Limit = limit(); iterator && Limit > 0; Limit = limit()) {
    const page = await kinesis.send(new GetRecordsCommand({ ShardIterator: iterator, Limit }));
    const records = page.Records ?? [];
    yield records;
    if (records.length === 0 && (page.MillisBehindLatest ?? 0) === 0) return;
    iterator = page.NextShardIterator;
  }
}
