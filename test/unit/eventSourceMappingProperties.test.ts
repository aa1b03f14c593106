import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { App, Duration } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  allowedValues,
  KINESIS_MAPPING_DEFAULTS,
  KINESIS_MAPPING_PROPERTIES,
  KINESIS_MAPPING_SETTINGS,
  type MappingProperty,
  type MappingSettingName,
} from '../../lib/eventSourceMappingProperties';
import {
  InvalidStackPropError,
  MAPPING_PROPS,
  ShardlineStack,
  type ShardlineStackProps,
} from '../../lib/shardline-stack';
import { loadStackTemplate } from '../../local/assembly';
import { InvalidEventSourceMappingSettingError } from '../../local/esm/errors';
import { settingWarnings, validateSettings, withKinesisDefaults } from '../../local/esm/settings';
import { InvalidEventSourceMappingError } from '../../local/resources/errors';
import { type CfnTemplate, type CfnValue, describeStack } from '../../local/template';

// lib/eventSourceMappingProperties.ts declares each property once; the template reader, the local
// mapping and the stack must each apply exactly that declaration.
const FIXTURE_DIR = fileURLToPath(new URL('../fixtures/template', import.meta.url));
const MAPPING_TYPE = 'AWS::Lambda::EventSourceMapping';

let fixture: CfnTemplate;
beforeAll(async () => {
  fixture = (await loadStackTemplate(FIXTURE_DIR)).template;
});

/** The fixture's mapping with `changes` applied (undefined deletes), as the template reader reads it. */
function readMapping(changes: Record<string, CfnValue | undefined>) {
  const template = structuredClone(fixture);
  const mapping = Object.values(template.Resources).find((resource) => resource.Type === MAPPING_TYPE);
  const properties = mapping?.Properties as Record<string, CfnValue>;
  for (const [key, value] of Object.entries(changes)) {
    if (value === undefined) delete properties[key];
    else properties[key] = value;
  }
  const [read] = describeStack(template, { cdkOutDir: FIXTURE_DIR }).eventSourceMappings;
  if (!read) throw new Error('the fixture has no event source mapping');
  return read;
}

/** The same settings as the local mapping checks them, every other setting valid. */
function checkLocally(changes: Record<string, unknown>) {
  validateSettings(withKinesisDefaults({ StartingPosition: 'TRIM_HORIZON', ...changes }));
}

/** One setting changed; the timestamp that AT_TIMESTAMP needs is there, and ignored otherwise. */
const withSetting = (name: string, value: unknown) => ({
  StartingPositionTimestamp: 1_767_225_600,
  [name]: value as CfnValue,
});

function declarationOf(name: MappingSettingName): MappingProperty {
  return KINESIS_MAPPING_PROPERTIES[name];
}

/** The declared values of a setting and, just outside them, values AWS refuses. */
function samplesOf(name: MappingSettingName): { allowed: unknown[]; refused: unknown[] } {
  const property = declarationOf(name);
  switch (property.type) {
    case 'integer': {
      const unlimited = property.unlimited?.value;
      const below = property.min - 1 === unlimited ? property.min - 2 : property.min - 1;
      return {
        allowed: [property.min, property.max, ...(unlimited === undefined ? [] : [unlimited])],
        refused: [below, property.max + 1, property.min + 0.5],
      };
    }
    case 'choice':
      return { allowed: [...property.values], refused: ['AT_SEQUENCE_NUMBER'] };
    case 'list':
      return { allowed: [[], [...property.values]], refused: [['ReportEverything']] };
    // The reader refuses a boolean that is not literal before any range applies: nothing to compare.
    case 'boolean':
      return { allowed: [true, false], refused: [] };
    default:
      return { allowed: [], refused: [] };
  }
}

const checkedSettings = KINESIS_MAPPING_SETTINGS.filter((name) => samplesOf(name).allowed.length > 0);

