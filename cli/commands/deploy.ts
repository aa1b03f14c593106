import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { PROJECT_ROOT } from '../../local/pipeline';
import { CliError } from '../errors';
import type { GlobalOptions } from '../main';
import { assertLocalStackUp, outputsFile } from '../targets';

export interface DeployOptions extends GlobalOptions {
  target: 'localstack' | 'aws';
  stage: string;
  /** Skip the confirmation of IAM changes (CI). */
  yes: boolean;
}

/**
 * The CDK CLI arguments for a deploy or destroy: the stage as context, and for deploy the outputs file
 * that the other commands read.
 *
 * @example
 * ```ts
 * cdkArguments('deploy', { target: 'aws', stage: 'dev', dataDir: '.shardline', yes: true });
 * // ['deploy', '-c', 'stage=dev', '--outputs-file', '.shardline/outputs/aws-dev.json', '--require-approval', 'never']
 * ```
 */
export function cdkArguments(
  action: 'deploy' | 'destroy' | 'bootstrap',
  options: Omit<DeployOptions, 'json'>,
): string[] {
  const args = [action, '-c', `stage=${options.stage}`];
  if (action === 'deploy')
    args.push('--outputs-file', outputsFile(options.dataDir, options.target, options.stage));
  if (action === 'deploy' && options.yes) args.push('--require-approval', 'never');
  if (action === 'destroy' && options.yes) args.push('--force');
  return args;
}

async function runCdk(options: DeployOptions, args: string[]): Promise<void> {
  // cdklocal wraps the same CDK CLI and points it at LocalStack (AWS_ENDPOINT_URL, test credentials).
  const cli = options.target === 'localstack' ? 'cdklocal' : 'cdk';
  const child = spawn('npx', ['--no-install', cli, ...args], { cwd: PROJECT_ROOT, stdio: 'inherit' });
  const [code] = (await once(child, 'exit')) as [number | null];
  if (code !== 0) throw new CliError(`\`npx ${cli} ${args.join(' ')}\` failed with exit code ${code}`);
}

/** `npm run deploy` / `npm run deploy:localstack`: bootstrap where needed, deploy, keep the outputs. */
export async function deploy(options: DeployOptions): Promise<void> {
  if (options.target === 'localstack') {
    await assertLocalStackUp();
    await runCdk(options, cdkArguments('bootstrap', options));
  }
  await mkdir(dirname(outputsFile(options.dataDir, options.target, options.stage)), { recursive: true });
  await runCdk(options, cdkArguments('deploy', options));
  console.log(`outputs written to ${outputsFile(options.dataDir, options.target, options.stage)}`);
}

export async function destroy(options: DeployOptions): Promise<void> {
  if (options.target === 'localstack') await assertLocalStackUp();
  await runCdk(options, cdkArguments('destroy', options));
}
