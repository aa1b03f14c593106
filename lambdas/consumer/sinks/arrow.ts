import {
  type Data,
  type DataType,
  DateDay,
  Field,
  Float64,
  Int32,
  makeData,
  RecordBatch,
  Schema,
  Struct,
  Table,
  TimestampMillisecond,
  Utf8,
} from 'apache-arrow';
import { ShardlineError } from '../../shared/errors';
import { type ColumnType, EVENT_COLUMNS, type EventRow } from '../../shared/rows';

type EventColumn = (typeof EVENT_COLUMNS)[number];

const MS_PER_DAY = 86_400_000;
/** 0000-01-01T00:00:00.000Z and 9999-12-31T23:59:59.999Z: four-digit years keep ISO text unambiguous. */
const MIN_EPOCH_MS = -62_167_219_200_000;
const MAX_EPOCH_MS = 253_402_300_799_999;
const MAX_UTF8_BYTES = 0x7fff_ffff;
const DATE_PATTERN = /^\d{4}-\d{2}-\d{2}$/;

const EXPECTED: Readonly<Record<ColumnType, string>> = {
  string: 'a string',
  int32: 'an integer between -2147483648 and 2147483647',
  double: 'a finite number',
  timestamptz: 'integer epoch milliseconds between years 0000 and 9999',
  date: 'a calendar date as YYYY-MM-DD',
};

/**
 * Thrown when a row does not fit the {@link EVENT_COLUMNS} contract: a null in a non-nullable column or a
 * value of the wrong type or range. Both sinks refuse such rows rather than write a silent null or a
 * truncated value.
 *
 * @example
 * ```ts
 * import { encodeCsv, InvalidEventRowError } from './index';
 * try {
 *   encodeCsv([{ event_id: null } as never]);
 * } catch (error) {
 *   if (error instanceof InvalidEventRowError) console.log(error.rowIndex, error.column); // 0 'event_id'
 * }
 * ```
 */
export class InvalidEventRowError extends ShardlineError {
  override readonly name = 'InvalidEventRowError';

  constructor(
    readonly rowIndex: number,
    readonly column: keyof EventRow,
    readonly columnType: ColumnType,
    nullable: boolean,
    value: unknown,
  ) {
    const allowed = `${EXPECTED[columnType]}${nullable ? ' or null' : ''}`;
    super(
      `Row ${rowIndex}, column "${column}": expected ${allowed}, got ${describe(value, columnType)}. ` +
        'Fix the step that builds EventRow: the sinks write only rows that match EVENT_COLUMNS.',
    );
  }
}

/** Numbers and dates are shown; other strings are not, as they may be long or personal. */
function describe(value: unknown, columnType: ColumnType): string {
  if (typeof value === 'number' || (typeof value === 'string' && columnType === 'date')) {
    return JSON.stringify(value.toString().slice(0, 40));
  }
  return value === null ? 'null' : typeof value;
}

const epochDayCache = new Map<string, number>();

/** Epoch day of a valid YYYY-MM-DD date, else undefined. Batches hold few dates, so results are cached. */
function epochDayOf(value: unknown): number | undefined {
  if (typeof value !== 'string') return undefined;
  const cached = epochDayCache.get(value);
  if (cached !== undefined) return cached;
  if (!DATE_PATTERN.test(value)) return undefined;
  const ms = Date.parse(value);
  // Date.parse rolls some impossible dates over (2024-02-30): only a date that prints back as itself counts.
  if (Number.isNaN(ms) || new Date(ms).toISOString().slice(0, 10) !== value) return undefined;
  if (epochDayCache.size >= 4096) epochDayCache.clear();
  const day = ms / MS_PER_DAY;
  epochDayCache.set(value, day);
  return day;
}

function isInt32(value: unknown): value is number {
  return typeof value === 'number' && (value | 0) === value;
}

