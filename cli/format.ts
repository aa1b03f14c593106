/** Rendering query results and summaries as a table, CSV or JSON. */
import { guardFormula } from '../lambdas/shared/formulaGuard';

export type OutputFormat = 'table' | 'csv' | 'json';
export const OUTPUT_FORMATS: readonly OutputFormat[] = ['table', 'csv', 'json'];

export interface ResultSet {
  columns: string[];
  rows: unknown[][];
}

const cellText = (value: unknown): string => {
  if (value === null || value === undefined) return 'NULL';
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'object')
    return JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? v.toString() : v));
  return String(value);
};

/**
 * Formats rows as an aligned text table.
 *
 * @example
 * ```ts
 * formatTable({ columns: ['n'], rows: [[1]] }); // ' n \n---\n 1 '
 * ```
 */
export function formatTable(result: ResultSet): string {
  const cells = result.rows.map((row) => row.map(cellText));
  const widths = result.columns.map((name, i) =>
    Math.max(name.length, ...cells.map((row) => (row[i] ?? '').length)),
  );
  // Numbers align right. DuckDB hands BIGINT and DECIMAL over as strings, so judge by the text.
  const numeric = result.columns.map((_, i) =>
    cells.every((row) => row[i] === 'NULL' || /^-?\d+(\.\d+)?(e[+-]?\d+)?$/i.test(row[i] ?? '')),
  );
  const line = (values: string[], header = false) =>
    values
      .map((v, i) => (numeric[i] && !header ? v.padStart(widths[i] ?? 0) : v.padEnd(widths[i] ?? 0)))
      .join(' │ ')
      .trimEnd();
  const separator = widths.map((w) => '─'.repeat(w)).join('─┼─');
  const footer = `(${result.rows.length} row${result.rows.length === 1 ? '' : 's'})`;
  return [line(result.columns, true), separator, ...cells.map((row) => line(row)), footer].join('\n');
}

/** Text that is a plain number, which no spreadsheet runs as a formula (`-12.5`, `1e-7`). */
const PLAIN_NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)(e[+-]?\d+)?$/i;

const csvField = (value: unknown) => {
  if (value === null || value === undefined) return '';
  const raw = cellText(value);
  // Athena returns every value as text and DuckDB some numbers too: a plain number keeps its sign.
  const text =
    typeof value === 'number' || typeof value === 'bigint' || PLAIN_NUMBER.test(raw)
      ? raw
      : guardFormula(raw);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
};

/**
 * Formats rows as CSV: RFC 4180 quoting, NULL as an empty field, and the lake's formula-injection guard
 * (`guardFormula`) on every value that is not a plain number, so an exported cell such as `=cmd|…` opens
 * as text in a spreadsheet.
 *
 * @example
 * ```ts
 * formatCsv({ columns: ['url'], rows: [['=HYPERLINK("http://x")']] }); // 'url\n"\'=HYPERLINK(""http://x"")"'
 * ```
 */
export function formatCsv(result: ResultSet): string {
  return [
    result.columns.map(csvField).join(','),
    ...result.rows.map((row) => row.map(csvField).join(',')),
  ].join('\n');
}

export function toJsonValue(value: unknown): unknown {
  if (typeof value === 'bigint')
    return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map(toJsonValue);
  if (
    value &&
    typeof value === 'object' &&
    'toString' in value &&
    value.constructor?.name?.startsWith('DuckDB')
  ) {
    return String(value);
  }
  return value;
}

export function formatJson(result: ResultSet): string {
  const objects = result.rows.map((row) =>
    Object.fromEntries(result.columns.map((name, i) => [name, toJsonValue(row[i])])),
  );
  return JSON.stringify(objects, null, 2);
}

export function formatResult(result: ResultSet, format: OutputFormat): string {
  switch (format) {
    case 'table':
      return formatTable(result);
    case 'csv':
      return formatCsv(result);
    case 'json':
      return formatJson(result);
  }
}
