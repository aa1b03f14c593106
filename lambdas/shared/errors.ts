/**
 * The one base of Shardline's own errors. Each carries a machine-readable `code` (its class name in
 * SCREAMING_SNAKE_CASE unless given) and what kind of failure it is, which the CLI maps to its exit
 * status: a `check` that found a problem exits 1, a `usage` or `environment` error exits 2. Anything that
 * is not a ShardlineError is a crash (exit 3). `cause` keeps the error underneath, as ES2022 does.
 */
export type FailureKind = 'check' | 'usage' | 'environment';

export interface ShardlineErrorOptions {
  code?: string;
  kind?: FailureKind;
  cause?: unknown;
}

const screamingSnake = (name: string) =>
  name
    .replace(/Error$/, '')
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toUpperCase();

export class ShardlineError extends Error {
  readonly kind: FailureKind;
  private readonly explicitCode: string | undefined;

  constructor(message: string, options: ShardlineErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.kind = options.kind ?? 'environment';
    this.explicitCode = options.code;
  }

  /** Machine-readable: `OLD_DATA_LAYOUT` for OldDataLayoutError, unless the thrower named one. */
  get code(): string {
    return this.explicitCode ?? screamingSnake(this.name);
  }
}

/**
 * The exit status the CLI gives an error: 1 for a check that found a problem, 2 for usage and
 * environment errors, 3 for anything else (a crash).
 *
 * @example
 * ```ts
 * exitStatusOf(new ShardlineError('no such stage', { kind: 'usage' })); // 2
 * ```
 */
export function exitStatusOf(error: unknown): 1 | 2 | 3 {
  if (!(error instanceof ShardlineError)) return 3;
  return error.kind === 'check' ? 1 : 2;
}
