import { Raster, type Rgb, textWidth } from './png';

/** The benchmark chart: consumer throughput against batch size, and latency against offered load. */

export interface ThroughputPoint {
  batchSize: number;
  shardline: { median: number; min: number; max: number };
  /** The consumer with the stream analytics on. */
  withAnalytics?: { median: number; min: number; max: number };
  duckdb?: { median: number; min: number; max: number };
}

export interface LatencyPoint {
  label: string;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  sustainedPerSecond: number;
  /** Points of one group are joined by lines; points of different groups are not. */
  group?: string;
}

export interface ChartData {
  title: string;
  throughput: ThroughputPoint[];
  latency: LatencyPoint[];
  /** Latency target drawn as a dashed line, in milliseconds. */
  latencyTargetMs?: number;
}

const INK: Rgb = [40, 40, 40];
const GRID: Rgb = [225, 225, 225];
const SHARDLINE: Rgb = [31, 119, 180];
const DUCKDB: Rgb = [150, 150, 150];
const ANALYTICS: Rgb = [148, 103, 189];
const P50: Rgb = [44, 160, 44];
const P95: Rgb = [255, 127, 14];
const P99: Rgb = [214, 39, 40];

/**
 * A step for about `count` ticks up to `max`: 1, 2 or 5 times a power of ten.
 *
 * @example
 * ```ts
 * niceStep(47_000, 5); // 10000
 * ```
 */
export function niceStep(max: number, count: number): number {
  const rough = max / Math.max(1, count);
  const power = 10 ** Math.floor(Math.log10(rough || 1));
  const fraction = rough / power;
  return (fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10) * power;
}

/**
 * Short numbers for axis labels: 1500 → '1.5K', 250000 → '250K'.
 *
 * @example
 * ```ts
 * compact(250_000); // '250K'
 * ```
 */
export function compact(value: number): string {
  if (Math.abs(value) >= 1e6) return `${trim(value / 1e6)}M`;
  if (Math.abs(value) >= 1e3) return `${trim(value / 1e3)}K`;
  return trim(value);
}

const trim = (value: number) =>
  Number.isInteger(value) ? String(value) : value.toFixed(1).replace(/\.0$/, '');

interface Frame {
  left: number;
  top: number;
  width: number;
  height: number;
}

function axes(raster: Raster, frame: Frame, maxY: number, label: (value: number) => string, yTitle: string) {
  const step = niceStep(maxY, 5);
  const top = Math.ceil(maxY / step) * step;
  for (let value = 0; value <= top + step / 2; value += step) {
    const y = frame.top + frame.height - (value / top) * frame.height;
    raster.line(frame.left, y, frame.left + frame.width, y, GRID);
    const text = label(value);
    raster.text(frame.left - 8 - textWidth(text), y - 7, text, INK);
  }
  raster.line(frame.left, frame.top, frame.left, frame.top + frame.height, INK, 2);
  raster.line(
    frame.left,
    frame.top + frame.height,
    frame.left + frame.width,
    frame.top + frame.height,
    INK,
    2,
  );
  raster.textUp(frame.left - 78, frame.top + frame.height / 2 + textWidth(yTitle) / 2, yTitle, INK);
  return top;
}

function legend(raster: Raster, x: number, y: number, entries: Array<[string, Rgb]>) {
  let cursor = x;
  for (const [name, color] of entries) {
    raster.fillRect(cursor, y, 14, 14, color);
    cursor += 20 + raster.text(cursor + 20, y, name, INK) + 18;
  }
}

/**
 * Draws the chart and returns it as PNG bytes.
 *
 * @example
 * ```ts
 * writeFileSync('chart.png', renderChart(data));
 * ```
 */
