import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { BUNDLE_BUILD_OPTIONS } from './bundles';
import { BundleInventoryError } from './errors';

/** The AWS SDK v3 calls one handler's bundle can make. */
export interface SdkCalls {
  /** Command classes, sorted: `PutObjectCommand`, and `ListObjectsV2Command` for `paginateListObjectsV2`. */
  readonly commands: readonly string[];
  /** For each command, the project files in the bundle that name it (for messages: where a call is). */
  readonly sources: Readonly<Record<string, readonly string[]>>;
}

/** An SDK import this scan cannot turn into commands (a namespace import, a waiter, an unknown package). */
export class UnreadableSdkImportError extends BundleInventoryError {
  constructor(entry: string, what: string) {
    super(
      `${entry}: ${what}; import commands by name from an @aws-sdk/client-* package, or teach scripts/auditBundles/sdkCalls.ts`,
    );
    this.name = 'UnreadableSdkImportError';
  }
}

/** `import <clause> from "@aws-sdk/…"`, the clause possibly over several lines (never holding `;` or `"`). */
const IMPORT_STATEMENT = /^import\s+([^;"]+?)\s+from\s+"(@aws-sdk\/[^"]+)";?$/gm;

/**
 * Bundles a handler as CDK does, but as ESM with `@aws-sdk/*` left external, so esbuild's tree shaking
 * leaves exactly the SDK names the reachable code uses as named imports, and lists the commands among
 * them. A paginator counts as the command it pages with.
 *
 * @example
 * ```ts
 * const { commands } = await sdkCallsOf(projectRoot, 'lambdas/publisher/handler.ts');
 * // ['GetItemCommand', 'GetObjectCommand', 'PutObjectCommand', 'ScanCommand', …]
 * ```
 */
export async function sdkCallsOf(projectRoot: string, entry: string): Promise<SdkCalls> {
  let text: string;
  let inputs: string[];
  try {
    const result = await build({
      ...BUNDLE_BUILD_OPTIONS,
      format: 'esm',
      minify: false,
      external: ['@aws-sdk/*'],
      entryPoints: [join(projectRoot, entry)],
      absWorkingDir: projectRoot,
      outfile: join(projectRoot, 'cdk.out', 'sdk-calls', 'index.mjs'),
      write: false,
      metafile: true,
      logLevel: 'silent',
    });
    text = (result.outputFiles[0] as { text: string }).text;
    inputs = Object.keys(result.metafile.inputs).filter((input) => !input.includes('node_modules/'));
  } catch (error) {
    const first = (error as { errors?: { text: string }[] }).errors?.[0]?.text ?? String(error);
    throw new BundleInventoryError(`esbuild could not bundle ${entry}: ${first.split('\n')[0]}`);
  }
  const commands = commandsImported(entry, text);
  const sources = Object.fromEntries(
    commands.map((command) => {
      const name = new RegExp(`\\b(${command}|paginate${command.replace(/Command$/, '')})\\b`);
      return [command, inputs.filter((input) => name.test(readFileSync(join(projectRoot, input), 'utf8')))];
    }),
  );
  return { commands, sources };
}

/**
 * The commands named in the `@aws-sdk/*` import statements of an ESM bundle's text.
 *
 * @example
 * ```ts
 * commandsImported('h.ts', 'import { S3Client, paginateListObjectsV2 } from "@aws-sdk/client-s3";');
 * // ['ListObjectsV2Command']
 * ```
 */
export function commandsImported(entry: string, bundleText: string): string[] {
  const commands = new Set<string>();
  for (const [, clause, from] of bundleText.matchAll(IMPORT_STATEMENT)) {
    if (!from?.startsWith('@aws-sdk/client-')) {
      throw new UnreadableSdkImportError(entry, `it imports ${from}, whose calls this scan does not know`);
    }
    const named = /^\{([^}]*)\}$/.exec(clause?.replace(/\s+/g, ' ').trim() ?? '');
    if (!named) throw new UnreadableSdkImportError(entry, `it imports ${from} as \`${clause}\``);
    for (const specifier of (named[1] ?? '').split(',')) {
      const name = specifier.trim().split(/\s+as\s+/)[0] ?? '';
      if (name.endsWith('Command')) commands.add(name);
      else if (name.startsWith('paginate')) commands.add(`${name.slice('paginate'.length)}Command`);
      else if (name.startsWith('waitUntil') || name.startsWith('waitFor'))
        throw new UnreadableSdkImportError(entry, `it uses the waiter ${name}`);
      // Anything else is a client, an exception or an enum: not a call.
    }
  }
  return [...commands].sort();
}
