import { HostStoppedError } from './errors';
import { ExecutionEnvironment, type ExecutionEnvironmentSpec } from './executionEnvironment';
import { resolveHandlerModule } from './handlerModule';
import {
  lambdaEnvironment,
  maxOldSpaceSizeMb,
  newLogStreamName,
  parseHandlerSetting,
} from './runtimeEnvironment';
import type { FunctionHost, FunctionHostOptions, InvokeOutcome } from './types';

const DEFAULT_ACCOUNT_ID = '000000000000';

interface Slot {
  environment: ExecutionEnvironment;
  busy: boolean;
}

/**
 * Runs a Lambda handler the way Lambda does, without Docker: each execution environment is a child
 * Node.js process with the function's environment variables and memory-derived heap limit, loading the
 * handler once and keeping module state between warm invocations. A timed-out environment is SIGKILLed
 * and replaced (the next invocation is a cold start); one that dies mid-invocation (a crash) is replaced
 * too. Concurrent invocations get their own environments, up to `maxConcurrency`.
 *
 * @example
 * ```ts
 * const host = createFunctionHost({
 *   functionName: 'shardline-dev-consumer',
 *   assetPath: 'cdk.out/asset.1234',
 *   handler: 'index.handler',
 *   environment: { BUCKET_NAME: 'lake' },
 *   timeoutSeconds: 30,
 *   memoryMb: 512,
 * });
 * const outcome = await host.invoke({ Records: [] });
 * if (!outcome.ok) console.error(outcome.errorType, outcome.errorMessage);
 * await host.stop();
 * ```
 */
export function createFunctionHost(options: FunctionHostOptions): FunctionHost {
  const { modulePath, exportPath } = parseHandlerSetting(options.handler);
  const region = options.region ?? options.environment.AWS_REGION ?? 'us-east-1';
  const accountId = options.accountId ?? DEFAULT_ACCOUNT_ID;
  const functionArn = `arn:aws:lambda:${region}:${accountId}:function:${options.functionName}`;
  const maxConcurrency = Math.max(1, options.maxConcurrency ?? 4);
  const log = options.log ?? ((line: string) => process.stderr.write(`[${options.functionName}] ${line}\n`));
  const timeoutMs = options.timeoutSeconds * 1000;
  const slots: Slot[] = [];
  const waiters: Array<(slot: Slot) => void> = [];
  let restarts = 0;
  let stopped = false;

  const spawn = (): ExecutionEnvironment => {
    const spec: ExecutionEnvironmentSpec = {
      // Resolved per environment so that a rebuilt asset is picked up by the next cold start.
      module: resolveHandlerModule(options.assetPath, modulePath),
      modulePath,
      exportPath,
      taskRoot: options.assetPath,
      env: lambdaEnvironment({
        functionName: options.functionName,
        handler: options.handler,
        assetPath: options.assetPath,
        memoryMb: options.memoryMb,
        region,
        runtime: options.runtime ?? 'nodejs22.x',
        logStreamName: newLogStreamName(),
        environment: options.environment,
      }),
      maxOldSpaceSizeMb: maxOldSpaceSizeMb(options.memoryMb),
      invokedFunctionArn: functionArn,
      log,
    };
    const environment = new ExecutionEnvironment(spec);
    void environment.exited.then(() => replace(environment));
    return environment;
  };

  // A dead environment is replaced in its slot at once, so that `pid` always names a live process.
  const replace = (dead: ExecutionEnvironment) => {
    const slot = slots.find((candidate) => candidate.environment === dead);
    if (!slot || stopped) return;
    restarts += 1;
    slot.environment = spawn();
  };

  const acquire = (): Promise<Slot> => {
    const idle = slots.find((slot) => !slot.busy);
    if (idle) {
      idle.busy = true;
      return Promise.resolve(idle);
    }
    if (slots.length < maxConcurrency) {
      const slot: Slot = { environment: spawn(), busy: true };
      slots.push(slot);
      return Promise.resolve(slot);
    }
    return new Promise((resolve) => waiters.push(resolve));
  };

  const release = (slot: Slot) => {
    const next = waiters.shift();
    if (next) next(slot);
    else slot.busy = false;
  };

  slots.push({ environment: spawn(), busy: false });

  return {
    functionArn,
    get pid() {
      return slots[0]?.environment.pid;
    },
    get pids() {
      return slots.flatMap((slot) => (slot.environment.pid === undefined ? [] : [slot.environment.pid]));
    },
    get restarts() {
      return restarts;
    },
    async invoke(event: unknown): Promise<InvokeOutcome> {
      if (stopped) throw new HostStoppedError(options.functionName);
      const slot = await acquire();
      try {
        if (!slot.environment.usable) await slot.environment.exited;
        // The slot may get a new environment while this one runs (it is replaced as soon as it dies).
        const environment = slot.environment;
        const { outcome } = await environment.invoke(event, timeoutMs);
        if (!outcome.ok && outcome.reason !== 'error') await environment.kill();
        return outcome;
      } finally {
        release(slot);
      }
    },
    async stop() {
      stopped = true;
      await Promise.all(slots.map((slot) => slot.environment.kill()));
    },
  };
}
