import { describe, expect, test } from 'vitest';
import {
  InvalidEventSourceMappingSettingError,
  reportsBatchItemFailures,
  unimplementedSettings,
  validateSettings,
  withKinesisDefaults,
} from '../../../local/esm';

// CreateEventSourceMapping API reference: defaults and valid ranges for Kinesis.
describe('event source mapping settings', () => {
  test('Lambda’s defaults apply to the properties a template leaves out', () => {
    expect(
      withKinesisDefaults({ StartingPosition: 'LATEST', BatchSize: 500, MaximumRetryAttempts: undefined }),
    ).toEqual({
      StartingPosition: 'LATEST',
      BatchSize: 500,
      MaximumBatchingWindowInSeconds: 0,
      BisectBatchOnFunctionError: false,
      MaximumRetryAttempts: -1,
      MaximumRecordAgeInSeconds: -1,
      FunctionResponseTypes: [],
      ParallelizationFactor: 1,
      TumblingWindowInSeconds: 0,
      Enabled: true,
    });
  });

  test.each([
    ['BatchSize', { BatchSize: 0 }],
    ['BatchSize', { BatchSize: 10_001 }],
    ['MaximumBatchingWindowInSeconds', { MaximumBatchingWindowInSeconds: 301 }],
    ['MaximumRetryAttempts', { MaximumRetryAttempts: -2 }],
    ['MaximumRetryAttempts', { MaximumRetryAttempts: 10_001 }],
    ['MaximumRecordAgeInSeconds', { MaximumRecordAgeInSeconds: 59 }],
    ['MaximumRecordAgeInSeconds', { MaximumRecordAgeInSeconds: 604_801 }],
    ['ParallelizationFactor', { ParallelizationFactor: 11 }],
    ['TumblingWindowInSeconds', { TumblingWindowInSeconds: 901 }],
    ['FunctionResponseTypes', { FunctionResponseTypes: ['ReportBatchItemFailure'] }],
    ['StartingPositionTimestamp', { StartingPosition: 'AT_TIMESTAMP' as const }],
  ])('%s outside Lambda’s range is rejected like AWS rejects it', (setting, properties) => {
    const settings = withKinesisDefaults({ StartingPosition: 'TRIM_HORIZON', ...properties });
    expect(() => validateSettings(settings)).toThrow(InvalidEventSourceMappingSettingError);
    expect(() => validateSettings(settings)).toThrow(setting);
  });

  test('the limits themselves are accepted: -1 and 60 s of record age, 10 batches per shard, 10,000 records', () => {
    for (const properties of [
      { MaximumRecordAgeInSeconds: -1 },
      { MaximumRecordAgeInSeconds: 60 },
      { ParallelizationFactor: 10, BatchSize: 10_000, MaximumBatchingWindowInSeconds: 300 },
      { MaximumRetryAttempts: -1 },
      { MaximumRetryAttempts: 0 },
    ]) {
      expect(() =>
        validateSettings(withKinesisDefaults({ StartingPosition: 'LATEST', ...properties })),
      ).not.toThrow();
    }
  });

  test('tumbling windows and filter criteria are reported as not implemented, never ignored silently', () => {
    const settings = withKinesisDefaults({
      StartingPosition: 'LATEST',
      TumblingWindowInSeconds: 120,
      FilterCriteria: { Filters: [{ Pattern: '{}' }] },
    });
    expect(unimplementedSettings(settings).map((entry) => entry.setting)).toEqual([
      'TumblingWindowInSeconds',
      'FilterCriteria',
    ]);
    expect(unimplementedSettings(withKinesisDefaults({ StartingPosition: 'LATEST' }))).toEqual([]);
  });

  test('partial batch responses are read only when FunctionResponseTypes lists ReportBatchItemFailures', () => {
    expect(reportsBatchItemFailures(withKinesisDefaults({ StartingPosition: 'LATEST' }))).toBe(false);
    expect(
      reportsBatchItemFailures(
        withKinesisDefaults({
          StartingPosition: 'LATEST',
          FunctionResponseTypes: ['ReportBatchItemFailures'],
        }),
      ),
    ).toBe(true);
  });
});
