import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';

/**
 * Powertools instances configured from the standard POWERTOOLS_* variables that the stack sets:
 * structured JSON logs and CloudWatch EMF metrics, the same locally and in AWS.
 */
export function createObservability(serviceName: string) {
  const logger = new Logger({ serviceName });
  const metrics = new Metrics({
    serviceName,
    namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'Shardline',
  });
  return { logger, metrics };
}

export type Observability = ReturnType<typeof createObservability>;
