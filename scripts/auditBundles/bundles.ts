import type { BuildOptions } from 'esbuild';

/** A Lambda bundle as `lib/shardline-stack.ts` declares it with `BundledFunction`. */
export interface LambdaBundle {
  /** The bundle's name, after its function. */
  readonly name: string;
  /** The construct id of its `BundledFunction` in the stack. */
  readonly constructId: string;
  /** Handler source, relative to the project root (the construct's `entry`). */
  readonly entry: string;
  /** Files copied next to `index.js` after bundling (the construct's `bundledFiles`). */
  readonly bundledFiles: readonly string[];
}

/**
 * The stack's Lambda bundles. CDK keeps a NodejsFunction's entry and hooks to itself, so they are
 * repeated here; `test/unit/auditBundles.test.ts` fails when the stack gains or loses a function.
 */
export const LAMBDA_BUNDLES: readonly LambdaBundle[] = [
  { name: 'producer', constructId: 'Producer', entry: 'lambdas/producer/handler.ts', bundledFiles: [] },
  {
    name: 'consumer',
    constructId: 'Consumer',
    entry: 'lambdas/consumer/handler.ts',
    bundledFiles: ['node_modules/parquet-wasm/node/parquet_wasm_bg.wasm'],
  },
  { name: 'publisher', constructId: 'Publisher', entry: 'lambdas/publisher/handler.ts', bundledFiles: [] },
];

/**
 * The esbuild options `BundledFunction` gives NodejsFunction (`esbuild --bundle <entry> --target=node22
 * --platform=node --format=cjs --minify --sourcemap`, no `--external`), so that tree shaking drops the
 * same modules it drops when CDK bundles. `--sourcemap` is left out: it adds an output file, not an input,
 * and takes a third of the build time.
 */
export const BUNDLE_BUILD_OPTIONS = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node22',
  minify: true,
  external: [],
} as const satisfies BuildOptions;
