import { ShardlineError } from './errors';

/**
 * Kinesis sequence numbers are decimal strings of up to 129 digits (the API's pattern is
 * `0|([1-9]\d{0,128})`; 56 digits in practice). They are compared as BigInt, never as JavaScript
 * numbers, which lose precision beyond 2^53, nor as strings, whose order breaks when lengths differ.
 */

/** The Kinesis API reference's pattern for SequenceNumber: at most 129 digits, no leading zero. */
const SEQUENCE_NUMBER = /^(0|[1-9]\d{0,128})$/;
const SORTABLE_WIDTH = 129;

/**
 * Whether a value is a well-formed sequence number (a decimal string as Kinesis writes it).
 *
 * @example
 * ```ts
 * isSequenceNumber('49590338271490256608559692538361571095921575989136588898'); // true
 * isSequenceNumber(4959); // false: a number loses digits
 * ```
 */
export function isSequenceNumber(value: unknown): value is string {
  return typeof value === 'string' && SEQUENCE_NUMBER.test(value);
}

/**
 * Orders two sequence numbers: negative if `a` comes first, zero if equal, positive if `b` comes first.
 *
 * @example
 * ```ts
 * compareSequenceNumbers('9', '10'); // -1 (as strings, '9' > '10')
 * ```
 */
export function compareSequenceNumbers(a: string, b: string): number {
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/**
 * Whether sequence number `a` comes after `b`.
 *
 * @example
 * ```ts
 * isAfter('10', '9'); // true
 * ```
 */
export const isAfter = (a: string, b: string) => compareSequenceNumbers(a, b) > 0;

/**
 * Whether a sequence number lies in a range, both ends included.
 *
 * @example
 * ```ts
 * isInSequenceRange('10', { first: '9', last: '100' }); // true
 * ```
 */
export const isInSequenceRange = (sequenceNumber: string, range: { first: string; last: string }) =>
  compareSequenceNumbers(range.first, sequenceNumber) <= 0 &&
  compareSequenceNumbers(sequenceNumber, range.last) <= 0;

/**
 * The lowest of a list of sequence numbers (undefined for an empty list).
 *
 * @example
 * ```ts
 * lowestSequenceNumber(['100', '99', '1000']); // '99'
 * ```
 */
export function lowestSequenceNumber(sequenceNumbers: readonly string[]): string | undefined {
  let lowest: string | undefined;
  for (const candidate of sequenceNumbers) {
    if (lowest === undefined || compareSequenceNumbers(candidate, lowest) < 0) lowest = candidate;
  }
  return lowest;
}

/**
 * A fixed-width, zero-padded form whose string order equals numeric order, so that a DynamoDB condition
 * (`lastKey < :next`) can guard a checkpoint against moving backwards.
 *
 * @example
 * ```ts
 * sortableSequenceNumber('42') < sortableSequenceNumber('100'); // true
 * ```
 */
export function sortableSequenceNumber(sequenceNumber: string): string {
  if (!isSequenceNumber(sequenceNumber)) throw new InvalidSequenceNumberError(sequenceNumber);
  return sequenceNumber.padStart(SORTABLE_WIDTH, '0');
}

export class InvalidSequenceNumberError extends ShardlineError {
  constructor(value: string) {
    super(`not a Kinesis sequence number: "${value.slice(0, 40)}"`);
    this.name = 'InvalidSequenceNumberError';
  }
}
