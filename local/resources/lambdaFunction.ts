/**
 * AWS::Lambda::Function: read with its handler, runtime, limits, environment and code asset. Nothing is
 * created for it in an emulator: the function runs in a local function host (local/lambda/), and
 * provisioning only gives it the name and ARN that Ref and Fn::GetAtt return.
 */
import { resolve } from 'node:path';
import { resolveString } from '../intrinsics';
import type { CfnResource, CfnValue } from '../template';
import { UnsupportedTemplateError } from './errors';
import { literalInteger, objectProp } from './properties';
import type { LocalResourceType } from './resourceType';

export interface FunctionModel {
  logicalId: string;
  name: CfnValue;
  /** `file.export`, e.g. 'index.handler'. */
  handler: string;
  runtime: string;
  architectures: string[];
  timeoutSeconds: number;
  memoryMb: number;
  /** Environment variables with intrinsics unresolved (see `resolveEnvironment`). */
  environment: Record<string, CfnValue>;
  /**
   * Absolute path of the code directory: the asset's `aws:asset:path` metadata resolved against cdk.out,
   * else the staged `asset.<hash>` directory named by the S3 key. Undefined for inline code.
   */
  assetPath?: string;
}

const CFN_TYPE = 'AWS::Lambda::Function';

export const lambdaFunction: LocalResourceType<'functions'> = {
  cfnType: CFN_TYPE,
  modelKey: 'functions',

  describe(logicalId, resource, { defaultName, cdkOutDir }) {
    const props = resource.Properties ?? {};
    if (typeof props.Handler !== 'string') {
      throw new UnsupportedTemplateError(
        logicalId,
        'the function has no Handler (container image functions cannot run locally): package it as a zip (NodejsFunction)',
      );
    }
    const environment = objectProp(objectProp(props.Environment)?.Variables) ?? {};
    const architectures = Array.isArray(props.Architectures) ? props.Architectures.map(String) : ['x86_64'];
    return {
      logicalId,
      name: props.FunctionName ?? defaultName,
      handler: props.Handler,
      runtime: String(props.Runtime ?? ''),
      architectures,
      timeoutSeconds: literalInteger(logicalId, 'Timeout', props.Timeout, 3),
      memoryMb: literalInteger(logicalId, 'MemorySize', props.MemorySize, 128),
      environment,
      ...assetPathOf(resource, cdkOutDir),
    };
  },

  async provision(fn, context) {
    const name = resolveString(fn.name, context.resolved, context.pseudo, `${fn.logicalId}.FunctionName`);
    const { partition } = context.pseudo;
    const { region, accountId } = context.running;
    return {
      type: CFN_TYPE,
      ref: name,
      attributes: { Arn: `arn:${partition}:lambda:${region}:${accountId}:function:${name}` },
    };
  },
};

function assetPathOf(resource: CfnResource, cdkOutDir: string): { assetPath?: string } {
  const metadataPath = resource.Metadata?.['aws:asset:path'];
  if (typeof metadataPath === 'string') return { assetPath: resolve(cdkOutDir, metadataPath) };
  // Without asset metadata (synthesized with it off), the staged directory is named after the S3 key.
  const s3Key = objectProp(resource.Properties?.Code)?.S3Key;
  if (typeof s3Key === 'string' && /^[0-9a-f]{64}\.zip$/.test(s3Key)) {
    return { assetPath: resolve(cdkOutDir, `asset.${s3Key.slice(0, -'.zip'.length)}`) };
  }
  return {};
}
