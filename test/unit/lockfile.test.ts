import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

describe('package-lock.json', () => {
  it('has an entry for every platform build of every optional dependency, so that npm ci accepts it', () => {
    // Throws with the fix (`npm run lockfile:complete`) in its message when an entry is missing.
    expect(() =>
      execFileSync(process.execPath, ['scripts/complete-lockfile.mjs', '--check'], { stdio: 'pipe' }),
    ).not.toThrow();
  });
});
