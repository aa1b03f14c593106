import {
  Bool,
  type Data,
  type DataType,
  Field,
  Float64,
  Int32,
  Int64,
  List,
  makeData,
  RecordBatch,
  Schema,
  Struct,
  Table,
  TimestampMillisecond,
  tableToIPC,
  Utf8,
} from 'apache-arrow';
import { Compression, Table as WasmTable, WriterPropertiesBuilder, writeParquet } from 'parquet-wasm/node';
import type { AnalyticsColumn, AnalyticsColumnType } from '../../shared/analyticsRows';
import { ShardlineError } from '../../shared/errors';

/**
 * A Parquet encoder for any column list (the analytics datasets), built the same way as `encodeParquet`
 * for events: hand-made Arrow vectors, then parquet-wasm with Snappy. The event encoder keeps its own
 * tuned path; this one favours generality, as analytics files hold hundreds of rows, not millions.
 */

/** A row does not fit its column list: a null where none is allowed, or a value of the wrong type. */
export class InvalidColumnValueError extends ShardlineError {
  constructor(
    readonly rowIndex: number,
    readonly column: string,
    readonly columnType: AnalyticsColumnType,
    value: unknown,
  ) {
    super(
      `Row ${rowIndex}, column "${column}": expected ${columnType}, got ${value === null ? 'null' : typeof value}. ` +
        'Fix the step that builds the row: the encoder writes only rows that match their columns.',
    );
    this.name = 'InvalidColumnValueError';
  }
}

const ARROW_TYPE: Record<AnalyticsColumnType, () => DataType> = {
  string: () => new Utf8(),
  int32: () => new Int32(),
  int64: () => new Int64(),
  double: () => new Float64(),
  boolean: () => new Bool(),
  timestamptz: () => new TimestampMillisecond('UTC'),
  string_list: () => new List(new Field('item', new Utf8(), false)),
};

const encoder = new TextEncoder();

function utf8Data(values: readonly (string | null)[], nullBitmap?: Uint8Array, nullCount = 0): Data<Utf8> {
  const chunks = values.map((v) => (v === null ? new Uint8Array(0) : encoder.encode(v)));
  const valueOffsets = new Int32Array(values.length + 1);
  let total = 0;
  chunks.forEach((chunk, i) => {
    total += chunk.byteLength;
    valueOffsets[i + 1] = total;
  });
  const data = new Uint8Array(total);
  chunks.forEach((chunk, i) => {
    data.set(chunk, valueOffsets[i] as number);
  });
  return makeData({ type: new Utf8(), length: values.length, nullCount, nullBitmap, valueOffsets, data });
}

function buildColumn<Row>(column: AnalyticsColumn<Row>, rows: readonly Row[]): Data {
  const length = rows.length;
  const bitmap = new Uint8Array((length + 7) >> 3);
  let nullCount = 0;
  const values = rows.map((row, index) => {
    const value = row[column.name] as unknown;
    if (value === null || value === undefined) {
      if (!column.nullable) throw new InvalidColumnValueError(index, column.name, column.type, null);
      nullCount++;
      return null;
    }
    bitmap[index >> 3] = (bitmap[index >> 3] as number) | (1 << (index & 7));
    return value;
  });
  const validity = { nullCount, nullBitmap: column.nullable ? bitmap : undefined };
  const invalid = (index: number, value: unknown) =>
    new InvalidColumnValueError(index, column.name, column.type, value);

  switch (column.type) {
    case 'string':
      return utf8Data(
        values.map((v, i) => {
          if (v !== null && typeof v !== 'string') throw invalid(i, v);
          return v as string | null;
        }),
        validity.nullBitmap,
        nullCount,
      );
    case 'int32': {
      const data = new Int32Array(length);
      values.forEach((v, i) => {
        if (v === null) return;
        if (typeof v !== 'number' || (v | 0) !== v) throw invalid(i, v);
        data[i] = v;
      });
      return makeData({ type: new Int32(), length, ...validity, data });
    }
    case 'int64':
    case 'timestamptz': {
      const data = new BigInt64Array(length);
      values.forEach((v, i) => {
        if (v === null) return;
        if (!Number.isSafeInteger(v)) throw invalid(i, v);
        data[i] = BigInt(v as number);
      });
      const type = column.type === 'int64' ? new Int64() : new TimestampMillisecond('UTC');
      return makeData({ type, length, ...validity, data } as never);
    }
    case 'double': {
      const data = new Float64Array(length);
      values.forEach((v, i) => {
        if (v === null) return;
        if (typeof v !== 'number' || !Number.isFinite(v)) throw invalid(i, v);
        data[i] = v;
      });
      return makeData({ type: new Float64(), length, ...validity, data });
    }
    case 'boolean': {
      const data = new Uint8Array((length + 7) >> 3);
      values.forEach((v, i) => {
        if (v === null) return;
        if (typeof v !== 'boolean') throw invalid(i, v);
        if (v) data[i >> 3] = (data[i >> 3] as number) | (1 << (i & 7));
      });
      return makeData({ type: new Bool(), length, ...validity, data });
    }
    case 'string_list': {
      const valueOffsets = new Int32Array(length + 1);
      const items: string[] = [];
      values.forEach((v, i) => {
        if (v !== null) {
          if (!Array.isArray(v) || v.some((item) => typeof item !== 'string')) throw invalid(i, v);
          items.push(...(v as string[]));
        }
        valueOffsets[i + 1] = items.length;
      });
      const type = ARROW_TYPE.string_list() as List<Utf8>;
      return makeData({ type, length, ...validity, valueOffsets, child: utf8Data(items) });
    }
  }
}

/**
 * Encodes rows as one Parquet file with the given columns, in order: strings as UTF8, int32/int64,
 * doubles, booleans, timestamps as TIMESTAMP(MILLIS, adjusted to UTC), string lists as LIST<UTF8>.
 * Nullable columns are OPTIONAL, the others REQUIRED. No rows give a valid, empty file with the schema.
 * Throws {@link InvalidColumnValueError} for a value that does not fit its column.
 *
 * @example
 * ```ts
 * import { ALERT_COLUMNS } from '../../shared/analyticsRows';
 * const bytes = encodeParquetRows(ALERT_COLUMNS, []);
 * // DuckDB: SELECT count(*) FROM 'alerts.parquet' → 0
 * ```
 */
export function encodeParquetRows<Row>(
  columns: ReadonlyArray<AnalyticsColumn<Row>>,
  rows: readonly Row[],
): Uint8Array {
  const schema = new Schema(columns.map((c) => new Field(c.name, ARROW_TYPE[c.type](), c.nullable)));
  const data = makeData({
    type: new Struct(schema.fields),
    length: rows.length,
    nullCount: 0,
    children: columns.map((c) => buildColumn(c, rows)),
  });
  const table = new Table(schema, new RecordBatch(schema, data));
  const properties = new WriterPropertiesBuilder()
    .setCompression(Compression.SNAPPY)
    .setDictionaryEnabled(true)
    .build();
  return writeParquet(WasmTable.fromIPCStream(tableToIPC(table, 'stream')), properties);
}
