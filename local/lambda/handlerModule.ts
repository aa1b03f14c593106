import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

/** Extensions tried in Lambda's order (.js, .mjs, .cjs), then TypeScript for local tests. */
const EXTENSIONS = ['.js', '.mjs', '.cjs', '.ts', '.mts', '.cts'] as const;

export interface HandlerModule {
  /** Absolute file, or undefined when no file matches (the invocation then fails with ImportModuleError). */
  file: string | undefined;
  /** How to load it: compile as CommonJS, or import as an ES module. */
  format: 'commonjs' | 'module';
  /** TypeScript needs the tsx loader in the child. */
  needsTypeScriptLoader: boolean;
}

/**
 * Finds the handler's module file in the task root and decides how Lambda would load it. A `.js` file is
 * CommonJS unless a package.json *inside the task root* says `"type": "module"`: in Lambda nothing
 * above `/var/task` exists, so a package.json above the local asset directory must not count.
 *
 * @example
 * ```ts
 * resolveHandlerModule('/work/cdk.out/asset.abc', 'index');
 * // { file: '/work/cdk.out/asset.abc/index.js', format: 'commonjs', needsTypeScriptLoader: false }
 * ```
 */
export function resolveHandlerModule(taskRoot: string, modulePath: string): HandlerModule {
  const base = resolve(taskRoot, modulePath);
  const extension = EXTENSIONS.find((candidate) => existsSync(`${base}${candidate}`));
  if (extension === undefined) return { file: undefined, format: 'commonjs', needsTypeScriptLoader: false };
  const file = `${base}${extension}`;
  const needsTypeScriptLoader = extension.endsWith('ts');
  if (extension === '.mjs' || extension === '.mts') return { file, format: 'module', needsTypeScriptLoader };
  if (extension === '.cjs') return { file, format: 'commonjs', needsTypeScriptLoader };
  // tsx decides the format of .ts/.cts itself; import() handles both.
  if (needsTypeScriptLoader) return { file, format: 'module', needsTypeScriptLoader };
  return { file, format: packageTypeWithin(taskRoot, dirname(file)), needsTypeScriptLoader };
}

function packageTypeWithin(taskRoot: string, directory: string): 'commonjs' | 'module' {
  const root = resolve(taskRoot);
  let current = resolve(directory);
  while (!relative(root, current).startsWith('..')) {
    const manifest = join(current, 'package.json');
    if (existsSync(manifest)) {
      const { type } = JSON.parse(readFileSync(manifest, 'utf8')) as { type?: string };
      return type === 'module' ? 'module' : 'commonjs';
    }
    if (current === root) break;
    current = dirname(current);
  }
  return 'commonjs';
}
