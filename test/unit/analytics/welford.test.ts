import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { addValue, emptyRunningStats, standardDeviation, zScore } from '../../../lambdas/consumer/analytics';

function twoPass(values: number[]) {
  const mean = values.reduce((s, v) => s + v, 0) / values.length;
  const variance = values.reduce((s, v) => s + (v - mean) ** 2, 0) / (values.length - 1);
  return { mean, sd: Math.sqrt(variance) };
}

describe("Welford's running statistics", () => {
  it('computes the textbook example: mean 5, sample standard deviation 2.138', () => {
    const stats = [2, 4, 4, 4, 5, 5, 7, 9].reduce(addValue, emptyRunningStats());
    expect(stats.mean).toBe(5);
    expect(standardDeviation(stats)).toBeCloseTo(2.13809, 5);
  });

  it('agrees with the two-pass formulas on any list of amounts', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 1_000_000_00 }), { minLength: 2, maxLength: 200 }),
        (cents) => {
          const values = cents.map((c) => c / 100);
          const stats = values.reduce(addValue, emptyRunningStats());
          const expected = twoPass(values);
          expect(stats.mean).toBeCloseTo(expected.mean, 6);
          expect(standardDeviation(stats)).toBeCloseTo(expected.sd, 4);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('stays accurate around a large offset, where the naive sum of squares cancels', () => {
    const values = [1e9 + 4, 1e9 + 7, 1e9 + 13, 1e9 + 16];
    expect(standardDeviation(values.reduce(addValue, emptyRunningStats()))).toBeCloseTo(5.4772, 4);
  });

  it('has no standard deviation below two values, and no z-score without spread', () => {
    expect(standardDeviation(addValue(emptyRunningStats(), 3))).toBe(0);
    expect(zScore([5, 5, 5].reduce(addValue, emptyRunningStats()), 6)).toBeNull();
  });

  it('measures a z-score in sample standard deviations', () => {
    expect(zScore({ n: 10, mean: 100, m2: 900 }, 130)).toBeCloseTo(3, 10);
  });
});
