import { describe, expect, test } from 'vitest';
import { InvalidFilterCriteriaError } from '../../../local/esm/errors';
import { compileFilterCriteria, filterableRecord } from '../../../local/esm/filterCriteria';

// Lambda developer guide: "Control which events Lambda sends to your function" (filter rule syntax, the
// comparison operators) and "Using event filtering with a Kinesis event source" (the data key, JSON data).

function record(data: unknown, partitionKey = 'key-1') {
  return {
    sequenceNumber: '49590338271490256608559692538361571095921575989136588898',
    partitionKey,
    data: Buffer.from(typeof data === 'string' ? data : JSON.stringify(data)),
    approximateArrivalTimestampMs: 1_545_084_650_987,
  };
}

function matches(pattern: unknown, data: unknown, partitionKey?: string): boolean {
  const filter = compileFilterCriteria({ Filters: [{ Pattern: JSON.stringify(pattern) }] });
  if (!filter) throw new Error('no filter compiled');
  return filter.matches(record(data, partitionKey));
}

describe('event filtering: the comparison operators of the filter rule syntax', () => {
  test.each([
    ['Equals: Name is "Alice"', { Name: ['Alice'] }, { Name: 'Alice' }, { Name: 'Bob' }],
    [
      'Or: PaymentType is "Credit" or "Debit"',
      { PaymentType: ['Credit', 'Debit'] },
      { PaymentType: 'Debit' },
      { PaymentType: 'Cash' },
    ],
    [
      'And: Location and Day',
      { Location: ['New York'], Day: ['Monday'] },
      { Location: 'New York', Day: 'Monday' },
      { Location: 'New York', Day: 'Friday' },
    ],
    ['Null: UserID is null', { UserID: [null] }, { UserID: null }, { UserID: 'u1' }],
    ['Empty: LastName is empty', { LastName: [''] }, { LastName: '' }, { LastName: 'Doe' }],
    [
      'Equals (ignore case)',
      { Name: [{ 'equals-ignore-case': 'alice' }] },
      { Name: 'ALICE' },
      { Name: 'Alicia' },
    ],
    [
      'Not: Weather is anything but "Raining"',
      { Weather: [{ 'anything-but': ['Raining'] }] },
      { Weather: 'Sunny' },
      { Weather: 'Raining' },
    ],
    [
      'Not, with a single value',
      { Weather: [{ 'anything-but': 'Raining' }] },
      { Weather: 'Snow' },
      { Weather: 'Raining' },
    ],
    ['Numeric (equals): Price is 100', { Price: [{ numeric: ['=', 100] }] }, { Price: 100 }, { Price: 101 }],
    [
      'Numeric (range): 10 < Price <= 20',
      { Price: [{ numeric: ['>', 10, '<=', 20] }] },
      { Price: 20 },
      { Price: 10 },
    ],
    ['Exists: ProductName exists', { ProductName: [{ exists: true }] }, { ProductName: 'x' }, { Other: 'x' }],
    [
      'Does not exist: ProductName does not exist',
      { ProductName: [{ exists: false }] },
      { Other: 'x' },
      { ProductName: 'x' },
    ],
    [
      'Begins with: Region is in the US',
      { Region: [{ prefix: 'us-' }] },
      { Region: 'us-east-1' },
      { Region: 'eu-west-1' },
    ],
    [
      'Begins with (ignore case)',
      { Region: [{ prefix: { 'equals-ignore-case': 'US-' } }] },
      { Region: 'us-west-2' },
      { Region: 'eu-west-1' },
    ],
    [
      'Ends with: FileName ends with .png',
      { FileName: [{ suffix: '.png' }] },
      { FileName: 'a.png' },
      { FileName: 'a.jpg' },
    ],
    [
      'Ends with (ignore case)',
      { FileName: [{ suffix: { 'equals-ignore-case': '.PNG' } }] },
      { FileName: 'a.png' },
      { FileName: 'a.gif' },
    ],
  ])('%s', (_name, rule, matching, notMatching) => {
    expect(matches({ data: rule }, matching)).toBe(true);
    expect(matches({ data: rule }, notMatching)).toBe(false);
  });

  test('strings match character by character, without case folding', () => {
    expect(matches({ data: { City: ['Seattle'] } }, { City: 'seattle' })).toBe(false);
  });

  test('numeric rules match JSON numbers only, not numeric strings', () => {
    expect(matches({ data: { Temperature: [{ numeric: ['>', 40] }] } }, { Temperature: '46' })).toBe(false);
    expect(matches({ data: { Temperature: [{ numeric: ['>', 40] }] } }, { Temperature: 46 })).toBe(true);
  });

  test('nested data fields are matched level by level (multi-level filtering)', () => {
    const pattern = { data: { order: { type: ['buy'], quantity: [{ numeric: ['>=', 1000] }] } } };
    expect(matches(pattern, { record: 12345, order: { type: 'buy', stock: 'ANYCO', quantity: 1000 } })).toBe(
      true,
    );
    expect(matches(pattern, { record: 12345, order: { type: 'buy', quantity: 10 } })).toBe(false);
    expect(matches(pattern, { record: 12345 })).toBe(false);
  });

  test('an array value matches when any of its elements does', () => {
    expect(matches({ data: { tags: ['red'] } }, { tags: ['blue', 'red'] })).toBe(true);
    expect(matches({ data: { tags: ['red'] } }, { tags: ['blue'] })).toBe(false);
  });

  test('"exists": false also matches when a parent object is missing', () => {
    expect(matches({ data: { order: { coupon: [{ exists: false }] } } }, { record: 1 })).toBe(true);
  });

  test('anything-but does not match a missing field', () => {
    expect(matches({ data: { Weather: [{ 'anything-but': ['Raining'] }] } }, { Other: 1 })).toBe(false);
  });
});

