/**
 * Small SVG charts drawn by hand: a time-series line chart, a horizontal bar chart and a sparkline.
 * Each function replaces the content of its container, sizes the chart to the container's width, and
 * builds every element with the DOM, so no text from the data is ever parsed as markup.
 */

const SVG_NS = 'http://www.w3.org/2000/svg';

/** An SVG element with attributes and children (elements or text). */
export function svg(tag, attributes = {}, children = []) {
  const element = document.createElementNS(SVG_NS, tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value !== undefined && value !== null) element.setAttribute(name, String(value));
  }
  for (const child of children) {
    element.append(typeof child === 'string' ? document.createTextNode(child) : child);
  }
  return element;
}

const integerFormat = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const decimalFormat = new Intl.NumberFormat('en-US', { maximumFractionDigits: 1 });

/** 12345 → "12,345"; 2.46 → "2.5"; null → "–". */
export function formatNumber(value) {
  if (value === null || value === undefined || Number.isNaN(value)) return '–';
  return Math.abs(value) >= 10 || Number.isInteger(value)
    ? integerFormat.format(value)
    : decimalFormat.format(value);
}

/** 850 → "850 ms"; 2300 → "2.3 s"; 125000 → "2.1 min". */
export function formatMs(value) {
  if (value === null || value === undefined) return '–';
  if (value < 1000) return `${integerFormat.format(value)} ms`;
  if (value < 60_000) return `${decimalFormat.format(value / 1000)} s`;
  return `${decimalFormat.format(value / 60_000)} min`;
}

/** Round tick values from 0 to at least `max`: steps of 1, 2 or 5 times a power of ten. */
export function niceTicks(max, count = 4) {
  const top = max > 0 ? max : 1;
  const rough = top / count;
  const power = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= rough) ?? 10 * power;
  const ticks = [];
  for (let value = 0; value < top + step; value += step) {
    ticks.push(value);
    if (value >= top) break;
  }
  return ticks;
}

function clear(container) {
  container.replaceChildren();
  container.dataset.rendered = 'true';
}

/** A chart-sized message in place of a chart. */
export function chartMessage(container, text) {
  clear(container);
  container.dataset.rendered = 'empty';
  const message = document.createElement('p');
  message.className = 'chart-empty';
  message.textContent = text;
  container.append(message);
}

/**
 * A line chart of series over the same time axis.
 * @param {HTMLElement} container
 * @param {{ times: number[], series: { name: string, className: string, values: (number|null)[] }[],
 *           height?: number, unit?: string }} data  times in epoch seconds
 */
export function lineChart(container, data) {
  clear(container);
  const width = Math.max(container.clientWidth, 320);
  const height = data.height ?? 240;
  const pad = { left: 52, right: 16, top: 28, bottom: 26 };
  const plotWidth = width - pad.left - pad.right;
  const plotHeight = height - pad.top - pad.bottom;
  const values = data.series.flatMap((s) => s.values).filter((v) => v !== null);
  const ticks = niceTicks(Math.max(0, ...values));
  const yMax = ticks[ticks.length - 1];
  const first = data.times[0];
  const span = Math.max(1, data.times[data.times.length - 1] - first);
  const x = (t) => pad.left + ((t - first) / span) * plotWidth;
  const y = (v) => pad.top + plotHeight - (v / yMax) * plotHeight;

  const chart = svg('svg', { width, height, viewBox: `0 0 ${width} ${height}`, role: 'img' });
  for (const tick of ticks) {
    chart.append(
      svg('line', { class: 'grid', x1: pad.left, x2: width - pad.right, y1: y(tick), y2: y(tick) }),
      svg('text', { class: 'axis', x: pad.left - 8, y: y(tick) + 4, 'text-anchor': 'end' }, [
        formatNumber(tick),
      ]),
    );
  }
  const last = data.times[data.times.length - 1];
  for (let ago = 0; ago <= span; ago += 30) {
    const label = ago === 0 ? 'now' : ago % 60 === 0 ? `−${ago / 60} min` : `−${ago} s`;
    chart.append(
      svg(
        'text',
        { class: 'axis', x: x(last - ago), y: height - 6, 'text-anchor': ago === 0 ? 'end' : 'middle' },
        [label],
      ),
    );
  }
  data.series.forEach((series, index) => {
    let path = '';
    let drawn = 0;
    let penDown = false;
    series.values.forEach((value, i) => {
      if (value === null) {
        penDown = false;
        return;
      }
      path += `${penDown ? 'L' : 'M'}${x(data.times[i]).toFixed(1)},${y(value).toFixed(1)}`;
      penDown = true;
      drawn++;
    });
    chart.append(
      svg('path', { class: `series ${series.className}`, d: path || 'M0,0', 'data-points': drawn }),
    );
    const legendX = pad.left + index * 150;
    chart.append(
      svg('rect', { class: `swatch ${series.className}`, x: legendX, y: 8, width: 12, height: 4, rx: 2 }),
      svg('text', { class: 'legend', x: legendX + 18, y: 14 }, [series.name]),
    );
  });
  if (data.unit) {
    chart.append(
      svg('text', { class: 'axis unit', x: width - pad.right, y: 14, 'text-anchor': 'end' }, [data.unit]),
    );
  }
  container.append(chart);
}

