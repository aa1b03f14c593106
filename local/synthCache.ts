import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Whether the cloud assembly in a `cdk.out` folder is still what synthesizing now would produce, so that
 * `shardline up` and the demo can skip the synth (about 6 s with cdk-nag and esbuild) when nothing it
 * reads has changed. The check is a hash of every input of the template and the bundles: the CDK app,
 * the Lambda code, the config files and the lockfile (which pins every dependency esbuild bundles), and
 * the stage and the environment the app reads.
 *
 * The CDK CLI writes into the same folder (`npx cdk synth -c stage=prod` replaces its manifest with one
 * that holds only Shardline-prod), so the marker also records a hash of the manifest it vouches for: an
 * assembly that anything else rewrote is synthesized again.
 */

/** What the CDK app and its bundles are made from, relative to the project root. */
export const SYNTH_INPUTS = [
  'bin/app.ts',
  'lib',
  'lambdas',
  'cdk.json',
  'package-lock.json',
  'tsconfig.json',
];
const MARKER = '.shardline-synth.json';

async function filesUnder(root: string, path: string): Promise<string[]> {
  const full = join(root, path);
  const entries = await readdir(full, { withFileTypes: true }).catch(() => null);
  if (entries === null) return existsSync(full) ? [path] : [];
  const nested = await Promise.all(
    entries.map((entry) =>
      entry.isDirectory() ? filesUnder(root, join(path, entry.name)) : [join(path, entry.name)],
    ),
  );
  return nested.flat();
}

/**
 * The hash of every synth input under `projectRoot`, with the stage and the environment the app reads.
 *
 * @example
 * ```ts
 * const hash = await synthInputsHash(PROJECT_ROOT, 'dev');
 * ```
 */
export async function synthInputsHash(projectRoot: string, stage: string): Promise<string> {
  const hash = createHash('sha256');
  hash.update(
    JSON.stringify({
      stage,
      account: process.env.CDK_DEFAULT_ACCOUNT,
      region: process.env.CDK_DEFAULT_REGION,
    }),
  );
  const files = (await Promise.all(SYNTH_INPUTS.map((input) => filesUnder(projectRoot, input))))
    .flat()
    .sort();
  for (const file of files) {
    hash.update(`\0${file}\0`);
    hash.update(await readFile(join(projectRoot, file)));
  }
  return hash.digest('hex');
}

async function manifestHash(cdkOutDir: string): Promise<string | null> {
  const manifest = await readFile(join(cdkOutDir, 'manifest.json')).catch(() => null);
  return manifest === null ? null : createHash('sha256').update(manifest).digest('hex');
}

/**
 * Whether `cdkOutDir` holds the cloud assembly this cache synthesized from inputs that hash to `hash`,
 * unchanged since (another synth, such as `cdk synth` of another stage, changes its manifest).
 *
 * @example
 * ```ts
 * if (!(await isSynthCurrent('cdk.out', hash))) await synthesize('dev', 'cdk.out');
 * ```
 */
export async function isSynthCurrent(cdkOutDir: string, hash: string): Promise<boolean> {
  const manifest = await manifestHash(cdkOutDir);
  if (manifest === null) return false;
  const marker = await readFile(join(cdkOutDir, MARKER), 'utf8').catch(() => null);
  if (marker === null) return false;
  try {
    const recorded = JSON.parse(marker) as { inputsHash?: string; manifestHash?: string };
    return recorded.inputsHash === hash && recorded.manifestHash === manifest;
  } catch {
    return false;
  }
}

/**
 * Records that `cdkOutDir` was just synthesized from inputs that hash to `hash`, with the manifest it holds.
 *
 * @example
 * ```ts
 * await markSynthesized('cdk.out', hash);
 * ```
 */
export async function markSynthesized(cdkOutDir: string, hash: string): Promise<void> {
  await writeFile(
    join(cdkOutDir, MARKER),
    `${JSON.stringify({ inputsHash: hash, manifestHash: await manifestHash(cdkOutDir), at: new Date().toISOString() })}\n`,
  );
}
