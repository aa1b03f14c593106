/**
 * FilterCriteria for a Kinesis event source mapping (Lambda developer guide, "Control which events Lambda
 * sends to your function" and "Using event filtering with a Kinesis event source"):
 * - up to 5 filters by default (10 with a quota increase), logically ORed; a record that matches none is
 *   dropped: Lambda never invokes the function with it, and the shard iterator moves past it;
 * - a `Pattern` is a JSON string of at most 4,096 characters, in the EventBridge pattern syntax;
 * - the `data` key matches the record's data decoded from base64 and parsed as JSON; data that is not
 *   valid JSON never matches a pattern that has a `data` key, but still matches metadata-only patterns;
 * - a `data` pattern that is not a JSON object is rejected when the mapping is created;
 * - `$or` (EventBridge pattern syntax) takes a list of patterns of which at least one must match.
 * Lambda filters Kinesis records on `data` only ("Using event filtering with a Kinesis event source"): a
 * pattern that names any other top-level key (`partitionKey`, …) is refused at start, because the local
 * runtime cannot tell which records AWS would deliver with it (docs/ESM.md, "Event filtering"). All pure.
 */
import { InvalidFilterCriteriaError } from './errors';
import type { StreamRecord } from './eventShape';

/** Lambda's default quota of filters per event source mapping, and the most a quota increase allows. */
export const DEFAULT_MAX_FILTERS = 5;
export const MAX_FILTERS_WITH_QUOTA_INCREASE = 10;
/** `Filter.Pattern`: length constraints 0 to 4,096 (Lambda API reference, Filter). */
export const MAX_PATTERN_LENGTH = 4_096;

type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** A validated rule list or nested pattern. */
type PatternNode =
  | { kind: 'rules'; rules: Rule[] }
  /** Every field matches, and for each `$or` list at least one of its patterns matches the same value. */
  | { kind: 'object'; fields: Map<string, PatternNode>; anyOf: ObjectNode[][] };

type ObjectNode = Extract<PatternNode, { kind: 'object' }>;

type Rule =
  | { kind: 'equals'; value: string | number | boolean | null }
  | { kind: 'prefix'; value: string; ignoreCase: boolean }
  | { kind: 'suffix'; value: string; ignoreCase: boolean }
  | { kind: 'equals-ignore-case'; value: string }
  | { kind: 'anything-but'; values: Array<string | number> }
  | { kind: 'numeric'; conditions: Array<{ operator: NumericOperator; value: number }> }
  | { kind: 'exists'; value: boolean };

type NumericOperator = '=' | '<' | '<=' | '>' | '>=';

/** Compiled FilterCriteria: whether a record reaches the function. */
export interface RecordFilter {
  /** How many filters are ORed. */
  readonly filterCount: number;
  /** Fields whose rule list is empty (`[]`): they match nothing, so their filter drops every record. */
  readonly emptyRuleFields: readonly string[];
  matches(record: StreamRecord): boolean;
}

/**
 * Validates FilterCriteria the way CreateEventSourceMapping does and compiles it into a matcher; undefined
 * when there is nothing to filter (no criteria, or an empty filter list).
 *
 * @example
 * ```ts
 * const filter = compileFilterCriteria({ Filters: [{ Pattern: '{"data":{"type":["buy"]}}' }] });
 * filter?.matches({ sequenceNumber: '1', partitionKey: 'k', data: Buffer.from('{"type":"buy"}'),
 *   approximateArrivalTimestampMs: Date.now() }); // true
 * compileFilterCriteria({ Filters: [{ Pattern: '{"data":["buy"]}' }] });
 * // throws InvalidFilterCriteriaError: the data pattern must be a JSON object
 * ```
 */
