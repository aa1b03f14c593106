import { describe, expect, it } from 'vitest';
import {
  addUser,
  type DistinctUsers,
  emptyDistinctUsers,
  estimateDistinct,
  hash64,
} from '../../../lambdas/consumer/analytics';

function countUsers(n: number, exactLimit: number, repeat = 1): DistinctUsers {
  let users = emptyDistinctUsers();
  for (let r = 0; r < repeat; r++)
    for (let i = 0; i < n; i++) users = addUser(users, hash64(`acme#user-${i}`), exactLimit);
  return users;
}

describe('distinct users', () => {
  it('hashes a user to the same 16 hex digits every time', () => {
    expect(hash64('acme#u-1')).toMatch(/^[0-9a-f]{16}$/);
    expect(hash64('acme#u-1')).toBe(hash64('acme#u-1'));
    expect(hash64('acme#u-1')).not.toBe(hash64('acme#u-2'));
  });

  it('gives 100,000 different users 100,000 different hashes', () => {
    const hashes = new Set(Array.from({ length: 100_000 }, (_, i) => hash64(`tenant-${i % 7}#user-${i}`)));
    expect(hashes.size).toBe(100_000);
  });

  it('counts exactly up to the exact limit, however often a user repeats', () => {
    expect(estimateDistinct(countUsers(256, 256, 3))).toEqual({ count: 256, exact: true });
  });

  it('switches to the sketch past the exact limit and stays within 5% of the truth', () => {
    for (const n of [257, 1_000, 10_000, 100_000]) {
      const estimate = estimateDistinct(countUsers(n, 256));
      expect(estimate.exact).toBe(false);
      expect(Math.abs(estimate.count - n) / n).toBeLessThan(0.05);
    }
  });

  it('does not count a repeated user twice in the sketch either', () => {
    expect(estimateDistinct(countUsers(5_000, 16, 3)).count).toBe(
      estimateDistinct(countUsers(5_000, 16)).count,
    );
  });
});
