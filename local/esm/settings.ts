import { InvalidEventSourceMappingSettingError } from './errors';
import { compileFilterCriteria, DEFAULT_MAX_FILTERS } from './filterCriteria';
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
 * reject does not run locally. FilterCriteria patterns are validated too (InvalidFilterCriteriaError).
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
  compileFilterCriteria(settings.FilterCriteria);
}

/** Why a property the local mapping does not emulate makes no difference here (or what does instead). */
const UNEMULATED_PROPERTY_NOTES: Record<string, string> = {
  MetricsConfig:
    'Lambda publishes no event source mapping metrics locally; stats() (and `shardline status`) carry ' +
    'per-shard iterator age, invocations, errors, retries, filtered and on-failure counts instead',
  KmsKeyArn: 'it encrypts the filter criteria at rest in AWS; nothing is stored encrypted locally',
  Tags: 'tags have no effect on how records are processed',
  ScalingConfig: 'it applies to Amazon SQS event sources only (maximum concurrency)',
  ProvisionedPollerConfig: 'provisioned pollers apply to Kafka and SQS event sources, not to Kinesis',
  LoggingConfig: 'the local mapping always writes its own JSON log lines',
};

/**
 * What to warn about at start: properties the local mapping does not emulate, and combinations whose AWS
 * behaviour is not documented or differs from the emulation. A setting is never ignored silently.
 *
 * @example
 * ```ts
 * settingWarnings(withKinesisDefaults({ StartingPosition: 'LATEST', ignoredProperties: ['MetricsConfig'] }));
 * // [{ setting: 'MetricsConfig', warning: 'MetricsConfig is not emulated locally: …' }]
 * ```
 */
export function settingWarnings(
  settings: EventSourceMappingSettings,
): Array<{ setting: string; warning: string }> {
  const warnings: Array<{ setting: string; warning: string }> = [];
  for (const property of settings.ignoredProperties ?? []) {
    warnings.push({
      setting: property,
      warning:
        `${property} is not emulated locally: ` +
        (UNEMULATED_PROPERTY_NOTES[property] ?? 'the property has no local counterpart'),
    });
  }
  if (settings.TumblingWindowInSeconds > 0 && settings.ParallelizationFactor > 1) {
    warnings.push({
      setting: 'ParallelizationFactor',
      warning:
        `ParallelizationFactor = ${settings.ParallelizationFactor} with a tumbling window: the window state ` +
        'is per shard, so locally each shard runs one batch at a time (the AWS documentation does not say ' +
        'how the two combine)',
    });
  }
  const filter = compileFilterCriteria(settings.FilterCriteria);
  if (filter && filter.filterCount > DEFAULT_MAX_FILTERS) {
    warnings.push({
      setting: 'FilterCriteria',
      warning:
        `${filter.filterCount} filters: Lambda's default quota is ${DEFAULT_MAX_FILTERS} per event source ` +
        'mapping (up to 10 after a quota increase); creating this mapping in AWS fails without the increase',
    });
  }
  for (const field of filter?.emptyRuleFields ?? []) {
    warnings.push({
      setting: 'FilterCriteria',
      warning:
        `the filter rule list of ${field} is empty ([]): it matches no record, so its filter drops everything ` +
        "(to match null use [null]; the CDK's FilterRule.null() renders [])",
    });
  }
  return warnings;
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
