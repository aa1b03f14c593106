/**
 * An error whose message is the whole story for the user: the CLI prints it on one line, without a
 * stack trace, and exits non-zero.
 */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = 'CliError';
  }
}
