import { InvalidEventSourceMappingSettingError } from './errors';
import type { EventSourceMappingSettings } from './types';

/** Lambda's defaults for a Kinesis event source mapping (CreateEventSourceMapping API reference). */
export const KINESIS_DEFAULTS = {
  BatchSize: 100,
  MaximumBatchingWindowInSeconds: 0,
  BisectBatchOnFunctionError: false,
  MaximumRetryAttempts: -1,
  MaximumRecordAgeInSeconds: -1,
  FunctionResponseTypes: [] as readonly string[],
  ParallelizationFactor: 1,
  TumblingWindowInSeconds: 0,
  Enabled: true,
} as const;

/**
 * Fills in Lambda's defaults for the properties a template leaves out.
 *
 * @example
 * ```ts
 * const settings = withKinesisDefaults({ StartingPosition: 'TRIM_HORIZON', BatchSize: 500 });
 * settings.MaximumRetryAttempts; // -1 (retry until the records expire)
 * ```
 */
export function withKinesisDefaults(
  properties: Partial<EventSourceMappingSettings> & Pick<EventSourceMappingSettings, 'StartingPosition'>,
): EventSourceMappingSettings {
  const defined = Object.fromEntries(Object.entries(properties).filter(([, value]) => value !== undefined));
  return { ...KINESIS_DEFAULTS, ...defined } as EventSourceMappingSettings;
}

function requireIntegerIn(setting: string, value: unknown, min: number, max: number) {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new InvalidEventSourceMappingSettingError(setting, value, `an integer from ${min} to ${max}`);
  }
}

/**
 * Checks every setting against the ranges Lambda accepts for Kinesis, so that a template that AWS would
 * reject does not run locally.
 *
 * @example
 * ```ts
 * validateSettings(withKinesisDefaults({ StartingPosition: 'LATEST', BatchSize: 0 }));
 * // throws InvalidEventSourceMappingSettingError: BatchSize = 0 … an integer from 1 to 10000
 * ```
 */
export function validateSettings(settings: EventSourceMappingSettings): void {
  requireIntegerIn('BatchSize', settings.BatchSize, 1, 10_000);
  requireIntegerIn('MaximumBatchingWindowInSeconds', settings.MaximumBatchingWindowInSeconds, 0, 300);
  requireIntegerIn('MaximumRetryAttempts', settings.MaximumRetryAttempts, -1, 10_000);
  requireIntegerIn('ParallelizationFactor', settings.ParallelizationFactor, 1, 10);
  requireIntegerIn('TumblingWindowInSeconds', settings.TumblingWindowInSeconds, 0, 900);
  const age = settings.MaximumRecordAgeInSeconds;
  if (age !== -1) requireIntegerIn('MaximumRecordAgeInSeconds', age, 60, 604_800);
  if (!['TRIM_HORIZON', 'LATEST', 'AT_TIMESTAMP'].includes(settings.StartingPosition)) {
    throw new InvalidEventSourceMappingSettingError(
      'StartingPosition',
      settings.StartingPosition,
      'TRIM_HORIZON, LATEST or AT_TIMESTAMP',
    );
  }
  if (
    settings.StartingPosition === 'AT_TIMESTAMP' &&
    typeof settings.StartingPositionTimestamp !== 'number'
  ) {
    throw new InvalidEventSourceMappingSettingError(
      'StartingPositionTimestamp',
      settings.StartingPositionTimestamp,
      'a Unix time in seconds when StartingPosition is AT_TIMESTAMP',
    );
  }
  for (const type of settings.FunctionResponseTypes) {
    if (type !== 'ReportBatchItemFailures') {
      throw new InvalidEventSourceMappingSettingError(
        'FunctionResponseTypes',
        type,
        'ReportBatchItemFailures',
      );
    }
  }
}

/**
 * Settings this local event source mapping does not implement yet, each with the warning to log: a
 * setting is never ignored silently.
 *
 * @example
 * ```ts
 * unimplementedSettings(withKinesisDefaults({ StartingPosition: 'LATEST', TumblingWindowInSeconds: 60 }));
 * // [{ setting: 'TumblingWindowInSeconds', warning: '…' }]
 * ```
 */
export function unimplementedSettings(
  settings: EventSourceMappingSettings,
): Array<{ setting: string; warning: string }> {
  const missing: Array<{ setting: string; warning: string }> = [];
  if (settings.TumblingWindowInSeconds > 0) {
    missing.push({
      setting: 'TumblingWindowInSeconds',
      warning:
        `TumblingWindowInSeconds = ${settings.TumblingWindowInSeconds} is not implemented locally: batches are ` +
        'invoked without window, state, isFinalInvokeForWindow or isWindowTerminatedEarly',
    });
  }
  const filters = settings.FilterCriteria?.Filters ?? [];
  if (filters.length > 0) {
    missing.push({
      setting: 'FilterCriteria',
      warning: `FilterCriteria (${filters.length} filter(s)) is not implemented locally: every record is delivered`,
    });
  }
  return missing;
}

/**
 * Whether the function may answer with a partial batch response.
 *
 * @example
 * ```ts
 * reportsBatchItemFailures(withKinesisDefaults({ StartingPosition: 'LATEST' })); // false
 * ```
 */
export function reportsBatchItemFailures(settings: EventSourceMappingSettings): boolean {
  return settings.FunctionResponseTypes.includes('ReportBatchItemFailures');
}
