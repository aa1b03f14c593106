import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { InputFormatError } from './errors';
import type { InputRecord } from './inputRecord';

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** An element as a record: the parsed object, or its text when it is not valid JSON or not an object. */
function toRecord(text: string, line: number): InputRecord {
  const trimmed = text.trim();
  try {
    const value: unknown = JSON.parse(trimmed);
    if (isObject(value)) return { line, data: value };
  } catch {
    // Sent as written: the consumer's DLQ says why it is not an event.
  }
  return { line, data: trimmed };
}

/**
 * Reads one JSON array (`[ {…}, {…} ]`) element by element without holding the array: a scanner finds
 * each top-level element's end (tracking strings, escapes and nesting), then the element alone is
 * parsed. An element that is not valid JSON is passed on as its text; a file that is not an array at
 * all, or ends inside it, is an {@link InputFormatError}.
 *
 * @example
 * ```ts
 * for await (const record of readJsonArray(createReadStream('events.json'))) console.log(record.data);
 * ```
 */
export async function* readJsonArray(stream: Readable): AsyncGenerator<InputRecord> {
  const decoder = new StringDecoder('utf8');
  let state: 'before' | 'inside' | 'after' = 'before';
  let depth = 0;
  let inString = false;
  let escaped = false;
  let element = '';
  let elementLine = 0;
  let line = 1;
  let elements = 0;
  let awaitingStart = false;
  const scan = function* (chunk: string): Generator<InputRecord> {
    let start = 0;
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk.charCodeAt(i);
      if (c === 10) line++;
      if (state === 'before') {
        if (c === 0x5b /* [ */) {
          state = 'inside';
          start = i + 1;
          awaitingStart = true;
        } else if (!(c === 0xfeff || c === 32 || c === 9 || c === 10 || c === 13))
          throw new InputFormatError(`line ${line}: expected a JSON array starting with [`);
        continue;
      }
      if (state === 'after') {
        if (!(c === 32 || c === 9 || c === 10 || c === 13))
          throw new InputFormatError(`line ${line}: unexpected text after the end of the JSON array`);
        continue;
      }
      const whitespace = c === 32 || c === 9 || c === 10 || c === 13;
      if (awaitingStart && !whitespace) {
        awaitingStart = false;
        elementLine = line;
      }
      if (inString) {
        if (escaped) escaped = false;
        else if (c === 0x5c /* \ */) escaped = true;
        else if (c === 0x22 /* " */) inString = false;
        continue;
      }
      if (c === 0x22) inString = true;
      else if (c === 0x7b || c === 0x5b) depth++;
      else if (c === 0x7d || c === 0x5d) {
        if (depth > 0) depth--;
        else if (c === 0x5d) {
          element += chunk.slice(start, i);
          if (element.trim() !== '') yield toRecord(element, elementLine);
          else if (elements > 0)
            throw new InputFormatError(`line ${line}: a comma before ] leaves an empty element`);
          element = '';
          state = 'after';
        }
      } else if (c === 0x2c /* , */ && depth === 0) {
        element += chunk.slice(start, i);
        if (element.trim() === '')
          throw new InputFormatError(`line ${line}: an empty element between commas`);
        yield toRecord(element, elementLine);
        elements++;
        element = '';
        start = i + 1;
        awaitingStart = true;
      }
    }
    if (state === 'inside') element += chunk.slice(start);
  };
  for await (const chunk of stream) {
    const text = decoder.write(chunk as Buffer);
    yield* scan(text);
  }
  yield* scan(decoder.end());
  if (state === 'before') return; // An empty file holds no records.
  if (state === 'inside') throw new InputFormatError(`line ${line}: the JSON array is not closed with ]`);
}