export function renderChart(data: ChartData): Buffer {
  const raster = new Raster(1400, 620);
  raster.text(40, 18, data.title, INK, 2);

  // Left: consumer throughput per batch size, Shardline beside DuckDB, whiskers at min and max.
  const left: Frame = { left: 130, top: 110, width: 520, height: 400 };
  raster.text(left.left - 90, 62, 'CONSUMER CORE, 1 CORE: RECORDS/S BY BATCH SIZE', INK);
  const maxThroughput = Math.max(
    1,
    ...data.throughput.flatMap((point) => [
      point.shardline.max,
      point.withAnalytics?.max ?? 0,
      point.duckdb?.max ?? 0,
    ]),
  );
  const topThroughput = axes(raster, left, maxThroughput, compact, 'RECORDS / S');
  const groupWidth = left.width / Math.max(1, data.throughput.length);
  data.throughput.forEach((point, index) => {
    const center = left.left + groupWidth * (index + 0.5);
    const bars: Array<[{ median: number; min: number; max: number } | undefined, Rgb, number]> = [
      [point.shardline, SHARDLINE, -1],
      [point.withAnalytics, ANALYTICS, 0],
      [point.duckdb, DUCKDB, 1],
    ];
    for (const [value, color, slot] of bars) {
      if (!value) continue;
      const barWidth = groupWidth * 0.26;
      const x = center - barWidth / 2 + slot * (barWidth + 4);
      const yOf = (v: number) => left.top + left.height - (v / topThroughput) * left.height;
      raster.fillRect(x, yOf(value.median), barWidth, left.top + left.height - yOf(value.median), color);
      const whisker = x + barWidth / 2;
      raster.line(whisker, yOf(value.min), whisker, yOf(value.max), INK, 2);
      raster.line(whisker - 6, yOf(value.max), whisker + 6, yOf(value.max), INK, 2);
      raster.line(whisker - 6, yOf(value.min), whisker + 6, yOf(value.min), INK, 2);
      const text = compact(Math.round(value.median / 1000) * 1000);
      raster.text(whisker - textWidth(text) / 2, yOf(value.max) - 20, text, INK);
    }
    const label = point.batchSize.toLocaleString('en-US');
    raster.text(center - textWidth(label) / 2, left.top + left.height + 12, label, INK);
  });
  raster.text(
    left.left + left.width / 2 - textWidth('RECORDS PER BATCH') / 2,
    left.top + left.height + 40,
    'RECORDS PER BATCH',
    INK,
  );
  legend(raster, left.left - 90, left.top + left.height + 70, [
    ['SHARDLINE LAKE', SHARDLINE],
    ['+ ANALYTICS', ANALYTICS],
    ['DUCKDB NDJSON TO PARQUET', DUCKDB],
  ]);

  // Right: end-to-end latency percentiles per offered load, with the target.
  const right: Frame = { left: 840, top: 110, width: 520, height: 400 };
  raster.text(right.left - 90, 62, 'END TO END ON THE EMULATORS: LATENCY BY LOAD', INK);
  const maxLatency =
    Math.max(1, data.latencyTargetMs ?? 0, ...data.latency.map((point) => point.p99Ms)) / 1000;
  const topLatency = axes(raster, right, maxLatency, (v) => `${trim(v)} S`, 'ARRIVAL TO COMMIT');
  const step = right.width / Math.max(1, data.latency.length);
  const xOf = (index: number) => right.left + step * (index + 0.5);
  const yOf = (ms: number) => right.top + right.height - (ms / 1000 / topLatency) * right.height;
  if (data.latencyTargetMs !== undefined) {
    const y = yOf(data.latencyTargetMs);
    raster.line(right.left, y, right.left + right.width, y, P99, 2, [8, 6]);
  }
  const series: Array<[keyof LatencyPoint, Rgb]> = [
    ['p50Ms', P50],
    ['p95Ms', P95],
    ['p99Ms', P99],
  ];
  for (const [key, color] of series) {
    data.latency.forEach((point, index) => {
      const y = yOf(point[key] as number);
      raster.fillRect(xOf(index) - 5, y - 5, 11, 11, color);
      const next = data.latency[index + 1];
      if (next && next.group === point.group)
        raster.line(xOf(index), y, xOf(index + 1), yOf(next[key] as number), color, 3);
    });
  }
  data.latency.forEach((point, index) => {
    raster.text(xOf(index) - textWidth(point.label) / 2, right.top + right.height + 12, point.label, INK);
    const sustained = compact(Math.round(point.sustainedPerSecond / 100) * 100);
    raster.text(xOf(index) - textWidth(sustained) / 2, right.top + right.height + 32, sustained, SHARDLINE);
  });
  raster.text(
    right.left + right.width / 2 - textWidth('OFFERED / SUSTAINED (BLUE), EVENTS/S') / 2,
    right.top + right.height + 56,
    'OFFERED / SUSTAINED (BLUE), EVENTS/S',
    INK,
  );
  legend(raster, right.left, right.top + right.height + 80, [
    ['P50', P50],
    ['P95', P95],
    ['P99', P99],
  ]);
  if (data.latencyTargetMs !== undefined) {
    const x = right.left + 290;
    const y = right.top + right.height + 87;
    raster.line(x, y, x + 30, y, P99, 2, [8, 6]);
    raster.text(x + 38, y - 7, `P99 TARGET ${trim(data.latencyTargetMs / 1000)} S`, INK);
  }
  return raster.toPng();
}
