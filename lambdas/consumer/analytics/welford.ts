/**
 * Welford's online algorithm: a running mean and variance in one pass, numerically stable, in constant
 * space. Used for each user's amounts.
 */

export interface RunningStats {
  n: number;
  mean: number;
  /** Sum of squared differences from the current mean. */
  m2: number;
}

/**
 * Statistics of no values.
 *
 * @example
 * ```ts
 * const stats = emptyRunningStats();
 * ```
 */
export function emptyRunningStats(): RunningStats {
  return { n: 0, mean: 0, m2: 0 };
}

/**
 * Adds one value (returns new statistics; the input is not changed).
 *
 * @example
 * ```ts
 * [2, 4, 4, 4, 5, 5, 7, 9].reduce(addValue, emptyRunningStats()).mean; // 5
 * ```
 */
export function addValue(stats: RunningStats, value: number): RunningStats {
  const n = stats.n + 1;
  const delta = value - stats.mean;
  const mean = stats.mean + delta / n;
  return { n, mean, m2: stats.m2 + delta * (value - mean) };
}

/**
 * The sample standard deviation (n − 1 in the denominator); 0 below two values.
 *
 * @example
 * ```ts
 * standardDeviation([2, 4, 4, 4, 5, 5, 7, 9].reduce(addValue, emptyRunningStats())); // ≈ 2.138
 * ```
 */
export function standardDeviation(stats: RunningStats): number {
  return stats.n < 2 ? 0 : Math.sqrt(stats.m2 / (stats.n - 1));
}

/**
 * How many standard deviations `value` lies from the mean; null when the deviation is 0 (no spread yet).
 *
 * @example
 * ```ts
 * zScore({ n: 10, mean: 100, m2: 900 }, 130); // 3
 * ```
 */
export function zScore(stats: RunningStats, value: number): number | null {
  const deviation = standardDeviation(stats);
  return deviation > 0 ? (value - stats.mean) / deviation : null;
}
