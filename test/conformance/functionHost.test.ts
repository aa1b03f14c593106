import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { createFunctionHost, type FunctionHost, type FunctionHostOptions } from '../../local/lambda';

const FIXTURES = join(import.meta.dirname, '../fixtures/handlers');
const hosts: FunctionHost[] = [];

function host(overrides: Partial<FunctionHostOptions> = {}, lines: string[] = []): FunctionHost {
  const created = createFunctionHost({
    functionName: 'shardline-test-fn',
    assetPath: FIXTURES,
    handler: 'actions.handler',
    environment: { STAGE_NAME: 'test', AWS_REGION: 'eu-west-1' },
    timeoutSeconds: 5,
    memoryMb: 256,
    log: (line) => lines.push(line),
    ...overrides,
  });
  hosts.push(created);
  return created;
}

afterEach(async () => {
  await Promise.all(hosts.splice(0).map((created) => created.stop()));
});

describe('function host: the Lambda execution environment', () => {
  test('a handler runs in a separate process with exactly its environment plus the variables Lambda defines', async () => {
    process.env.SHARDLINE_PARENT_ONLY = 'must not leak';
    const echo = host({ handler: 'echo.handler', memoryMb: 512 });
    const outcome = await echo.invoke({ hello: 'world' });
    expect(outcome.ok).toBe(true);
    const result = (outcome as { result: Record<string, unknown> }).result as {
      pid: number;
      cwd: string;
      env: Record<string, string>;
      execArgv: string[];
      event: unknown;
    };
    expect(result.pid).toBe(echo.pid);
    expect(result.pid).not.toBe(process.pid);
    expect(result.event).toEqual({ hello: 'world' });
    expect(result.cwd).toBe(FIXTURES);
    expect(result.execArgv).toContain('--max-old-space-size=460');
    expect(result.env).toMatchObject({
      STAGE_NAME: 'test',
      AWS_REGION: 'eu-west-1',
      AWS_DEFAULT_REGION: 'eu-west-1',
      AWS_LAMBDA_FUNCTION_NAME: 'shardline-test-fn',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '512',
      AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
      AWS_LAMBDA_LOG_GROUP_NAME: '/aws/lambda/shardline-test-fn',
      LAMBDA_TASK_ROOT: FIXTURES,
      _HANDLER: 'echo.handler',
      AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x',
    });
    expect(result.env.AWS_LAMBDA_LOG_STREAM_NAME).toMatch(/^\d{4}\/\d{2}\/\d{2}\/\[\$LATEST\][0-9a-f]{32}$/);
    expect(Object.keys(result.env).sort()).toEqual([
      'AWS_DEFAULT_REGION',
      'AWS_EXECUTION_ENV',
      'AWS_LAMBDA_FUNCTION_MEMORY_SIZE',
      'AWS_LAMBDA_FUNCTION_NAME',
      'AWS_LAMBDA_FUNCTION_VERSION',
      'AWS_LAMBDA_INITIALIZATION_TYPE',
      'AWS_LAMBDA_LOG_GROUP_NAME',
      'AWS_LAMBDA_LOG_STREAM_NAME',
      'AWS_REGION',
      'LAMBDA_TASK_ROOT',
      'LANG',
      'PATH',
      'STAGE_NAME',
      'TZ',
      '_HANDLER',
    ]);
    expect(result.env.SHARDLINE_PARENT_ONLY).toBeUndefined();
    delete process.env.SHARDLINE_PARENT_ONLY;
  });

  test('the context object carries the fields of the Node.js runtime context', async () => {
    const echo = host({ handler: 'echo.handler', timeoutSeconds: 3 });
    const outcome = await echo.invoke({});
    const { context, env } = (
      outcome as { result: { context: Record<string, unknown>; env: Record<string, string> } }
    ).result;
    expect(context).toMatchObject({
      functionName: 'shardline-test-fn',
      functionVersion: '$LATEST',
      invokedFunctionArn: 'arn:aws:lambda:eu-west-1:000000000000:function:shardline-test-fn',
      memoryLimitInMB: '256',
      logGroupName: '/aws/lambda/shardline-test-fn',
      logStreamName: env.AWS_LAMBDA_LOG_STREAM_NAME,
      callbackWaitsForEmptyEventLoop: true,
      hasDone: true,
      hasSucceed: true,
      hasFail: true,
    });
    expect(context.awsRequestId).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
    expect(context.awsRequestId).toBe(outcome.requestId);
    expect(context.remainingTimeInMillis).toBeGreaterThan(2_000);
    expect(context.remainingTimeInMillis).toBeLessThanOrEqual(3_000);
  });

  test('module state survives warm invocations, and each invocation gets a new request id', async () => {
    const echo = host({ handler: 'echo.handler' });
    const first = (await echo.invoke({})) as { result: { invocations: number }; requestId: string };
    const second = (await echo.invoke({})) as { result: { invocations: number }; requestId: string };
    expect([first.result.invocations, second.result.invocations]).toEqual([1, 2]);
    expect(first.requestId).not.toBe(second.requestId);
    expect(echo.restarts).toBe(0);
  });

  test('console output is prefixed like Lambda logs and framed by START, END and REPORT lines', async () => {
    const lines: string[] = [];
    const echo = host({ handler: 'echo.handler' }, lines);
    const outcome = await echo.invoke({});
    const id = outcome.requestId;
    expect(lines).toContain(`START RequestId: ${id} Version: $LATEST`);
    expect(lines.some((line) => new RegExp(`^\\S+Z\\t${id}\\tINFO\\techo invocation 1$`).test(line))).toBe(
      true,
    );
    expect(lines).toContain(`END RequestId: ${id}`);
    const report = lines.find((line) => line.startsWith(`REPORT RequestId: ${id}`));
    expect(report).toMatch(
      /Duration: [\d.]+ ms\tBilled Duration: \d+ ms\tMemory Size: 256 MB\tMax Memory Used: \d+ MB/,
    );
    expect(report).toMatch(/Init Duration: [\d.]+ ms/);
  });

  test('a handler that throws fails the invocation with the error name as errorType', async () => {
    const outcome = await host().invoke({ action: 'throw', message: 'bad record 7' });
    expect(outcome).toMatchObject({
      ok: false,
      reason: 'error',
      errorType: 'PoisonRecordError',
      errorMessage: 'bad record 7',
    });
  });

  test('a thrown string is reported with errorType "string", as the Node.js runtime does', async () => {
    const outcome = await host().invoke({ action: 'throwString' });
    expect(outcome).toMatchObject({ ok: false, errorType: 'string', errorMessage: 'plain string' });
  });

  test('an invocation past the timeout fails with reason timeout and the next one is a cold start', async () => {
    const fn = host({ timeoutSeconds: 1 });
    const before = fn.pid;
    const outcome = await fn.invoke({ action: 'hang' });
    expect(outcome).toMatchObject({ ok: false, reason: 'timeout', errorType: 'Sandbox.Timedout' });
    expect(outcome.ok ? '' : outcome.errorMessage).toMatch(/Task timed out after 1\.00 seconds$/);
    expect(outcome.durationMs).toBeGreaterThanOrEqual(990);
    const next = await fn.invoke({ action: 'return', value: 'after timeout' });
    expect(next).toMatchObject({ ok: true, result: 'after timeout' });
    expect(fn.pid).not.toBe(before);
    expect(fn.restarts).toBe(1);
  });

  test('a child killed mid-invocation is a crash, and the host starts a fresh one', async () => {
    const fn = host();
    const pending = fn.invoke({ action: 'sleep', ms: 2_000 });
    await new Promise((resolve) => setTimeout(resolve, 300));
    const victim = fn.pid as number;
    process.kill(victim, 'SIGKILL');
    const outcome = await pending;
    expect(outcome).toMatchObject({ ok: false, reason: 'crash', errorType: 'Runtime.ExitError' });
    expect(outcome.ok ? '' : outcome.errorMessage).toContain('Runtime exited with error: signal: killed');
    const next = await fn.invoke({ action: 'return', value: 1 });
    expect(next).toMatchObject({ ok: true, result: 1 });
    expect(fn.pid).not.toBe(victim);
    expect(fn.restarts).toBe(1);
  });

  test('process.exit in the handler is a crash with the exit status, and the host survives', async () => {
    const fn = host();
    const outcome = await fn.invoke({ action: 'exit' });
    expect(outcome).toMatchObject({ ok: false, reason: 'crash', errorType: 'Runtime.ExitError' });
    expect(outcome.ok ? '' : outcome.errorMessage).toContain('exit status 3');
    expect(await fn.invoke({ action: 'return', value: 'alive' })).toMatchObject({
      ok: true,
      result: 'alive',
    });
  });

  test('an uncaught exception fails the invocation with its type and replaces the environment', async () => {
    const fn = host();
    const outcome = await fn.invoke({ action: 'uncaught' });
    expect(outcome).toMatchObject({ ok: false, reason: 'error', errorType: 'TypeError' });
    expect(await fn.invoke({ action: 'return', value: 2 })).toMatchObject({ ok: true, result: 2 });
    expect(fn.restarts).toBe(1);
  });

  test('an unhandled rejection fails the invocation with Runtime.UnhandledPromiseRejection', async () => {
    const outcome = await host().invoke({ action: 'unhandledRejection' });
    expect(outcome).toMatchObject({
      ok: false,
      reason: 'error',
      errorType: 'Runtime.UnhandledPromiseRejection',
      errorMessage: 'nobody catches this',
    });
  });

  test('a response over the 6 MB synchronous payload limit fails the invocation', async () => {
    const outcome = await host().invoke({ action: 'big' });
    expect(outcome).toMatchObject({ ok: false, errorType: 'Function.ResponseSizeTooLarge' });
  });

  test('callback-style, context.succeed and nested-export handlers answer like in Lambda', async () => {
    expect(await host({ handler: 'actions.callbackHandler' }).invoke({})).toMatchObject({
      ok: true,
      result: { via: 'callback' },
    });
    expect(await host({ handler: 'actions.callbackHandler' }).invoke({ fail: true })).toMatchObject({
      ok: false,
      errorMessage: 'callback error',
    });
    expect(await host({ handler: 'actions.succeedHandler' }).invoke({})).toMatchObject({
      ok: true,
      result: { via: 'context.succeed' },
    });
    expect(await host({ handler: 'actions.nested.handler' }).invoke({})).toMatchObject({
      ok: true,
      result: 'nested export',
    });
  });

  test('init failures are reported on every invocation: a missing module, a missing export, a throwing module', async () => {
    expect(await host({ handler: 'missing.handler' }).invoke({})).toMatchObject({
      ok: false,
      errorType: 'Runtime.ImportModuleError',
    });
    expect(await host({ handler: 'actions.nope' }).invoke({})).toMatchObject({
      ok: false,
      errorType: 'Runtime.HandlerNotFound',
    });
    const failing = host({ handler: 'initFailure.handler' });
    expect(await failing.invoke({})).toMatchObject({
      ok: false,
      errorType: 'ConfigurationError',
      errorMessage: 'missing configuration at init',
    });
    expect(await failing.invoke({})).toMatchObject({ ok: false, errorType: 'ConfigurationError' });
  });

  test('a TypeScript handler module runs through tsx', async () => {
    const outcome = await host({ handler: 'typed.handler' }).invoke({ name: 'shardline' });
    expect(outcome).toMatchObject({ ok: true, result: { greeting: 'hello shardline' } });
  });

  test('concurrent invocations run in separate environments, sequential ones reuse the first', async () => {
    const fn = host({ maxConcurrency: 2 });
    const started = performance.now();
    const outcomes = await Promise.all([
      fn.invoke({ action: 'sleep', ms: 400 }),
      fn.invoke({ action: 'sleep', ms: 400 }),
    ]);
    expect(outcomes.every((outcome) => outcome.ok)).toBe(true);
    expect(performance.now() - started).toBeLessThan(1_500);
    expect(fn.pids).toHaveLength(2);
  });
});
