import { describe, expect, it } from 'vitest';
import { dashboard } from '../../cli/commands/dashboard';

const options = {
  dataDir: '/tmp/shardline-dashboard-none',
  defaultDataDir: '/tmp/shardline-dashboard-none',
  json: false,
  stage: 'dev',
};

describe('shardline dashboard --target', () => {
  for (const target of ['localstack', 'aws'] as const) {
    it(`refuses ${target} with one line that points to status`, async () => {
      await expect(dashboard({ ...options, target })).rejects.toThrow(
        `the dashboard watches the local pipeline only (--target local); for ${target} use \`shardline status --target ${target}\``,
      );
    });
  }
});
