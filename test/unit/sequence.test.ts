import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import {
  compareSequenceNumbers,
  isInSequenceRange,
  isSequenceNumber,
  lowestSequenceNumber,
  sortableSequenceNumber,
} from '../../lambdas/shared/sequence';

// Kinesis API reference: SequenceNumber is a string matching 0|([1-9]\d{0,128}); they exceed 2^53.
describe('sequence numbers are decimal strings compared as BigInt', () => {
  test('a range holds both its ends and compares its bounds as numbers', () => {
    expect(isInSequenceRange('9', { first: '9', last: '100' })).toBe(true);
    expect(isInSequenceRange('100', { first: '9', last: '100' })).toBe(true);
    expect(isInSequenceRange('10', { first: '9', last: '100' })).toBe(true);
    expect(isInSequenceRange('8', { first: '9', last: '100' })).toBe(false);
    expect(isInSequenceRange('101', { first: '9', last: '100' })).toBe(false);
  });

  test('numbers of different lengths compare numerically, not lexically', () => {
    expect(compareSequenceNumbers('9', '10')).toBeLessThan(0);
    expect('9' > '10').toBe(true);
  });

  test('56-digit sequence numbers that differ beyond double precision still compare correctly', () => {
    const low = '49590338271490256608559692538361571095921575989136588898';
    const high = '49590338271490256608559692538361571095921575989136588899';
    expect(Number(low)).toBe(Number(high));
    expect(compareSequenceNumbers(low, high)).toBe(-1);
    expect(compareSequenceNumbers(high, low)).toBe(1);
    expect(compareSequenceNumbers(low, low)).toBe(0);
  });

  test('comparison agrees with BigInt ordering for any decimal strings', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 10n ** 60n }),
        fc.bigInt({ min: 0n, max: 10n ** 60n }),
        (a, b) => {
          const expected = a < b ? -1 : a > b ? 1 : 0;
          expect(compareSequenceNumbers(a.toString(), b.toString())).toBe(expected);
        },
      ),
    );
  });

  test('the lowest of a list is found by value', () => {
    expect(lowestSequenceNumber(['100', '99', '1000'])).toBe('99');
    expect(lowestSequenceNumber([])).toBeUndefined();
  });

  test('only decimal strings are sequence numbers: numbers, empty strings and signs are not', () => {
    expect(isSequenceNumber('49590338271490256608559692538361571095921575989136588898')).toBe(true);
    expect(isSequenceNumber(4959)).toBe(false);
    expect(isSequenceNumber('')).toBe(false);
    expect(isSequenceNumber('-1')).toBe(false);
    expect(isSequenceNumber('12a')).toBe(false);
  });

  test('a sequence number has at most 129 digits, the same limit for validation and the sortable form', () => {
    const longest = `1${'0'.repeat(128)}`;
    expect(isSequenceNumber(longest)).toBe(true);
    expect(sortableSequenceNumber(longest)).toBe(longest);
    expect(isSequenceNumber(`${longest}0`)).toBe(false);
    expect(() => sortableSequenceNumber(`${longest}0`)).toThrow('not a Kinesis sequence number');
  });

  test('a leading zero is not a sequence number, as in the Kinesis API pattern 0|([1-9]\\d{0,128})', () => {
    expect(isSequenceNumber('0')).toBe(true);
    expect(isSequenceNumber('007')).toBe(false);
  });
});
