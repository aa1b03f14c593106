import { describe, expect, it } from 'vitest';
import {
  LOCALSTACK_URL,
  READY_HOOK,
  REQUIRED_LOCALSTACK_SERVICES,
  waitForLocalStack,
} from '../../cli/commands/deploy';
import { CliError } from '../../cli/errors';

/**
 * `npm run deploy:localstack` waits for LocalStack instead of failing while it starts: these tests play
 * LocalStack's health and init endpoints (their JSON as LocalStack 4.x serves it) and a fake clock.
 */

type Look = 'down' | { services?: Record<string, string>; completed?: boolean; hookState?: string | null };

const loaded = Object.fromEntries(REQUIRED_LOCALSTACK_SERVICES.map((service) => [service, 'available']));
const READY: Look = { services: loaded, completed: true, hookState: 'SUCCESSFUL' };

/** A LocalStack whose n-th look (one health request plus one init request) answers `looks[n]`. */
function fakeLocalStack(looks: Look[]) {
  const requested: string[] = [];
  let look = 0;
  const fetchImpl = (async (url: string | URL) => {
    const path = String(url).replace(LOCALSTACK_URL, '');
    requested.push(String(url));
    const current = looks[Math.min(look, looks.length - 1)] as Look;
    if (path === '/_localstack/health') {
      if (current === 'down') {
        look += 1;
        throw new TypeError('fetch failed');
      }
      return Response.json({
        services: current.services ?? loaded,
        edition: 'community',
        version: '4.14.0',
      });
    }
    if (path === '/_localstack/init/ready' && current !== 'down') {
      look += 1;
      const scripts =
        current.hookState === null ? [] : [{ stage: 'READY', name: READY_HOOK, state: current.hookState }];
      return Response.json({ completed: current.completed ?? true, scripts });
    }
    return new Response('not found', { status: 404 });
  }) as typeof fetch;
  return { fetchImpl, requested };
}

/** A clock that only moves when the wait sleeps. */
function fakeClock() {
  let time = 0;
  const sleeps: number[] = [];
  return {
    now: () => time,
    sleep: async (ms: number) => {
      sleeps.push(ms);
      time += ms;
    },
    sleeps,
  };
}

function wait(looks: Look[], timeoutMs = 10_000) {
  const localstack = fakeLocalStack(looks);
  const clock = fakeClock();
  const messages: string[] = [];
  const result = waitForLocalStack({
    timeoutMs,
    intervalMs: 1_000,
    fetchImpl: localstack.fetchImpl,
    now: clock.now,
    sleep: clock.sleep,
    onWait: (message) => messages.push(message),
  });
  return { result, clock, messages, requested: localstack.requested };
}

describe('waiting for LocalStack before a deploy', () => {
  it('returns at once when the gateway answers, the services load and the ready hook succeeded', async () => {
    const { result, clock, messages } = wait([READY]);
    await expect(result).resolves.toEqual({ version: '4.14.0', edition: 'community' });
    expect(clock.sleeps).toEqual([]);
    expect(messages).toEqual([]);
  });

  it("asks LocalStack's health and ready-stage endpoints on localhost:4566", async () => {
    const { result, requested } = wait([READY]);
    await result;
    expect(requested).toEqual([
      'http://localhost:4566/_localstack/health',
      'http://localhost:4566/_localstack/init/ready',
    ]);
  });

  it('keeps polling while nothing answers, says once how to start LocalStack, and goes on when it is up', async () => {
    const { result, clock, messages } = wait(['down', 'down', 'down', READY]);
    await expect(result).resolves.toMatchObject({ version: '4.14.0' });
    expect(clock.sleeps).toEqual([1_000, 1_000, 1_000]);
    expect(messages).toEqual([
      'waiting up to 10 s for LocalStack on localhost:4566 (start it with `docker compose up -d`) …',
    ]);
  });

  it('keeps polling while the ready hooks are still running', async () => {
    const { result, clock } = wait([{ completed: false, hookState: 'RUNNING' }, READY]);
    await expect(result).resolves.toMatchObject({ version: '4.14.0' });
    expect(clock.sleeps).toEqual([1_000]);
  });

  it('accepts a LocalStack started without this repository’s hooks once its ready stage completed', async () => {
    const { result } = wait([{ completed: true, hookState: null }]);
    await expect(result).resolves.toMatchObject({ version: '4.14.0' });
  });

  it('fails at once, naming the service and the compose file, when a service the stack needs is disabled', async () => {
    const { result, clock } = wait([{ services: { ...loaded, lambda: 'disabled', kms: 'disabled' } }]);
    await expect(result).rejects.toThrowError(CliError);
    await expect(result).rejects.toThrowError(
      "LocalStack on localhost:4566 does not load lambda, kms: start it with this repository's docker-compose.yml, whose SERVICES lists what the stack needs",
    );
    expect(clock.sleeps).toEqual([]);
  });

  it('fails at once, pointing at the logs, when LocalStack reports a needed service in error', async () => {
    const { result } = wait([{ services: { ...loaded, kinesis: 'error' } }]);
    await expect(result).rejects.toThrowError(
      'LocalStack reports kinesis in error: see `docker compose logs localstack`',
    );
  });

  it('fails at once, pointing at the logs, when the ready hook failed', async () => {
    const { result, clock } = wait([{ completed: true, hookState: 'ERROR' }]);
    await expect(result).rejects.toThrowError(
      `LocalStack's ready hook ${READY_HOOK} failed, usually because the Docker socket is not mounted: see \`docker compose logs localstack\``,
    );
    expect(clock.sleeps).toEqual([]);
  });

  it('gives up after the timeout with the command that starts LocalStack when nothing ever answers', async () => {
    const { result, clock } = wait(['down'], 5_000);
    await expect(result).rejects.toThrowError(
      'no LocalStack on localhost:4566 after 5 s: run `docker compose up -d`',
    );
    expect(clock.now()).toBe(5_000);
  });

  it('gives up after the timeout, pointing at the logs, when LocalStack answers but never finishes starting', async () => {
    const { result } = wait([{ completed: false, hookState: 'UNKNOWN' }], 5_000);
    await expect(result).rejects.toThrowError(
      'LocalStack on localhost:4566 answers but did not finish starting within 5 s: see `docker compose logs localstack`',
    );
  });
});
