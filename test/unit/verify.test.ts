import { describe, expect, it } from 'vitest';
import { dlqRows } from '../../cli/commands/dlq';
import { classify } from '../../cli/deadLetters';
import type { FailedBatch } from '../../cli/dlq/failureStore';
import { excuseFrom, reconcile, type StreamInventory } from '../../cli/verify/reconcile';

const inventory = (): StreamInventory => ({
  valid: new Set(['s0:10', 's0:11', 's0:12', 's1:20']),
  invalid: new Set(['s0:13']),
  oldestRetained: new Map([
    ['s0', '10'],
    ['s1', '20'],
  ]),
});
const counts = (entries: Array<[string, number]>) => new Map(entries);

describe('verify reconciliation', () => {
  it('passes when every valid record is in Parquet and CSV once and every invalid one in the DLQ', () => {
    const all = counts([
      ['s0:10', 1],
      ['s0:11', 1],
      ['s0:12', 1],
      ['s1:20', 1],
    ]);
    const report = reconcile(inventory(), { parquet: all, csv: all, dlq: counts([['s0:13', 1]]) });
    expect(report.ok).toBe(true);
    expect(report.outputs.map((o) => o.found)).toEqual([4, 4, 1]);
  });

  it('reports a missing, a duplicated and an unexpected record with examples', () => {
    const parquet = counts([
      ['s0:10', 2],
      ['s0:11', 1],
      ['s1:20', 1],
      ['s1:21', 1],
    ]);
    const report = reconcile(inventory(), { parquet, csv: parquet, dlq: counts([['s0:13', 1]]) });
    expect(report.ok).toBe(false);
    expect(report.outputs[0]).toMatchObject({
      missing: 1,
      duplicated: 1,
      unexpected: 1,
      examples: { missing: ['s0:12'], duplicated: ['s0:10'], unexpected: ['s1:21'] },
    });
  });

  it('does not count rows older than the stream retention as unexpected', () => {
    const all = counts([
      ['s0:9', 1],
      ['s0:10', 1],
      ['s0:11', 1],
      ['s0:12', 1],
      ['s1:20', 1],
    ]);
    const report = reconcile(inventory(), { parquet: all, csv: all, dlq: counts([['s0:13', 1]]) });
    expect(report.outputs[0]).toMatchObject({ unexpected: 0, beyondRetention: 1 });
  });

  it('excuses records in an on-failure range or redriven, and only those', () => {
    const excuse = excuseFrom([{ shardId: 's0', start: '11', end: '12' }], new Set(['s0:13']));
    const parquet = counts([
      ['s0:10', 1],
      ['s1:20', 1],
    ]);
    const report = reconcile(inventory(), { parquet, csv: parquet, dlq: counts([]) }, excuse);
    expect(report.ok).toBe(true);
    expect(report.outputs.map((o) => o.excused)).toEqual([2, 2, 1]);
    expect(excuse('s0:14')).toBeNull();
    expect(excuseFrom([], new Set(['s1:5-9']))('s1:7')).toBe('redriven');
  });
  it('counts records waiting in the failure store as their own category: neither missing nor excused', () => {
    const excuse = excuseFrom([], new Set(), new Set(['s0:11', 's0:12']));
    const parquet = counts([
      ['s0:10', 1],
      ['s1:20', 1],
    ]);
    const report = reconcile(inventory(), { parquet, csv: parquet, dlq: counts([['s0:13', 1]]) }, excuse);
    expect(report.outputs.map((o) => [o.missing, o.excused, o.inFailureStore])).toEqual([
      [0, 0, 2],
      [0, 0, 2],
      [0, 0, 0],
    ]);
  });

  it('a failed batch that was redriven counts as redriven, not as waiting in the failure store', () => {
    expect(excuseFrom([], new Set(['s0:11-12']), new Set(['s0:11']))('s0:11')).toBe('redriven');
  });
});

describe('reading the DLQ', () => {
  const invalid = (id: string) =>
    JSON.stringify({
      kind: 'invalid-record',
      recordId: id,
      reason: 'invalid_json',
      issues: [],
      payloadBytes: 3,
      failedAt: 't',
    });
  const onFailure = JSON.stringify({
    requestContext: { condition: 'RetryAttemptsExhausted', approximateInvokeCount: 4 },
    version: '1.0',
    timestamp: 't',
    KinesisBatchInfo: { shardId: 's0', startSequenceNumber: '5', endSequenceNumber: '9', batchSize: 5 },
  });

  it('folds repeated copies of an invalid record into one entry and keeps every receipt', () => {
    const snapshot = classify([
      { body: invalid('s0:1'), receiptHandle: 'a' },
      { body: invalid('s0:1'), receiptHandle: 'b' },
      { body: onFailure, receiptHandle: 'c' },
      { body: 'not json', receiptHandle: 'd' },
    ]);
    expect(snapshot.invalidRecords).toHaveLength(1);
    expect(snapshot.duplicateCopies).toBe(1);
    expect(snapshot.receipts.get('s0:1')).toEqual(['a', 'b']);
    expect(snapshot.onFailure).toHaveLength(1);
    expect(snapshot.receipts.get('s0:5-9')).toEqual(['c']);
    expect(snapshot.unrecognised).toBe(1);
  });

  it('lists invalid records and on-failure batches apart, filtered by kind', () => {
    const snapshot = classify([
      { body: invalid('s0:1'), receiptHandle: 'a' },
      { body: onFailure, receiptHandle: 'c' },
    ]);
    expect(dlqRows(snapshot, 'all').map((r) => r.kind)).toEqual(['invalid-record', 'on-failure']);
    expect(dlqRows(snapshot, 'on-failure')[0]).toMatchObject({
      id: 's0:5-9',
      records: 5,
      reason: 'RetryAttemptsExhausted after 4 invocation(s)',
    });
    expect(dlqRows(snapshot, 'invalid')).toHaveLength(1);
  });

  it('lists failed batches of the failure store with their record count and age', () => {
    const snapshot = classify([]);
    const batch = {
      id: 's0:5-6',
      key: 'aws/lambda/u/s0/2026/12/01/2026-12-01T10.00.00-x',
      failedAt: '2026-12-01T10:00:00.000Z',
      condition: 'RecordAgeExceeded',
      shardId: 's0',
      records: [
        { kinesis: { data: 'YWJj', sequenceNumber: '5' } },
        { kinesis: { data: 'ZGVm', sequenceNumber: '6' } },
      ],
      object: { requestContext: { approximateInvokeCount: 1 } },
    } as unknown as FailedBatch;
    const [row] = dlqRows(snapshot, 'on-failure', [batch], Date.parse('2026-12-01T13:00:00.000Z'));
    expect(row).toMatchObject({
      kind: 'failed-batch',
      id: 's0:5-6',
      records: 2,
      ageMs: 3 * 3_600_000,
      reason: 'RecordAgeExceeded after 1 invocation(s)',
    });
    expect(dlqRows(snapshot, 'invalid', [batch])).toEqual([]);
  });
});
