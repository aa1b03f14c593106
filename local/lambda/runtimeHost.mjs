// The inside of one execution environment: a child process forked by executionEnvironment.ts.
//
// Plain JavaScript so that it needs no TypeScript loader. Like Lambda's Node.js runtime it loads the
// handler module once (the init phase), then serves invocations one at a time, so module state survives
// between warm invocations. Messages over the IPC channel (JSON):
//   parent -> child  { type: 'invoke', requestId, event, deadlineMs }
//   child -> parent  { type: 'ready', initDurationMs } | { type: 'initError', errorType, errorMessage }
//                    { type: 'log', line }
//                    { type: 'result', requestId, ok: true, resultJson, maxMemoryUsedMb }
//                    { type: 'result', requestId, ok: false, errorType, errorMessage, maxMemoryUsedMb }
//                    { type: 'fatal', requestId, errorType, errorMessage } (then the process exits)
// argv[2] is a JSON object { moduleFile, moduleFormat, modulePath, exportPath, taskRoot, invokedFunctionArn }.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire, Module } from 'node:module';
import { dirname, join, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { format } from 'node:util';

const config = JSON.parse(process.argv[2] ?? '{}');
let currentRequestId;

function send(message) {
  return new Promise((resolve) => {
    if (!process.connected) return resolve();
    process.send(message, undefined, {}, () => resolve());
  });
}

// Lambda's Node.js runtime prefixes console output with a timestamp, the request id and the level.
function patchConsole() {
  const levels = { log: 'INFO', info: 'INFO', warn: 'WARN', error: 'ERROR', debug: 'DEBUG', trace: 'TRACE' };
  for (const [method, level] of Object.entries(levels)) {
    console[method] = (...args) => {
      const line = `${new Date().toISOString()}\t${currentRequestId ?? 'undefined'}\t${level}\t${format(...args)}`;
      if (process.connected) process.send({ type: 'log', line });
      else process.stdout.write(`${line}\n`);
    };
  }
}

function describeError(error) {
  if (error instanceof Error) {
    return { errorType: error.name || 'Error', errorMessage: error.message, stack: error.stack?.split('\n') };
  }
  if (error === null || error === undefined) {
    return { errorType: 'Error', errorMessage: String(error) };
  }
  if (typeof error === 'object') {
    return { errorType: 'object', errorMessage: safeJson(error) ?? String(error) };
  }
  return { errorType: typeof error, errorMessage: String(error) };
}

function safeJson(value) {
  try {
    return JSON.stringify(value);
  } catch {
    return undefined;
  }
}

function maxMemoryUsedMb() {
  return Math.round(process.resourceUsage().maxRSS / 1024);
}

// In Lambda nothing exists above /var/task, so a .js file in the task root is CommonJS unless a
// package.json inside the task root says "type": "module". A local asset directory may sit under a
// package.json with "type": "module" (this repository's), which would make Node refuse to require() it:
// compile such files as CommonJS ourselves, for the handler module and everything it requires.
function packageTypeWithinTaskRoot(file) {
  const root = resolve(config.taskRoot);
  let current = dirname(file);
  while (current === root || current.startsWith(`${root}${sep}`)) {
    const manifest = join(current, 'package.json');
    if (existsSync(manifest))
      return JSON.parse(readFileSync(manifest, 'utf8')).type === 'module' ? 'module' : 'commonjs';
    if (current === root) break;
    current = dirname(current);
  }
  return 'commonjs';
}

function compileTaskRootJavaScriptAsCommonJs() {
  const root = resolve(config.taskRoot);
  const original = Module._extensions['.js'];
  Module._extensions['.js'] = function loadJs(module, filename) {
    const inTaskRoot = filename.startsWith(`${root}${sep}`) && !filename.includes(`${sep}node_modules${sep}`);
    if (inTaskRoot && packageTypeWithinTaskRoot(filename) === 'commonjs') {
      module._compile(readFileSync(filename, 'utf8'), filename);
      return;
    }
    original.call(this, module, filename);
  };
}

async function loadModule() {
  const { moduleFile, moduleFormat, modulePath } = config;
  if (!moduleFile) {
    throw Object.assign(new Error(`Error: Cannot find module '${modulePath}'`), {
      name: 'Runtime.ImportModuleError',
    });
  }
  if (moduleFormat === 'commonjs') return createRequire(moduleFile)(moduleFile);
  return await import(pathToFileURL(moduleFile).href);
}

function findExport(loaded, exportPath) {
  let value = loaded;
  for (const key of exportPath) value = value?.[key];
  if (typeof value !== 'function' && loaded?.default !== undefined) {
    value = loaded.default;
    for (const key of exportPath) value = value?.[key];
  }
  return value;
}

async function init() {
  const started = performance.now();
  try {
    const loaded = await loadModule();
    const handler = findExport(loaded, config.exportPath);
    if (typeof handler !== 'function') {
      throw Object.assign(
        new Error(`${config.modulePath}.${config.exportPath.join('.')} is undefined or not exported`),
        { name: 'Runtime.HandlerNotFound' },
      );
    }
    await send({ type: 'ready', initDurationMs: performance.now() - started });
    return handler;
  } catch (error) {
    const described = describeError(error);
    if (error instanceof SyntaxError) {
      described.errorType = 'Runtime.UserCodeSyntaxError';
      described.errorMessage = `SyntaxError: ${error.message}`;
    }
    await send({ type: 'initError', errorType: described.errorType, errorMessage: described.errorMessage });
    process.exit(1);
  }
}

function makeContext(requestId, deadlineMs, settle) {
  return {
    functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
    functionVersion: process.env.AWS_LAMBDA_FUNCTION_VERSION,
    invokedFunctionArn: config.invokedFunctionArn,
    memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    awsRequestId: requestId,
    logGroupName: process.env.AWS_LAMBDA_LOG_GROUP_NAME,
    logStreamName: process.env.AWS_LAMBDA_LOG_STREAM_NAME,
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, deadlineMs - Date.now()),
    done: (error, result) => settle(error, result),
    succeed: (result) => settle(null, result),
    fail: (error) => settle(error ?? new Error('handled'), undefined),
  };
}

