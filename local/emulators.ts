import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { ListStreamsCommand } from '@aws-sdk/client-kinesis';
import { ListBucketsCommand } from '@aws-sdk/client-s3';
import { ListQueuesCommand } from '@aws-sdk/client-sqs';
import {
  type ClientOptions,
  dynamoClient,
  kinesisClient,
  s3Client,
  sqsClient,
} from '../lambdas/shared/clients';
import { ENV } from '../lambdas/shared/config';
import { ShardlineError } from '../lambdas/shared/errors';
import { freePorts, LOOPBACK } from './ports';

/** The AWS services the local stack emulates, each in its own child process. */
export type Service = 'kinesis' | 'dynamodb' | 's3' | 'sqs';

export const SERVICES: readonly Service[] = ['kinesis', 'dynamodb', 's3', 'sqs'];

export const LOCAL_REGION = 'us-east-1';
export const LOCAL_ACCOUNT_ID = '000000000000';
/**
 * s3rver accepts only its built-in key pair (it does not verify SigV4 signatures, only the key id);
 * kinesalite, dynalite and fauxqs accept any credentials. One pair for all four keeps clients simple.
 */
export const LOCAL_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const;

export interface StartEmulatorsOptions {
  /** Root of everything the emulators persist: kinesis/, dynamodb/, s3/, sqs/ and logs/. */
  dataDir: string;
  /** Fixed ports; services left out get a free loopback port. */
  ports?: Partial<Record<Service, number>>;
  /** Receives one line per lifecycle event (starting, ready, stopping). */
  log?: (line: string) => void;
  /** How long each emulator may take to answer its first SDK call (default 30 s). */
  readyTimeoutMs?: number;
}

export interface RunningEmulators {
  endpoints: Record<Service, string>;
  region: typeof LOCAL_REGION;
  accountId: typeof LOCAL_ACCOUNT_ID;
  credentials: { accessKeyId: string; secretAccessKey: string };
  pids: Record<Service, number>;
  dataDir: string;
  /** `<dataDir>/logs/<service>.log`: each child's stdout and stderr. */
  logFiles: Record<Service, string>;
  /** Milliseconds from spawn to the first successful SDK call, per emulator. */
  startupMs: Record<Service, number>;
  /** Stops every emulator (SIGTERM, then SIGKILL after a grace period). Safe to call twice. */
  stop(): Promise<void>;
}

export class EmulatorStartError extends ShardlineError {
  constructor(
    readonly service: Service,
    reason: string,
    readonly logFile: string,
  ) {
    super(`${service} emulator ${reason}: see ${logFile}${logTail(logFile)}`);
    this.name = 'EmulatorStartError';
  }
}

interface Launcher {
  script: string;
  nodeFlags: string[];
  probe: (options: ClientOptions, abortSignal: AbortSignal) => Promise<unknown>;
}

const LAUNCHERS: Record<Service, Launcher> = {
  kinesis: {
    script: 'kinesis.ts',
    nodeFlags: [],
    probe: (options, abortSignal) =>
      withClient(kinesisClient(options), (c) =>
        c.send(new ListStreamsCommand({ Limit: 1 }), { abortSignal }),
      ),
  },
  dynamodb: {
    script: 'dynamodb.ts',
    nodeFlags: [],
    probe: (options, abortSignal) =>
      withClient(dynamoClient(options), (c) => c.send(new ListTablesCommand({ Limit: 1 }), { abortSignal })),
  },
  s3: {
    script: 's3.ts',
    // Without it s3rver answers truncated listings (more keys than MaxKeys) with HTTP 500.
    nodeFlags: ['--openssl-legacy-provider'],
    probe: (options, abortSignal) =>
      withClient(s3Client(options), (c) => c.send(new ListBucketsCommand({}), { abortSignal })),
  },
  sqs: {
    script: 'sqs.ts',
    nodeFlags: [],
    probe: (options, abortSignal) =>
      withClient(sqsClient(options), (c) =>
        c.send(new ListQueuesCommand({ MaxResults: 1 }), { abortSignal }),
      ),
  },
};

