import { compareSequenceNumbers, isSequenceNumber } from '../../lambdas/shared/sequence';

/**
 * How Lambda reads a function's response when ReportBatchItemFailures is on (Lambda developer guide,
 * "Configuring partial batch response with Kinesis Data Streams and Lambda"):
 * - success: an empty or null `batchItemFailures` list, an empty or null response;
 * - partial: Lambda checkpoints before the lowest failed sequence number and retries from it;
 * - invalid (the whole batch failed): an empty-string or null `itemIdentifier`, or an item with a wrong
 *   key name. We also fail the batch for an identifier that is not a sequence number of the batch, and for
 *   a `batchItemFailures` that is not a list.
 */
export type BatchResponseVerdict =
  | { kind: 'success' }
  | { kind: 'partial'; firstFailedIndex: number; firstFailedSequenceNumber: string }
  | { kind: 'invalid'; reason: string };

/**
 * Interprets the function's response for a batch whose records have the given sequence numbers, in order.
 * Without ReportBatchItemFailures, any response is a success (Lambda ignores it).
 *
 * @example
 * ```ts
 * interpretBatchResponse({ batchItemFailures: [{ itemIdentifier: '30' }, { itemIdentifier: '20' }] },
 *   ['10', '20', '30'], true);
 * // { kind: 'partial', firstFailedIndex: 1, firstFailedSequenceNumber: '20' }
 * ```
 */
export function interpretBatchResponse(
  response: unknown,
  batchSequenceNumbers: readonly string[],
  reportBatchItemFailures: boolean,
): BatchResponseVerdict {
  if (!reportBatchItemFailures) return { kind: 'success' };
  if (
    response === null ||
    response === undefined ||
    typeof response !== 'object' ||
    Array.isArray(response)
  ) {
    return { kind: 'success' };
  }
  const failures = (response as { batchItemFailures?: unknown }).batchItemFailures;
  if (failures === null || failures === undefined) return { kind: 'success' };
  if (!Array.isArray(failures)) {
    return { kind: 'invalid', reason: 'batchItemFailures is not a list' };
  }
  if (failures.length === 0) return { kind: 'success' };

  const inBatch = new Set(batchSequenceNumbers);
  let lowest: string | undefined;
  for (const failure of failures) {
    if (failure === null || typeof failure !== 'object' || !('itemIdentifier' in failure)) {
      return { kind: 'invalid', reason: 'a batch item failure has no itemIdentifier key' };
    }
    const identifier = (failure as { itemIdentifier: unknown }).itemIdentifier;
    if (identifier === null || identifier === undefined || identifier === '') {
      return { kind: 'invalid', reason: 'an itemIdentifier is null or empty' };
    }
    if (!isSequenceNumber(identifier)) {
      return {
        kind: 'invalid',
        reason: `itemIdentifier ${JSON.stringify(identifier)} is not a sequence number`,
      };
    }
    if (!inBatch.has(identifier)) {
      return { kind: 'invalid', reason: `itemIdentifier ${identifier} is not a record of this batch` };
    }
    if (lowest === undefined || compareSequenceNumbers(identifier, lowest) < 0) lowest = identifier;
  }
  const firstFailedSequenceNumber = lowest as string;
  return {
    kind: 'partial',
    firstFailedIndex: batchSequenceNumbers.indexOf(firstFailedSequenceNumber),
    firstFailedSequenceNumber,
  };
}
