/**
 * The benchmark chart, written as SVG: consumer throughput against batch size, and latency against
 * offered load. GitHub and every browser render it; it diffs as text.
 */

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

const INK = '#282828';
const GRID = '#e1e1e1';
const SHARDLINE = '#1f77b4';
const DUCKDB = '#969696';
const ANALYTICS = '#9467bd';
const P50 = '#2ca02c';
const P95 = '#ff7f0e';
const P99 = '#d62728';

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

const escapeXml = (text: string) =>
  text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;');
const n = (value: number) => String(Math.round(value * 10) / 10);

/** The few SVG elements the chart is drawn with, collected in order. */
class Svg {
  private readonly elements: string[] = [];

  constructor(
    private readonly width: number,
    private readonly height: number,
  ) {}

  line(x1: number, y1: number, x2: number, y2: number, color: string, width = 1, dash?: [number, number]) {
    this.elements.push(
      `<line x1="${n(x1)}" y1="${n(y1)}" x2="${n(x2)}" y2="${n(y2)}" stroke="${color}" stroke-width="${width}"${
        dash ? ` stroke-dasharray="${dash.join(' ')}"` : ''
      }/>`,
    );
  }

  rect(x: number, y: number, width: number, height: number, color: string) {
    this.elements.push(
      `<rect x="${n(x)}" y="${n(y)}" width="${n(width)}" height="${n(Math.max(0, height))}" fill="${color}"/>`,
    );
  }

  text(
    x: number,
    y: number,
    text: string,
    options: { anchor?: 'start' | 'middle' | 'end'; size?: number; color?: string; rotate?: boolean } = {},
  ) {
    const attributes = [
      `x="${n(x)}"`,
      `y="${n(y)}"`,
      `font-size="${options.size ?? 14}"`,
      `fill="${options.color ?? INK}"`,
      ...(options.anchor && options.anchor !== 'start' ? [`text-anchor="${options.anchor}"`] : []),
      ...(options.rotate ? [`transform="rotate(-90 ${n(x)} ${n(y)})"`] : []),
    ];
    this.elements.push(`<text ${attributes.join(' ')}>${escapeXml(text)}</text>`);
  }

  toString(): string {
    return [
      `<svg xmlns="http://www.w3.org/2000/svg" width="${this.width}" height="${this.height}" viewBox="0 0 ${this.width} ${this.height}" font-family="Helvetica, Arial, sans-serif">`,
      `<rect width="${this.width}" height="${this.height}" fill="#ffffff"/>`,
      ...this.elements,
      '</svg>',
      '',
    ].join('\n');
  }
}

function axes(svg: Svg, frame: Frame, maxY: number, label: (value: number) => string, yTitle: string) {
  const step = niceStep(maxY, 5);
  const top = Math.ceil(maxY / step) * step;
  for (let value = 0; value <= top + step / 2; value += step) {
    const y = frame.top + frame.height - (value / top) * frame.height;
    svg.line(frame.left, y, frame.left + frame.width, y, GRID);
    svg.text(frame.left - 8, y + 5, label(value), { anchor: 'end' });
  }
  svg.line(frame.left, frame.top, frame.left, frame.top + frame.height, INK, 2);
  svg.line(frame.left, frame.top + frame.height, frame.left + frame.width, frame.top + frame.height, INK, 2);
  svg.text(frame.left - 70, frame.top + frame.height / 2, yTitle, { anchor: 'middle', rotate: true });
  return top;
}

function legend(svg: Svg, x: number, y: number, entries: Array<[string, string]>) {
  let cursor = x;
  for (const [name, color] of entries) {
    svg.rect(cursor, y, 14, 14, color);
    svg.text(cursor + 20, y + 12, name);
    // No text metrics in SVG without a renderer: advance by an average glyph width.
    cursor += 20 + name.length * 8 + 18;
  }
}

/**
 * Draws the chart and returns it as an SVG document.
 *
 * @example
 * ```ts
 * writeFileSync('chart.svg', renderChart(data));
 * ```
 */
