import { configDefaults, defineConfig } from 'vitest/config';

/**
 * Unit and CDK tests run in-process against fakes and synthesized templates. They share one module cache
 * per worker (`isolate: false`): each file re-importing the AWS SDK and aws-cdk-lib cost 54 s of a 69 s run
 * of these 72 files on 2 cores, and 14 s of 32 s without. Anything that starts emulators or spawns the CLI
 * keeps a fresh module graph per file.
 */
const IN_PROCESS = ['test/unit/**/*.test.ts', 'test/cdk/**/*.test.ts'];

export default defineConfig({
  test: {
    projects: [
      { extends: true, test: { name: 'in-process', include: IN_PROCESS, isolate: false } },
      {
        extends: true,
        test: {
          name: 'isolated',
          include: ['test/**/*.test.ts'],
          exclude: [...configDefaults.exclude, ...IN_PROCESS],
        },
      },
    ],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Vitest's default on 2 cores is one worker. The integration tests spend much of their time waiting on
    // emulators in other processes: on 2 cores, two files at a time kept 1.5 cores busy and took 537 s,
    // three keep 1.8 busy and take 435 s (`time npx vitest run`, a quiet machine).
    maxWorkers: 3,
    // Node 20 is supported here; the SDK's notice about its future Node 22 floor is noise in test output.
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  },
});
