import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { PROJECT_ROOT } from '../../local/pipeline';
import { CliError } from '../errors';
import { emptyBucket } from '../lake/emptyBucket';
import type { GlobalOptions } from '../main';
import { outputsFile, resolveTarget, targetClients } from '../targets';

export interface DeployOptions extends GlobalOptions {
  target: 'localstack' | 'aws';
  stage: string;
  /** Skip the confirmation of IAM changes (CI). */
  yes: boolean;
}

/**
 * The CDK CLI arguments for a deploy or destroy: the stage as context, and for deploy the outputs file
 * that the other commands read.
 *
 * @example
 * ```ts
 * cdkArguments('deploy', { target: 'aws', stage: 'dev', dataDir: '.shardline', yes: true });
 * // ['deploy', '-c', 'stage=dev', '--outputs-file', '.shardline/outputs/aws-dev.json', '--require-approval', 'never']
 * ```
 */
export function cdkArguments(
  action: 'deploy' | 'destroy' | 'bootstrap',
  options: Omit<DeployOptions, 'json'>,
): string[] {
  const args = [action, '-c', `stage=${options.stage}`];
  // LocalStack's community edition has no Glue or Athena: deploy the stack without its lake catalog.
  if (options.target === 'localstack' && action !== 'bootstrap') args.push('-c', 'athena=false');
  if (action === 'deploy')
    args.push('--outputs-file', outputsFile(options.dataDir, options.target, options.stage));
  if (action === 'deploy' && options.yes) args.push('--require-approval', 'never');
  if (action === 'destroy' && options.yes) args.push('--force');
  return args;
}

async function runCdk(options: DeployOptions, args: string[]): Promise<void> {
  // cdklocal wraps the same CDK CLI and points it at LocalStack (AWS_ENDPOINT_URL, test credentials).
  const cli = options.target === 'localstack' ? 'cdklocal' : 'cdk';
  const child = spawn('npx', ['--no-install', cli, ...args], { cwd: PROJECT_ROOT, stdio: 'inherit' });
  const [code] = (await once(child, 'exit')) as [number | null];
  if (code !== 0) throw new CliError(`\`npx ${cli} ${args.join(' ')}\` failed with exit code ${code}`);
}

/** `npm run deploy` / `npm run deploy:localstack`: bootstrap where needed, deploy, keep the outputs. */
export async function deploy(options: DeployOptions): Promise<void> {
  if (options.target === 'localstack') {
    await waitUntilLocalStackReady();
    await runCdk(options, cdkArguments('bootstrap', options));
  }
  await mkdir(dirname(outputsFile(options.dataDir, options.target, options.stage)), { recursive: true });
  await runCdk(options, cdkArguments('deploy', options));
  console.log(`outputs written to ${outputsFile(options.dataDir, options.target, options.stage)}`);
}

/**
 * `npm run destroy`: on a removable stage (output `DataRetention` is `destroy`) empties the lake and
 * access-log buckets first, every version included, since CloudFormation deletes only empty buckets;
 * then `cdk destroy`. A production stage keeps its buckets and table, and its termination protection makes
 * `cdk destroy` refuse until it is turned off.
 */
export async function destroy(options: DeployOptions): Promise<void> {
  if (options.target === 'localstack') await waitUntilLocalStackReady();
  await emptyRemovableBuckets(options);
  await runCdk(options, cdkArguments('destroy', options));
}

export async function emptyRemovableBuckets(options: DeployOptions): Promise<void> {
  const file = outputsFile(options.dataDir, options.target, options.stage);
  let outputs: Record<string, string> | undefined;
  try {
    const byStack = JSON.parse(await readFile(file, 'utf8')) as Record<string, Record<string, string>>;
    outputs = Object.values(byStack)[0];
  } catch {
    process.stderr.write(`no outputs in ${file}: the buckets are not emptied first\n`);
    return;
  }
  if (outputs?.DataRetention !== 'destroy') return;
  const target = await resolveTarget(options);
  const { s3 } = targetClients(target);
  // Every bucket the stack creates: CloudFormation deletes only empty ones, and one left behind makes the
  // next deploy of the stage fail on its name.
  for (const bucket of [outputs.BucketName, outputs.AccessLogsBucketName, outputs.FailuresBucketName]) {
    if (!bucket) continue;
    const deleted = await emptyBucket(s3, bucket);
    process.stderr.write(`emptied s3://${bucket} (${deleted} object version(s) and delete marker(s))\n`);
  }
}

async function waitUntilLocalStackReady(): Promise<void> {
  const { version, edition } = await waitForLocalStack({
    onWait: (message) => process.stderr.write(`${message}\n`),
  });
  const described = [version, edition && `(${edition})`].filter(Boolean).join(' ');
  process.stderr.write(`LocalStack ${described ? `${described} ` : ''}is ready\n`);
}

/** LocalStack's gateway as seen from the host (docker-compose.yml publishes it on loopback). */
export const LOCALSTACK_URL = 'http://localhost:4566';
/** The hook in localstack/init/ready.d that leaves the readiness marker and checks the Docker socket. */
export const READY_HOOK = '01-shardline-ready.sh';
/**
 * Services that `cdklocal bootstrap`, `cdklocal deploy` and the running stack call. LocalStack reports
 * a service it was not told to load (docker-compose.yml's SERVICES) as `disabled`.
 */
