/**
 * Kinesis sequence numbers are decimal strings of up to 128 digits (56 in practice): far beyond
 * Number.MAX_SAFE_INTEGER, and string comparison breaks when lengths differ. Compare them as BigInt.
 */

const DECIMAL = /^\d{1,128}$/;

/**
 * Whether a value is a well-formed sequence number (a decimal string).
 *
 * @example
 * ```ts
 * isSequenceNumber('49590338271490256608559692538361571095921575989136588898'); // true
 * isSequenceNumber(4959); // false: a number loses digits
 * ```
 */
export function isSequenceNumber(value: unknown): value is string {
  return typeof value === 'string' && DECIMAL.test(value);
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
  const left = BigInt(a);
  const right = BigInt(b);
  return left < right ? -1 : left > right ? 1 : 0;
}

/**
 * The lowest of a non-empty list of sequence numbers.
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
