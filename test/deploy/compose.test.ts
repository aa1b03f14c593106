import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DCLinter } from 'dclint';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { REQUIRED_LOCALSTACK_SERVICES } from '../../cli/commands/deploy';

/**
 * docker-compose.yml cannot be started here (no Docker engine), so it is checked offline: against the
 * Compose Specification and dclint's rules, and for the settings LocalStack 4.x needs to run the stack.
 */
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const COMPOSE_FILE = join(ROOT, 'docker-compose.yml');
const READY_HOOK_FILE = join(ROOT, 'localstack/init/ready.d/01-shardline-ready.sh');

/** The services issue 7 asks LocalStack to run. */
const ISSUE_SERVICES = [
  'kinesis',
  'lambda',
  'dynamodb',
  'sqs',
  's3',
  'cloudformation',
  'iam',
  'logs',
  'sts',
  'ssm',
  'ecr',
  'events',
];

/** Options LocalStack has removed (its deprecation list): 4.x ignores them, so setting one misleads. */
const OBSOLETE_LOCALSTACK_OPTIONS = [
  'LAMBDA_EXECUTOR',
  'LAMBDA_REMOTE_DOCKER',
  'LAMBDA_STAY_OPEN_MODE',
  'LAMBDA_CONTAINER_REGISTRY',
  'LAMBDA_EVENT_SOURCE_MAPPING',
  'PROVIDER_OVERRIDE_LAMBDA',
  'DATA_DIR',
  'HOST_TMP_FOLDER',
  'LEGACY_INIT_DIR',
  'INIT_SCRIPTS_PATH',
  'KINESIS_PROVIDER',
  'EDGE_PORT',
  'DEFAULT_REGION',
];

interface LocalStackService {
  image: string;
  environment: Record<string, string>;
  volumes: string[];
  ports: string[];
  healthcheck: { test: string[] };
  tmpfs: string[];
}

const compose = parse(readFileSync(COMPOSE_FILE, 'utf8')) as {
  services: { localstack: LocalStackService };
  volumes: Record<string, unknown>;
};
const localstack = compose.services.localstack;

const scratch = mkdtempSync(join(tmpdir(), 'shardline-compose-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** dclint with its default rules and no config file: what `npx dclint docker-compose.yml` runs. */
function lint(path: string) {
  const linter = new DCLinter({ rules: {}, quiet: false, debug: false, exclude: [] });
  const [result, ...others] = linter.lintFiles([path], false);
  expect(others).toHaveLength(0);
  return {
    errors: result?.errorCount,
    warnings: result?.warningCount,
    problems: (result?.messages ?? []).map((m) => `${m.line}:${m.column} ${m.rule} ${m.message}`),
  };
}

/** Compose's `${NAME:-default}` interpolation, enough to read what the image line resolves to. */
function interpolate(value: string, env: Record<string, string>): string {
  return value.replace(/\$\{(\w+):-([^}]*)\}/g, (_, name: string, fallback: string) => env[name] || fallback);
}

describe('docker-compose.yml', () => {
  it('validates against the Compose Specification with no dclint error or warning', () => {
    expect(lint(COMPOSE_FILE)).toEqual({ errors: 0, warnings: 0, problems: [] });
  });

  it('is checked by a linter that does reject a file breaking the Compose Specification', () => {
    const broken = join(scratch, 'docker-compose.yml');
    writeFileSync(
      broken,
      "name: broken\nservices:\n  localstack:\n    image: 'x'\n    healthcheck:\n      intervall: 5s\n",
    );
    const { errors, problems } = lint(broken);
    expect(errors).toBe(1);
    expect(problems[0]).toContain('invalid-schema');
  });

  it('runs LocalStack 4.14.0, the last image that starts without an auth token, by default', () => {
    expect(interpolate(localstack.image, {})).toBe('localstack/localstack:4.14.0');
  });

  it('runs the image LOCALSTACK_IMAGE names, for users with an auth token', () => {
    const image = interpolate(localstack.image, { LOCALSTACK_IMAGE: 'localstack/localstack:latest' });
    expect(image).toBe('localstack/localstack:latest');
  });

  it('passes LOCALSTACK_AUTH_TOKEN through from the environment', () => {
    const token = localstack.environment.LOCALSTACK_AUTH_TOKEN ?? '';
    expect(interpolate(token, { LOCALSTACK_AUTH_TOKEN: 'ls-token' })).toBe('ls-token');
    expect(interpolate(token, {})).toBe('');
  });

  it('loads the services the issue lists and every service the deploy checks for', () => {
    const services = localstack.environment.SERVICES?.split(',') ?? [];
    expect(services).toEqual(expect.arrayContaining([...ISSUE_SERVICES, ...REQUIRED_LOCALSTACK_SERVICES]));
  });

  it('sets no option that LocalStack 4.x has removed', () => {
    const obsolete = Object.keys(localstack.environment).filter((name) =>
      OBSOLETE_LOCALSTACK_OPTIONS.includes(name),
    );
    expect(obsolete).toEqual([]);
  });

  it('mounts the Docker socket, which LocalStack 4.x needs to run Lambda functions', () => {
    expect(localstack.volumes).toContain('/var/run/docker.sock:/var/run/docker.sock');
  });

  it('mounts the ready hooks where LocalStack looks for them, read-only', () => {
    expect(localstack.volumes).toContain('./localstack/init/ready.d:/etc/localstack/init/ready.d:ro');
  });

  it("keeps LocalStack's volume directory in a named volume", () => {
    expect(localstack.volumes).toContain('localstack-data:/var/lib/localstack');
    expect(Object.keys(compose.volumes)).toContain('localstack-data');
  });

  it('publishes the gateway on the loopback interface only', () => {
    expect(localstack.ports).toEqual(['127.0.0.1:4566:4566']);
  });

  it('is healthy only once the ready hook has left its marker, kept on a tmpfs so no restart sees a stale one', () => {
    const hookDefault = /SHARDLINE_READY_MARKER:-([^}]+)\}/.exec(readFileSync(READY_HOOK_FILE, 'utf8'))?.[1];
    expect(hookDefault).toBe('/run/shardline/ready');
    const probe = localstack.healthcheck.test.join(' ');
    expect(probe).toContain(`test -f ${hookDefault}`);
    expect(probe).toContain('http://localhost:4566/_localstack/health');
    expect(localstack.tmpfs).toContain(dirname(hookDefault as string));
  });
});
