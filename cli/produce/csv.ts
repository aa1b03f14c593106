import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { z } from 'zod';
import { PAYLOADS } from '../../lambdas/shared/events';
import { InputFormatError } from './errors';
import type { InputRecord } from './inputRecord';

/** Columns that are envelope fields; every other column is a payload field (`payload.` prefix optional). */
const ENVELOPE_COLUMNS = new Set([
  'event_id',
  'schema_version',
  'tenant_id',
  'event_type',
  'occurred_at',
  'user_id',
  'session_id',
]);

type JsonSchema = {
  type?: string;
  properties?: Record<string, JsonSchema>;
  anyOf?: JsonSchema[];
};

const payloadSchemas = new Map<string, JsonSchema>();
function payloadSchema(eventType: string): JsonSchema | null {
  const schema = PAYLOADS[eventType.trim().toLowerCase() as keyof typeof PAYLOADS];
  if (!schema) return null;
  let json = payloadSchemas.get(eventType);
  if (!json) {
    json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
    payloadSchemas.set(eventType, json);
  }
  return json;
}

/** The JSON type the event model expects at a payload path, read from the zod schema; null if unknown. */
function expectedType(schema: JsonSchema | null, path: readonly string[]): string | null {
  let candidates = schema ? [schema] : [];
  for (const key of path) {
    candidates = candidates
      .flatMap((c) => [c, ...(c.anyOf ?? [])])
      .map((c) => c.properties?.[key])
      .filter((c): c is JsonSchema => c !== undefined);
  }
  const types = candidates.flatMap((c) => [c, ...(c.anyOf ?? [])]).map((c) => c.type);
  return types.find((t) => t !== undefined) ?? null;
}

const NUMBER = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$/;

/** A cell as the value the schema expects: numbers and booleans parsed, arrays and objects as JSON. */
function coerce(text: string, type: string | null): unknown {
  if ((type === 'number' || type === 'integer') && NUMBER.test(text.trim())) return Number(text);
  if (type === 'boolean' && (text === 'true' || text === 'false')) return text === 'true';
  if (type === 'array' || type === 'object') {
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  }
  return text;
}