export const REQUIRED_LOCALSTACK_SERVICES = [
  'cloudformation',
  'iam',
  'sts',
  'ssm',
  's3',
  'kinesis',
  'lambda',
  'dynamodb',
  'sqs',
  'logs',
  'kms',
  'cloudwatch',
] as const;
const DEFAULT_WAIT_MS = 120_000;
const POLL_INTERVAL_MS = 1_000;
const PROBE_TIMEOUT_MS = 2_000;

/** One look at LocalStack: not answering yet, still starting, ready, or broken in a way waiting won't fix. */
export type LocalStackProbe =
  | { state: 'unreachable' }
  | { state: 'starting' }
  | { state: 'ready'; version?: string; edition?: string }
  | { state: 'broken'; problem: string };

interface HealthResponse {
  services?: Record<string, string>;
  version?: string;
  edition?: string;
}

interface InitStageResponse {
  completed?: boolean;
  scripts?: { name?: string; state?: string }[];
}

/**
 * Asks LocalStack's health endpoint whether the gateway answers and every service the stack needs is
 * loadable, then its init endpoint whether the ready hooks have run and ours succeeded.
 *
 * @example
 * ```ts
 * const probe = await probeLocalStack(fetch);
 * if (probe.state === 'ready') console.log(probe.version);
 * ```
 */
export async function probeLocalStack(fetchImpl: typeof fetch): Promise<LocalStackProbe> {
  const health = await getJson<HealthResponse>(fetchImpl, '/_localstack/health');
  if (health === undefined) return { state: 'unreachable' };

  const services = health.services ?? {};
  const disabled = REQUIRED_LOCALSTACK_SERVICES.filter((service) => services[service] === 'disabled');
  if (disabled.length > 0) {
    return {
      state: 'broken',
      problem: `LocalStack on localhost:4566 does not load ${disabled.join(', ')}: start it with this repository's docker-compose.yml, whose SERVICES lists what the stack needs`,
    };
  }
  const failed = REQUIRED_LOCALSTACK_SERVICES.filter((service) => services[service] === 'error');
  if (failed.length > 0) {
    return {
      state: 'broken',
      problem: `LocalStack reports ${failed.join(', ')} in error: see \`docker compose logs localstack\``,
    };
  }

  const ready = await getJson<InitStageResponse>(fetchImpl, '/_localstack/init/ready');
  if (ready?.completed !== true) return { state: 'starting' };
  const hook = ready.scripts?.find((script) => script.name === READY_HOOK);
  if (hook?.state === 'ERROR') {
    return {
      state: 'broken',
      problem: `LocalStack's ready hook ${READY_HOOK} failed, usually because the Docker socket is not mounted: see \`docker compose logs localstack\``,
    };
  }
  // No hook at all means LocalStack was started some other way; nothing the hook does is needed to deploy.
  return { state: 'ready', version: health.version, edition: health.edition };
}

async function getJson<T>(fetchImpl: typeof fetch, path: string): Promise<T | undefined> {
  try {
    const response = await fetchImpl(`${LOCALSTACK_URL}${path}`, {
      signal: AbortSignal.timeout(PROBE_TIMEOUT_MS),
    });
    if (!response.ok) return undefined;
    return (await response.json()) as T;
  } catch {
    return undefined;
  }
}

export interface WaitForLocalStackOptions {
  /** @default 120 s */
  timeoutMs?: number;
  /** @default 1 s */
  intervalMs?: number;
  /** Told once, when the first look finds LocalStack not ready yet. */
  onWait?: (message: string) => void;
  /** Injected in tests. */
  fetchImpl?: typeof fetch;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
}

/**
 * Waits until LocalStack is ready for a deploy: the gateway answers, the services the stack needs are
 * enabled, and the ready hooks have run. Fails at once on what waiting cannot fix (a disabled service,
 * a failed hook) and after the timeout otherwise, each time with the command that helps.
 *
 * @example
 * ```ts
 * const { version } = await waitForLocalStack({ onWait: console.error });
 * ```
 */
export async function waitForLocalStack(
  options: WaitForLocalStackOptions = {},
): Promise<{ version?: string; edition?: string }> {
  const {
    timeoutMs = DEFAULT_WAIT_MS,
    intervalMs = POLL_INTERVAL_MS,
    onWait = () => {},
    fetchImpl = fetch,
    sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)),
    now = Date.now,
  } = options;
  const deadline = now() + timeoutMs;
  const seconds = Math.round(timeoutMs / 1000);
  let announced = false;
  for (;;) {
    const probe = await probeLocalStack(fetchImpl);
    if (probe.state === 'ready') return { version: probe.version, edition: probe.edition };
    if (probe.state === 'broken') throw new CliError(probe.problem);
    if (now() >= deadline) {
      throw new CliError(
        probe.state === 'unreachable'
          ? `no LocalStack on localhost:4566 after ${seconds} s: run \`docker compose up -d\``
          : `LocalStack on localhost:4566 answers but did not finish starting within ${seconds} s: see \`docker compose logs localstack\``,
      );
    }
    if (!announced) {
      onWait(
        probe.state === 'unreachable'
          ? `waiting up to ${seconds} s for LocalStack on localhost:4566 (start it with \`docker compose up -d\`) …`
          : 'waiting for LocalStack to finish starting …',
      );
      announced = true;
    }
    await sleep(intervalMs);
  }
}
