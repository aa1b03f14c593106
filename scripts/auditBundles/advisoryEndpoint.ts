import { ZodError } from 'zod';
import { type AdvisoryResponse, parseAdvisoryResponse } from './advisories';
import { AdvisoryEndpointError } from './errors';

/** npm's own default registry, used when neither the environment nor npm's config names one. */
export const DEFAULT_REGISTRY = 'https://registry.npmjs.org/';

/** How long the advisory endpoint may take to answer, body included. */
export const ADVISORY_TIMEOUT_MS = 30_000;

/**
 * The bulk advisory endpoint of a registry, the one `npm audit` posts to.
 *
 * @example
 * ```ts
 * advisoryEndpointUrl('https://registry.npmjs.org/'); // 'https://registry.npmjs.org/-/npm/v1/security/advisories/bulk'
 * ```
 */
export function advisoryEndpointUrl(registry: string): string {
  return `${registry.replace(/\/+$/, '')}/-/npm/v1/security/advisories/bulk`;
}

export interface AdvisoryQuery {
  readonly endpoint: string;
  /** `{ name: [versions] }`, see `bulkRequestBody`. */
  readonly body: Readonly<Record<string, readonly string[]>>;
  /** The fetch to use (the global one in the command, a stub in tests). */
  readonly fetch: typeof globalThis.fetch;
  /** @default ADVISORY_TIMEOUT_MS */
  readonly timeoutMs?: number;
}

/**
 * Posts the packages to the bulk advisory endpoint and returns its answer. Throws
 * {@link AdvisoryEndpointError}, with a one-line message that says what to do, when the endpoint cannot
 * be reached, times out, answers a non-2xx status or answers something other than an advisory report.
 *
 * @example
 * ```ts
 * const response = await queryAdvisories({ endpoint, body: bulkRequestBody(bundles), fetch });
 * ```
 */
export async function queryAdvisories(query: AdvisoryQuery): Promise<AdvisoryResponse> {
  const { endpoint } = query;
  const timeoutMs = query.timeoutMs ?? ADVISORY_TIMEOUT_MS;
  const fail = (what: string) =>
    new AdvisoryEndpointError(`${what} (${endpoint}); ${whatToDo(endpoint)}`.replace(/\s*\n\s*/g, ' '));
  let response: Response;
  let body: unknown;
  try {
    response = await query.fetch(endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify(query.body),
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (!response.ok) throw fail(`the npm advisory endpoint answered HTTP ${response.status}`);
    body = await response.json();
  } catch (error) {
    if (error instanceof AdvisoryEndpointError) throw error;
    if (isTimeout(error)) throw fail(`the npm advisory endpoint did not answer within ${timeoutMs / 1000} s`);
    if (error instanceof SyntaxError)
      throw fail('the npm advisory endpoint answered something that is not JSON');
    throw fail(`could not reach the npm advisory endpoint: ${networkCause(error)}`);
  }
  try {
    return parseAdvisoryResponse(body);
  } catch (error) {
    if (!(error instanceof ZodError)) throw error;
    const issue = error.issues[0];
    const where = issue ? `${issue.path.join('.') || 'the body'}: ${issue.message}` : 'unexpected shape';
    throw fail(`the npm advisory endpoint answered JSON that is not an advisory report (${where})`);
  }
}

function whatToDo(endpoint: string): string {
  return `run \`npm run audit:bundles\` where ${new URL(endpoint).host}'s audit API is reachable`;
}

function isTimeout(error: unknown): boolean {
  return error instanceof Error && (error.name === 'TimeoutError' || isTimeout(error.cause));
}

/** Node's fetch fails with "fetch failed"; the reason (ECONNREFUSED, ENOTFOUND, a TLS error) is its cause. */
function networkCause(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause;
  if (cause instanceof Error) {
    const code = (cause as NodeJS.ErrnoException).code;
    return code && !cause.message.includes(code) ? `${code} ${cause.message}` : cause.message;
  }
  return error.message;
}

/**
 * The registry to audit against, chosen as npm chooses it: `npm_config_registry` (which `npm run` sets
 * from npm's config), else what `npm config get registry` prints, else npm's default.
 *
 * @example
 * ```ts
 * await npmRegistry(process.env, async () => 'https://registry.npmjs.org/'); // 'https://registry.npmjs.org/'
 * ```
 */
export async function npmRegistry(
  env: Readonly<Record<string, string | undefined>>,
  npmConfigRegistry: () => Promise<string | undefined>,
): Promise<string> {
  for (const candidate of [env.npm_config_registry, env.NPM_CONFIG_REGISTRY]) {
    if (isHttpUrl(candidate)) return candidate;
  }
  const configured = (await npmConfigRegistry().catch(() => undefined))?.trim();
  return isHttpUrl(configured) ? configured : DEFAULT_REGISTRY;
}

function isHttpUrl(value: string | undefined): value is string {
  return value !== undefined && /^https?:\/\/[^/]/.test(value.trim());
}