function setPath(target: Record<string, unknown>, path: readonly string[], value: unknown) {
  let node = target;
  for (const key of path.slice(0, -1)) {
    const child = node[key];
    if (typeof child !== 'object' || child === null || Array.isArray(child)) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[path[path.length - 1] as string] = value;
}

/**
 * Maps one CSV row onto an event: envelope columns at the top, `schema_version` as a number, every other
 * column into the payload (`payload.` prefix optional, dots nest: `location.latitude`), with numbers
 * parsed where the event type's schema expects them. A `payload` column holding a JSON object is merged
 * under the other payload columns. Empty cells are left out.
 *
 * @example
 * ```ts
 * csvRowToEvent(['event_type', 'amount'], ['payment_processed', '9.5']);
 * // { event_type: 'payment_processed', payload: { amount: 9.5 } }
 * ```
 */
export function csvRowToEvent(header: readonly string[], cells: readonly string[]): Record<string, unknown> {
  const event: Record<string, unknown> = {};
  const payload: Record<string, unknown> = {};
  const typeColumn = header.indexOf('event_type');
  const schema = payloadSchema(typeColumn >= 0 ? (cells[typeColumn] ?? '') : '');
  header.forEach((column, index) => {
    const text = cells[index] ?? '';
    if (text === '') return;
    if (column === 'schema_version') event[column] = NUMBER.test(text.trim()) ? Number(text) : text;
    else if (ENVELOPE_COLUMNS.has(column)) event[column] = text;
    else if (column === 'payload') {
      const value = coerce(text, 'object');
      if (typeof value === 'object' && value !== null && !Array.isArray(value)) Object.assign(payload, value);
      else event.payload = value;
    } else {
      const path = column.replace(/^payload\./, '').split('.');
      setPath(payload, path, coerce(text, expectedType(schema, path)));
    }
  });
  if (event.payload === undefined) event.payload = payload;
  return event;
}

/**
 * Splits CSV text into records of cells (RFC 4180: quoted fields may hold commas, quotes as `""` and
 * line breaks), across chunk boundaries. Yields each record with its line and its raw text.
 */
class CsvScanner {
  private cells: string[] = [];
  private cell = '';
  private raw = '';
  private quoted = false;
  private quoteClosed = false;
  private line = 1;
  private recordLine = 1;
  private pendingCr = false;

  *write(chunk: string): Generator<{ line: number; cells: string[]; raw: string }> {
    for (let i = 0; i < chunk.length; i++) {
      const ch = chunk[i] as string;
      if (this.pendingCr) {
        this.pendingCr = false;
        if (ch === '\n') continue;
      }
      if (this.quoted) {
        if (ch === '"') {
          if (chunk[i + 1] === undefined) {
            // The next character decides: defer by keeping state.
            this.quoted = false;
            this.quoteClosed = true;
            this.raw += ch;
            continue;
          }
          if (chunk[i + 1] === '"') {
            this.cell += '"';
            this.raw += '""';
            i++;
            continue;
          }
          this.quoted = false;
          this.quoteClosed = true;
          this.raw += ch;
          continue;
        }
        if (ch === '\n') this.line++;
        this.cell += ch;
        this.raw += ch;
        continue;
      }
      if (ch === '"' && this.quoteClosed) {
        // A quote right after a closing quote, split across chunks: an escaped quote.
        this.quoted = true;
        this.quoteClosed = false;
        this.cell += '"';
        this.raw += ch;
        continue;
      }
      if (ch === '"' && this.cell === '' && !this.quoteClosed) {
        this.quoted = true;
        this.raw += ch;
        continue;
      }
      if (ch === ',') {
        this.cells.push(this.cell);
        this.cell = '';
        this.quoteClosed = false;
        this.raw += ch;
        continue;
      }
      if (ch === '\n' || ch === '\r') {
        if (ch === '\r') this.pendingCr = true;
        const record = this.end();
        this.line++;
        this.recordLine = this.line;
        if (record) yield record;
        continue;
      }
      this.quoteClosed = false;
      this.cell += ch;
      this.raw += ch;
    }
  }

  end(): { line: number; cells: string[]; raw: string } | null {
    if (this.quoted) throw new InputFormatError(`line ${this.recordLine}: a quoted CSV field is not closed`);
    const cells = [...this.cells, this.cell];
    const record = { line: this.recordLine, cells, raw: this.raw };
    this.cells = [];
    this.cell = '';
    this.raw = '';
    this.quoteClosed = false;
    const blank = cells.length === 1 && cells[0] === '';
    return blank ? null : record;
  }
}

/**
 * Reads CSV with a header row, one event per row (see {@link csvRowToEvent}). A row with a different
 * number of cells than the header is passed on as its raw text, so the consumer's DLQ shows it.
 *
 * @example
 * ```ts
 * for await (const record of readCsv(createReadStream('events.csv'))) console.log(record.data);
 * ```
 */
export async function* readCsv(stream: Readable): AsyncGenerator<InputRecord> {
  const decoder = new StringDecoder('utf8');
  const scanner = new CsvScanner();
  let header: string[] | null = null;
  const toRecord = (record: { line: number; cells: string[]; raw: string }): InputRecord | null => {
    if (header === null) {
      header = record.cells.map((name, index) => (index === 0 ? name.replace(/^\uFEFF/, '') : name).trim());
      if (!header.includes('event_type'))
        throw new InputFormatError(`line ${record.line}: the CSV header has no event_type column`);
      return null;
    }
    if (record.cells.length !== header.length) return { line: record.line, data: record.raw };
    return { line: record.line, data: csvRowToEvent(header, record.cells) };
  };
  for await (const chunk of stream) {
    for (const record of scanner.write(decoder.write(chunk as Buffer))) {
      const out = toRecord(record);
      if (out) yield out;
    }
  }
  for (const record of scanner.write(decoder.end())) {
    const out = toRecord(record);
    if (out) yield out;
  }
  const last = scanner.end();
  if (last) {
    const out = toRecord(last);
    if (out) yield out;
  }
}
