/**
 * AWS::Lambda::EventSourceMapping on a Kinesis stream: read with every setting that shapes its behaviour,
 * Lambda's defaults applied and AWS's limits checked, as lib/eventSourceMappingProperties.ts declares
 * them; then turned into the settings of the local mapping (local/esm/), which polls kinesalite and
 * invokes the function host instead of anything being created in an emulator.
 */
import {
  findInvalidSetting,
  KINESIS_MAPPING_PROPERTIES,
  KINESIS_MAPPING_SETTINGS,
  type KinesisMappingSettings,
  localSupportOf,
  type MappingProperty,
  type MappingSettingName,
} from '../../lib/eventSourceMappingProperties';
import type { EventSourceMappingSettings } from '../esm';
import {
  type PseudoParameters,
  type ResolvedResources,
  referencedResource,
  resolveString,
} from '../intrinsics';
import type { CfnValue } from '../template';
import { InvalidEventSourceMappingError, UnsupportedTemplateError } from './errors';
import { literalBoolean, numberProp, objectProp } from './properties';
import type { LocalResourceType, ResourceModels } from './resourceType';

/**
 * A Kinesis event source mapping with every setting that shapes its behaviour, CloudFormation defaults
 * applied. Property names are CloudFormation's (AWS::Lambda::EventSourceMapping), so each one can be
 * checked against the AWS documentation.
 */
export interface EventSourceMappingModel extends KinesisMappingSettings {
  logicalId: string;
  functionLogicalId: string;
  eventSourceLogicalId: string;
  DestinationConfig: {
    /** `Destination` unresolved; `destinationLogicalId` when it points at a resource of the template. */
    OnFailure?: { Destination: CfnValue; destinationLogicalId?: string };
  };
  FilterCriteria?: { Filters: { Pattern: string }[] };
  /** Properties set in the template that the local runtime does not emulate (e.g. MetricsConfig). */
  ignoredProperties: string[];
}

export const lambdaEventSourceMapping: LocalResourceType<'eventSourceMappings'> = {
  cfnType: 'AWS::Lambda::EventSourceMapping',
  modelKey: 'eventSourceMappings',

  describe(logicalId, resource, { model }) {
    const props = resource.Properties ?? {};
    const functionLogicalId = functionOf(logicalId, props.FunctionName, model);
    const eventSourceLogicalId = streamOf(logicalId, props.EventSourceArn, model);

    const settings: Record<string, unknown> = {};
    for (const name of KINESIS_MAPPING_SETTINGS) {
      const value = literalSetting(logicalId, name, props[name], settings);
      if (value !== undefined) settings[name] = value;
    }
    const invalid = findInvalidSetting(settings);
    if (invalid) {
      throw new InvalidEventSourceMappingError(logicalId, invalid.property, invalid.value, invalid.allowed);
    }

    const onFailure = objectProp(objectProp(props.DestinationConfig)?.OnFailure)?.Destination;
    const destinationLogicalId = onFailure === undefined ? undefined : referencedResource(onFailure);
    const filters = objectProp(props.FilterCriteria)?.Filters;
    return {
      logicalId,
      functionLogicalId,
      eventSourceLogicalId,
      ...(settings as KinesisMappingSettings),
      DestinationConfig:
        onFailure === undefined
          ? {}
          : {
              OnFailure: {
                Destination: onFailure,
                ...(destinationLogicalId ? { destinationLogicalId } : {}),
              },
            },
      ...(Array.isArray(filters)
        ? {
            FilterCriteria: {
              Filters: filters.map((filter) => ({ Pattern: String(objectProp(filter)?.Pattern) })),
            },
          }
        : {}),
      ignoredProperties: Object.keys(props).filter((property) => localSupportOf(property) !== 'emulated'),
    };
  },
};

/**
 * The settings the local mapping runs with: the model's, with the on-failure destination resolved to
 * the ARN of the provisioned queue or bucket.
 *
 * @example
 * ```ts
 * const settings = mappingSettings(model.eventSourceMappings[0], resolved, pseudo);
 * settings.DestinationConfig; // { OnFailure: { Destination: 'arn:aws:s3:::shardline-dev-fail-…' } }
 * ```
 */
export function mappingSettings(
  mapping: EventSourceMappingModel,
  resolved: ResolvedResources,
  pseudo: PseudoParameters,
): EventSourceMappingSettings {
  const onFailure = mapping.DestinationConfig.OnFailure;
  return {
    ...mapping,
    DestinationConfig: onFailure
      ? {
          OnFailure: {
            Destination: resolveString(onFailure.Destination, resolved, pseudo, 'OnFailure.Destination'),
          },
        }
      : {},
  };
}

/** A setting's literal value from the template, Lambda's default when absent; checked afterwards. */
function literalSetting(
  logicalId: string,
  name: MappingSettingName,
  value: CfnValue | undefined,
  settingsSoFar: Record<string, unknown>,
): unknown {
  const property: MappingProperty = KINESIS_MAPPING_PROPERTIES[name];
  switch (property.type) {
    case 'integer':
      return numberProp(logicalId, name, value, property.default);
    case 'boolean':
      return literalBoolean(logicalId, name, value, property.default);
    case 'list':
      return value ?? [...property.default];
    case 'timestamp':
      if (settingsSoFar[property.when.property] !== property.when.is || value === undefined) return undefined;
      return numberProp(logicalId, name, value, Number.NaN);
    default:
      return value;
  }
}

function functionOf(logicalId: string, functionName: CfnValue | undefined, model: ResourceModels): string {
  const referenced = functionName === undefined ? undefined : referencedResource(functionName);
  const byReference = model.functions.find((fn) => fn.logicalId === referenced);
  if (byReference) return byReference.logicalId;
  // A literal name, or an ARN ending in `:function:<name>`.
  const byName = model.functions.find(
    (fn) =>
      typeof functionName === 'string' &&
      typeof fn.name === 'string' &&
      (functionName === fn.name || functionName.endsWith(`:function:${fn.name}`)),
  );
  if (byName) return byName.logicalId;
  throw new UnsupportedTemplateError(
    logicalId,
    `the event source mapping invokes ${JSON.stringify(functionName)}, which is not a function of this template`,
  );
}

function streamOf(logicalId: string, eventSourceArn: CfnValue | undefined, model: ResourceModels): string {
  const referenced = eventSourceArn === undefined ? undefined : referencedResource(eventSourceArn);
  const stream = model.streams.find((candidate) => candidate.logicalId === referenced);
  if (stream) return stream.logicalId;
  throw new UnsupportedTemplateError(
    logicalId,
    `the event source ${JSON.stringify(eventSourceArn)} is not a Kinesis stream of this template; the local runtime emulates Kinesis event source mappings only`,
  );
}
