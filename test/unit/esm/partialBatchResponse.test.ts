import { describe, expect, test } from 'vitest';
import { interpretBatchResponse } from '../../../local/esm/partialBatchResponse';

// Lambda developer guide, "Configuring partial batch response with Kinesis Data Streams and Lambda".
const batch = ['100', '200', '300', '1000'];

describe('partial batch response (ReportBatchItemFailures)', () => {
  test('Lambda checkpoints before the lowest failed sequence number, compared as numbers', () => {
    const response = { batchItemFailures: [{ itemIdentifier: '1000' }, { itemIdentifier: '300' }] };
    expect(interpretBatchResponse(response, batch, true)).toEqual({
      kind: 'partial',
      firstFailedIndex: 2,
      firstFailedSequenceNumber: '300',
    });
  });

  test('a failure of the first record retries the whole batch from its start', () => {
    expect(
      interpretBatchResponse({ batchItemFailures: [{ itemIdentifier: '100' }] }, batch, true),
    ).toMatchObject({
      kind: 'partial',
      firstFailedIndex: 0,
    });
  });

  test.each([
    ['an empty batchItemFailures list', { batchItemFailures: [] }],
    ['a null batchItemFailures list', { batchItemFailures: null }],
    ['an empty EventResponse', {}],
    ['a null EventResponse', null],
    ['no response at all (undefined)', undefined],
  ])('%s is a complete success', (_name, response) => {
    expect(interpretBatchResponse(response, batch, true)).toEqual({ kind: 'success' });
  });

  test.each([
    ['an empty string itemIdentifier', { batchItemFailures: [{ itemIdentifier: '' }] }],
    ['a null itemIdentifier', { batchItemFailures: [{ itemIdentifier: null }] }],
    ['an itemIdentifier with a bad key name', { batchItemFailures: [{ itemIdentifer: '200' }] }],
    ['a numeric itemIdentifier (precision is lost)', { batchItemFailures: [{ itemIdentifier: 200 }] }],
    [
      'an itemIdentifier that is not a record of the batch',
      { batchItemFailures: [{ itemIdentifier: '250' }] },
    ],
    ['a batchItemFailures that is not a list', { batchItemFailures: { itemIdentifier: '200' } }],
    ['a null item in the list', { batchItemFailures: [null] }],
  ])('%s fails the whole batch', (_name, response) => {
    expect(interpretBatchResponse(response, batch, true)).toMatchObject({ kind: 'invalid' });
  });

  test('one malformed item fails the whole batch even next to valid ones', () => {
    const response = { batchItemFailures: [{ itemIdentifier: '200' }, { itemIdentifier: '' }] };
    expect(interpretBatchResponse(response, batch, true).kind).toBe('invalid');
  });

  test('without ReportBatchItemFailures, Lambda ignores the response entirely', () => {
    const response = { batchItemFailures: [{ itemIdentifier: '200' }] };
    expect(interpretBatchResponse(response, batch, false)).toEqual({ kind: 'success' });
    expect(interpretBatchResponse({ batchItemFailures: [{ itemIdentifier: '' }] }, batch, false)).toEqual({
      kind: 'success',
    });
  });
});