const LAUNCHER_DIR = fileURLToPath(new URL('./emulators/', import.meta.url));
const TSX_LOADER = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const STOP_GRACE_MS = 7_000;
const PROBE_INTERVAL_MS = 50;
const PROBE_TIMEOUT_MS = 5_000;

/**
 * Starts kinesalite, dynalite, s3rver and fauxqs, each in its own child process on a loopback port,
 * persisting under `dataDir`, and resolves once each has answered a real SDK call.
 *
 * The children share this process's process group (they are not detached), so killing the group kills
 * them; they also exit on their own when this process goes away.
 *
 * @example
 * ```ts
 * const running = await startEmulators({ dataDir: '.shardline', log: console.log });
 * const kinesis = kinesisClient(clientOptionsFor(running, 'kinesis'));
 * // ...
 * await running.stop();
 * ```
 */
export async function startEmulators(options: StartEmulatorsOptions): Promise<RunningEmulators> {
  const dataDir = resolve(options.dataDir);
  const log = options.log ?? (() => {});
  const readyTimeoutMs = options.readyTimeoutMs ?? 30_000;
  mkdirSync(join(dataDir, 'logs'), { recursive: true });

  const missing = SERVICES.filter((service) => options.ports?.[service] === undefined);
  const free = await freePorts(missing.length);
  const ports = Object.fromEntries(
    SERVICES.map((service) => [service, options.ports?.[service] ?? free[missing.indexOf(service)]]),
  ) as Record<Service, number>;

  const children = new Map<Service, ChildProcess>();
  const stop = async () => {
    await Promise.all([...children].map(([service, child]) => stopChild(service, child, log)));
  };

  const started = await Promise.allSettled(
    SERVICES.map(async (service) => {
      const { child, startupMs } = await launch(service, ports[service], dataDir, readyTimeoutMs, log, (c) =>
        children.set(service, c),
      );
      return { service, pid: child.pid as number, startupMs };
    }),
  );
  const failure = started.find((result) => result.status === 'rejected');
  if (failure) {
    await stop();
    throw failure.reason;
  }

  const ready = started.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  const byService = <T>(pick: (entry: (typeof ready)[number]) => T) =>
    Object.fromEntries(ready.map((entry) => [entry.service, pick(entry)])) as Record<Service, T>;
  const running: RunningEmulators = {
    endpoints: byService((entry) => `http://${LOOPBACK}:${ports[entry.service]}`),
    region: LOCAL_REGION,
    accountId: LOCAL_ACCOUNT_ID,
    credentials: { ...LOCAL_CREDENTIALS },
    pids: byService((entry) => entry.pid),
    dataDir,
    logFiles: byService((entry) => logFileOf(dataDir, entry.service)),
    startupMs: byService((entry) => entry.startupMs),
    stop,
  };
  processesOf.set(running, { children, ports, readyTimeoutMs, log });
  return running;
}

/** What `restartEmulator` needs of a set that `startEmulators` started. */
interface EmulatorProcesses {
  children: Map<Service, ChildProcess>;
  ports: Record<Service, number>;
  readyTimeoutMs: number;
  log: (line: string) => void;
}

const processesOf = new WeakMap<RunningEmulators, EmulatorProcesses>();

export interface RestartEmulatorOptions {
  /** How the running process ends: SIGKILL, as in a crash (default), or SIGTERM, a clean stop. */
  signal?: 'SIGKILL' | 'SIGTERM';
  /** How long the service stays down before the new process starts. Default 0. */
  downtimeMs?: number;
}

