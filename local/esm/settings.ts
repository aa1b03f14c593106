import {
  findInvalidSetting,
  KINESIS_MAPPING_DEFAULTS,
  localSupportOf,
} from '../../lib/eventSourceMappingProperties';
import { InvalidEventSourceMappingSettingError } from './errors';
import { compileFilterCriteria, DEFAULT_MAX_FILTERS } from './filterCriteria';
import type { EventSourceMappingSettings } from './types';

/** Lambda's defaults for a Kinesis event source mapping, as lib/eventSourceMappingProperties.ts declares them. */
export const KINESIS_DEFAULTS = KINESIS_MAPPING_DEFAULTS;

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
  const invalid = findInvalidSetting({ ...settings });
  if (invalid)
    throw new InvalidEventSourceMappingSettingError(invalid.property, invalid.value, invalid.allowed);
  compileFilterCriteria(settings.FilterCriteria);
}

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
    const support = localSupportOf(property);
    const reason =
      typeof support === 'object' ? support.notEmulated : 'the property has no local counterpart';
    warnings.push({ setting: property, warning: `${property} is not emulated locally: ${reason}` });
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
