#!/usr/bin/env node
// The npm registry these machines reach carries only some platforms' builds of packages such as
// @biomejs/cli-* and @duckdb/node-bindings-*. `npm install` then writes a package-lock.json without
// entries for the other platforms' optional dependencies, and `npm ci` rejects that lockfile as out of
// sync. This adds the missing entries as optional, platform-restricted packages, which is what npm
// records on a full registry; npm ci skips them on non-matching platforms and never downloads them.
// Usage: node scripts/complete-lockfile.mjs [--check]
import { readFileSync, writeFileSync } from 'node:fs';

const file = new URL('../package-lock.json', import.meta.url);
const lock = JSON.parse(readFileSync(file, 'utf8'));
const packages = lock.packages;
const platform = /-(android|darwin|linux|win32)-(arm64|x64)(-musl)?$/;
const added = [];
for (const entry of Object.values(packages)) {
  for (const [name, version] of Object.entries(entry.optionalDependencies ?? {})) {
    const key = `node_modules/${name}`;
    const match = platform.exec(name);
    if (packages[key] || !match) continue;
    const [, os, cpu, musl] = match;
    packages[key] = {
      version,
      cpu: [cpu],
      os: [os],
      ...(os === 'linux' ? { libc: [musl ? 'musl' : 'glibc'] } : {}),
      optional: true,
      ...(entry.dev ? { dev: true } : {}),
    };
    added.push(`${name}@${version}`);
  }
}
if (process.argv.includes('--check')) {
  if (added.length > 0) {
    console.error(
      `package-lock.json lacks ${added.length} platform entries (${added.slice(0, 3).join(', ')}…): run \`npm run lockfile:complete\``,
    );
    process.exit(1);
  }
  process.exit(0);
}
lock.packages = Object.fromEntries(
  Object.entries(packages).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a < b ? -1 : 1)),
);
writeFileSync(file, `${JSON.stringify(lock, null, 2)}\n`);
console.log(
  added.length ? `added ${added.length} entries: ${added.join(', ')}` : 'package-lock.json is complete',
);
