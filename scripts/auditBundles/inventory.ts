import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { build, type Metafile } from 'esbuild';
import { BUNDLE_BUILD_OPTIONS, LAMBDA_BUNDLES, type LambdaBundle } from './bundles';
import { BundleInventoryError } from './errors';
import { type PackageManifest, packageDirectoryOf, shippedPackages } from './shippedPackages';
import type { BundleInventory } from './types';

/**
 * Builds each Lambda bundle in memory with esbuild, as CDK builds it, and lists the npm packages that
 * end up in it or are copied next to it. Writes nothing and needs no network.
 *
 * @example
 * ```ts
 * const [producer, consumer] = await bundleInventories(projectRoot);
 * console.log(consumer.packages.map(({ name, version }) => `${name}@${version}`));
 * ```
 */
export async function bundleInventories(
  projectRoot: string,
  bundles: readonly LambdaBundle[] = LAMBDA_BUNDLES,
): Promise<BundleInventory[]> {
  return Promise.all(bundles.map((bundle) => bundleInventory(projectRoot, bundle)));
}

async function bundleInventory(projectRoot: string, bundle: LambdaBundle): Promise<BundleInventory> {
  for (const file of [bundle.entry, ...bundle.bundledFiles]) {
    if (existsSync(join(projectRoot, file))) continue;
    const role = file === bundle.entry ? 'is built from' : 'ships';
    const fix = packageDirectoryOf(file)
      ? 'run `npm ci`'
      : 'make scripts/auditBundles/bundles.ts match lib/shardline-stack.ts';
    throw new BundleInventoryError(
      `${file}, which the ${bundle.name} bundle ${role}, does not exist (${fix})`,
    );
  }
  let metafile: Metafile;
  try {
    const result = await build({
      ...BUNDLE_BUILD_OPTIONS,
      entryPoints: [join(projectRoot, bundle.entry)],
      absWorkingDir: projectRoot,
      // Not written (write: false); named like CDK's output so the metafile reads the same.
      outfile: join(projectRoot, 'cdk.out', `audit-${bundle.name}`, 'index.js'),
      write: false,
      metafile: true,
      logLevel: 'silent',
    });
    metafile = result.metafile;
  } catch (error) {
    const first = (error as { errors?: { text: string }[] }).errors?.[0]?.text ?? String(error);
    throw new BundleInventoryError(`esbuild could not bundle ${bundle.entry}: ${first.split('\n')[0]}`);
  }
  const packages = shippedPackages(metafile, bundle.bundledFiles, (directory) =>
    readManifest(projectRoot, directory),
  );
  return { name: bundle.name, entry: bundle.entry, packages };
}

function readManifest(projectRoot: string, directory: string): PackageManifest {
  const file = join(projectRoot, directory, 'package.json');
  try {
    const { name, version } = JSON.parse(readFileSync(file, 'utf8')) as Partial<PackageManifest>;
    if (typeof name === 'string' && typeof version === 'string') return { name, version };
  } catch {
    // Reported below, with the file that is missing or broken.
  }
  throw new BundleInventoryError(`${join(directory, 'package.json')} has no name and version to audit`);
}