export function renderChart(data: ChartData): string {
  const svg = new Svg(1400, 620);
  svg.text(40, 36, data.title, { size: 20 });

  // Left: consumer throughput per batch size, Shardline beside DuckDB, whiskers at min and max.
  const left: Frame = { left: 130, top: 110, width: 520, height: 400 };
  svg.text(left.left - 90, 76, 'Consumer core, 1 core: records/s by batch size', { size: 16 });
  const maxThroughput = Math.max(
    1,
    ...data.throughput.flatMap((point) => [
      point.shardline.max,
      point.withAnalytics?.max ?? 0,
      point.duckdb?.max ?? 0,
    ]),
  );
  const topThroughput = axes(svg, left, maxThroughput, compact, 'records / s');
  const groupWidth = left.width / Math.max(1, data.throughput.length);
  data.throughput.forEach((point, index) => {
    const center = left.left + groupWidth * (index + 0.5);
    const bars: Array<[{ median: number; min: number; max: number } | undefined, string, number]> = [
      [point.shardline, SHARDLINE, -1],
      [point.withAnalytics, ANALYTICS, 0],
      [point.duckdb, DUCKDB, 1],
    ];
    for (const [value, color, slot] of bars) {
      if (!value) continue;
      const barWidth = groupWidth * 0.26;
      const x = center - barWidth / 2 + slot * (barWidth + 4);
      const yOf = (v: number) => left.top + left.height - (v / topThroughput) * left.height;
      svg.rect(x, yOf(value.median), barWidth, left.top + left.height - yOf(value.median), color);
      const whisker = x + barWidth / 2;
      svg.line(whisker, yOf(value.min), whisker, yOf(value.max), INK, 2);
      svg.line(whisker - 6, yOf(value.max), whisker + 6, yOf(value.max), INK, 2);
      svg.line(whisker - 6, yOf(value.min), whisker + 6, yOf(value.min), INK, 2);
      svg.text(whisker, yOf(value.max) - 8, compact(Math.round(value.median / 1000) * 1000), {
        anchor: 'middle',
        size: 12,
      });
    }
    svg.text(center, left.top + left.height + 24, point.batchSize.toLocaleString('en-US'), {
      anchor: 'middle',
    });
  });
  svg.text(left.left + left.width / 2, left.top + left.height + 50, 'records per batch', {
    anchor: 'middle',
  });
  legend(svg, left.left - 90, left.top + left.height + 70, [
    ['Shardline lake', SHARDLINE],
    ['+ analytics', ANALYTICS],
    ['DuckDB NDJSON to Parquet', DUCKDB],
  ]);

  // Right: end-to-end latency percentiles per offered load, with the target.
  const right: Frame = { left: 840, top: 110, width: 520, height: 400 };
  svg.text(right.left - 90, 76, 'End to end on the emulators: latency by load', { size: 16 });
  const maxLatency =
    Math.max(1, data.latencyTargetMs ?? 0, ...data.latency.map((point) => point.p99Ms)) / 1000;
  const topLatency = axes(svg, right, maxLatency, (v) => `${trim(v)} s`, 'arrival to commit');
  const step = right.width / Math.max(1, data.latency.length);
  const xOf = (index: number) => right.left + step * (index + 0.5);
  const yOf = (ms: number) => right.top + right.height - (ms / 1000 / topLatency) * right.height;
  if (data.latencyTargetMs !== undefined) {
    const y = yOf(data.latencyTargetMs);
    svg.line(right.left, y, right.left + right.width, y, P99, 2, [8, 6]);
  }
  const series: Array<[keyof LatencyPoint, string]> = [
    ['p50Ms', P50],
    ['p95Ms', P95],
    ['p99Ms', P99],
  ];
  for (const [key, color] of series) {
    data.latency.forEach((point, index) => {
      const y = yOf(point[key] as number);
      svg.rect(xOf(index) - 5, y - 5, 11, 11, color);
      const next = data.latency[index + 1];
      if (next && next.group === point.group)
        svg.line(xOf(index), y, xOf(index + 1), yOf(next[key] as number), color, 3);
    });
  }
  data.latency.forEach((point, index) => {
    svg.text(xOf(index), right.top + right.height + 24, point.label, { anchor: 'middle' });
    svg.text(
      xOf(index),
      right.top + right.height + 44,
      compact(Math.round(point.sustainedPerSecond / 100) * 100),
      {
        anchor: 'middle',
        color: SHARDLINE,
      },
    );
  });
  svg.text(
    right.left + right.width / 2,
    right.top + right.height + 66,
    'offered / sustained (blue), events/s',
    {
      anchor: 'middle',
    },
  );
  legend(svg, right.left, right.top + right.height + 80, [
    ['p50', P50],
    ['p95', P95],
    ['p99', P99],
  ]);
  if (data.latencyTargetMs !== undefined) {
    const x = right.left + 290;
    const y = right.top + right.height + 87;
    svg.line(x, y, x + 30, y, P99, 2, [8, 6]);
    svg.text(x + 38, y + 5, `p99 target ${trim(data.latencyTargetMs / 1000)} s`);
  }
  return svg.toString();
}