export function compileFilterCriteria(
  criteria: { Filters?: ReadonlyArray<{ Pattern?: string }> } | undefined,
): RecordFilter | undefined {
  const filters = criteria?.Filters ?? [];
  if (filters.length === 0) return undefined;
  if (filters.length > MAX_FILTERS_WITH_QUOTA_INCREASE) {
    throw new InvalidFilterCriteriaError(
      undefined,
      `${filters.length} filters; Lambda allows ${DEFAULT_MAX_FILTERS} (up to ${MAX_FILTERS_WITH_QUOTA_INCREASE} with a quota increase)`,
    );
  }
  const emptyRuleFields: string[] = [];
  const patterns = filters.map((filter, index) => compilePattern(filter.Pattern, index, emptyRuleFields));
  return {
    filterCount: patterns.length,
    emptyRuleFields,
    matches(record) {
      const candidate = filterableRecord(record);
      // "Non-JSON data, valid JSON filter pattern for data: Lambda drops the record", whatever the rules.
      return 'data' in candidate && patterns.some((pattern) => matchesObject(pattern, candidate));
    },
  };
}

/**
 * What a pattern is matched against: `{ data }`, the record's data decoded and parsed (empty when the
 * data is not valid UTF-8 JSON, so no pattern matches it). Lambda filters Kinesis records on data only.
 *
 * @example
 * ```ts
 * filterableRecord({ sequenceNumber: '7', partitionKey: 'k', data: Buffer.from('{"a":1}'),
 *   approximateArrivalTimestampMs: 1_500 });
 * // { data: { a: 1 } }
 * ```
 */
