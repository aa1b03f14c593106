/**
 * The cloud assembly (`cdk.out`): which stacks it holds, found through `manifest.json` (nested assemblies
 * of CDK Stages included), and each stack's template.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ShardlineError } from '../lambdas/shared/errors';
import type { CfnTemplate } from './template';

/** A stack template read from a cloud assembly (`cdk.out`). */
export interface StackTemplate {
  stackName: string;
  templatePath: string;
  /** Absolute path of the cloud assembly directory: asset paths are relative to it. */
  cdkOutDir: string;
  template: CfnTemplate;
}

export class TemplateNotFoundError extends ShardlineError {
  constructor(cdkOutDir: string, detail?: string) {
    super(`no synthesized template in ${cdkOutDir} (run \`npx cdk synth\`)${detail ? `: ${detail}` : ''}`);
    this.name = 'TemplateNotFoundError';
  }
}

export class StackNotFoundError extends ShardlineError {
  constructor(cdkOutDir: string, wanted: string | undefined, available: string[]) {
    super(
      wanted === undefined
        ? `${cdkOutDir} holds ${available.length} stacks (${available.join(', ')}): pass the stack name to load`
        : `stack ${wanted} is not in ${cdkOutDir} (it holds ${available.join(', ') || 'no stack'}): synthesize it with \`npx cdk synth -c stage=<stage>\``,
    );
    this.name = 'StackNotFoundError';
  }
}

/**
 * Reads a stack template from a cloud assembly, finding it through `manifest.json`.
 *
 * @example
 * ```ts
 * const stack = await loadStackTemplate('cdk.out', 'Shardline-dev');
 * const model = describeStack(stack.template, stack);
 * ```
 */
export async function loadStackTemplate(cdkOutDir: string, stackName?: string): Promise<StackTemplate> {
  const root = resolve(cdkOutDir);
  const stacks = await listStacks(root);
  if (stacks.length === 0) throw new TemplateNotFoundError(root, 'manifest.json lists no stack');
  const names = stacks.map((stack) => stack.stackName);
  const chosen =
    stackName === undefined
      ? stacks.length === 1
        ? stacks[0]
        : undefined
      : stacks.find((stack) => stack.stackName === stackName || stack.artifactId === stackName);
  if (!chosen) throw new StackNotFoundError(root, stackName, names);
  if (!existsSync(chosen.templatePath)) {
    throw new TemplateNotFoundError(root, `manifest.json names ${chosen.templatePath}, which is missing`);
  }
  const template = JSON.parse(await readFile(chosen.templatePath, 'utf8')) as CfnTemplate;
  return { stackName: chosen.stackName, templatePath: chosen.templatePath, cdkOutDir: root, template };
}

/** A stack of a cloud assembly, as its manifest lists it. */
export interface StackArtifact {
  artifactId: string;
  stackName: string;
  templatePath: string;
}

interface Manifest {
  artifacts?: Record<
    string,
    {
      type: string;
      displayName?: string;
      properties?: { templateFile?: string; stackName?: string; directoryName?: string };
    }
  >;
}

/**
 * The stacks of a cloud assembly, those of nested assemblies (CDK Stages) included.
 *
 * @example
 * ```ts
 * (await listStacks('cdk.out')).map((stack) => stack.stackName); // ['Shardline-dev']
 * ```
 */
export async function listStacks(dir: string, depth = 0): Promise<StackArtifact[]> {
  const manifestPath = join(dir, 'manifest.json');
  if (!existsSync(manifestPath)) throw new TemplateNotFoundError(dir);
  const manifest = JSON.parse(await readFile(manifestPath, 'utf8')) as Manifest;
  const stacks: StackArtifact[] = [];
  for (const [artifactId, artifact] of Object.entries(manifest.artifacts ?? {})) {
    if (artifact.type === 'aws:cloudformation:stack' && artifact.properties?.templateFile) {
      stacks.push({
        artifactId,
        stackName: artifact.properties.stackName ?? artifactId,
        templatePath: join(dir, artifact.properties.templateFile),
      });
    } else if (artifact.type === 'cdk:cloud-assembly' && artifact.properties?.directoryName && depth < 4) {
      // Stacks inside a CDK Stage live in a nested assembly.
      stacks.push(...(await listStacks(join(dir, artifact.properties.directoryName), depth + 1)));
    }
  }
  return stacks;
}
