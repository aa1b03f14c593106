import { describe, expect, test } from 'vitest';
import { laneForPartitionKey } from '../../../local/esm/parallelization';

// Lambda developer guide: with ParallelizationFactor, "in-order processing is still guaranteed for each
// partition key" — so a partition key must always map to the same lane.
describe('ParallelizationFactor lanes', () => {
  test('a partition key always maps to the same lane', () => {
    for (const key of ['a', 'customer-42', 'ünïcode', '']) {
      expect(laneForPartitionKey(key, 7)).toBe(laneForPartitionKey(key, 7));
    }
  });

  test('lanes stay within the factor and spread keys over all of them', () => {
    const lanes = new Set(Array.from({ length: 500 }, (_, index) => laneForPartitionKey(`key-${index}`, 10)));
    expect([...lanes].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  test('with the default factor of 1 there is one lane', () => {
    expect(laneForPartitionKey('anything', 1)).toBe(0);
  });
});
