import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';

/**
 * Powertools instances configured from the standard POWERTOOLS_* variables that the stack sets:
 * structured JSON logs and CloudWatch EMF metrics, the same locally and in AWS, and X-Ray traces in AWS.
 */
export function createObservability(serviceName: string) {
  const logger = new Logger({ serviceName });
  const metrics = new Metrics({
    serviceName,
    namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'Shardline',
  });
  // X-Ray in AWS; off where POWERTOOLS_TRACE_ENABLED=false (the local runtime sets it).
  const tracer = new Tracer({ serviceName });
  return { logger, metrics, tracer };
}

export type Observability = ReturnType<typeof createObservability>;