describe('the template reader and the local mapping agree with the declaration', () => {
  it('every setting is checked here, the timestamp by a test of its own below', () => {
    const unchecked = KINESIS_MAPPING_SETTINGS.filter((name) => !checkedSettings.includes(name));
    expect(unchecked).toEqual(['StartingPositionTimestamp']);
  });

  it.each(checkedSettings)('%s: both accept every declared value', (name) => {
    for (const value of samplesOf(name).allowed) {
      expect(readMapping(withSetting(name, value))[name]).toEqual(value);
      expect(() => checkLocally(withSetting(name, value))).not.toThrow();
    }
  });

  it.each(checkedSettings.filter((name) => samplesOf(name).refused.length > 0))(
    '%s: both refuse a value outside it, saying what AWS allows',
    (name) => {
      const allowed = allowedValues(name);
      for (const value of samplesOf(name).refused) {
        expect(() => readMapping(withSetting(name, value))).toThrow(InvalidEventSourceMappingError);
        expect(() => readMapping(withSetting(name, value))).toThrow(`allows ${allowed} for Kinesis`);
        expect(() => checkLocally(withSetting(name, value))).toThrow(InvalidEventSourceMappingSettingError);
        expect(() => checkLocally(withSetting(name, value))).toThrow(`Lambda allows ${allowed}`);
      }
    },
  );

  it('both apply the declared defaults to the settings a template leaves out', () => {
    const defaulted = Object.keys(KINESIS_MAPPING_DEFAULTS);
    const read = readMapping(Object.fromEntries(defaulted.map((name) => [name, undefined])));
    const local = withKinesisDefaults({ StartingPosition: 'TRIM_HORIZON' });
    for (const name of defaulted) {
      const declared = (declarationOf(name as MappingSettingName) as { default: unknown }).default;
      expect({ name, value: read[name as MappingSettingName] }).toEqual({ name, value: declared });
      expect({ name, value: local[name as MappingSettingName] }).toEqual({ name, value: declared });
    }
  });

  it('both require StartingPositionTimestamp with AT_TIMESTAMP, in the same words', () => {
    const allowed = allowedValues('StartingPositionTimestamp');
    expect(() => readMapping({ StartingPosition: 'AT_TIMESTAMP' })).toThrow(allowed);
    expect(() => checkLocally({ StartingPosition: 'AT_TIMESTAMP' })).toThrow(allowed);
    expect(
      readMapping({ StartingPosition: 'AT_TIMESTAMP', StartingPositionTimestamp: 0 })
        .StartingPositionTimestamp,
    ).toBe(0);
  });

  it('a property declared as not emulated is listed by the reader and warned about with its declared reason', () => {
    const notEmulated = Object.entries(KINESIS_MAPPING_PROPERTIES).flatMap(([name, property]) =>
      typeof property.local === 'object' ? [[name, property.local.notEmulated] as const] : [],
    );
    // One batch per shard: the fixture's tumbling window with a factor of 2 would add a warning of its own.
    const read = readMapping({
      ParallelizationFactor: 1,
      ...Object.fromEntries(notEmulated.map(([name]) => [name, {}])),
    });
    expect(read.ignoredProperties).toEqual(notEmulated.map(([name]) => name));
    expect(settingWarnings({ ...read, DestinationConfig: {} }).map((entry) => entry.warning)).toEqual(
      notEmulated.map(([name, reason]) => `${name} is not emulated locally: ${reason}`),
    );
  });
});

describe('the stack validates its event source props with the declared bounds', () => {
  const outdirs: string[] = [];
  const stackWith = (props: Omit<ShardlineStackProps, 'stage'>) => {
    const outdir = mkdtempSync(join(tmpdir(), 'shardline-esm-props-test-'));
    outdirs.push(outdir);
    const app = new App({
      outdir,
      context: { 'aws:cdk:bundling-stacks': [] },
      builtinCloudFormationValidation: false,
    });
    return new ShardlineStack(app, 'EsmProps', { stage: 'test', ...props });
  };
  afterAll(() => {
    for (const outdir of outdirs) rmSync(outdir, { recursive: true, force: true });
  });

  /** A prop value for a number of the property's unit: Durations for the seconds properties. */
  const propValue = (prop: keyof typeof MAPPING_PROPS, value: number) =>
    prop === 'maxBatchingWindow' || prop === 'maxRecordAge' ? Duration.seconds(value) : value;

  it.each(Object.entries(MAPPING_PROPS))('%s: refused just outside the range of %s', (prop, property) => {
    const { min, max } = KINESIS_MAPPING_PROPERTIES[property];
    // A Duration cannot be negative: CDK refuses -1 s itself.
    const isDuration = propValue(prop as keyof typeof MAPPING_PROPS, 0) instanceof Duration;
    for (const value of [min - 1, max + 1].filter((outside) => outside >= 0 || !isDuration)) {
      const props = { [prop]: propValue(prop as keyof typeof MAPPING_PROPS, value) };
      expect(() => stackWith(props)).toThrow(InvalidStackPropError);
      expect(() => stackWith(props)).toThrow(`from ${min} to ${max}`);
    }
  });

  it('the limits of each range synthesize, and the template reader reads them back', () => {
    const limits = Object.fromEntries(
      Object.entries(MAPPING_PROPS).map(([prop, property]) => {
        const { min, max } = KINESIS_MAPPING_PROPERTIES[property];
        // The commit protocol narrows the parallelization factor to 1, AWS's minimum.
        const value = prop === 'parallelizationFactor' ? min : max;
        return [prop, propValue(prop as keyof typeof MAPPING_PROPS, value)];
      }),
    );
    const template = Template.fromStack(stackWith(limits)).toJSON() as CfnTemplate;
    const [mapping] = describeStack(template, { cdkOutDir: outdirs[0] ?? tmpdir() }).eventSourceMappings;
    for (const [prop, property] of Object.entries(MAPPING_PROPS)) {
      const value = limits[prop];
      expect(mapping?.[property]).toBe(value instanceof Duration ? value.toSeconds() : value);
    }
    expect(() =>
      stackWith({ batchSize: 1, retryAttempts: 0, maxBatchingWindow: Duration.seconds(0) }),
    ).not.toThrow();
    expect(() => stackWith({ maxRecordAge: Duration.seconds(60) })).not.toThrow();
  });
});
