import type { Metafile } from 'esbuild';
import type { ShippedPackage } from './types';

/** The name and version a package's package.json declares. */
export interface PackageManifest {
  readonly name: string;
  readonly version: string;
}

// The innermost node_modules/<name> or node_modules/@scope/<name> of a path: nested installs belong to
// the copy they sit in, not to the package that depends on them.
const PACKAGE_DIRECTORY = /^(?:.*\/)?node_modules\/(?:@[^/]+\/)?[^/@][^/]*/;

/**
 * The package directory a file belongs to, or undefined when the file is not under node_modules.
 *
 * @example
 * ```ts
 * packageDirectoryOf('node_modules/a/node_modules/@s/b/dist/index.js'); // 'node_modules/a/node_modules/@s/b'
 * packageDirectoryOf('lambdas/consumer/handler.ts'); // undefined
 * ```
 */
export function packageDirectoryOf(file: string): string | undefined {
  const match = PACKAGE_DIRECTORY.exec(file.replaceAll('\\', '/'));
  return match?.[0];
}

/**
 * The files of a build that end up in its output: metafile inputs that contribute at least one byte to
 * an output file. Modules esbuild parsed but tree-shook away entirely do not ship.
 *
 * @example
 * ```ts
 * const files = filesInOutput(result.metafile); // ['lambdas/producer/handler.ts', 'node_modules/zod/...', ...]
 * ```
 */
export function filesInOutput(metafile: Metafile): string[] {
  const files = new Set<string>();
  for (const output of Object.values(metafile.outputs)) {
    for (const [file, { bytesInOutput }] of Object.entries(output.inputs)) {
      if (bytesInOutput > 0) files.add(file);
    }
  }
  return [...files].sort();
}

/**
 * The npm packages a bundle ships: every package with a file in the bundle's output, and every package
 * with a file copied next to it. Names and versions come from each package directory's manifest, read
 * with `readManifest`, so an aliased install is reported under its real name.
 *
 * @example
 * ```ts
 * const packages = shippedPackages(result.metafile, ['node_modules/parquet-wasm/node/parquet_wasm_bg.wasm'],
 *   (directory) => JSON.parse(readFileSync(join(directory, 'package.json'), 'utf8')));
 * ```
 */
export function shippedPackages(
  metafile: Metafile,
  copiedFiles: readonly string[],
  readManifest: (packageDirectory: string) => PackageManifest,
): ShippedPackage[] {
  const byDirectory = new Map<string, string[]>();
  const directoryOf = (file: string, copied: boolean) => {
    const directory = packageDirectoryOf(file);
    if (directory === undefined) return;
    const copies = byDirectory.get(directory) ?? [];
    if (copied) copies.push(file.slice(directory.length + 1));
    byDirectory.set(directory, copies);
  };
  for (const file of filesInOutput(metafile)) directoryOf(file, false);
  for (const file of copiedFiles) directoryOf(file, true);

  const byNameAndVersion = new Map<
    string,
    { name: string; version: string; directories: string[]; copiedFiles: string[] }
  >();
  for (const [directory, copies] of byDirectory) {
    const { name, version } = readManifest(directory);
    const key = `${name}@${version}`;
    const entry = byNameAndVersion.get(key) ?? { name, version, directories: [], copiedFiles: [] };
    entry.directories.push(directory);
    entry.copiedFiles.push(...copies);
    byNameAndVersion.set(key, entry);
  }
  return [...byNameAndVersion.values()]
    .map((entry) => ({
      ...entry,
      directories: entry.directories.sort(),
      copiedFiles: entry.copiedFiles.sort(),
    }))
    .sort(byNameThenVersion);
}

function byNameThenVersion(a: ShippedPackage, b: ShippedPackage): number {
  return a.name === b.name
    ? a.version.localeCompare(b.version, 'en', { numeric: true })
    : a.name < b.name
      ? -1
      : 1;
}
