import type { KinesisStreamRecord } from 'aws-lambda';
import { type Event, FORBIDDEN_CHARACTERS, parseEvent } from '../shared/events';

/** Why a record could not become an event. Each reason is a DLQ message's `reason`. */
export type InvalidReason =
  | 'invalid_utf8'
  | 'invalid_json'
  | 'not_an_object'
  | 'schema_violation'
  | 'invalid_partition_key';

export interface ValidationIssue {
  path: string;
  message: string;
}

export type Decoded =
  | { ok: true; event: Event }
  | { ok: false; reason: InvalidReason; issues: ValidationIssue[]; raw: Buffer };

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

/**
 * Decodes one Kinesis record: base64 → UTF-8 (strict, a leading BOM dropped) → JSON.parse → zod, and
 * checks the record's partition key, which becomes the `partition_key` column, like every other text
 * field: no control character (a newline would split the row for Athena's line-based CSV reader and let
 * a producer forge rows), unpaired surrogate, bidirectional control or U+FEFF.
 * Never throws: a bad record comes back with the reason and the issues that go to the DLQ.
 *
 * @example
 * ```ts
 * const decoded = decodeRecord(event.Records[0]);
 * if (!decoded.ok) console.log(decoded.reason, decoded.issues);
 * ```
 */
export function decodeRecord(record: KinesisStreamRecord): Decoded {
  const raw = Buffer.from(record.kinesis.data, 'base64');
  let text: string;
  try {
    text = utf8.decode(raw);
  } catch {
    return {
      ok: false,
      reason: 'invalid_utf8',
      issues: [{ path: '', message: 'payload is not valid UTF-8' }],
      raw,
    };
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    // RangeError from extreme nesting lands here too: it is a bad record, not a crash.
    return {
      ok: false,
      reason: 'invalid_json',
      issues: [{ path: '', message: (error as Error).message }],
      raw,
    };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    const kind = value === null ? 'null' : Array.isArray(value) ? 'an array' : `a ${typeof value}`;
    return {
      ok: false,
      reason: 'not_an_object',
      issues: [{ path: '', message: `expected an object, got ${kind}` }],
      raw,
    };
  }
  if (FORBIDDEN_CHARACTERS.test(record.kinesis.partitionKey)) {
    return {
      ok: false,
      reason: 'invalid_partition_key',
      issues: [
        {
          path: 'partition_key',
          message:
            'the record partition key contains a control character, an unpaired surrogate, a bidirectional control or U+FEFF',
        },
      ],
      raw,
    };
  }
  const parsed = parseEvent(value);
  if (!parsed.success) {
    const issues = parsed.error.issues.slice(0, 20).map((issue) => ({
      path: issue.path.map(String).join('.'),
      message: issue.message,
    }));
    return { ok: false, reason: 'schema_violation', issues, raw };
  }
  return { ok: true, event: parsed.data };
}
