import { guardFormula } from '../../shared/formulaGuard';
import { type ColumnType, EVENT_COLUMNS, type EventRow } from '../../shared/rows';
import { FITS, InvalidEventRowError } from './arrow';

/** RFC 4180 quoting, plus leading or trailing spaces, which many readers would otherwise trim. */
const NEEDS_QUOTES = /[",\r\n]|^ | $/;
const QUOTES = /"/g;
const HEADER = `${EVENT_COLUMNS.map((column) => column.name).join(',')}\n`;
/**
 * Records are gathered into strings of about this many UTF-16 code units, each encoded once: a single
 * string for a whole 100k-row file is a rope of millions of pieces, and collecting it costs 3x the time.
 */
const CHUNK_CODE_UNITS = 65_536;
const MS_PER_DAY = 86_400_000;
const TWO_DIGITS = Array.from({ length: 100 }, (_, n) => String(n).padStart(2, '0'));
const THREE_DIGITS = Array.from({ length: 1000 }, (_, n) => String(n).padStart(3, '0'));
const COLUMNS = EVENT_COLUMNS.map((column) => ({ ...column, fits: FITS[column.type] }));

/**
 * Encodes rows as UTF-8 CSV (no BOM): a header line with the `EVENT_COLUMNS` names, then one record per
 * row, every line ending in `\n`. Fields are quoted per RFC 4180 only when needed (comma, quote, CR, LF, or
 * a leading or trailing space), quotes doubled. null is an empty unquoted field and '' is `""`, so readers
 * can tell them apart (DuckDB: `allow_quoted_nulls = false`). Timestamps are ISO-8601 UTC with milliseconds
 * (`2024-05-01T12:00:00.000Z`), dates YYYY-MM-DD, numbers the shortest text that reads back as the same
 * number (`-0` included).
 *
 * Formula injection: a value of a string column that starts with `=`, `+`, `-`, `@`, tab or CR gets a
 * leading single quote (`=SUM(A1)` is written `'=SUM(A1)`) so spreadsheets show it as text instead of
 * running it; the Parquet copy keeps the value as it is. Numeric, timestamp and date columns are never
 * prefixed. No rows give the header line alone.
 * Throws `InvalidEventRowError` for a row that does not match the contract (for example a null in a
 * non-nullable column).
 *
 * @example
 * ```ts
 * import { encodeCsv } from './csv';
 * const text = Buffer.from(encodeCsv([])).toString('utf8');
 * console.log(text.startsWith('event_id,schema_version,')); // true
 * ```
 */
export function encodeCsv(rows: readonly EventRow[]): Uint8Array {
  const parts: Buffer[] = [];
  let chunk = HEADER;
  for (let index = 0; index < rows.length; index++) {
    const row = rows[index] as EventRow;
    let record = '';
    for (let position = 0; position < COLUMNS.length; position++) {
      const column = COLUMNS[position] as (typeof COLUMNS)[number];
      const value = row[column.name];
      if (position > 0) record += ',';
      if (value === null || value === undefined) {
        if (!column.nullable) throw new InvalidEventRowError(index, column.name, column.type, false, value);
        continue;
      }
      if (!column.fits(value)) {
        throw new InvalidEventRowError(index, column.name, column.type, column.nullable, value);
      }
      record += formatValue(column.type, value);
    }
    chunk += `${record}\n`;
    if (chunk.length >= CHUNK_CODE_UNITS) {
      parts.push(Buffer.from(chunk, 'utf8'));
      chunk = '';
    }
  }
  parts.push(Buffer.from(chunk, 'utf8'));
  return parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts);
}

/** The value has already been checked against the column type. */
function formatValue(type: ColumnType, value: unknown): string {
  switch (type) {
    case 'string':
      return formatString(value as string);
    case 'int32':
      return String(value);
    case 'double':
      // String(-0) is '0': keep the sign so every number reads back as exactly the same double.
      return value === 0 && 1 / (value as number) < 0 ? '-0' : String(value);
    case 'timestamptz':
      return formatTimestamp(value as number);
    case 'date':
      return value as string;
  }
}

function formatString(value: string): string {
  const text = guardFormula(value);
  if (text === '') return '""';
  return NEEDS_QUOTES.test(text) ? `"${text.replace(QUOTES, '""')}"` : text;
}

// The date part changes rarely within a batch: format it once per day, the time of day by table lookup.
// Same text as Date.prototype.toISOString for years 0000-9999, at a fraction of its cost.
let cachedDay = Number.NaN;
let cachedDayPrefix = '';

function formatTimestamp(epochMs: number): string {
  const day = Math.floor(epochMs / MS_PER_DAY);
  if (day !== cachedDay) {
    cachedDayPrefix = new Date(day * MS_PER_DAY).toISOString().slice(0, 11);
    cachedDay = day;
  }
  const msOfDay = epochMs - day * MS_PER_DAY;
  const hours = Math.floor(msOfDay / 3_600_000);
  const minutes = Math.floor(msOfDay / 60_000) % 60;
  const seconds = Math.floor(msOfDay / 1000) % 60;
  const time = `${TWO_DIGITS[hours]}:${TWO_DIGITS[minutes]}:${TWO_DIGITS[seconds]}`;
  return `${cachedDayPrefix}${time}.${THREE_DIGITS[msOfDay % 1000]}Z`;
}
