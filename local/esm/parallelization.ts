import { createHash } from 'node:crypto';

/**
 * With ParallelizationFactor N, Lambda processes up to N batches of one shard at once while keeping
 * records of a partition key in order. We give each partition key a lane by hashing it (MD5, as Kinesis
 * maps keys to shards); each lane runs one batch at a time, in sequence-number order.
 *
 * @example
 * ```ts
 * laneForPartitionKey('customer-42', 4); // the same lane, 0..3, every time
 * laneForPartitionKey('customer-42', 1); // 0
 * ```
 */
export function laneForPartitionKey(partitionKey: string, parallelizationFactor: number): number {
  if (parallelizationFactor <= 1) return 0;
  const digest = createHash('md5').update(partitionKey, 'utf8').digest();
  return digest.readUInt32BE(0) % parallelizationFactor;
}
