import { spawnSync } from 'node:child_process';

/** A command-line tool a deploy check needs, and whether it is installed. */
export interface RequiredTool {
  command: string;
  available: boolean;
}

/**
 * Looks a tool up on PATH. When it is missing the check cannot run: under CI (`CI=true`) that is a
 * failure, thrown here with the install command, since a skipped check proves nothing; elsewhere the
 * install command is printed and the tests that need it are skipped.
 *
 * @example
 * ```ts
 * const moto = requireTool('moto_server', "pip install 'moto[server]'");
 * describe.skipIf(!moto.available)('deploy to moto', () => { ... });
 * ```
 */
export function requireTool(command: string, install: string): RequiredTool {
  const available = spawnSync('sh', ['-c', `command -v ${command}`], { encoding: 'utf8' }).status === 0;
  if (!available) {
    const message = `${command} is not installed: install it with \`${install}\``;
    if (process.env.CI === 'true') throw new Error(`${message} (CI=true: a missing tool fails the check)`);
    console.warn(`skipping: ${message}`);
  }
  return { command, available };
}