describe('event filtering on Kinesis records', () => {
  test('filters are ORed: a record passes if it satisfies any one of them', () => {
    const filter = compileFilterCriteria({
      Filters: [{ Pattern: '{"data":{"type":["buy"]}}' }, { Pattern: '{"data":{"type":["sell"]}}' }],
    });
    expect(filter?.matches(record({ type: 'sell' }))).toBe(true);
    expect(filter?.matches(record({ type: 'hold' }))).toBe(false);
  });

  test('data that is not valid JSON never matches a data pattern', () => {
    expect(matches({ data: { type: ['buy'] } }, 'buy')).toBe(false);
    expect(matches({ data: { type: [{ exists: false }] } }, 'not json')).toBe(false);
  });

  test('$or matches when any of its patterns matches', () => {
    const pattern = { data: { $or: [{ type: ['buy'] }, { quantity: [{ numeric: ['>', 100] }] }] } };
    expect(matches(pattern, { type: 'buy', quantity: 1 })).toBe(true);
    expect(matches(pattern, { type: 'sell', quantity: 500 })).toBe(true);
    expect(matches(pattern, { type: 'sell', quantity: 5 })).toBe(false);
  });

  test('$or combines with the other fields of its pattern: both must hold', () => {
    const pattern = { data: { region: ['eu'], $or: [{ type: ['buy'] }, { type: ['hold'] }] } };
    expect(matches(pattern, { region: 'eu', type: 'hold' })).toBe(true);
    expect(matches(pattern, { region: 'us', type: 'hold' })).toBe(false);
  });

  test('a top-level $or whose branches each name data is accepted', () => {
    const pattern = { $or: [{ data: { type: ['buy'] } }, { data: { type: ['sell'] } }] };
    expect(matches(pattern, { type: 'sell' })).toBe(true);
    expect(matches(pattern, { type: 'hold' })).toBe(false);
  });

  test('a pattern sees only the data, decoded and parsed: Lambda filters Kinesis records on data', () => {
    expect(filterableRecord(record({ a: 1 }))).toEqual({ data: { a: 1 } });
  });

  test('data that is not UTF-8 counts as not JSON', () => {
    const binary = { ...record(''), data: new Uint8Array([0xff, 0xfe, 0x7b, 0x7d]) };
    expect(filterableRecord(binary).data).toBeUndefined();
  });

  test('no criteria, or an empty filter list, filters nothing', () => {
    expect(compileFilterCriteria(undefined)).toBeUndefined();
    expect(compileFilterCriteria({ Filters: [] })).toBeUndefined();
  });

  test('the compiled criteria report empty rule lists, for the start-up warnings', () => {
    const filter = compileFilterCriteria({ Filters: [{ Pattern: '{"data":{"x":[]}}' }] });
    expect(filter?.emptyRuleFields).toEqual(['data.x']);
  });
});

