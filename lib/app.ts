import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { resourceNames } from '../lambdas/shared/naming';
import { ShardlineStack } from './shardline-stack';

export interface BuildAppOptions {
  /**
   * Deployment stage.
   *
   * @default - context `stage`, else 'dev'
   */
  readonly stage?: string;
  /**
   * Cloud assembly directory.
   *
   * @default - the CLI's output directory (`CDK_OUTDIR`), else a fresh temporary directory
   */
  readonly outdir?: string;
  /** Extra context; the CLI's context (cdk.json, `-c`) takes precedence over it. */
  readonly context?: Record<string, unknown>;
  /**
   * Bundle the Lambda handlers with esbuild. `false` synthesizes the template without building the
   * assets, which is enough to read resources and settings and takes a fraction of the time.
   *
   * @default true
   */
  readonly bundling?: boolean;
  /**
   * Run CDK's built-in CloudFormation template validation during synthesis (several seconds).
   *
   * @default true
   */
  readonly validation?: boolean;
  /**
   * Check the app with cdk-nag's AwsSolutions rules; any finding that is not acknowledged (with its
   * reason, next to the resource in lib/) fails synthesis.
   *
   * @default true
   */
  readonly nag?: boolean;
}

/**
 * Context every synthesis gets, so a template synthesized in-process matches one from `cdk synth`
 * (the CLI sets the same values): metadata naming each resource's construct path and asset directory,
 * and no version-reporting resource.
 */
const SYNTH_CONTEXT = {
  'aws:cdk:enable-path-metadata': true,
  'aws:cdk:enable-asset-metadata': true,
} as const;

/**
 * Builds the Shardline CDK app with its one stack, ready to `synth()`.
 *
 * @example
 * ```ts
 * const { app } = buildApp({ stage: 'dev', outdir: '.shardline/cdk.out', bundling: false });
 * const assembly = app.synth();
 * const template = assembly.getStackByName('Shardline-dev').template;
 * ```
 */
export function buildApp(options: BuildAppOptions = {}): { app: App; stack: ShardlineStack } {
  const app = new App({
    outdir: options.outdir,
    context: { ...SYNTH_CONTEXT, ...options.context },
    // After the CLI's context, so a caller that asks for no bundling gets none whatever the CLI selected.
    postCliContext: options.bundling === false ? { 'aws:cdk:bundling-stacks': [] } : undefined,
    analyticsReporting: false,
    builtinCloudFormationValidation: options.validation,
  });
  const stage = options.stage ?? stageFromContext(app) ?? 'dev';
  const names = resourceNames(stage);
  const stack = new ShardlineStack(app, names.stackName, {
    stage,
    athena: String(app.node.tryGetContext('athena') ?? 'true') !== 'false',
    retainData: booleanContext(app, 'retainData'),
    alarmEmail: optionalContext(app, 'alarmEmail'),
    profile: app.node.tryGetContext('profile'),
    env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
    description: `Shardline ${stage}: Kinesis to Lambda to S3 (Parquet and CSV) pipeline`,
  });
  if (options.nag !== false) Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, stack };
}

function stageFromContext(app: App): string | undefined {
  return optionalContext(app, 'stage');
}

function optionalContext(app: App, key: string): string | undefined {
  const value: unknown = app.node.tryGetContext(key);
  return value === undefined ? undefined : String(value);
}

/** `-c retainData=true|false`; absent leaves the stage's default (see `retainsDataByDefault`). */
function booleanContext(app: App, key: string): boolean | undefined {
  const value = optionalContext(app, key);
  if (value === undefined) return undefined;
  if (value !== 'true' && value !== 'false')
    throw new Error(`context ${key} must be true or false (got ${value})`);
  return value === 'true';
}
