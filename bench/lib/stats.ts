/** Summary statistics for benchmark samples: medians with their spread, and latency percentiles. */

export interface Spread {
  median: number;
  min: number;
  max: number;
  /** How many samples the summary is made of. */
  runs: number;
}

/**
 * The p-th percentile (0-100) of already sorted values, by linear interpolation between the two closest
 * ranks (the same definition as NumPy's default and DuckDB's `quantile_cont`).
 *
 * @example
 * ```ts
 * percentile([1, 2, 3, 4], 50); // 2.5
 * percentile([10, 20, 30], 99); // 29.8
 * ```
 */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  if (p <= 0) return sorted[0] as number;
  if (p >= 100) return sorted[sorted.length - 1] as number;
  const rank = (p / 100) * (sorted.length - 1);
  const lower = Math.floor(rank);
  const upper = Math.ceil(rank);
  const low = sorted[lower] as number;
  const high = sorted[upper] as number;
  return low + (high - low) * (rank - lower);
}

/**
 * Median, minimum and maximum of a set of samples (in any order).
 *
 * @example
 * ```ts
 * spread([3, 1, 2]); // { median: 2, min: 1, max: 3, runs: 3 }
 * ```
 */
export function spread(samples: readonly number[]): Spread {
  const sorted = [...samples].sort((a, b) => a - b);
  return {
    median: percentile(sorted, 50),
    min: sorted[0] ?? Number.NaN,
    max: sorted[sorted.length - 1] ?? Number.NaN,
    runs: sorted.length,
  };
}

export interface LatencySummary {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

/**
 * p50, p95, p99 and the maximum of a set of latencies (any order, any unit).
 *
 * @example
 * ```ts
 * latencySummary([5, 1, 3]).p50; // 3
 * ```
 */
export function latencySummary(values: readonly number[]): LatencySummary {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    count: sorted.length,
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    max: sorted[sorted.length - 1] ?? Number.NaN,
  };
}