describe('invalid filter criteria are refused like CreateEventSourceMapping refuses them', () => {
  test.each([
    ['a pattern that is not JSON', '{data: 1}', /not valid JSON/],
    ['a pattern that is not an object', '["buy"]', /must be a JSON object/],
    [
      'a pattern on the partition key (Lambda filters on data only)',
      '{"partitionKey":["a"]}',
      /data key only/,
    ],
    ['a pattern on metadata beside data', '{"partitionKey":["1"],"data":{"a":["b"]}}', /data key only/],
    ['a $or of one pattern', '{"data":{"$or":[{"a":["b"]}]}}', /at least two patterns/],
    [
      'a plain-string data pattern (Kinesis data is matched as JSON)',
      '{"data":["buy"]}',
      /data pattern must be a JSON object/,
    ],
    ['a rule that is not a list', '{"data":{"type":"buy"}}', /must be a list/],
    [
      'an unknown operator',
      '{"data":{"a":[{"contains":"x"}]}}',
      /contains is not a Lambda event filtering operator/,
    ],
    ['wildcard (not available to Lambda)', '{"data":{"a":[{"wildcard":"x*"}]}}', /wildcard is not a Lambda/],
    [
      'anything-but with a prefix (not available to Lambda)',
      '{"data":{"a":[{"anything-but":{"prefix":"x"}}]}}',
      /anything-but takes/,
    ],
    [
      'a numeric range with the bounds reversed',
      '{"data":{"a":[{"numeric":["<",5,">",1]}]}}',
      /lower bound first/,
    ],
    ['a numeric rule without a number', '{"data":{"a":[{"numeric":[">","5"]}]}}', /numeric takes/],
    [
      'a rule object with two operators',
      '{"data":{"a":[{"prefix":"x","suffix":"y"}]}}',
      /exactly one operator/,
    ],
    ['exists with a non-boolean', '{"data":{"a":[{"exists":"yes"}]}}', /exists takes true or false/],
    [
      'a pattern longer than 4,096 characters',
      `{"data":{"a":["${'x'.repeat(4_100)}"]}}`,
      /Lambda allows 4096/,
    ],
  ])('%s', (_name, pattern, reason) => {
    const compile = () => compileFilterCriteria({ Filters: [{ Pattern: pattern }] });
    expect(compile).toThrow(InvalidFilterCriteriaError);
    expect(compile).toThrow(reason);
  });

  test('the error names the offending filter', () => {
    try {
      compileFilterCriteria({ Filters: [{ Pattern: '{"data":{"a":[1]}}' }, { Pattern: '{"data":["x"]}' }] });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidFilterCriteriaError);
      expect((error as InvalidFilterCriteriaError).filterIndex).toBe(1);
      expect((error as Error).message).toMatch(/^FilterCriteria filter 1 is invalid: /);
    }
  });

  test('a filter without a Pattern is refused', () => {
    expect(() => compileFilterCriteria({ Filters: [{}] })).toThrow(/Pattern is missing/);
  });
});
