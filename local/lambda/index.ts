export { HostStoppedError, InvalidHandlerSettingError } from './errors';
export { createFunctionHost } from './functionHost';
export { type HandlerModule, resolveHandlerModule } from './handlerModule';
export {
  type HandlerSetting,
  lambdaEnvironment,
  logGroupName,
  maxOldSpaceSizeMb,
  newLogStreamName,
  parseHandlerSetting,
} from './runtimeEnvironment';
export type { FunctionHost, FunctionHostOptions, InvokeFailureReason, InvokeOutcome } from './types';
