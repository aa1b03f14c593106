import { ShardlineError } from '../../lambdas/shared/errors';

/** The template declares something the local runtime cannot run; the message says what to change. */
export class UnsupportedTemplateError extends ShardlineError {
  constructor(logicalId: string, reason: string) {
    super(`${logicalId}: ${reason}`);
    this.name = 'UnsupportedTemplateError';
  }
}

/** An event source mapping setting outside what AWS Lambda accepts for Kinesis. */
export class InvalidEventSourceMappingError extends ShardlineError {
  constructor(
    readonly logicalId: string,
    readonly property: string,
    readonly value: unknown,
    readonly allowed: string,
  ) {
    super(
      `event source mapping ${logicalId}: ${property} is ${JSON.stringify(value)}, but AWS Lambda allows ${allowed} for Kinesis; fix the KinesisEventSource settings in lib/ and synthesize again`,
    );
    this.name = 'InvalidEventSourceMappingError';
  }
}

/** The data directory holds a resource that differs from the template in a way that cannot be updated. */
export class ResourceConflictError extends ShardlineError {
  constructor(message: string) {
    super(message);
    this.name = 'ResourceConflictError';
  }
}

export class ProvisionTimeoutError extends ShardlineError {
  constructor(what: string, timeoutMs: number, logFile: string) {
    super(`${what} did not become ACTIVE within ${timeoutMs} ms: see ${logFile}`);
    this.name = 'ProvisionTimeoutError';
  }
}
