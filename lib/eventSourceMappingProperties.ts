/**
 * Every property of AWS::Lambda::EventSourceMapping that matters for a Kinesis stream, declared once as
 * data: its CloudFormation name, its type, what AWS Lambda accepts, Lambda's default, and whether the
 * local runtime emulates it. The stack checks its props against it (lib/shardline-stack.ts), the template
 * reader reads each mapping through it (local/resources/lambdaEventSourceMapping.ts), and the local
 * mapping checks its settings with it (local/esm/settings.ts); test/unit/eventSourceMappingProperties.test.ts
 * holds the three to it. Sources: the CreateEventSourceMapping API reference and CloudFormation's
 * AWS::Lambda::EventSourceMapping reference.
 *
 * This module imports nothing: the local runtime must not load aws-cdk-lib through it.
 */

/** Emulated by the local runtime (docs/ESM.md says how), or not, with why that makes no difference here. */
export type LocalSupport = 'emulated' | { notEmulated: string };

export type MappingProperty =
  | {
      type: 'integer';
      min: number;
      max: number;
      /** A value outside `min`..`max` that AWS accepts with a meaning of its own. */
      unlimited?: { value: number; meaning: string };
      default: number;
      local: LocalSupport;
    }
  | { type: 'boolean'; default: boolean; local: LocalSupport }
  | { type: 'choice'; values: readonly string[]; required: true; local: LocalSupport }
  | { type: 'list'; values: readonly string[]; default: readonly string[]; local: LocalSupport }
  /** Unix time in seconds, read only when another property has a given value. */
  | { type: 'timestamp'; when: { property: string; is: string }; local: LocalSupport }
  /** The logical id of a resource of the template. */
  | { type: 'reference'; to: string; required: true; local: LocalSupport }
  /** An object, list or string whose parts their own module reads and checks. */
  | { type: 'structure'; local: LocalSupport };

export const KINESIS_MAPPING_PROPERTIES = {
  FunctionName: { type: 'reference', to: 'AWS::Lambda::Function', required: true, local: 'emulated' },
  EventSourceArn: { type: 'reference', to: 'AWS::Kinesis::Stream', required: true, local: 'emulated' },
  BatchSize: { type: 'integer', min: 1, max: 10_000, default: 100, local: 'emulated' },
  MaximumBatchingWindowInSeconds: { type: 'integer', min: 0, max: 300, default: 0, local: 'emulated' },
  StartingPosition: {
    type: 'choice',
    values: ['TRIM_HORIZON', 'LATEST', 'AT_TIMESTAMP'],
    required: true,
    local: 'emulated',
  },
  StartingPositionTimestamp: {
    type: 'timestamp',
    when: { property: 'StartingPosition', is: 'AT_TIMESTAMP' },
    local: 'emulated',
  },
  BisectBatchOnFunctionError: { type: 'boolean', default: false, local: 'emulated' },
  MaximumRetryAttempts: {
    type: 'integer',
    min: 0,
    max: 10_000,
    unlimited: { value: -1, meaning: 'retry until the record expires' },
    default: -1,
    local: 'emulated',
  },
  MaximumRecordAgeInSeconds: {
    type: 'integer',
    min: 60,
    max: 604_800,
    unlimited: { value: -1, meaning: 'no limit' },
    default: -1,
    local: 'emulated',
  },
  FunctionResponseTypes: {
    type: 'list',
    values: ['ReportBatchItemFailures'],
    default: [],
    local: 'emulated',
  },
  ParallelizationFactor: { type: 'integer', min: 1, max: 10, default: 1, local: 'emulated' },
  TumblingWindowInSeconds: { type: 'integer', min: 0, max: 900, default: 0, local: 'emulated' },
  DestinationConfig: { type: 'structure', local: 'emulated' },
  FilterCriteria: { type: 'structure', local: 'emulated' },
  Enabled: { type: 'boolean', default: true, local: 'emulated' },
  MetricsConfig: {
    type: 'structure',
    local: {
      notEmulated:
        'Lambda publishes no event source mapping metrics locally; stats() (and `shardline status`) carry ' +
        'per-shard iterator age, invocations, errors, retries, filtered and on-failure counts instead',
    },
  },
  KmsKeyArn: {
    type: 'structure',
    local: {
      notEmulated: 'it encrypts the filter criteria at rest in AWS; nothing is stored encrypted locally',
    },
  },
  Tags: { type: 'structure', local: { notEmulated: 'tags have no effect on how records are processed' } },
  ScalingConfig: {
    type: 'structure',
    local: { notEmulated: 'it applies to Amazon SQS event sources only (maximum concurrency)' },
  },
  ProvisionedPollerConfig: {
    type: 'structure',
    local: { notEmulated: 'provisioned pollers apply to Kafka and SQS event sources, not to Kinesis' },
  },
  LoggingConfig: {
    type: 'structure',
    local: { notEmulated: 'the local mapping always writes its own JSON log lines' },
  },
} as const satisfies Record<string, MappingProperty>;

type Declared = typeof KINESIS_MAPPING_PROPERTIES;
export type MappingPropertyName = keyof Declared;

