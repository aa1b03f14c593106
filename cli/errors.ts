import { type FailureKind, ShardlineError } from '../lambdas/shared/errors';

/**
 * An error whose message is the whole story for the user: the CLI prints it on one line, without a
 * stack trace. A usage or environment error by default (exit 2); a failed check says so (exit 1).
 */
export class CliError extends ShardlineError {
  constructor(message: string, kind: FailureKind = 'environment', code?: string) {
    super(message, { kind, code });
  }
}
