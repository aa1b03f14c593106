/** What the producer Lambda generates when it is not sent a file: the CLI's generator options. */
export interface GeneratorOptions {
  events: number;
  invalidRatio: number;
  seed: number;
  tenants: number;
  /** Events per second the producer paces itself to (its `ratePerSecond`). */
  rate?: number;
  anomalies?: boolean;
}

/**
 * Builds the producer Lambda's request from the CLI's generator options (`produce` and `demo`).
 *
 * @example
 * ```ts
 * producerRequest({ events: 1000, invalidRatio: 0.02, seed: 1, tenants: 3 });
 * // { count: 1000, seed: 1, invalidRatio: 0.02, tenants: 3 }
 * ```
 */
export const producerRequest = (options: GeneratorOptions) => ({
  count: options.events,
  seed: options.seed,
  invalidRatio: options.invalidRatio,
  tenants: options.tenants,
  ...(options.rate === undefined ? {} : { ratePerSecond: options.rate }),
  ...(options.anomalies ? { anomalies: true } : {}),
});