/**
 * Restarts one emulator of a running set in place, as a crashed or redeployed service comes back: ends
 * its process, waits `downtimeMs`, and starts a new one on the same port and data directory. Resolves
 * once the new process answers an SDK call; `running.pids` then names it and `running.stop()` stops it.
 * Clients keep their endpoint: their pooled connections fail once and the SDK retries on new ones.
 *
 * @example
 * ```ts
 * const running = await startEmulators({ dataDir: '.shardline' });
 * const { downMs } = await restartEmulator(running, 'dynamodb', { downtimeMs: 2_000 });
 * ```
 */
export async function restartEmulator(
  running: RunningEmulators,
  service: Service,
  options: RestartEmulatorOptions = {},
): Promise<{ downMs: number; startupMs: number }> {
  const processes = processesOf.get(running);
  if (!processes) {
    throw new EmulatorStartError(
      service,
      'cannot be restarted: restart only emulators that startEmulators started in this process',
      running.logFiles[service],
    );
  }
  const stoppedAt = performance.now();
  const child = processes.children.get(service);
  if (child && child.exitCode === null && child.signalCode === null) {
    const exited = once(child, 'exit');
    processes.log(`${service}: restarting (${options.signal ?? 'SIGKILL'} to pid ${child.pid})`);
    child.kill(options.signal ?? 'SIGKILL');
    await exited;
  }
  if (options.downtimeMs) await sleep(options.downtimeMs);
  const { child: next, startupMs } = await launch(
    service,
    processes.ports[service],
    running.dataDir,
    processes.readyTimeoutMs,
    processes.log,
    (spawned) => processes.children.set(service, spawned),
  );
  running.pids[service] = next.pid as number;
  running.startupMs[service] = startupMs;
  return { downMs: Math.round(performance.now() - stoppedAt), startupMs };
}

/**
 * The options for the factories in lambdas/shared/clients.ts that reach one running emulator.
 *
 * @example
 * ```ts
 * const sqs = sqsClient(clientOptionsFor(running, 'sqs'));
 * ```
 */
export function clientOptionsFor(running: RunningEmulators, service: Service): ClientOptions {
  return {
    endpoint: running.endpoints[service],
    region: running.region,
    credentials: { ...running.credentials },
  };
}

/**
 * The environment a Lambda handler process needs to reach the emulators with the unmodified client
 * factories: the AWS SDK v3 reads `AWS_ENDPOINT_URL_<SERVICE ID>` (checked in @smithy/core 3.41,
 * `getEndpointUrlConfig`: service ids Kinesis, DynamoDB, S3, SQS).
 *
 * @example
 * ```ts
 * spawn(process.execPath, ['handler-runner.js'], { env: { ...process.env, ...lambdaEnvironmentFor(running) } });
 * ```
 */
export function lambdaEnvironmentFor(running: RunningEmulators): Record<string, string> {
  return {
    AWS_ENDPOINT_URL_KINESIS: running.endpoints.kinesis,
    AWS_ENDPOINT_URL_DYNAMODB: running.endpoints.dynamodb,
    AWS_ENDPOINT_URL_S3: running.endpoints.s3,
    AWS_ENDPOINT_URL_SQS: running.endpoints.sqs,
    AWS_REGION: running.region,
    AWS_DEFAULT_REGION: running.region,
    AWS_ACCESS_KEY_ID: running.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: running.credentials.secretAccessKey,
    [ENV.s3ForcePathStyle]: 'true',
    // No X-Ray daemon on a laptop: the handlers' Powertools Tracer stays off.
    POWERTOOLS_TRACE_ENABLED: 'false',
  };
}

