import { describe, expect, test } from 'vitest';
import { InvalidEventSourceMappingSettingError, InvalidFilterCriteriaError } from '../../../local/esm/errors';
import {
  reportsBatchItemFailures,
  settingWarnings,
  validateSettings,
  withKinesisDefaults,
} from '../../../local/esm/settings';

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

  test('properties the template sets but the local mapping does not emulate are each warned about, never ignored silently', () => {
    const settings = withKinesisDefaults({
      StartingPosition: 'LATEST',
      ignoredProperties: ['MetricsConfig', 'KmsKeyArn', 'SomethingNew'],
    });
    const warnings = settingWarnings(settings);
    expect(warnings.map((entry) => entry.setting)).toEqual(['MetricsConfig', 'KmsKeyArn', 'SomethingNew']);
    expect(warnings[0]?.warning).toMatch(/MetricsConfig is not emulated locally: .*stats\(\)/);
    expect(settingWarnings(withKinesisDefaults({ StartingPosition: 'LATEST' }))).toEqual([]);
  });

  test('tumbling windows and filtering are implemented: on their own they raise no warning', () => {
    const settings = withKinesisDefaults({
      StartingPosition: 'LATEST',
      TumblingWindowInSeconds: 120,
      FilterCriteria: { Filters: [{ Pattern: '{"data":{"type":["buy"]}}' }] },
    });
    expect(settingWarnings(settings)).toEqual([]);
  });

  test('a tumbling window with ParallelizationFactor > 1 warns that the shard runs one batch at a time', () => {
    const settings = withKinesisDefaults({
      StartingPosition: 'LATEST',
      TumblingWindowInSeconds: 60,
      ParallelizationFactor: 4,
    });
    expect(settingWarnings(settings).map((entry) => entry.setting)).toEqual(['ParallelizationFactor']);
  });

  // Lambda guide, "Using event filtering with a Kinesis event source": "Kinesis event source mappings only
  // support filtering on the data key". A metadata pattern is refused rather than guessed at.
  test('a filter on record metadata such as partitionKey is refused at start: Lambda filters Kinesis on data only', () => {
    const settings = withKinesisDefaults({
      StartingPosition: 'LATEST',
      FilterCriteria: { Filters: [{ Pattern: '{"partitionKey":["a"]}' }] },
    });
    expect(() => validateSettings(settings)).toThrow(/data key only/);
  });

  test('more than the default quota of 5 filters warns; more than 10 is refused like AWS refuses it', () => {
    const filters = (count: number) => ({
      Filters: Array.from({ length: count }, (_, index) => ({ Pattern: `{"data":{"n":[${index}]}}` })),
    });
    const six = withKinesisDefaults({ StartingPosition: 'LATEST', FilterCriteria: filters(6) });
    expect(settingWarnings(six).map((entry) => entry.warning)).toEqual([
      expect.stringMatching(/default quota is 5/),
    ]);
    const eleven = withKinesisDefaults({ StartingPosition: 'LATEST', FilterCriteria: filters(11) });
    expect(() => validateSettings(eleven)).toThrow(InvalidFilterCriteriaError);
  });

  test('an invalid filter pattern fails validation with InvalidFilterCriteriaError', () => {
    const settings = withKinesisDefaults({
      StartingPosition: 'LATEST',
      FilterCriteria: { Filters: [{ Pattern: '{"data":{"a":[{"wildcard":"x*"}]}}' }] },
    });
    expect(() => validateSettings(settings)).toThrow(InvalidFilterCriteriaError);
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