export function filterableRecord(record: StreamRecord): Record<string, JsonValue> {
  const data = parseJsonData(record.data);
  return data === undefined ? {} : { data };
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

function parseJsonData(bytes: Uint8Array): JsonValue | undefined {
  try {
    return JSON.parse(UTF8.decode(bytes)) as JsonValue;
  } catch {
    return undefined;
  }
}

// Validation: every malformed pattern is refused at start, with the filter and the reason named.

function compilePattern(
  pattern: string | undefined,
  index: number,
  emptyRuleFields: string[],
): Extract<PatternNode, { kind: 'object' }> {
  if (typeof pattern !== 'string') throw new InvalidFilterCriteriaError(index, 'Pattern is missing');
  if (pattern.length > MAX_PATTERN_LENGTH) {
    throw new InvalidFilterCriteriaError(
      index,
      `Pattern is ${pattern.length} characters; Lambda allows ${MAX_PATTERN_LENGTH}`,
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(pattern);
  } catch (error) {
    throw new InvalidFilterCriteriaError(index, `Pattern is not valid JSON (${(error as Error).message})`);
  }
  if (!isPlainObject(parsed)) throw new InvalidFilterCriteriaError(index, 'Pattern must be a JSON object');
  const topLevel = topLevelKeys(parsed);
  const other = topLevel.find((key) => key !== 'data');
  if (other !== undefined) {
    throw new InvalidFilterCriteriaError(
      index,
      `${other}: Lambda filters Kinesis records on the data key only, so a pattern on ${other} is refused ` +
        '(match a field inside data instead, e.g. {"data":{"type":["buy"]}})',
    );
  }
  if (topLevel.length === 0) {
    throw new InvalidFilterCriteriaError(
      index,
      'Pattern names no data key: it would match every JSON record',
    );
  }
  if ('data' in parsed && !isPlainObject(parsed.data)) {
    throw new InvalidFilterCriteriaError(
      index,
      'the data pattern must be a JSON object: Kinesis data is matched as JSON, so a plain-string data ' +
        'pattern is rejected when the mapping is created',
    );
  }
  return compileObject(parsed, index, '', emptyRuleFields);
}

function compileObject(
  value: Record<string, unknown>,
  index: number,
  path: string,
  emptyRuleFields: string[],
): Extract<PatternNode, { kind: 'object' }> {
  const fields = new Map<string, PatternNode>();
  const anyOf: ObjectNode[][] = [];
  for (const [key, child] of Object.entries(value)) {
    const childPath = path === '' ? key : `${path}.${key}`;
    if (key === '$or') {
      if (!Array.isArray(child) || child.length < 2 || !child.every(isPlainObject)) {
        throw new InvalidFilterCriteriaError(
          index,
          `${childPath}: $or takes a list of at least two patterns`,
        );
      }
      anyOf.push(child.map((branch) => compileObject(branch, index, path, emptyRuleFields)));
      continue;
    }
    if (key.startsWith('$')) {
      throw new InvalidFilterCriteriaError(
        index,
        `${childPath}: ${key} is not a Lambda event filtering operator`,
      );
    }
    if (Array.isArray(child)) {
      if (child.length === 0) emptyRuleFields.push(childPath);
      fields.set(key, { kind: 'rules', rules: child.map((rule) => compileRule(rule, index, childPath)) });
    } else if (isPlainObject(child)) {
      fields.set(key, compileObject(child, index, childPath, emptyRuleFields));
    } else {
      throw new InvalidFilterCriteriaError(
        index,
        `${childPath}: a field's rules must be a list (e.g. ["value"]) or a nested object, not ${JSON.stringify(child)}`,
      );
    }
  }
  return { kind: 'object', fields, anyOf };
}

/** The top-level keys of a pattern, with those inside top-level `$or` branches. */
function topLevelKeys(pattern: Record<string, unknown>): string[] {
  return Object.entries(pattern).flatMap(([key, value]) =>
    key === '$or' && Array.isArray(value)
      ? value.flatMap((branch) => (isPlainObject(branch) ? topLevelKeys(branch) : []))
      : [key],
  );
}

function compileRule(rule: unknown, index: number, path: string): Rule {
  if (rule === null || typeof rule === 'string' || typeof rule === 'number' || typeof rule === 'boolean') {
    return { kind: 'equals', value: rule };
  }
  const invalid = (reason: string) => new InvalidFilterCriteriaError(index, `${path}: ${reason}`);
  if (!isPlainObject(rule)) throw invalid(`${JSON.stringify(rule)} is not a rule`);
  const keys = Object.keys(rule);
  if (keys.length !== 1) throw invalid(`a rule object has exactly one operator, not ${JSON.stringify(rule)}`);
  const operator = keys[0] as string;
  const operand = rule[operator];
  switch (operator) {
    case 'prefix':
    case 'suffix': {
      if (typeof operand === 'string') return { kind: operator, value: operand, ignoreCase: false };
      if (isPlainObject(operand) && typeof operand['equals-ignore-case'] === 'string') {
        if (Object.keys(operand).length === 1) {
          return { kind: operator, value: operand['equals-ignore-case'], ignoreCase: true };
        }
      }
      throw invalid(`${operator} takes a string or { "equals-ignore-case": string }`);
    }
    case 'equals-ignore-case':
      if (typeof operand === 'string') return { kind: 'equals-ignore-case', value: operand };
      throw invalid('equals-ignore-case takes a string');
    case 'anything-but': {
      const values = Array.isArray(operand) ? operand : [operand];
      if (
        values.length > 0 &&
        values.every((value) => typeof value === 'string' || typeof value === 'number')
      ) {
        return { kind: 'anything-but', values: values as Array<string | number> };
      }
      // EventBridge's anything-but with prefix, suffix, equals-ignore-case or wildcard is not available to
      // Lambda event source mappings (the EventBridge operator table marks it unsupported for Pipes).
      throw invalid('anything-but takes a string, a number, or a non-empty list of them');
    }
    case 'numeric':
      return { kind: 'numeric', conditions: compileNumeric(operand, invalid) };
    case 'exists':
      if (typeof operand === 'boolean') return { kind: 'exists', value: operand };
      throw invalid('exists takes true or false');
    default:
      throw invalid(
        `${operator} is not a Lambda event filtering operator (supported: prefix, suffix, equals-ignore-case, ` +
          'anything-but, numeric, exists, and plain values)',
      );
  }
}

const LOWER_BOUNDS = new Set(['>', '>=']);
const UPPER_BOUNDS = new Set(['<', '<=']);

function compileNumeric(
  operand: unknown,
  invalid: (reason: string) => InvalidFilterCriteriaError,
): Array<{ operator: NumericOperator; value: number }> {
  const shape = 'numeric takes ["=", n], one bound like [">", n], or a range like [">", n, "<=", m]';
  if (!Array.isArray(operand) || (operand.length !== 2 && operand.length !== 4)) throw invalid(shape);
  const conditions: Array<{ operator: NumericOperator; value: number }> = [];
  for (let i = 0; i < operand.length; i += 2) {
    const operator = operand[i];
    const value = operand[i + 1];
    if (
      !['=', '<', '<=', '>', '>='].includes(operator as string) ||
      typeof value !== 'number' ||
      !Number.isFinite(value)
    ) {
      throw invalid(shape);
    }
    conditions.push({ operator: operator as NumericOperator, value });
  }
  if (conditions.length === 2) {
    const [lower, upper] = conditions as [
      { operator: NumericOperator; value: number },
      { operator: NumericOperator; value: number },
    ];
    if (
      !LOWER_BOUNDS.has(lower.operator) ||
      !UPPER_BOUNDS.has(upper.operator) ||
      lower.value >= upper.value
    ) {
      throw invalid(`${shape}, with the lower bound first and below the upper bound`);
    }
  }
  return conditions;
}

// Matching, as EventBridge patterns match: every field of a pattern must match (AND), any rule of a
// field's list may match (OR), and an array value matches if any of its elements does.

function matchesObject(pattern: ObjectNode, value: JsonValue | undefined): boolean {
  const object = isPlainObject(value) ? value : undefined;
  for (const [key, node] of pattern.fields) {
    const field = object?.[key];
    if (!matchesNode(node, field)) return false;
  }
  return pattern.anyOf.every((branches) => branches.some((branch) => matchesObject(branch, value)));
}

function matchesNode(node: PatternNode, value: JsonValue | undefined): boolean {
  if (node.kind === 'object') {
    if (Array.isArray(value)) return value.some((element) => matchesObject(node, element));
    return matchesObject(node, value);
  }
  return node.rules.some((rule) => matchesRule(rule, value));
}

function matchesRule(rule: Rule, value: JsonValue | undefined): boolean {
  if (rule.kind === 'exists') return rule.value === (value !== undefined);
  if (value === undefined) return false;
  if (Array.isArray(value)) return value.some((element) => matchesLeaf(rule, element));
  return matchesLeaf(rule, value);
}

function matchesLeaf(rule: Exclude<Rule, { kind: 'exists' }>, value: JsonValue): boolean {
  switch (rule.kind) {
    case 'equals':
      return value === rule.value;
    case 'prefix':
      return (
        typeof value === 'string' &&
        (rule.ignoreCase
          ? value.toLowerCase().startsWith(rule.value.toLowerCase())
          : value.startsWith(rule.value))
      );
    case 'suffix':
      return (
        typeof value === 'string' &&
        (rule.ignoreCase
          ? value.toLowerCase().endsWith(rule.value.toLowerCase())
          : value.endsWith(rule.value))
      );
    case 'equals-ignore-case':
      return typeof value === 'string' && value.toLowerCase() === rule.value.toLowerCase();
    case 'anything-but':
      return !isPlainObject(value) && !rule.values.includes(value as string | number);
    case 'numeric':
      return typeof value === 'number' && rule.conditions.every((condition) => compare(value, condition));
  }
}

function compare(value: number, condition: { operator: NumericOperator; value: number }): boolean {
  switch (condition.operator) {
    case '=':
      return value === condition.value;
    case '<':
      return value < condition.value;
    case '<=':
      return value <= condition.value;
    case '>':
      return value > condition.value;
    case '>=':
      return value >= condition.value;
  }
}

function isPlainObject(value: unknown): value is Record<string, JsonValue> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
