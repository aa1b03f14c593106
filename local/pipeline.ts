import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { kinesisClient, s3Client, sqsClient } from '../lambdas/shared/clients';
import { ShardlineError } from '../lambdas/shared/errors';
import { resourceNames } from '../lambdas/shared/naming';
import { loadStackTemplate } from './assembly';
import { requireDataLayout } from './dataLayout';
import {
  clientOptionsFor,
  lambdaEnvironmentFor,
  type RunningEmulators,
  type Service,
  startEmulators,
} from './emulators';
import { type EventSourceMapping, startEventSourceMapping } from './esm';
import {
  type PseudoParameters,
  pseudoParametersFor,
  type ResolvedResources,
  resolveEnvironment,
  resolveString,
} from './intrinsics';
import { createFunctionHost, type FunctionHost } from './lambda';
import { provision } from './provision';
import {
  describeBucketLifecycles,
  type LifecycleSweeper,
  startLifecycleSweeper,
} from './resources/bucketLifecycle';
import { ResourceConflictError } from './resources/errors';
import { describeScheduleRules, type ScheduleRunner, startScheduleRunner } from './resources/eventsRule';
import { mappingSettings } from './resources/lambdaEventSourceMapping';
import type { FunctionModel } from './resources/lambdaFunction';
import { type LocalFunction, type RuntimeInfo, writeRuntime } from './runtimeState';
import { isSynthCurrent, markSynthesized, synthInputsHash } from './synthCache';
import { describeStack, type LocalModel } from './template';

/**
 * The Docker-free local pipeline: synthesize the CDK app, start the emulators, provision exactly what
 * the template declares, run every function that has an event source mapping in its own process
 * behind a local event source mapping, run the scheduled rules' target functions on their schedules
 * (local/resources/eventsRule.ts), and apply the buckets' lifecycle rules to the local S3
 * (local/resources/bucketLifecycle.ts). Everything it needs comes from the template.
 */
export interface PipelineOptions {
  dataDir: string;
  stage: string;
  /** Where the cloud assembly goes; default `cdk.out` in the project, as `npx cdk synth` does. */
  cdkOutDir?: string;
  /** Synthesize first (default) or use the template already in `cdkOutDir`. */
  synth?: boolean;
  log?: (line: string) => void;
  /** Test knobs for the event source mapping: poll interval and retry backoff. */
  pollIntervalMs?: number;
  retryBackoffMs?: number;
  /**
   * Endpoints the functions use instead of the emulators' own, for example a fault-injecting proxy
   * (local/faultProxy.ts). Called once the emulators are up. Resource URLs in the functions' environment
   * are pointed there too (the SQS client sends to the host of the queue URL). Default: none, the functions
   * reach the emulators directly. The event source mapping and `runtime` always use the emulators.
   */
  functionEndpoints?: (emulators: RunningEmulators) => Promise<Partial<Record<Service, string>>>;
  /**
   * The clock of the scheduled rules' events and of the buckets' lifecycle rules (epoch ms). Default
   * `Date.now`; tests move it forward to expire objects without waiting days.
   */
  now?: () => number;
  /** How often the lifecycle sweep runs. Default one minute. */
  lifecycleSweepIntervalMs?: number;
}

export interface LocalPipeline {
  runtime: RuntimeInfo;
  emulators: RunningEmulators;
  model: LocalModel;
  consumerHost: FunctionHost;
  mapping: EventSourceMapping;
  /** The template's scheduled rules (the publisher's, every minute), run like EventBridge runs them. */
  schedules: ScheduleRunner;
  /** The function hosts of the scheduled rules' targets, by logical id. */
  scheduledHosts: ReadonlyMap<string, FunctionHost>;
  /** The buckets' lifecycle rules applied to the local S3. */
  lifecycle: LifecycleSweeper;
  stop(): Promise<void>;
}

export const PROJECT_ROOT = resolve(import.meta.dirname, '..');

export class TemplateMismatchError extends ShardlineError {
  constructor(what: string) {
    super(`the synthesized template does not look like a Shardline stack: ${what}`);
    this.name = 'TemplateMismatchError';
  }
}

export class SynthError extends ShardlineError {
  constructor(exitCode: number | null, output: string) {
    const tail = output.trim().split('\n').slice(-15).join('\n');
    super(
      `synthesizing the CDK app failed (exit ${exitCode}); fix it and check with \`npx cdk synth\`:\n${tail}`,
    );
    this.name = 'SynthError';
  }
}

