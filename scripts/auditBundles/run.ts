import { execFile } from 'node:child_process';
import { parseArgs, promisify } from 'node:util';
import { auditExitCode, auditReport, bulkRequestBody } from './advisories';
import { advisoryEndpointUrl, npmRegistry, queryAdvisories } from './advisoryEndpoint';
import { AuditIncompleteError } from './errors';
import { bundleInventories } from './inventory';
import { formatPackageList, formatReport } from './report';
import type { BundleInventory } from './types';

const USAGE = 'usage: npm run audit:bundles [-- --list] [-- --json]';

/** What the audit reads and writes, so tests can run it without a network or a terminal. */
export interface AuditDependencies {
  /** What each Lambda bundle ships. */
  readonly inventories: () => Promise<BundleInventory[]>;
  /** The npm registry whose advisory endpoint to ask. */
  readonly registry: () => Promise<string>;
  readonly fetch: typeof globalThis.fetch;
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  /** @default ADVISORY_TIMEOUT_MS */
  readonly timeoutMs?: number;
}

/**
 * `npm run audit:bundles`: audits the npm packages that ship inside the Lambda bundles against the
 * registry's advisories. Resolves to the exit code: 0 when no high or critical advisory applies, 1 when
 * one does, 2 when the audit could not complete (one line on stderr says why and what to do).
 * `--list` prints the shipped packages without asking the registry; `--json` prints JSON.
 *
 * @example
 * ```ts
 * process.exitCode = await runAuditBundles(process.argv.slice(2), defaultAuditDependencies(projectRoot));
 * ```
 */
export async function runAuditBundles(argv: readonly string[], deps: AuditDependencies): Promise<number> {
  try {
    const { list, json } = parseOptions(argv);
    const bundles = await deps.inventories();
    if (list) {
      deps.stdout(json ? JSON.stringify(bundles, null, 2) : formatPackageList(bundles));
      return 0;
    }
    const endpoint = advisoryEndpointUrl(await deps.registry());
    const response = await queryAdvisories({
      endpoint,
      body: bulkRequestBody(bundles),
      fetch: deps.fetch,
      timeoutMs: deps.timeoutMs,
    });
    const report = auditReport(endpoint, bundles, response);
    deps.stdout(json ? JSON.stringify(report, null, 2) : formatReport(report));
    return auditExitCode(report);
  } catch (error) {
    if (error instanceof AuditIncompleteError) {
      deps.stderr(`shardline audit: ${error.message}`);
      return error.exitCode;
    }
    // A bug, not a verdict: keep the stack, and never exit 1, which means "findings".
    deps.stderr(
      `shardline audit: the audit did not complete: ${error instanceof Error ? error.stack : error}`,
    );
    return 2;
  }
}

/**
 * The real dependencies: esbuild on the project's handlers, npm's registry setting, global fetch and
 * the process's stdout and stderr.
 *
 * @example
 * ```ts
 * const deps = defaultAuditDependencies(fileURLToPath(new URL('..', import.meta.url)));
 * ```
 */
export function defaultAuditDependencies(projectRoot: string): AuditDependencies {
  return {
    inventories: () => bundleInventories(projectRoot),
    registry: () => npmRegistry(process.env, npmConfigRegistry),
    fetch: globalThis.fetch,
    stdout: (text) => process.stdout.write(`${text}\n`),
    stderr: (text) => process.stderr.write(`${text}\n`),
  };
}

async function npmConfigRegistry(): Promise<string> {
  const { stdout } = await promisify(execFile)('npm', ['config', 'get', 'registry'], { timeout: 10_000 });
  return stdout;
}

function parseOptions(argv: readonly string[]): { list: boolean; json: boolean } {
  try {
    const { values } = parseArgs({
      args: [...argv],
      options: { list: { type: 'boolean', default: false }, json: { type: 'boolean', default: false } },
      strict: true,
      allowPositionals: false,
    });
    return { list: values.list, json: values.json };
  } catch (error) {
    throw new AuditIncompleteError(`${error instanceof Error ? error.message : error} (${USAGE})`);
  }
}
