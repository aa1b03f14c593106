import { ShardlineError } from '../../lambdas/shared/errors';
export class InvalidHandlerSettingError extends ShardlineError {
  constructor(handler: string) {
    super(
      `invalid handler "${handler}": use <module>.<export> as in CloudFormation (for example index.handler)`,
    );
    this.name = 'InvalidHandlerSettingError';
  }
}

export class HostStoppedError extends ShardlineError {
  constructor(functionName: string) {
    super(`the function host for ${functionName} was stopped; create a new host to invoke it again`);
    this.name = 'HostStoppedError';
  }
}
