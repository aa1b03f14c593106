import { execFile } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { deflateRawSync } from 'node:zlib';
import { loadStackTemplate } from '../local/assembly';
import { describeStack } from '../local/template';
import { type Spread, spread } from './lib/stats';

const run = promisify(execFile);

/**
 * Lambda packaging: the zipped size of each function's asset directory (what `cdk deploy` uploads), and
 * the consumer's init time: a fresh Node process `require`s the bundle (which loads and compiles the
 * parquet-wasm module) with the function's environment set, as the Lambda runtime does in its init phase.
 */

export interface BundleSize {
  functionName: string;
  assetDir: string;
  files: Array<{ name: string; bytes: number; zippedBytes: number }>;
  bytes: number;
  zippedBytes: number;
  /** The same without the source map, which the bundle ships for stack traces only. */
  zippedBytesWithoutSourceMap: number;
}

export interface InitTime {
  functionName: string;
  /** `NODE_OPTIONS` of the function, as the template sets it. */
  nodeOptions: string;
  /** `require(bundle)`: module evaluation, including reading and compiling the .wasm. */
  requireMs: Spread;
  /** Process start to the bundle loaded (Node's own start-up included). */
  processStartToLoadedMs: Spread;
  /** Resident memory once the bundle is loaded, MB. */
  rssAfterLoadMb: Spread;
}

export interface PackagingResult {
  bundles: BundleSize[];
  init: InitTime[];
}

/** ZIP's fixed bytes per entry (local header 30, central directory entry 46) and at its end (22). */
const ZIP_ENTRY_HEADERS = 30 + 46;
const ZIP_END_RECORD = 22;

/**
 * The size of a ZIP of these files as CDK uploads it (each deflated at level 9, or stored when that is
 * smaller, no extra fields), worked out from the deflated sizes instead of writing the archive. Also
 * each file's compressed size.
 *
 * @example
 * ```ts
 * zipSize([{ name: 'index.js', data: await readFile('cdk.out/asset.…/index.js') }]).bytes;
 * ```
 */
export function zipSize(files: ReadonlyArray<{ name: string; data: Uint8Array }>) {
  const entries = files.map((file) => ({
    name: file.name,
    size: file.data.byteLength,
    compressedSize: Math.min(deflateRawSync(file.data, { level: 9 }).byteLength, file.data.byteLength),
  }));
  const bytes = entries.reduce(
    (sum, entry) =>
      sum + entry.compressedSize + ZIP_ENTRY_HEADERS + 2 * Buffer.byteLength(entry.name, 'utf8'),
    ZIP_END_RECORD,
  );
  return { bytes, entries };
}

const INIT_SCRIPT = `
const started = performance.now();
require(process.argv[1]);
const loaded = performance.now();
process.stdout.write(JSON.stringify({ requireMs: loaded - started, sinceStartMs: loaded, rss: process.memoryUsage().rss }));
`;

/**
 * Measures bundle sizes and the consumer's init time from a synthesized cloud assembly.
 *
 * @example
 * ```ts
 * const packaging = await runPackagingBench({ cdkOutDir: 'cdk.out', stackName: 'Shardline-dev', initRuns: 7 });
 * ```
 */
export async function runPackagingBench(options: {
  cdkOutDir: string;
  stackName: string;
  initRuns: number;
}): Promise<PackagingResult> {
  const stack = await loadStackTemplate(options.cdkOutDir, options.stackName);
  const model = describeStack(stack.template, { cdkOutDir: stack.cdkOutDir, stackName: stack.stackName });
  const bundles: BundleSize[] = [];
  const init: InitTime[] = [];
  for (const fn of model.functions) {
    if (!fn.assetPath) continue;
    const functionName = typeof fn.name === 'string' ? fn.name : fn.logicalId;
    const names = (await readdir(fn.assetPath)).sort();
    const files = await Promise.all(
      names.map(async (name) => ({ name, data: await readFile(join(fn.assetPath as string, name)) })),
    );
    const archive = zipSize(files);
    const withoutMap = zipSize(files.filter((file) => !file.name.endsWith('.map')));
    bundles.push({
      functionName,
      assetDir: fn.assetPath,
      files: archive.entries.map((entry) => ({
        name: entry.name,
        bytes: entry.size,
        zippedBytes: entry.compressedSize,
      })),
      bytes: files.reduce((sum, file) => sum + file.data.byteLength, 0),
      zippedBytes: archive.bytes,
      zippedBytesWithoutSourceMap: withoutMap.bytes,
    });
    if (!/consumer/i.test(functionName)) continue;

    const environment: Record<string, string> = {};
    for (const [key, value] of Object.entries(fn.environment))
      environment[key] = typeof value === 'string' ? value : `bench-placeholder-${key.toLowerCase()}`;
    const modulePath = join(fn.assetPath, `${fn.handler.split('.')[0]}.js`);
    const configured = environment.NODE_OPTIONS ?? '';
    for (const nodeOptions of [...new Set([configured, ''])]) {
      const requireMs: number[] = [];
      const sinceStart: number[] = [];
      const rss: number[] = [];
      for (let attempt = 0; attempt < options.initRuns; attempt++) {
        const { stdout } = await run(process.execPath, ['-e', INIT_SCRIPT, modulePath], {
          cwd: fn.assetPath,
          env: {
            PATH: process.env.PATH ?? '',
            ...environment,
            NODE_OPTIONS: nodeOptions,
            AWS_REGION: 'us-east-1',
            AWS_ACCESS_KEY_ID: 'bench',
            AWS_SECRET_ACCESS_KEY: 'bench',
            AWS_LAMBDA_FUNCTION_NAME: functionName,
            AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.memoryMb),
            AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
          },
        });
        const measured = JSON.parse(stdout) as { requireMs: number; sinceStartMs: number; rss: number };
        requireMs.push(measured.requireMs);
        sinceStart.push(measured.sinceStartMs);
        rss.push(measured.rss / 2 ** 20);
      }
      init.push({
        functionName,
        nodeOptions,
        requireMs: spread(requireMs),
        processStartToLoadedMs: spread(sinceStart),
        rssAfterLoadMb: spread(rss),
      });
    }
  }
  return { bundles, init };
}
