import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import {
  accessSync,
  constants,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * The LocalStack init hooks run inside the container, so here they are checked with shellcheck and run
 * with bash against a temporary marker path and a stand-in Docker socket.
 */
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const INIT_DIR = join(ROOT, 'localstack/init');
const READY_HOOK = join(INIT_DIR, 'ready.d/01-shardline-ready.sh');
const SHELLCHECK_MISSING =
  'shellcheck is not installed: `apt-get install -y shellcheck` (Debian), which .ci/run does before the tests';

const scratch = mkdtempSync(join(tmpdir(), 'shardline-hooks-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const hooks = readdirSync(INIT_DIR, { recursive: true, encoding: 'utf8' })
  .map((entry) => join(INIT_DIR, entry))
  .filter((path) => path.endsWith('.sh'));

function shellcheck(files: string[]) {
  const result = spawnSync('shellcheck', ['--enable=all', '--severity=style', '--format=gcc', ...files], {
    encoding: 'utf8',
  });
  if ((result.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') expect.fail(SHELLCHECK_MISSING);
  return { status: result.status, findings: `${result.stdout}${result.stderr}`.trim() };
}

/** Runs the ready hook as LocalStack would (an executable with a shebang), outside any container. */
function runReadyHook(env: Record<string, string>) {
  const result = spawnSync(READY_HOOK, [], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env },
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('LocalStack init hooks', () => {
  it('include the ready hook that leaves the readiness marker', () => {
    expect(hooks.map((path) => relative(INIT_DIR, path))).toContain('ready.d/01-shardline-ready.sh');
  });

  it.each(hooks.map((path) => [relative(ROOT, path), path]))(
    '%s is executable and starts with a shebang, as LocalStack runs .sh hooks directly',
    (_, path) => {
      expect(() => accessSync(path, constants.X_OK)).not.toThrow();
      expect(readFileSync(path, 'utf8')).toMatch(/^#!\/usr\/bin\/env bash\n/);
    },
  );

  it('pass shellcheck with every optional check enabled', () => {
    expect(shellcheck(hooks)).toEqual({ status: 0, findings: '' });
  });

  it('are checked by a shellcheck that does report an unquoted expansion', () => {
    const sloppy = join(scratch, 'sloppy.sh');
    writeFileSync(sloppy, '#!/usr/bin/env bash\necho $1\n');
    const { status, findings } = shellcheck([sloppy]);
    expect(status).not.toBe(0);
    expect(findings).toContain('SC2086');
  });
});

describe('the ready hook', () => {
  it('fails, naming the socket, when no Docker socket is mounted, and leaves no marker', () => {
    const marker = join(scratch, 'missing-socket', 'ready');
    const run = runReadyHook({
      SHARDLINE_READY_MARKER: marker,
      SHARDLINE_DOCKER_SOCKET: join(scratch, 'no-such.sock'),
    });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain(`no Docker socket at ${join(scratch, 'no-such.sock')}`);
    expect(existsSync(marker)).toBe(false);
  });

  it('writes the marker with the time it ran when the Docker socket is there', async () => {
    const socket = join(scratch, 'docker.sock');
    const server = createServer().listen(socket);
    await once(server, 'listening');
    try {
      const marker = join(scratch, 'run', 'shardline', 'ready');
      const run = runReadyHook({ SHARDLINE_READY_MARKER: marker, SHARDLINE_DOCKER_SOCKET: socket });
      expect(run).toMatchObject({ status: 0, stderr: '' });
      expect(run.stdout).toContain('LocalStack is ready');
      expect(readFileSync(marker, 'utf8')).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\n$/);
    } finally {
      server.close();
    }
  });
});