async function launch(
  service: Service,
  port: number,
  dataDir: string,
  readyTimeoutMs: number,
  log: (line: string) => void,
  onSpawn: (child: ChildProcess) => void,
): Promise<{ child: ChildProcess; startupMs: number }> {
  const launcher = LAUNCHERS[service];
  const logFile = logFileOf(dataDir, service);
  const serviceDir = join(dataDir, service);
  const logFd = openSync(logFile, 'a');
  writeSync(logFd, `--- ${new Date().toISOString()} starting ${service} on ${LOOPBACK}:${port}\n`);
  const startedAt = performance.now();
  let child: ChildProcess;
  try {
    child = spawn(
      process.execPath,
      [
        ...launcher.nodeFlags,
        '--import',
        TSX_LOADER,
        join(LAUNCHER_DIR, launcher.script),
        '--port',
        String(port),
        '--dir',
        serviceDir,
      ],
      {
        // The IPC channel is how a child notices that this process has gone away.
        stdio: ['ignore', logFd, logFd, 'ipc'],
        env: { ...process.env, AWS_ACCOUNT_ID: LOCAL_ACCOUNT_ID, AWS_REGION: LOCAL_REGION },
      },
    );
  } finally {
    closeSync(logFd);
  }
  onSpawn(child);
  child.channel?.unref();
  log(`${service}: starting on ${LOOPBACK}:${port} (pid ${child.pid}, log ${logFile})`);

  const exited = new Promise<never>((_, reject) => {
    child.once('exit', (code, signal) =>
      reject(new EmulatorStartError(service, `exited during startup (${signal ?? `code ${code}`})`, logFile)),
    );
    child.once('error', (error) =>
      reject(new EmulatorStartError(service, `could not be spawned (${error.message})`, logFile)),
    );
  });
  exited.catch(() => {});

  const endpoint = `http://${LOOPBACK}:${port}`;
  const probeOptions: ClientOptions = {
    endpoint,
    region: LOCAL_REGION,
    credentials: { ...LOCAL_CREDENTIALS },
    maxAttempts: 1,
  };
  const deadline = Date.now() + readyTimeoutMs;
  let lastError: unknown;
  for (;;) {
    // Abort an attempt that is still waiting once the child has exited or the attempt is too slow:
    // an abandoned request would keep a socket, and this process, alive.
    const attempt = new AbortController();
    const attemptTimer = setTimeout(() => attempt.abort(), PROBE_TIMEOUT_MS);
    try {
      await Promise.race([launcher.probe(probeOptions, attempt.signal), exited]);
      break;
    } catch (error) {
      if (error instanceof EmulatorStartError) throw error;
      lastError = error;
    } finally {
      clearTimeout(attemptTimer);
      attempt.abort();
    }
    if (Date.now() > deadline) {
      const reason = lastError instanceof Error ? lastError.message : String(lastError);
      throw new EmulatorStartError(
        service,
        `did not answer on ${endpoint} within ${readyTimeoutMs} ms (last error: ${reason})`,
        logFile,
      );
    }
    await Promise.race([sleep(PROBE_INTERVAL_MS), exited]);
  }
  const startupMs = Math.round(performance.now() - startedAt);
  log(`${service}: ready on ${endpoint} in ${startupMs} ms`);
  child.once('exit', (code, signal) => log(`${service}: exited (${signal ?? `code ${code}`})`));
  return { child, startupMs };
}

async function stopChild(service: Service, child: ChildProcess, log: (line: string) => void) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  log(`${service}: stopping (pid ${child.pid})`);
  child.kill('SIGTERM');
  const timer = setTimeout(() => {
    log(`${service}: still running after ${STOP_GRACE_MS} ms, sending SIGKILL`);
    child.kill('SIGKILL');
  }, STOP_GRACE_MS);
  await exited;
  clearTimeout(timer);
}

async function withClient<C extends { destroy(): void }, R>(client: C, call: (client: C) => Promise<R>) {
  try {
    return await call(client);
  } finally {
    client.destroy();
  }
}

function logFileOf(dataDir: string, service: Service) {
  return join(dataDir, 'logs', `${service}.log`);
}

function logTail(logFile: string, lines = 15): string {
  try {
    const tail = readFileSync(logFile, 'utf8').trimEnd().split('\n').slice(-lines);
    return tail.length === 0 ? '' : `\n  ${tail.join('\n  ')}`;
  } catch {
    return '';
  }
}

function sleep(ms: number) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
