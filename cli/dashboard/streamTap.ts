import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { listShards, MAX_GET_RECORDS_LIMIT } from '../../lambdas/shared/kinesisShards';
import { ShardPoller } from '../../local/esm/shardPoller';
import { countArrivals, dropArrivalsBefore } from './rateSeries';

/**
 * A read-only reader of the stream that counts the records put on it, per arrival second. It reads
 * with its own shard iterators, so it takes nothing from the event source mapping; it starts at a
 * timestamp so that the chart covers the window from the first refresh.
 */
export class StreamTap {
  readonly arrivalsBySecond = new Map<number, number>();
  private readonly pollers = new Map<string, ShardPoller>();
  private readonly endedShards = new Set<string>();
  private pollsSinceDiscovery = Number.POSITIVE_INFINITY;

  /** The first second whose arrivals are all counted. */
  readonly countedFromSecond: number;

  constructor(
    private readonly kinesis: KinesisClient,
    private readonly streamName: string,
    private readonly fromMs: number,
    /** ListShards again every this many polls, to pick up a reshard. */
    private readonly rediscoverEvery = 10,
    /** GetRecords calls per shard per poll, at most: a long backlog is read over several polls. */
    private readonly maxReadsPerShard = 10,
  ) {
    this.countedFromSecond = Math.ceil(fromMs / 1000);
  }

  /**
   * Reads what arrived since the last poll on every shard.
   *
   * @example
   * ```ts
   * const tap = new StreamTap(kinesis, 'shardline-dev-events', Date.now() - 120_000);
   * await tap.poll();
   * tap.arrivalsBySecond; // Map { 1790000000 => 412, … }
   * ```
   */
  async poll(): Promise<void> {
    if (this.pollsSinceDiscovery >= this.rediscoverEvery) await this.discoverShards();
    this.pollsSinceDiscovery++;
    await Promise.all([...this.pollers].map(([shardId, poller]) => this.drain(shardId, poller)));
  }

  /** Forgets the counts of seconds before `firstSecondKept`. */
  forgetBefore(firstSecondKept: number): void {
    dropArrivalsBefore(this.arrivalsBySecond, firstSecondKept);
  }

  private async discoverShards(): Promise<void> {
    this.pollsSinceDiscovery = 0;
    for (const { shardId } of await listShards(this.kinesis, this.streamName)) {
      if (this.pollers.has(shardId) || this.endedShards.has(shardId)) continue;
      this.pollers.set(
        shardId,
        new ShardPoller(this.kinesis, this.streamName, shardId, {
          type: 'AT_TIMESTAMP',
          timestampMs: this.fromMs,
        }),
      );
    }
  }

  private async drain(shardId: string, poller: ShardPoller): Promise<void> {
    for (let read = 0; read < this.maxReadsPerShard; read++) {
      const { records, moreAvailable, shardEnded } = await poller.poll(MAX_GET_RECORDS_LIMIT);
      countArrivals(
        this.arrivalsBySecond,
        records.map((r) => r.approximateArrivalTimestampMs),
      );
      if (shardEnded) {
        this.pollers.delete(shardId);
        this.endedShards.add(shardId);
        return;
      }
      if (!moreAvailable) return;
    }
  }
}
