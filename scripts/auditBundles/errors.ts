import { ShardlineError } from '../../lambdas/shared/errors';
/**
 * The audit could not reach a verdict. Its message is one line that says what failed and what to do;
 * the command prints it without a stack trace and exits with {@link AuditIncompleteError.exitCode}.
 */
export class AuditIncompleteError extends ShardlineError {
  /** Neither "clean" (0) nor "findings" (1): the audit did not run to the end. */
  readonly exitCode = 2;

  constructor(message: string) {
    super(message);
    this.name = 'AuditIncompleteError';
  }
}

/** The npm advisory endpoint was unreachable, too slow, or answered something other than a report. */
export class AdvisoryEndpointError extends AuditIncompleteError {
  constructor(message: string) {
    super(message);
    this.name = 'AdvisoryEndpointError';
  }
}

/** A Lambda bundle could not be built, or a file it ships is missing, so its contents are unknown. */
export class BundleInventoryError extends AuditIncompleteError {
  constructor(message: string) {
    super(message);
    this.name = 'BundleInventoryError';
  }
}