/** The value a setting of each type has once read. */
type SettingValue<P> = P extends { type: 'integer' | 'timestamp' }
  ? number
  : P extends { type: 'boolean' }
    ? boolean
    : P extends { type: 'choice'; values: readonly (infer V)[] }
      ? V
      : P extends { type: 'list' }
        ? readonly string[]
        : never;
/** The properties with a value of their own, not a reference or a structure. */
export type MappingSettingName = {
  [K in MappingPropertyName]: [SettingValue<Declared[K]>] extends [never] ? never : K;
}[MappingPropertyName];
type AlwaysSet = {
  [K in MappingSettingName]: Declared[K] extends { default: unknown } | { required: true } ? K : never;
}[MappingSettingName];

/** The settings of a Kinesis mapping as the local runtime uses them, Lambda's defaults applied. */
export type KinesisMappingSettings = { [K in AlwaysSet]: SettingValue<Declared[K]> } & {
  [K in Exclude<MappingSettingName, AlwaysSet>]?: SettingValue<Declared[K]>;
};

export type StartingPosition = KinesisMappingSettings['StartingPosition'];

/** The property names that hold a setting (in declaration order), for reading and checking them all. */
export const KINESIS_MAPPING_SETTINGS = (
  Object.keys(KINESIS_MAPPING_PROPERTIES) as MappingPropertyName[]
).filter(
  (name): name is MappingSettingName =>
    !['reference', 'structure'].includes(KINESIS_MAPPING_PROPERTIES[name].type),
);

/** Lambda's defaults for the settings a template leaves out. */
export const KINESIS_MAPPING_DEFAULTS = Object.fromEntries(
  Object.entries(KINESIS_MAPPING_PROPERTIES).flatMap(([name, property]): [string, unknown][] =>
    'default' in property ? [[name, property.default]] : [],
  ),
) as unknown as Pick<KinesisMappingSettings, Exclude<AlwaysSet, 'StartingPosition'>>;

/**
 * Whether the local runtime emulates a property of a template's mapping; undefined for a property not
 * declared here.
 *
 * @example
 * ```ts
 * localSupportOf('MetricsConfig'); // { notEmulated: 'Lambda publishes no event source mapping metrics locally; …' }
 * ```
 */
export function localSupportOf(name: string): LocalSupport | undefined {
  return Object.hasOwn(KINESIS_MAPPING_PROPERTIES, name)
    ? KINESIS_MAPPING_PROPERTIES[name as MappingPropertyName].local
    : undefined;
}

/**
 * What AWS Lambda accepts for a setting, in the words every error message uses.
 *
 * @example
 * ```ts
 * allowedValues('MaximumRecordAgeInSeconds'); // '-1 (no limit) or an integer from 60 to 604800'
 * ```
 */
export function allowedValues(name: MappingSettingName): string {
  const property: MappingProperty = KINESIS_MAPPING_PROPERTIES[name];
  switch (property.type) {
    case 'integer': {
      const range = `an integer from ${property.min} to ${property.max}`;
      const { unlimited } = property;
      return unlimited ? `${unlimited.value} (${unlimited.meaning}) or ${range}` : range;
    }
    case 'boolean':
      return 'true or false';
    case 'choice':
      return `${property.values.slice(0, -1).join(', ')} or ${property.values.at(-1)}`;
    case 'list':
      return `[] or [${property.values.map((value) => JSON.stringify(value)).join(', ')}]`;
    case 'timestamp':
      return `a Unix time in seconds (required with ${property.when.property} ${property.when.is})`;
    default:
      return 'a value of its own module';
  }
}

export interface MappingSettingViolation {
  property: MappingSettingName;
  value: unknown;
  /** What AWS Lambda accepts instead ({@link allowedValues}). */
  allowed: string;
}

/**
 * The first setting outside what AWS Lambda accepts for Kinesis, in declaration order, or undefined.
 * A timestamp is checked only when the property it goes with asks for one.
 *
 * @example
 * ```ts
 * findInvalidSetting({ ...KINESIS_MAPPING_DEFAULTS, StartingPosition: 'LATEST', BatchSize: 0 });
 * // { property: 'BatchSize', value: 0, allowed: 'an integer from 1 to 10000' }
 * ```
 */
export function findInvalidSetting(settings: Record<string, unknown>): MappingSettingViolation | undefined {
  for (const name of KINESIS_MAPPING_SETTINGS) {
    const value = settings[name];
    if (!isAllowed(KINESIS_MAPPING_PROPERTIES[name], value, settings)) {
      return { property: name, value: value ?? null, allowed: allowedValues(name) };
    }
  }
  return undefined;
}

function isAllowed(property: MappingProperty, value: unknown, settings: Record<string, unknown>): boolean {
  switch (property.type) {
    case 'integer':
      return (
        value === property.unlimited?.value ||
        (Number.isInteger(value) && (value as number) >= property.min && (value as number) <= property.max)
      );
    case 'boolean':
      return typeof value === 'boolean';
    case 'choice':
      return property.values.includes(value as string);
    case 'list':
      return Array.isArray(value) && value.every((item) => property.values.includes(item));
    case 'timestamp':
      return (
        settings[property.when.property] !== property.when.is ||
        (typeof value === 'number' && Number.isFinite(value) && value >= 0)
      );
    default:
      return true;
  }
}