function isFiniteDouble(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

function isEpochMillis(value: unknown): value is number {
  return Number.isInteger(value) && (value as number) >= MIN_EPOCH_MS && (value as number) <= MAX_EPOCH_MS;
}

/** Whether a non-null value fits a column's logical type. Both sinks use it, so they accept the same rows. */
export const FITS: Readonly<Record<ColumnType, (value: unknown) => boolean>> = {
  string: (value) => typeof value === 'string',
  int32: isInt32,
  double: isFiniteDouble,
  timestamptz: isEpochMillis,
  date: (value) => epochDayOf(value) !== undefined,
};

const ARROW_TYPES: Readonly<Record<ColumnType, () => DataType>> = {
  string: () => new Utf8(),
  int32: () => new Int32(),
  double: () => new Float64(),
  timestamptz: () => new TimestampMillisecond('UTC'),
  date: () => new DateDay(),
};

/** The Arrow schema of {@link EVENT_COLUMNS}; non-nullable columns become REQUIRED Parquet columns. */
const EVENT_SCHEMA = new Schema(
  EVENT_COLUMNS.map((column) => new Field(column.name, ARROW_TYPES[column.type](), column.nullable)),
);

/**
 * Builds an Arrow table of the rows with one hand-built vector per column of {@link EVENT_COLUMNS}
 * (offsets and validity bitmaps written directly: `vectorFromArray` is about five times slower).
 * Throws {@link InvalidEventRowError} for a row that does not fit the contract.
 *
 * @example
 * ```ts
 * import { buildEventTable } from './arrow';
 * const table = buildEventTable([]);
 * console.log(table.numRows, table.schema.fields.length); // 0 18
 * ```
 */
export function buildEventTable(rows: readonly EventRow[]): Table {
  const children = EVENT_COLUMNS.map((column) => buildColumn(column, rows));
  const data = makeData({
    type: new Struct(EVENT_SCHEMA.fields),
    length: rows.length,
    nullCount: 0,
    children,
  });
  return new Table(EVENT_SCHEMA, new RecordBatch(EVENT_SCHEMA, data));
}

function buildColumn(column: EventColumn, rows: readonly EventRow[]): Data {
  switch (column.type) {
    case 'string':
      return buildUtf8(column, rows);
    case 'int32':
      return buildInt32(column, rows);
    case 'double':
      return buildFloat64(column, rows);
    case 'timestamptz':
      return buildTimestamp(column, rows);
    case 'date':
      return buildDate(column, rows);
  }
}

// One loop per type, so that each loop stays monomorphic and V8 can inline its check.

function buildInt32(column: EventColumn, rows: readonly EventRow[]): Data<Int32> {
  const validity = new Validity(column, rows.length);
  const values = new Int32Array(rows.length);
  for (let index = 0; index < rows.length; index++) {
    const value = (rows[index] as EventRow)[column.name];
    if (validity.isPresent(index, value)) {
      if (!isInt32(value)) throw validity.invalid(index, value);
      values[index] = value;
    }
  }
  return makeData({ type: new Int32(), length: rows.length, ...validity.props(), data: values });
}

function buildFloat64(column: EventColumn, rows: readonly EventRow[]): Data<Float64> {
  const validity = new Validity(column, rows.length);
  const values = new Float64Array(rows.length);
  for (let index = 0; index < rows.length; index++) {
    const value = (rows[index] as EventRow)[column.name];
    if (validity.isPresent(index, value)) {
      if (!isFiniteDouble(value)) throw validity.invalid(index, value);
      values[index] = value;
    }
  }
  return makeData({ type: new Float64(), length: rows.length, ...validity.props(), data: values });
}

function buildTimestamp(column: EventColumn, rows: readonly EventRow[]): Data<TimestampMillisecond> {
  const validity = new Validity(column, rows.length);
  const values = new BigInt64Array(rows.length);
  for (let index = 0; index < rows.length; index++) {
    const value = (rows[index] as EventRow)[column.name];
    if (validity.isPresent(index, value)) {
      if (!isEpochMillis(value)) throw validity.invalid(index, value);
      values[index] = BigInt(value);
    }
  }
  return makeData({
    type: new TimestampMillisecond('UTC'),
    length: rows.length,
    ...validity.props(),
    data: values,
  });
}

function buildDate(column: EventColumn, rows: readonly EventRow[]): Data<DateDay> {
  const validity = new Validity(column, rows.length);
  const values = new Int32Array(rows.length);
  for (let index = 0; index < rows.length; index++) {
    const value = (rows[index] as EventRow)[column.name];
    if (validity.isPresent(index, value)) {
      const day = epochDayOf(value);
      if (day === undefined) throw validity.invalid(index, value);
      values[index] = day;
    }
  }
  return makeData({ type: new DateDay(), length: rows.length, ...validity.props(), data: values });
}

function buildUtf8(column: EventColumn, rows: readonly EventRow[]): Data<Utf8> {
  const validity = new Validity(column, rows.length);
  const valueOffsets = new Int32Array(rows.length + 1);
  // Sized so that ASCII text never grows the buffer: one UTF-8 byte per code unit, plus room for the
  // worst case of the longest value (a UTF-16 code unit never needs more than 3 UTF-8 bytes).
  let codeUnits = 0;
  let longest = 0;
  for (const row of rows) {
    const value = row[column.name];
    if (typeof value === 'string') {
      codeUnits += value.length;
      if (value.length > longest) longest = value.length;
    }
  }
  let bytes: Buffer = Buffer.allocUnsafe(codeUnits + longest * 3);
  let end = 0;
  for (let index = 0; index < rows.length; index++) {
    const value = (rows[index] as EventRow)[column.name];
    if (validity.isPresent(index, value)) {
      if (typeof value !== 'string') throw validity.invalid(index, value);
      if (bytes.length - end < value.length * 3) bytes = grow(bytes, end, end + value.length * 3);
      end += bytes.write(value, end, 'utf8');
      if (end > MAX_UTF8_BYTES) {
        throw new RangeError(
          `Column "${column.name}" exceeds 2 GiB of text: split the batch into smaller files.`,
        );
      }
    }
    valueOffsets[index + 1] = end;
  }
  return makeData({
    type: new Utf8(),
    length: rows.length,
    ...validity.props(),
    valueOffsets,
    data: bytes.subarray(0, end),
  });
}

/** Tracks nulls in a validity bitmap (bit set = value present); non-nullable columns get no bitmap. */
class Validity {
  private readonly bitmap: Uint8Array | undefined;
  private nullCount = 0;

  constructor(
    private readonly column: EventColumn,
    length: number,
  ) {
    this.bitmap = column.nullable ? new Uint8Array((length + 7) >> 3) : undefined;
  }

  /** Records whether rows[index] has a value; a null where none is allowed throws. */
  isPresent(index: number, value: unknown): value is NonNullable<unknown> {
    if (value === null || value === undefined) {
      if (!this.bitmap) throw this.invalid(index, value);
      this.nullCount++;
      return false;
    }
    if (this.bitmap) this.bitmap[index >> 3] = (this.bitmap[index >> 3] as number) | (1 << (index & 7));
    return true;
  }

  invalid(index: number, value: unknown): InvalidEventRowError {
    const { name, type, nullable } = this.column;
    return new InvalidEventRowError(index, name, type, nullable, value);
  }

  props(): { nullCount: number; nullBitmap: Uint8Array | undefined } {
    return { nullCount: this.nullCount, nullBitmap: this.bitmap };
  }
}

function grow(bytes: Buffer, used: number, needed: number): Buffer {
  const larger = Buffer.allocUnsafe(Math.max(needed, bytes.length * 2));
  bytes.copy(larger, 0, 0, used);
  return larger;
}
