import {
  type _Record,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type KinesisClient,
  ListShardsCommand,
  type ListShardsCommandInput,
} from '@aws-sdk/client-kinesis';
import { isAfter } from './sequence';

/**
 * The one module that reads Kinesis: ListShards, shard iterators and GetRecords, for the local event
 * source mapping, `verify`, `status`, `dlq redrive`, the dashboard and the bench. It is bundled into the
 * Lambda functions too, so it depends on the SDK's Kinesis client and nothing of the CLI.
 */

/** GetRecords returns at most 10,000 records per call. */
export const MAX_GET_RECORDS_LIMIT = 10_000;

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

/** Where a shard iterator starts: GetShardIterator's position fields. */
export type ShardReadStart =
  | { ShardIteratorType: 'TRIM_HORIZON' | 'LATEST' }
  | { ShardIteratorType: 'AT_SEQUENCE_NUMBER' | 'AFTER_SEQUENCE_NUMBER'; StartingSequenceNumber: string };

/**
 * A shard iterator at `start` (undefined if Kinesis returned none). Iterators expire after five minutes.
 *
 * @example
 * ```ts
 * const iterator = await shardIterator(kinesis, 'shardline-dev-events', 'shardId-000000000000',
 *   { ShardIteratorType: 'LATEST' });
 * ```
 */
export async function shardIterator(
  kinesis: KinesisClient,
  streamName: string,
  shardId: string,
  start: ShardReadStart,
  signal?: AbortSignal,
): Promise<string | undefined> {
  const { ShardIterator } = await kinesis.send(
    new GetShardIteratorCommand({ StreamName: streamName, ShardId: shardId, ...start }),
    { abortSignal: signal },
  );
  return ShardIterator;
}

/** One GetRecords answer. */
export interface RecordsPage {
  records: _Record[];
  /** Undefined once a closed shard is read to its end. */
  nextIterator: string | undefined;
  millisBehindLatest: number;
}

/**
 * Reads one page of records at a shard iterator: at most `limit`, capped at {@link MAX_GET_RECORDS_LIMIT}.
 *
 * @example
 * ```ts
 * const { records, nextIterator } = await readRecordsPage(kinesis, iterator, 1_000);
 * ```
 */
export async function readRecordsPage(
  kinesis: KinesisClient,
  iterator: string,
  limit: number,
  signal?: AbortSignal,
): Promise<RecordsPage> {
  const page = await kinesis.send(
    new GetRecordsCommand({ ShardIterator: iterator, Limit: Math.min(limit, MAX_GET_RECORDS_LIMIT) }),
    { abortSignal: signal },
  );
  return {
    records: page.Records ?? [],
    nextIterator: page.NextShardIterator ?? undefined,
    millisBehindLatest: page.MillisBehindLatest ?? 0,
  };
}

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
  limit: () => number = () => MAX_GET_RECORDS_LIMIT,
): AsyncGenerator<_Record[]> {
  let iterator = await shardIterator(kinesis, streamName, shardId, start);
  for (let pageLimit = limit(); iterator && pageLimit > 0; pageLimit = limit()) {
    const { records, nextIterator, millisBehindLatest } = await readRecordsPage(kinesis, iterator, pageLimit);
    yield records;
    if (records.length === 0 && millisBehindLatest === 0) return;
    iterator = nextIterator;
  }
}

/**
 * The records of a shard from sequence number `first` to `last`, both included, as far as the shard
 * still holds them (an on-failure batch read back for a redrive).
 *
 * @example
 * ```ts
 * const records = await readSequenceRange(kinesis, 'shardline-dev-events', 'shardId-000000000000',
 *   { first: batch.startSequenceNumber, last: batch.endSequenceNumber });
 * ```
 */
export async function readSequenceRange(
  kinesis: KinesisClient,
  streamName: string,
  shardId: string,
  range: { first: string; last: string },
): Promise<_Record[]> {
  const inRange: _Record[] = [];
  const start: ShardReadStart = {
    ShardIteratorType: 'AT_SEQUENCE_NUMBER',
    StartingSequenceNumber: range.first,
  };
  for await (const records of readShardToTip(kinesis, streamName, shardId, start)) {
    for (const record of records) {
      if (isAfter(record.SequenceNumber ?? '0', range.last)) return inRange;
      inRange.push(record);
    }
  }
  return inRange;
}
