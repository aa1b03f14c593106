export class InvalidEventSourceMappingSettingError extends Error {
  constructor(setting: string, value: unknown, allowed: string) {
    super(
      `event source mapping setting ${setting} = ${JSON.stringify(value)} is invalid: Lambda allows ${allowed}`,
    );
    this.name = 'InvalidEventSourceMappingSettingError';
  }
}

export class UnsupportedOnFailureDestinationError extends Error {
  constructor(destination: string) {
    super(
      `on-failure destination ${destination} is not an SQS queue ARN: the local event source mapping sends ` +
        'on-failure records to SQS only (use an SQS queue in DestinationConfig.OnFailure)',
    );
    this.name = 'UnsupportedOnFailureDestinationError';
  }
}

export class InvalidArnError extends Error {
  constructor(arn: string, expected: string) {
    super(`"${arn}" is not ${expected}`);
    this.name = 'InvalidArnError';
  }
}

export class EsmIdleTimeoutError extends Error {
  constructor(timeoutMs: number, detail: string) {
    super(`the event source mapping was not idle after ${timeoutMs} ms: ${detail}`);
    this.name = 'EsmIdleTimeoutError';
  }
}