/**
 * Horizontal bars, one group per category and one bar per series in it.
 * @param {HTMLElement} container
 * @param {{ categories: { key: string, label?: string, values: (number|null)[], texts?: (string|undefined)[] }[],
 *           series: { name: string, className: string }[], format?: (v: number) => string,
 *           testId?: string }} data  testId: each bar gets data-testid `${testId}-${key}` (first series);
 *           texts: what a bar says in place of its formatted value (such as "≥ 100,000")
 */
export function barChart(container, data) {
  clear(container);
  const format = data.format ?? formatNumber;
  const width = Math.max(container.clientWidth, 280);
  const barHeight = 16;
  const barGap = 4;
  const groupGap = 12;
  const legendHeight = data.series.length > 1 ? 24 : 4;
  const labelWidth = Math.min(
    150,
    Math.max(70, ...data.categories.map((c) => (c.label ?? c.key).length * 7.2)),
  );
  const valueWidth = 64;
  const plotWidth = width - labelWidth - valueWidth - 16;
  const groupHeight = data.series.length * (barHeight + barGap) - barGap;
  const height = legendHeight + data.categories.length * (groupHeight + groupGap);
  const max = Math.max(1, ...data.categories.flatMap((c) => c.values.filter((v) => v !== null)));

  const chart = svg('svg', { width, height, viewBox: `0 0 ${width} ${height}`, role: 'img' });
  if (data.series.length > 1) {
    data.series.forEach((series, index) => {
      const legendX = labelWidth + 8 + index * 150;
      chart.append(
        svg('rect', { class: `swatch ${series.className}`, x: legendX, y: 6, width: 12, height: 8, rx: 2 }),
        svg('text', { class: 'legend', x: legendX + 18, y: 14 }, [series.name]),
      );
    });
  }
  data.categories.forEach((category, row) => {
    const top = legendHeight + row * (groupHeight + groupGap);
    chart.append(
      svg('text', { class: 'bar-label', x: labelWidth, y: top + groupHeight / 2 + 4, 'text-anchor': 'end' }, [
        category.label ?? category.key,
      ]),
    );
    category.values.forEach((value, index) => {
      const text = category.texts?.[index] ?? (value === null ? '–' : format(value));
      const barTop = top + index * (barHeight + barGap);
      const barWidth = value === null ? 0 : Math.max(value > 0 ? 2 : 0, (value / max) * plotWidth);
      const bar = svg(
        'g',
        {
          class: 'bar',
          'data-testid': data.testId && index === 0 ? `${data.testId}-${category.key}` : undefined,
          'data-value': value ?? '',
        },
        [
          svg('rect', {
            class: `bar-fill ${data.series[index].className}`,
            x: labelWidth + 8,
            y: barTop,
            width: barWidth,
            height: barHeight,
            rx: 3,
          }),
          svg('text', { class: 'bar-value', x: labelWidth + 14 + barWidth, y: barTop + barHeight - 4 }, [
            text,
          ]),
          svg('title', {}, [`${category.label ?? category.key}, ${data.series[index].name}: ${text}`]),
        ],
      );
      chart.append(bar);
    });
  });
  container.append(chart);
}

/** A sparkline of the values, oldest first, filling the SVG element's box. */
export function sparkline(container, values, { width = 180, height = 40 } = {}) {
  clear(container);
  const chart = svg('svg', { width, height, viewBox: `0 0 ${width} ${height}` });
  if (values.length > 0) {
    const max = Math.max(1, ...values);
    const step = values.length > 1 ? width / (values.length - 1) : 0;
    const points = values.map(
      (v, i) => `${(i * step).toFixed(1)},${(height - 3 - (v / max) * (height - 6)).toFixed(1)}`,
    );
    if (values.length === 1) points.push(`${width},${points[0].split(',')[1]}`);
    chart.append(
      svg('polygon', { class: 'spark-area', points: `0,${height} ${points.join(' ')} ${width},${height}` }),
      svg('polyline', { class: 'spark-line', points: points.join(' '), 'data-points': values.length }),
    );
  }
  container.append(chart);
}
