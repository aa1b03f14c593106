import { type ChildProcess, fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { HandlerModule } from './handlerModule';
import type { InvokeFailureReason, InvokeOutcome } from './types';

const HOST_SCRIPT = fileURLToPath(new URL('./runtimeHost.mjs', import.meta.url));
/** Lambda gives an on-demand init phase 10 seconds before it fails the invocation. */
const INIT_TIMEOUT_MS = 10_000;

export interface ExecutionEnvironmentSpec {
  module: HandlerModule;
  modulePath: string;
  exportPath: string[];
  taskRoot: string;
  /** The complete environment of the child (see lambdaEnvironment). */
  env: Record<string, string>;
  maxOldSpaceSizeMb: number;
  invokedFunctionArn: string;
  log: (line: string) => void;
}

export interface EnvironmentInvocation {
  outcome: InvokeOutcome;
  /** Set on the first invocation an environment serves (a cold start). */
  initDurationMs?: number;
  maxMemoryUsedMb?: number;
}

type InitResult =
  | { ok: true; initDurationMs: number }
  | { ok: false; errorType: string; errorMessage: string; reason: InvokeFailureReason };

type ChildMessage =
  | { type: 'ready'; initDurationMs: number }
  | { type: 'initError'; errorType: string; errorMessage: string }
  | { type: 'log'; line: string }
  | { type: 'result'; requestId: string; ok: true; resultJson: string; maxMemoryUsedMb: number }
  | {
      type: 'result';
      requestId: string;
      ok: false;
      errorType: string;
      errorMessage: string;
      maxMemoryUsedMb: number;
    }
  | { type: 'fatal'; requestId?: string; errorType: string; errorMessage: string };

interface PendingInvocation {
  requestId: string;
  settle: (result: Omit<EnvironmentInvocation, 'initDurationMs'>) => void;
}

/**
 * One Lambda execution environment: a forked Node.js process that loads the handler once and serves one
 * invocation at a time. Anything the handler does stays inside the child; the parent only sees messages
 * and the exit. Not exported from the package: the function host manages these.
 */
export class ExecutionEnvironment {
  readonly pid: number | undefined;
  readonly exited: Promise<void>;
  private readonly child: ChildProcess;
  private readonly init: Promise<InitResult>;
  private resolveInit: (result: InitResult) => void = () => {};
  private pending: PendingInvocation | undefined;
  private served = 0;
  private alive = true;
  private expectedExit = false;

  constructor(private readonly spec: ExecutionEnvironmentSpec) {
    this.init = new Promise((resolve) => {
      this.resolveInit = resolve;
    });
    const execArgv = [`--max-old-space-size=${spec.maxOldSpaceSizeMb}`];
    if (spec.module.needsTypeScriptLoader) {
      const tsx = createRequire(import.meta.url).resolve('tsx');
      execArgv.push('--import', pathToFileURL(tsx).href);
    }
    const config = {
      moduleFile: spec.module.file,
      moduleFormat: spec.module.format,
      modulePath: spec.modulePath,
      exportPath: spec.exportPath,
      taskRoot: spec.taskRoot,
      invokedFunctionArn: spec.invokedFunctionArn,
    };
    this.child = fork(HOST_SCRIPT, [JSON.stringify(config)], {
      cwd: spec.taskRoot,
      env: spec.env,
      execArgv,
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      serialization: 'json',
    });
    this.pid = this.child.pid;
    for (const stream of [this.child.stdout, this.child.stderr]) {
      if (stream) createInterface({ input: stream }).on('line', (line) => spec.log(line));
    }
    this.child.on('message', (message) => this.onMessage(message as ChildMessage));
    this.exited = new Promise((resolve) => {
      let exited = false;
      const onExit = (code: number | null, signal: NodeJS.Signals | null) => {
        if (exited) return;
        exited = true;
        this.onExit(code, signal);
        resolve();
      };
      this.child.once('exit', onExit);
      this.child.on('error', (error) => {
        spec.log(`execution environment error: ${error.message}`);
        // A process that could not be spawned never emits 'exit'.
        if (this.child.pid === undefined) onExit(1, null);
      });
    });
    const initTimer = setTimeout(() => {
      this.resolveInit({
        ok: false,
        errorType: 'Sandbox.Timedout',
        errorMessage: `INIT_REPORT Init Duration: ${INIT_TIMEOUT_MS} ms Phase: init Status: timeout`,
        reason: 'timeout',
      });
      this.kill();
    }, INIT_TIMEOUT_MS);
    void this.init.then(() => clearTimeout(initTimer));
  }

  /** False once the child has exited or is about to (killed, failed init, uncaught exception). */
  get usable(): boolean {
    return this.alive && !this.expectedExit;
  }

  /** Runs one invocation; resolves (never rejects) with its outcome once the handler answers or fails. */
  async invoke(event: unknown, timeoutMs: number): Promise<EnvironmentInvocation> {
    const requestId = randomUUID();
    const started = performance.now();
    const init = await this.init;
    if (!init.ok) {
      return {
        outcome: {
          ok: false,
          errorType: init.errorType,
          errorMessage: init.errorMessage,
          reason: init.reason,
          durationMs: performance.now() - started,
          requestId,
        },
      };
    }
    const initDurationMs = this.served === 0 ? init.initDurationMs : undefined;
    this.served += 1;
    const invoked = performance.now();
    const result = await new Promise<Omit<EnvironmentInvocation, 'initDurationMs'>>((resolve) => {
      const timer = setTimeout(() => {
        this.kill();
        settle({
          outcome: {
            ok: false,
            errorType: 'Sandbox.Timedout',
            errorMessage: `${new Date().toISOString()} ${requestId} Task timed out after ${(timeoutMs / 1000).toFixed(2)} seconds`,
            reason: 'timeout',
            durationMs: 0,
            requestId,
          },
        });
      }, timeoutMs);
      const settle = (value: Omit<EnvironmentInvocation, 'initDurationMs'>) => {
        if (this.pending?.requestId !== requestId) return;
        this.pending = undefined;
        clearTimeout(timer);
        resolve(value);
      };
      this.pending = { requestId, settle };
      this.spec.log(`START RequestId: ${requestId} Version: $LATEST`);
      try {
        this.child.send({ type: 'invoke', requestId, event, deadlineMs: Date.now() + timeoutMs });
      } catch (error) {
        settle({
          outcome: {
            ok: false,
            errorType: 'Runtime.InvalidEvent',
            errorMessage: `the event cannot be serialized as JSON: ${(error as Error).message}`,
            reason: 'error',
            durationMs: 0,
            requestId,
          },
        });
      }
    });
    result.outcome = { ...result.outcome, durationMs: performance.now() - invoked };
    this.logReport(requestId, result, initDurationMs);
    return { ...result, ...(initDurationMs === undefined ? {} : { initDurationMs }) };
  }

  /** SIGKILLs the child (as Lambda does to a timed-out environment); resolves once it has exited. */
  kill(): Promise<void> {
    this.expectedExit = true;
    if (this.alive) this.child.kill('SIGKILL');
    return this.exited;
  }

  private logReport(
    requestId: string,
    result: Omit<EnvironmentInvocation, 'initDurationMs'>,
    initDurationMs: number | undefined,
  ) {
    const { outcome } = result;
    this.spec.log(`END RequestId: ${requestId}`);
    const fields = [
      `REPORT RequestId: ${requestId}`,
      `Duration: ${outcome.durationMs.toFixed(2)} ms`,
      `Billed Duration: ${Math.ceil(outcome.durationMs + (initDurationMs ?? 0))} ms`,
      `Memory Size: ${this.spec.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE} MB`,
      `Max Memory Used: ${result.maxMemoryUsedMb ?? '?'} MB`,
    ];
    if (initDurationMs !== undefined) fields.push(`Init Duration: ${initDurationMs.toFixed(2)} ms`);
    if (!outcome.ok && outcome.reason !== 'error') fields.push(`Status: ${outcome.reason}`);
    this.spec.log(fields.join('\t'));
  }

  private onMessage(message: ChildMessage) {
    switch (message.type) {
      case 'ready':
        this.resolveInit({ ok: true, initDurationMs: message.initDurationMs });
        return;
      case 'initError':
        this.expectedExit = true;
        this.resolveInit({
          ok: false,
          errorType: message.errorType,
          errorMessage: message.errorMessage,
          reason: 'error',
        });
        return;
      case 'log':
        this.spec.log(message.line);
        return;
      case 'result':
        this.onResult(message);
        return;
      case 'fatal':
        // Lambda's runtime reports an uncaught exception as the invocation's error, then exits.
        this.expectedExit = true;
        if (this.pending) {
          this.pending.settle({
            outcome: {
              ok: false,
              errorType: message.errorType,
              errorMessage: message.errorMessage,
              reason: 'error',
              durationMs: 0,
              requestId: this.pending.requestId,
            },
          });
        }
        return;
    }
  }

  private onResult(message: Extract<ChildMessage, { type: 'result' }>) {
    const pending = this.pending;
    if (pending?.requestId !== message.requestId) return;
    // The duration is measured by invoke() once the promise settles.
    const durationMs = 0;
    if (message.ok) {
      const bytes = Buffer.byteLength(message.resultJson);
      if (bytes > MAX_RESPONSE_BYTES) {
        pending.settle({
          outcome: {
            ok: false,
            errorType: 'Function.ResponseSizeTooLarge',
            errorMessage: `Response payload size (${bytes} bytes) exceeded maximum allowed payload size (${MAX_RESPONSE_BYTES} bytes).`,
            reason: 'error',
            durationMs,
            requestId: message.requestId,
          },
          maxMemoryUsedMb: message.maxMemoryUsedMb,
        });
        return;
      }
      pending.settle({
        outcome: {
          ok: true,
          result: JSON.parse(message.resultJson),
          durationMs,
          requestId: message.requestId,
        },
        maxMemoryUsedMb: message.maxMemoryUsedMb,
      });
      return;
    }
    pending.settle({
      outcome: {
        ok: false,
        errorType: message.errorType,
        errorMessage: message.errorMessage,
        reason: 'error',
        durationMs,
        requestId: message.requestId,
      },
      maxMemoryUsedMb: message.maxMemoryUsedMb,
    });
  }

  private onExit(code: number | null, signal: NodeJS.Signals | null) {
    this.alive = false;
    const how = signal ? `signal: ${signal === 'SIGKILL' ? 'killed' : signal}` : `exit status ${code}`;
    this.resolveInit({
      ok: false,
      errorType: 'Runtime.ExitError',
      errorMessage: `Error: Runtime exited with error: ${how}`,
      reason: 'crash',
    });
    if (this.pending) {
      const { requestId } = this.pending;
      this.pending.settle({
        outcome: {
          ok: false,
          errorType: 'Runtime.ExitError',
          errorMessage: `RequestId: ${requestId} Error: Runtime exited with error: ${how}`,
          reason: 'crash',
          durationMs: 0,
          requestId,
        },
      });
    } else if (!this.expectedExit) {
      this.spec.log(`execution environment ${this.pid} exited while idle (${how})`);
    }
  }
}

/** Lambda's synchronous response payload limit (6 MB). */
const MAX_RESPONSE_BYTES = 6 * 1024 * 1024;
