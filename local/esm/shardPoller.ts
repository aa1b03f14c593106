import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { ShardlineError } from '../../lambdas/shared/errors';
import {
  MAX_GET_RECORDS_LIMIT,
  type RecordsPage,
  readRecordsPage,
  type ShardReadStart,
  shardIterator,
} from '../../lambdas/shared/kinesisShards';
import type { StreamRecord } from './eventShape';

/** Where a shard's reading starts. */
export type ShardStartPosition =
  | { type: 'TRIM_HORIZON' }
  | { type: 'LATEST' }
  | { type: 'AT_TIMESTAMP'; timestampMs: number }
  | { type: 'AFTER_SEQUENCE_NUMBER'; sequenceNumber: string };

export interface PollResult {
  records: StreamRecord[];
  millisBehindLatest: number;
  /** GetRecords returned as many records as asked for: poll again at once. */
  moreAvailable: boolean;
  /** The shard is closed and every record was read (NextShardIterator is null). */
  shardEnded: boolean;
}

// The mapping's modules read the GetRecords cap from here.
export { MAX_GET_RECORDS_LIMIT };

export class InvalidCheckpointError extends ShardlineError {
  constructor(shardId: string, sequenceNumber: string, cause: string) {
    super(
      `the checkpoint ${sequenceNumber} of ${shardId} is not in the stream (${cause}); ` +
        'was the stream recreated while the mapping state was kept?',
    );
    this.name = 'InvalidCheckpointError';
  }
}

/**
 * The poller of one shard: owns the shard iterator and reads records with GetRecords. After an
 * ExpiredIteratorException (iterators live 5 minutes) it asks for a new one after the last record read.
 *
 * AT_TIMESTAMP is applied here, not by Kinesis: kinesalite 3.3.3 never answers GetShardIterator
 * AT_TIMESTAMP when no record is at or after the timestamp, so we read from TRIM_HORIZON and skip the
 * records that arrived before it, which is the same set of records.
 */
export class ShardPoller {
  private iterator: string | undefined;
  private lastReadSequenceNumber: string | undefined;
  private skipBeforeMs: number | undefined;

  constructor(
    private readonly kinesis: KinesisClient,
    private readonly streamName: string,
    readonly shardId: string,
    private readonly start: ShardStartPosition,
  ) {
    if (start.type === 'AT_TIMESTAMP') this.skipBeforeMs = start.timestampMs;
  }

  /**
   * Fixes the start position by getting the first shard iterator (for LATEST, records written after
   * this resolves are seen).
   *
   * @example
   * ```ts
   * const poller = new ShardPoller(kinesis, 'events', 'shardId-000000000000', { type: 'LATEST' });
   * await poller.initialize();
   * ```
   */
  async initialize(signal?: AbortSignal): Promise<void> {
    this.iterator ??= await this.newIterator(signal);
  }

  /**
   * Reads up to `limit` records.
   *
   * @example
   * ```ts
   * const { records, moreAvailable, shardEnded } = await poller.poll(1_000);
   * ```
   */
  async poll(limit: number, signal?: AbortSignal): Promise<PollResult> {
    this.iterator ??= await this.newIterator(signal);
    let page: RecordsPage;
    try {
      page = await readRecordsPage(this.kinesis, this.iterator, limit, signal);
    } catch (error) {
      if ((error as Error).name === 'ExpiredIteratorException') {
        this.iterator = undefined;
        return { records: [], millisBehindLatest: 0, moreAvailable: true, shardEnded: false };
      }
      throw error;
    }
    const raw = page.records;
    let records: StreamRecord[] = raw.map((record) => ({
      sequenceNumber: record.SequenceNumber as string,
      partitionKey: record.PartitionKey as string,
      data: record.Data ?? new Uint8Array(),
      approximateArrivalTimestampMs: record.ApproximateArrivalTimestamp?.getTime() ?? Date.now(),
    }));
    const last = records[records.length - 1];
    if (last) this.lastReadSequenceNumber = last.sequenceNumber;
    if (this.skipBeforeMs !== undefined && records.length > 0) {
      const threshold = this.skipBeforeMs;
      const firstKept = records.findIndex((record) => record.approximateArrivalTimestampMs >= threshold);
      records = firstKept === -1 ? [] : records.slice(firstKept);
      if (firstKept !== -1) this.skipBeforeMs = undefined;
    }
    this.iterator = page.nextIterator;
    const shardEnded = this.iterator === undefined;
    return {
      records,
      millisBehindLatest: page.millisBehindLatest,
      moreAvailable: !shardEnded && (raw.length >= limit || page.millisBehindLatest > 0),
      shardEnded,
    };
  }

  private async newIterator(signal?: AbortSignal): Promise<string> {
    const position = this.iteratorPosition();
    try {
      const iterator = await shardIterator(this.kinesis, this.streamName, this.shardId, position, signal);
      if (!iterator) throw new Error(`GetShardIterator returned no iterator for ${this.shardId}`);
      return iterator;
    } catch (error) {
      if (
        (error as Error).name === 'InvalidArgumentException' &&
        position.ShardIteratorType === 'AFTER_SEQUENCE_NUMBER' &&
        this.lastReadSequenceNumber === undefined
      ) {
        throw new InvalidCheckpointError(
          this.shardId,
          position.StartingSequenceNumber,
          (error as Error).message,
        );
      }
      throw error;
    }
  }

  private iteratorPosition(): ShardReadStart {
    if (this.lastReadSequenceNumber !== undefined) {
      return {
        ShardIteratorType: 'AFTER_SEQUENCE_NUMBER',
        StartingSequenceNumber: this.lastReadSequenceNumber,
      };
    }
    switch (this.start.type) {
      case 'AFTER_SEQUENCE_NUMBER':
        return {
          ShardIteratorType: 'AFTER_SEQUENCE_NUMBER',
          StartingSequenceNumber: this.start.sequenceNumber,
        };
      case 'AT_TIMESTAMP':
        return { ShardIteratorType: 'TRIM_HORIZON' };
      default:
        return { ShardIteratorType: this.start.type };
    }
  }
}
