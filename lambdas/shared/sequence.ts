/**
 * Kinesis sequence numbers are decimal strings of up to 129 digits. They are compared as BigInt, never as
 * JavaScript numbers, which lose precision beyond 2^53.
 */

/** Negative, zero or positive as `a` is before, equal to or after `b`. */
export function compareSequenceNumbers(a: string, b: string): number {
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

export const isAfter = (a: string, b: string) => BigInt(a) > BigInt(b);

const SORTABLE_WIDTH = 129;

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
  if (!/^(0|[1-9]\d{0,128})$/.test(sequenceNumber)) throw new InvalidSequenceNumberError(sequenceNumber);
  return sequenceNumber.padStart(SORTABLE_WIDTH, '0');
}

export class InvalidSequenceNumberError extends Error {
  constructor(value: string) {
    super(`not a Kinesis sequence number: "${value.slice(0, 40)}"`);
    this.name = 'InvalidSequenceNumberError';
  }
}
