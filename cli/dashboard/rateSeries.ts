/**
 * Events per second in and out of the pipeline, as one point per whole second.
 *
 * In: records put on the stream, counted by their ApproximateArrivalTimestamp, so the rate is what the
 * producer did in that second, whenever the dashboard happened to read it. Out: records committed by
 * the consumer, from the per-shard checkpoint counters sampled about once a second; the rate between
 * two samples applies to every second between them.
 */

/** The sum of the committed-records counters of every shard, read at one moment. */
export interface CommitSample {
  atMs: number;
  committedRecords: number;
}

export interface RatePoint {
  /** Start of the second, in epoch seconds. */
  t: number;
  /** null: not observed (before the dashboard was watching). */
  in: number | null;
  out: number | null;
}

export interface RateSeriesInput {
  nowMs: number;
  windowSeconds: number;
  /** Records put per arrival second (epoch seconds). */
  arrivalsBySecond: ReadonlyMap<number, number>;
  /** The first second whose arrivals are all counted; null when the stream is not read yet. */
  arrivalsCountedFromSecond: number | null;
  /** Sorted by time. */
  commitSamples: readonly CommitSample[];
}

/**
 * Adds each record's arrival to the count of its second.
 *
 * @example
 * ```ts
 * const bins = new Map<number, number>();
 * countArrivals(bins, [1_700_000_000_100, 1_700_000_000_900]); // bins.get(1_700_000_000) === 2
 * ```
 */
export function countArrivals(bins: Map<number, number>, arrivalTimesMs: Iterable<number>): void {
  for (const atMs of arrivalTimesMs) {
    const second = Math.floor(atMs / 1000);
    bins.set(second, (bins.get(second) ?? 0) + 1);
  }
}

/** Drops the bins older than `firstSecondKept`. */
export function dropArrivalsBefore(bins: Map<number, number>, firstSecondKept: number): void {
  for (const second of bins.keys()) if (second < firstSecondKept) bins.delete(second);
}

/**
 * The last `windowSeconds` complete seconds before `nowMs`, oldest first. The second in progress is
 * left out: its count is still growing and would always read low.
 *
 * @example
 * ```ts
 * const points = ratePoints({ nowMs: Date.now(), windowSeconds: 120, arrivalsBySecond, arrivalsCountedFromSecond, commitSamples });
 * ```
 */
export function ratePoints(input: RateSeriesInput): RatePoint[] {
  const lastSecond = Math.floor(input.nowMs / 1000) - 1;
  const firstSecond = lastSecond - input.windowSeconds + 1;
  const samples = input.commitSamples;
  const points: RatePoint[] = [];
  let pair = 0;
  for (let t = firstSecond; t <= lastSecond; t++) {
    const midpointMs = t * 1000 + 500;
    while (pair + 1 < samples.length && (samples[pair + 1] as CommitSample).atMs <= midpointMs) pair++;
    const before = samples[pair];
    const after = samples[pair + 1];
    let out: number | null = null;
    if (before && after && before.atMs <= midpointMs && midpointMs < after.atMs) {
      const seconds = (after.atMs - before.atMs) / 1000;
      out = Math.max(0, (after.committedRecords - before.committedRecords) / seconds);
    }
    const counted = input.arrivalsCountedFromSecond !== null && t >= input.arrivalsCountedFromSecond;
    points.push({ t, in: counted ? (input.arrivalsBySecond.get(t) ?? 0) : null, out });
  }
  return points;
}

/** The value of the newest point that has one, or null. */
export function latestRate(points: readonly RatePoint[], direction: 'in' | 'out'): number | null {
  for (let i = points.length - 1; i >= 0; i--) {
    const value = points[i]?.[direction];
    if (value !== null && value !== undefined) return value;
  }
  return null;
}
