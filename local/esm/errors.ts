import { ShardlineError } from '../../lambdas/shared/errors';
export class InvalidEventSourceMappingSettingError extends ShardlineError {
  constructor(setting: string, value: unknown, allowed: string) {
    super(
      `event source mapping setting ${setting} = ${JSON.stringify(value)} is invalid: Lambda allows ${allowed}`,
    );
    this.name = 'InvalidEventSourceMappingSettingError';
  }
}

export class UnsupportedOnFailureDestinationError extends ShardlineError {
  constructor(destination: string) {
    super(
      `on-failure destination ${destination} is neither an SQS queue nor an S3 bucket ARN: the local event ` +
        'source mapping sends on-failure records to SQS or S3 only (SNS and Kafka are not emulated; use a ' +
        'queue or a bucket in DestinationConfig.OnFailure)',
    );
    this.name = 'UnsupportedOnFailureDestinationError';
  }
}

export class InvalidArnError extends ShardlineError {
  constructor(arn: string, expected: string) {
    super(`"${arn}" is not ${expected}`);
    this.name = 'InvalidArnError';
  }
}

export class EsmIdleTimeoutError extends ShardlineError {
  constructor(timeoutMs: number, detail: string) {
    super(`the event source mapping was not idle after ${timeoutMs} ms: ${detail}`);
    this.name = 'EsmIdleTimeoutError';
  }
}

export class StreamUnavailableError extends ShardlineError {
  constructor(streamName: string, cause: string) {
    super(
      `cannot list the shards of stream ${streamName} (${cause}): create the stream first ` +
        '(the local runtime provisions it from the CDK template) and check the Kinesis endpoint',
    );
    this.name = 'StreamUnavailableError';
  }
}

export class StateDirMismatchError extends ShardlineError {
  constructor(stateDir: string, recorded: string, requested: string) {
    super(
      `the state directory ${stateDir} holds the checkpoints of a mapping on ${recorded}, not ${requested}: ` +
        'give each event source mapping its own state directory (or delete this one to start over)',
    );
    this.name = 'StateDirMismatchError';
  }
}

export class InvalidFilterCriteriaError extends ShardlineError {
  /** The index of the offending filter in `FilterCriteria.Filters`, when one filter is at fault. */
  readonly filterIndex: number | undefined;

  constructor(filterIndex: number | undefined, reason: string) {
    super(
      `FilterCriteria${filterIndex === undefined ? '' : ` filter ${filterIndex}`} is invalid: ${reason}. ` +
        'Lambda refuses such criteria when the event source mapping is created; fix the filters in the ' +
        'event source (lib/) and synthesize again',
    );
    this.name = 'InvalidFilterCriteriaError';
    this.filterIndex = filterIndex;
  }
}
