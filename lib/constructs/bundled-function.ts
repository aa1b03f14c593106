import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import { type IRole, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';

/** The repository root, found from this file so synthesis works from any working directory. */
const projectRoot = fileURLToPath(new URL('../..', import.meta.url));

export interface BundledFunctionProps {
  /** Handler source file, relative to the repository root (for example `lambdas/producer/handler.ts`). */
  readonly entry: string;
  /** Physical function name. */
  readonly functionName: string;
  /** Function timeout. */
  readonly timeout: Duration;
  /** Memory in MB, which also sets the CPU share. */
  readonly memorySize: number;
  /** Environment variables, in addition to `NODE_OPTIONS`. */
  readonly environment: Record<string, string>;
  /**
   * Files, relative to the repository root, copied next to the bundled `index.js`
   * (for example a `.wasm` module that the bundle reads from its own directory).
   *
   * @default - none
   */
  readonly bundledFiles?: readonly string[];
  /**
   * How long the function's log group keeps events.
   *
   * @default RetentionDays.TWO_WEEKS
   */
  readonly logRetention?: RetentionDays;
  /**
   * What deleting the stack does to the function's log group.
   *
   * @default RemovalPolicy.RETAIN
   */
  readonly logRemovalPolicy?: RemovalPolicy;
}

/**
 * The runtime every function uses. Pinned, not "latest": a runtime upgrade changes what the bundle runs on
 * (esbuild targets it too), so it is a reviewed change with its own tests. nodejs22.x is supported by
 * Lambda until 2027-04-30 (AWS Lambda runtimes page); cdk-nag's AwsSolutions-L1 is acknowledged for it.
 */
export const FUNCTION_RUNTIME = Runtime.NODEJS_22_X;

/**
 * A Node.js 22 arm64 Lambda function bundled by the local esbuild into one self-contained CommonJS file:
 * every dependency, the AWS SDK included, is bundled so the versions in package-lock.json are the ones
 * that run. Logs go to a log group of its own with a bounded retention.
 *
 * Its execution role starts empty: no AWS managed policy (AWSLambdaBasicExecutionRole would allow writing
 * to every log group in the account, `Resource: *`), only CreateLogStream and PutLogEvents on its own log
 * group. Grant the rest explicitly.
 *
 * The log group and the role are sibling constructs named `<id>LogGroup` and `<id>Role`.
 *
 * @example
 * ```ts
 * new BundledFunction(stack, 'Consumer', {
 *   entry: 'lambdas/consumer/handler.ts',
 *   functionName: 'shardline-dev-consumer',
 *   timeout: Duration.seconds(60),
 *   memorySize: 1024,
 *   environment: { TABLE_NAME: table.tableName },
 *   bundledFiles: ['node_modules/parquet-wasm/node/parquet_wasm_bg.wasm'],
 * });
 * ```
 */
export class BundledFunction extends NodejsFunction {
  /** The function's own execution role (the `role` of a NodejsFunction, never undefined here). */
  readonly executionRole: IRole;

  constructor(scope: Construct, id: string, props: BundledFunctionProps) {
    const bundledFiles = props.bundledFiles ?? [];
    const logGroup = new LogGroup(scope, `${id}LogGroup`, {
      retention: props.logRetention ?? RetentionDays.TWO_WEEKS,
      removalPolicy: props.logRemovalPolicy ?? RemovalPolicy.RETAIN,
    });
    const role = new Role(scope, `${id}Role`, {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `Execution role of ${props.functionName}`,
    });
    logGroup.grantWrite(role);
    super(scope, id, {
      entry: join(projectRoot, props.entry),
      handler: 'handler',
      projectRoot,
      depsLockFilePath: join(projectRoot, 'package-lock.json'),
      functionName: props.functionName,
      runtime: FUNCTION_RUNTIME,
      role,
      architecture: Architecture.ARM_64,
      timeout: props.timeout,
      memorySize: props.memorySize,
      // Without this flag Node ignores the bundle's source map and stack traces point into minified code.
      environment: { NODE_OPTIONS: '--enable-source-maps', ...props.environment },
      logGroup,
      // X-Ray traces of each invocation and its AWS calls (Powertools Tracer in the handlers); the local
      // runtime turns the tracer off (POWERTOOLS_TRACE_ENABLED=false), as there is no X-Ray daemon.
      tracing: Tracing.ACTIVE,
      bundling: {
        format: OutputFormat.CJS,
        target: 'node22',
        minify: true,
        sourceMap: true,
        // File and line numbers for stack traces, without a second copy of every source file: the map is
        // a fifth of its size, the zip under 3 MB, and Node parses it faster at init.
        sourcesContent: false,
        externalModules: [],
        commandHooks: {
          beforeBundling: () => [],
          beforeInstall: () => [],
          // The hook directories are host paths with local esbuild and /asset-* paths in Docker: POSIX cp
          // works in both.
          afterBundling: (inputDir, outputDir) =>
            bundledFiles.map((file) => `cp "${inputDir}/${file}" "${outputDir}/"`),
        },
      },
    });
    this.executionRole = role;
    Validations.of(role).acknowledge({
      id: 'AwsSolutions::AwsSolutions-IAM5[Resource::*]',
      reason:
        'Active tracing: xray:PutTraceSegments and xray:PutTelemetryRecords, which X-Ray supports on no ' +
        'resource narrower than `*` (Service Authorization Reference). Nothing else is granted on `*`.',
    });
    Validations.of(this).acknowledge({
      id: 'AwsSolutions::AwsSolutions-L1',
      reason:
        `${FUNCTION_RUNTIME.name} is pinned on purpose: the bundle targets it (esbuild target node22) and is ` +
        'tested on it. It is a supported Lambda runtime until Node.js 22 reaches end of life (April 2027); ' +
        'moving to a newer runtime is a reviewed change, not something synthesis picks.',
    });
  }
}
