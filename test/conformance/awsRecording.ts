/**
 * Compares what the local mapping produced with a body AWS produced (test/fixtures/aws/), field for field.
 * The recordings replace values that differ by nature (ids, timestamps, sequence numbers, ARN parts) with
 * placeholders such as `<uuid:2>` or `<timestamp:…>`; a placeholder matches a value of its kind, and the
 * same numbered placeholder must stand for the same value everywhere in one body. Everything else must be
 * equal, and objects must have the same keys in the same order.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export const AWS_FIXTURES = join(import.meta.dirname, '../fixtures/aws');

/** Reads a recorded AWS body. */
export function recordedBody(name: string): unknown {
  return JSON.parse(readFileSync(join(AWS_FIXTURES, name), 'utf8'));
}

const PLACEHOLDER = /<([a-z0-9-]+)(?::([^>]*))?>/g;

/** The pattern a placeholder's value must match, by its kind. */
function kindPattern(kind: string): string {
  switch (kind) {
    case 'uuid':
      return '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
    case 'timestamp':
      return '\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{3}Z';
    case 'sequence-number':
    case 'start-sequence-number':
      return '\\d{1,128}';
    case 'kinesis-shard-id':
      return 'shardId-\\d{12}';
    case 'partition':
      return 'aws[a-z-]*';
    case 'region':
      return '[a-z]{2}(?:-[a-z]+)+-\\d';
    case 'resource':
      return '[^:/]+';
    default:
      throw new Error(`unknown placeholder kind <${kind}> in a recording`);
  }
}

/**
 * The differences between a local value and a recorded one (empty when they conform).
 *
 * @example
 * ```ts
 * expect(differencesFromRecording(message, recordedBody('sqs-record-age-exceeded-before-invocation.json'))).toEqual([]);
 * ```
 */
export function differencesFromRecording(local: unknown, recorded: unknown): string[] {
  const bindings = new Map<string, string>();
  const differences: string[] = [];
  compare(local, recorded, '$', bindings, differences);
  return differences;
}

function compare(
  local: unknown,
  recorded: unknown,
  path: string,
  bindings: Map<string, string>,
  differences: string[],
): void {
  if (recorded === '<approximate-arrival-timestamp>') {
    if (typeof local !== 'number')
      differences.push(`${path}: expected a number (seconds), got ${show(local)}`);
    return;
  }
  if (typeof recorded === 'string' && recorded.includes('<')) {
    if (typeof local !== 'string') {
      differences.push(`${path}: expected a string like ${recorded}, got ${show(local)}`);
      return;
    }
    matchPlaceholders(local, recorded, path, bindings, differences);
    return;
  }
  // AWS's 111111111111 is the account the recording ran in: any 12-digit account conforms.
  if (typeof recorded === 'string' && typeof local === 'string' && recorded.includes('111111111111')) {
    matchPlaceholders(local, recorded, path, bindings, differences);
    return;
  }
  if (Array.isArray(recorded)) {
    if (!Array.isArray(local) || local.length !== recorded.length) {
      differences.push(`${path}: expected an array of ${recorded.length}, got ${show(local)}`);
      return;
    }
    recorded.forEach((item, index) => {
      compare(local[index], item, `${path}[${index}]`, bindings, differences);
    });
    return;
  }
  if (recorded !== null && typeof recorded === 'object') {
    if (local === null || typeof local !== 'object' || Array.isArray(local)) {
      differences.push(`${path}: expected an object, got ${show(local)}`);
      return;
    }
    const recordedKeys = Object.keys(recorded);
    const localKeys = Object.keys(local);
    if (recordedKeys.join(',') !== localKeys.join(',')) {
      differences.push(`${path}: keys [${localKeys.join(', ')}], AWS sends [${recordedKeys.join(', ')}]`);
    }
    for (const key of recordedKeys) {
      if (key in local) {
        compare(
          (local as Record<string, unknown>)[key],
          (recorded as Record<string, unknown>)[key],
          `${path}.${key}`,
          bindings,
          differences,
        );
      }
    }
    return;
  }
  if (local !== recorded) differences.push(`${path}: ${show(local)}, AWS sends ${show(recorded)}`);
}

function matchPlaceholders(
  local: string,
  recorded: string,
  path: string,
  bindings: Map<string, string>,
  differences: string[],
): void {
  const tokens: string[] = [];
  let source = '';
  let last = 0;
  for (const match of recorded.matchAll(PLACEHOLDER)) {
    source += escapeRegExp(recorded.slice(last, match.index)).replaceAll('111111111111', '\\d{12}');
    source += `(${kindPattern(match[1] as string)})`;
    tokens.push(match[0]);
    last = (match.index ?? 0) + match[0].length;
  }
  source += escapeRegExp(recorded.slice(last)).replaceAll('111111111111', '\\d{12}');
  const found = new RegExp(`^${source}$`).exec(local);
  if (!found) {
    differences.push(`${path}: ${show(local)} is not of the form ${recorded}`);
    return;
  }
  tokens.forEach((token, index) => {
    // Numbered placeholders name one value; kinds without a number (<region>) may vary freely.
    if (!token.includes(':') || token.startsWith('<timestamp')) return;
    const value = found[index + 1] as string;
    const bound = bindings.get(token);
    if (bound === undefined) bindings.set(token, value);
    else if (bound !== value) differences.push(`${path}: ${token} is ${value} here but ${bound} elsewhere`);
  });
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function show(value: unknown): string {
  return JSON.stringify(value) ?? String(value);
}
