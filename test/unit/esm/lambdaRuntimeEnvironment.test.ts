import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { InvalidHandlerSettingError } from '../../../local/lambda/errors';
import { resolveHandlerModule } from '../../../local/lambda/handlerModule';
import {
  lambdaEnvironment,
  maxOldSpaceSizeMb,
  newLogStreamName,
  parseHandlerSetting,
} from '../../../local/lambda/runtimeEnvironment';

// The pure parts of the function host (local/lambda), kept here with the mapping's unit tests.
describe('Lambda handler setting and runtime environment', () => {
  test('a handler setting names a module and an export, as the Node.js runtime splits it', () => {
    expect(parseHandlerSetting('index.handler')).toEqual({ modulePath: 'index', exportPath: ['handler'] });
    expect(parseHandlerSetting('src/app.handlers.kinesis')).toEqual({
      modulePath: 'src/app',
      exportPath: ['handlers', 'kinesis'],
    });
  });

  test.each(['index', '.handler', 'index.', 'a/b', 'index..handler'])(
    '"%s" is not a valid handler',
    (handler) => {
      expect(() => parseHandlerSetting(handler)).toThrow(InvalidHandlerSettingError);
    },
  );

  test('the function’s variables are kept, and Lambda’s reserved variables cannot be overridden', () => {
    const env = lambdaEnvironment({
      functionName: 'fn',
      handler: 'index.handler',
      assetPath: '/task',
      memoryMb: 1024,
      region: 'eu-west-1',
      runtime: 'nodejs22.x',
      logStreamName: 'stream',
      environment: { TABLE_NAME: 't', AWS_LAMBDA_FUNCTION_NAME: 'spoofed', TZ: 'Europe/Paris' },
    });
    expect(env).toMatchObject({
      TABLE_NAME: 't',
      TZ: 'Europe/Paris',
      AWS_LAMBDA_FUNCTION_NAME: 'fn',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '1024',
      AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
      AWS_LAMBDA_LOG_GROUP_NAME: '/aws/lambda/fn',
      AWS_LAMBDA_LOG_STREAM_NAME: 'stream',
      LAMBDA_TASK_ROOT: '/task',
      _HANDLER: 'index.handler',
      AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x',
      AWS_REGION: 'eu-west-1',
    });
  });

  test('log stream names follow Lambda’s date/[version]id format', () => {
    expect(newLogStreamName(new Date('2024-05-01T10:00:00Z'))).toMatch(
      /^2024\/05\/01\/\[\$LATEST\][0-9a-f]{32}$/,
    );
  });

  test('the V8 heap limit leaves room below the memory setting', () => {
    expect(maxOldSpaceSizeMb(128)).toBe(115);
    expect(maxOldSpaceSizeMb(1024)).toBe(921);
  });

  test('a .js handler is CommonJS unless a package.json inside the task root says "type": "module"', () => {
    const root = mkdtempSync(join(tmpdir(), 'task-root-'));
    writeFileSync(join(root, 'index.js'), 'exports.handler = async () => 1;');
    expect(resolveHandlerModule(root, 'index')).toEqual({
      file: join(root, 'index.js'),
      format: 'commonjs',
      needsTypeScriptLoader: false,
    });
    mkdirSync(join(root, 'esm'));
    writeFileSync(join(root, 'esm', 'package.json'), '{"type":"module"}');
    writeFileSync(join(root, 'esm', 'app.js'), 'export const handler = async () => 1;');
    expect(resolveHandlerModule(root, 'esm/app').format).toBe('module');
    expect(resolveHandlerModule(root, 'missing').file).toBeUndefined();
  });
});