/**
 * Synthesizes the stack with its Lambda bundles (esbuild, no Docker) into `outdir`, exactly as
 * `npx cdk synth -c stage=<stage>` does: the CDK app runs in a child process, the same way the CDK CLI
 * runs it, and its output (bundling progress) goes to `log` rather than the terminal.
 *
 * @example
 * ```ts
 * await synthesize('dev', 'cdk.out', console.log);
 * ```
 */
export async function synthesize(stage: string, outdir: string, log: (line: string) => void = () => {}) {
  const child = spawn(process.execPath, ['--import', 'tsx', join(PROJECT_ROOT, 'bin', 'app.ts')], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, CDK_OUTDIR: outdir, CDK_CONTEXT_JSON: JSON.stringify({ stage }) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const collect = (chunk: Buffer) => {
    output += chunk.toString();
    for (const line of chunk.toString().split('\n')) if (line.trim()) log(`[synth] ${line}`);
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  const [exitCode] = (await once(child, 'exit')) as [number | null];
  if (exitCode !== 0) throw new SynthError(exitCode, output);
}

/**
 * Synthesizes unless `cdkOutDir` already holds what synthesizing would produce (local/synthCache.ts):
 * the same CDK app, Lambda code, config, lockfile, stage and environment.
 */
async function synthesizeIfChanged(stage: string, cdkOutDir: string, log: (line: string) => void) {
  const started = Date.now();
  const inputsHash = await synthInputsHash(PROJECT_ROOT, stage);
  if (await isSynthCurrent(cdkOutDir, inputsHash)) {
    log(`the cloud assembly in ${cdkOutDir} is current (no synth input changed); not synthesizing again`);
    return;
  }
  await synthesize(stage, cdkOutDir, log);
  await markSynthesized(cdkOutDir, inputsHash);
  log(`synthesized stage ${stage} into ${cdkOutDir} in ${Date.now() - started} ms`);
}

/** The bucket name of an S3 on-failure destination (`arn:aws:s3:::name`), for the CLI's failure store. */
function failuresBucketOf(
  destination: Parameters<typeof resolveString>[0] | undefined,
  resolved: Parameters<typeof resolveString>[1],
  pseudo: PseudoParameters,
): { failuresBucketName?: string } {
  if (destination === undefined) return {};
  const arn = resolveString(destination, resolved, pseudo, 'OnFailure.Destination');
  return arn.startsWith(`arn:${pseudo.partition}:s3:::`)
    ? { failuresBucketName: arn.split(':').pop() ?? '' }
    : {};
}

function localFunction(
  fn: FunctionModel,
  resolved: ResolvedResources,
  pseudo: PseudoParameters,
  emulatorEnv: Record<string, string>,
): LocalFunction {
  if (!fn.assetPath) throw new TemplateMismatchError(`function ${fn.logicalId} has no code asset`);
  return {
    logicalId: fn.logicalId,
    name: resolveString(fn.name, resolved, pseudo, `${fn.logicalId}.FunctionName`),
    assetPath: fn.assetPath,
    handler: fn.handler,
    timeoutSeconds: fn.timeoutSeconds,
    memoryMb: fn.memoryMb,
    environment: { ...resolveEnvironment(fn.environment, resolved, pseudo), ...emulatorEnv },
  };
}

/**
 * Right after the emulators restart on existing data (for example after the whole `up` process group was
 * killed), an emulator can answer its readiness probe and still fail the odd call while it replays its
 * store. Provisioning and the mapping's start are retried a few times before giving up; a conflict
 * between the data directory and the template is not transient and fails at once.
 */
async function retryTransient<T>(
  what: string,
  log: (line: string) => void,
  run: () => Promise<T>,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await run();
    } catch (error) {
      if (attempt >= 4 || error instanceof ResourceConflictError || error instanceof TemplateMismatchError)
        throw error;
      log(
        `${what}: attempt ${attempt} failed (${(error as Error).name}: ${(error as Error).message}); retrying`,
      );
      await new Promise((resolve) => setTimeout(resolve, 500 * attempt));
    }
  }
}

/**
 * Starts the whole local pipeline and publishes its runtime info in the data directory.
 *
 * @example
 * ```ts
 * const pipeline = await startLocalPipeline({ dataDir: '.shardline', stage: 'dev' });
 * await pipeline.stop();
 * ```
 */
