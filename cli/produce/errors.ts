import { CliError } from '../errors';

/** The input file cannot be read as the format it claims or was given. */
export class InputFormatError extends CliError {
  constructor(message: string) {
    super(message);
    this.name = 'InputFormatError';
  }
}

/** `--strict` found records that are not valid events; nothing of them was sent. */
export class StrictValidationError extends CliError {
  constructor(message: string) {
    super(message);
    this.name = 'StrictValidationError';
  }
}