// Promise handlers resolve with their value; callback handlers (three parameters) answer through the
// callback or context.done/succeed/fail. A two-parameter handler that returns a plain value answers null,
// as Lambda does once the event loop drains.
function runHandler(handler, event, requestId, deadlineMs) {
  return new Promise((resolve, reject) => {
    let settled = false;
    const settle = (error, result) => {
      if (settled) return;
      settled = true;
      if (error !== null && error !== undefined) reject(error);
      else resolve(result);
    };
    const context = makeContext(requestId, deadlineMs, settle);
    let returned;
    try {
      returned = handler(event, context, settle);
    } catch (error) {
      settle(error ?? new Error(String(error)), undefined);
      return;
    }
    if (returned !== null && typeof returned === 'object' && typeof returned.then === 'function') {
      returned.then(
        (result) => settle(null, result),
        (error) => settle(error ?? new Error(String(error)), undefined),
      );
    } else if (handler.length < 3) {
      settle(null, null);
    }
  });
}

async function onFatal(errorType, errorMessage) {
  await send({ type: 'fatal', requestId: currentRequestId, errorType, errorMessage });
  process.exit(129);
}

process.on('uncaughtException', (error) => {
  const described = describeError(error);
  void onFatal(described.errorType, described.errorMessage);
});
process.on('unhandledRejection', (reason) => {
  void onFatal('Runtime.UnhandledPromiseRejection', describeError(reason).errorMessage);
});
process.on('disconnect', () => process.exit(0));

patchConsole();
compileTaskRootJavaScriptAsCommonJs();
const handler = await init();
process.on('message', async (message) => {
  if (message?.type !== 'invoke') return;
  const { requestId, event, deadlineMs } = message;
  currentRequestId = requestId;
  try {
    const result = await runHandler(handler, event, requestId, deadlineMs);
    let resultJson;
    try {
      resultJson = JSON.stringify(result === undefined ? null : result);
    } catch (error) {
      throw Object.assign(new Error(`Unable to stringify response body: ${error.message}`), {
        name: 'Runtime.MalformedHandlerResponse',
      });
    }
    await send({ type: 'result', requestId, ok: true, resultJson, maxMemoryUsedMb: maxMemoryUsedMb() });
  } catch (error) {
    const described = describeError(error);
    console.error('Invoke Error', JSON.stringify(described));
    await send({
      type: 'result',
      requestId,
      ok: false,
      errorType: described.errorType,
      errorMessage: described.errorMessage,
      maxMemoryUsedMb: maxMemoryUsedMb(),
    });
  } finally {
    currentRequestId = undefined;
  }
});