export async function startLocalPipeline(options: PipelineOptions): Promise<LocalPipeline> {
  const log = options.log ?? (() => {});
  const dataDir = resolve(options.dataDir);
  const cdkOutDir = resolve(options.cdkOutDir ?? join(PROJECT_ROOT, 'cdk.out'));
  const names = resourceNames(options.stage);
  await mkdir(dataDir, { recursive: true });
  await requireDataLayout(dataDir);

  // The emulators start while the app synthesizes: both take seconds, and neither needs the other.
  const emulatorsStarting = startEmulators({ dataDir, log });
  emulatorsStarting.catch(() => {}); // awaited below; a failure must not surface as an unhandled rejection first
  let stack: Awaited<ReturnType<typeof loadStackTemplate>>;
  let model: LocalModel;
  try {
    if (options.synth !== false) await synthesizeIfChanged(options.stage, cdkOutDir, log);
    stack = await loadStackTemplate(cdkOutDir, names.stackName);
    model = describeStack(stack.template, { cdkOutDir: stack.cdkOutDir, stackName: stack.stackName });
  } catch (error) {
    await emulatorsStarting.then(
      (emulators) => emulators.stop(),
      () => {},
    );
    throw error;
  }

  const emulators = await emulatorsStarting;
  try {
    const pseudo = pseudoParametersFor(emulators, stack.stackName);
    const resolved = await retryTransient('provisioning', log, () =>
      provision(model, emulators, { log, stackName: stack.stackName }),
    );
    // Locally the handlers run on this machine's Node (20), not Lambda's 22: silence the SDK's notice about it.
    const overrides = (await options.functionEndpoints?.(emulators)) ?? {};
    const functionEndpoints = { ...emulators.endpoints, ...overrides };
    const throughOverrides = (environment: Record<string, string>) =>
      Object.fromEntries(
        Object.entries(environment).map(([name, value]) => {
          for (const [service, url] of Object.entries(overrides)) {
            const endpoint = emulators.endpoints[service as Service];
            if (value === endpoint || value.startsWith(`${endpoint}/`))
              return [name, `${url}${value.slice(endpoint.length)}`];
          }
          return [name, value];
        }),
      );
    const emulatorEnv = {
      ...lambdaEnvironmentFor({ ...emulators, endpoints: functionEndpoints }),
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    };
    const functionNamed = (name: string) => {
      const fn = model.functions.find((f) => resolveString(f.name, resolved, pseudo) === name);
      if (!fn) throw new TemplateMismatchError(`no function named ${name}`);
      return localFunction(fn, resolved, pseudo, emulatorEnv);
    };
    const producer = functionNamed(names.producerFunctionName);
    const consumer = functionNamed(names.consumerFunctionName);
    const mappingModel = model.eventSourceMappings.find((m) => m.functionLogicalId === consumer.logicalId);
    if (!mappingModel) throw new TemplateMismatchError(`${consumer.name} has no event source mapping`);
    const stream = resolved[mappingModel.eventSourceLogicalId];
    if (!stream)
      throw new TemplateMismatchError(
        `the mapping's event source ${mappingModel.eventSourceLogicalId} was not provisioned`,
      );

    const hostFor = (fn: LocalFunction) =>
      createFunctionHost({
        functionName: fn.name,
        assetPath: fn.assetPath,
        handler: fn.handler,
        environment: throughOverrides(fn.environment),
        timeoutSeconds: fn.timeoutSeconds,
        memoryMb: fn.memoryMb,
        region: emulators.region,
        accountId: emulators.accountId,
        log: (line) => log(`[${fn.name}] ${line}`),
      });
    const consumerHost = hostFor(consumer);

    // Functions without an event source mapping that a scheduled rule targets (the publisher).
    const scheduleRules = describeScheduleRules(stack.template, stack.stackName);
    const scheduledFunctions = new Map<string, LocalFunction>();
    for (const target of scheduleRules.flatMap((rule) => rule.targets)) {
      const fn = model.functions.find((f) => f.logicalId === target.functionLogicalId);
      if (!fn)
        throw new TemplateMismatchError(`scheduled target ${target.functionLogicalId} is not a function`);
      scheduledFunctions.set(fn.logicalId, localFunction(fn, resolved, pseudo, emulatorEnv));
    }
    const scheduledHosts = new Map(
      [...scheduledFunctions].map(([logicalId, fn]) => [logicalId, hostFor(fn)] as const),
    );
    const publisher = [...scheduledFunctions.values()].find((fn) => fn.name === names.publisherFunctionName);

    const env = consumer.environment;
    const runtime: RuntimeInfo = {
      pid: process.pid,
      startedAt: new Date().toISOString(),
      dataDir,
      stage: options.stage,
      region: emulators.region,
      accountId: emulators.accountId,
      credentials: { ...emulators.credentials },
      endpoints: { ...emulators.endpoints },
      resources: {
        streamName: stream.ref,
        streamArn: stream.attributes.Arn ?? '',
        tableName: env.TABLE_NAME ?? '',
        bucketName: env.BUCKET_NAME ?? '',
        dlqUrl: env.DLQ_URL ?? '',
        ...failuresBucketOf(mappingModel.DestinationConfig.OnFailure?.Destination, resolved, pseudo),
      },
      functions: {
        producer: { ...producer, environment: throughOverrides(producer.environment) },
        consumer: { ...consumer, environment: throughOverrides(consumer.environment) },
        ...(publisher
          ? { publisher: { ...publisher, environment: throughOverrides(publisher.environment) } }
          : {}),
      },
    };

    const mapping = await retryTransient('starting the event source mapping', log, () =>
      startEventSourceMapping({
        settings: mappingSettings(mappingModel, resolved, pseudo),
        streamName: runtime.resources.streamName,
        streamArn: runtime.resources.streamArn,
        functionArn: consumerHost.functionArn,
        kinesis: kinesisClient(clientOptionsFor(emulators, 'kinesis')),
        sqs: sqsClient(clientOptionsFor(emulators, 'sqs')),
        s3: s3Client(clientOptionsFor(emulators, 's3')),
        resolveQueueUrl: (arn: string) => {
          const queue = Object.values(resolved).find((r) => r.attributes.Arn === arn);
          if (!queue)
            throw new TemplateMismatchError(`on-failure destination ${arn} is not a provisioned queue`);
          return queue.ref;
        },
        invoke: (event) => consumerHost.invoke(event),
        stateDir: join(dataDir, 'esm'),
        ...(options.pollIntervalMs === undefined ? {} : { pollIntervalMs: options.pollIntervalMs }),
        ...(options.retryBackoffMs === undefined
          ? {}
          : { retryBackoff: { initialMs: options.retryBackoffMs, maxMs: options.retryBackoffMs * 8 } }),
        logger: (entry) => log(JSON.stringify({ time: new Date().toISOString(), source: 'esm', ...entry })),
      }),
    );
    const schedules = startScheduleRunner({
      rules: scheduleRules,
      region: emulators.region,
      accountId: emulators.accountId,
      invoke: (logicalId, event) => (scheduledHosts.get(logicalId) as FunctionHost).invoke(event),
      ...(options.now ? { now: options.now } : {}),
      log: (line) => log(`[schedule] ${line}`),
    });
    const lifecycle = startLifecycleSweeper({
      s3: s3Client(clientOptionsFor(emulators, 's3')),
      buckets: describeBucketLifecycles(stack.template).map((bucket) => {
        for (const ignored of bucket.ignored)
          log(`[lifecycle] ${bucket.bucketLogicalId}: not applied locally: ${ignored}`);
        return { name: resolved[bucket.bucketLogicalId]?.ref as string, rules: bucket.rules };
      }),
      ...(options.now ? { now: options.now } : {}),
      ...(options.lifecycleSweepIntervalMs ? { intervalMs: options.lifecycleSweepIntervalMs } : {}),
      log: (line) => log(`[lifecycle] ${line}`),
    });
    await writeRuntime(runtime);

    let stopped = false;
    return {
      runtime,
      emulators,
      model,
      consumerHost,
      mapping,
      schedules,
      scheduledHosts,
      lifecycle,
      async stop() {
        if (stopped) return;
        stopped = true;
        await schedules.stop();
        await lifecycle.stop();
        await mapping.stop();
        await consumerHost.stop();
        await Promise.all([...scheduledHosts.values()].map((host) => host.stop()));
        await emulators.stop();
      },
    };
  } catch (error) {
    await emulators.stop();
    throw error;
  }
}
