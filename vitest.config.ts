import { configDefaults, defineConfig } from 'vitest/config';

/**
 * The deploy to moto (test/deploy/motoDeploy.test.ts) takes about two minutes on these shared machines,
 * most of it the CDK synthesis with bundling: it runs with `npm run check:deploy`, not in `npm test`.
 */
const DEPLOY_CHECKS = ['test/deploy/motoDeploy.test.ts'];

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: [
      ...configDefaults.exclude,
      ...(process.env.SHARDLINE_DEPLOY_CHECK === '1' ? [] : DEPLOY_CHECKS),
    ],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Vitest's default on 2 cores is one worker. The integration tests spend much of their time waiting on
    // emulators in other processes, so two files at a time finish the suite in about half the time.
    maxWorkers: 2,
    // Node 20 is supported here; the SDK's notice about its future Node 22 floor is noise in test output.
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  },
});
