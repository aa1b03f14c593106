import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Metafile } from 'esbuild';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  type AdvisoryResponse,
  type AuditDependencies,
  type AuditReport,
  auditExitCode,
  auditReport,
  BUNDLE_BUILD_OPTIONS,
  type BundleInventory,
  bulkRequestBody,
  bundleInventories,
  defaultAuditDependencies,
  inVersionRange,
  LAMBDA_BUNDLES,
  npmRegistry,
  type PackageManifest,
  packageDirectoryOf,
  parseAdvisoryResponse,
  runAuditBundles,
  shippedPackages,
} from '../../scripts/auditBundles';

const projectRoot = fileURLToPath(new URL('../..', import.meta.url));
const fixture = (name: string): unknown =>
  JSON.parse(readFileSync(new URL(`../fixtures/audit/${name}`, import.meta.url), 'utf8'));
const metafile = fixture('metafile.json') as Metafile;
const advisories = parseAdvisoryResponse(fixture('advisories.json'));

/** The manifests of the fixture's package directories. */
const manifests: Record<string, PackageManifest> = {
  'node_modules/zod': { name: 'zod', version: '4.1.2' },
  'node_modules/@aws-lambda-powertools/logger': { name: '@aws-lambda-powertools/logger', version: '2.36.0' },
  'node_modules/outer': { name: 'outer', version: '3.0.0' },
  'node_modules/outer/node_modules/inner': { name: 'inner', version: '1.0.4' },
  'node_modules/outer/node_modules/@scope/nested': { name: '@scope/nested', version: '0.9.1' },
  'node_modules/dup': { name: 'dup', version: '2.1.0' },
  'node_modules/outer/node_modules/dup': { name: 'dup', version: '2.1.0' },
  'node_modules/alias-dir': { name: 'real-name', version: '5.0.0' },
  'node_modules/parquet-wasm': { name: 'parquet-wasm', version: '0.8.0' },
  'node_modules/shaken-away': { name: 'shaken-away', version: '1.0.0' },
  'node_modules/types-only': { name: 'types-only', version: '1.0.0' },
};
const readManifest = (directory: string): PackageManifest => {
  const manifest = manifests[directory];
  if (!manifest) throw new Error(`no manifest in the fixture for ${directory}`);
  return manifest;
};
const WASM = 'node_modules/parquet-wasm/node/parquet_wasm_bg.wasm';
const ids = (packages: readonly { name: string; version: string }[]) =>
  packages.map(({ name, version }) => `${name}@${version}`);

/** Two bundles built from the fixture: `example` with the copied .wasm, `small` with zod only. */
const fixtureBundles: BundleInventory[] = [
  {
    name: 'example',
    entry: 'lambdas/example/handler.ts',
    packages: shippedPackages(metafile, [WASM], readManifest),
  },
  {
    name: 'small',
    entry: 'lambdas/small/handler.ts',
    packages: [{ name: 'zod', version: '3.22.2', directories: ['node_modules/zod'], copiedFiles: [] }],
  },
];

describe('packages shipped in a bundle, from its esbuild metafile', () => {
  it.each([
    ['node_modules/zod/v4/core/core.js', 'node_modules/zod'],
    ['node_modules/@aws-sdk/core/dist-cjs/index.js', 'node_modules/@aws-sdk/core'],
    ['node_modules/a/node_modules/b/lib/b.js', 'node_modules/a/node_modules/b'],
    ['node_modules/a/node_modules/@s/b/index.js', 'node_modules/a/node_modules/@s/b'],
    ['lambdas/consumer/handler.ts', undefined],
  ])('file %s belongs to package directory %s', (file, directory) => {
    expect(packageDirectoryOf(file)).toBe(directory);
  });

  it('lists every package with a file in the output: scoped, nested and nested scoped ones included', () => {
    expect(ids(shippedPackages(metafile, [], readManifest))).toEqual([
      '@aws-lambda-powertools/logger@2.36.0',
      '@scope/nested@0.9.1',
      'dup@2.1.0',
      'inner@1.0.4',
      'outer@3.0.0',
      'real-name@5.0.0',
      'zod@4.1.2',
    ]);
  });

  it('leaves out modules esbuild parsed but tree-shook away, or that contribute no bytes', () => {
    const names = shippedPackages(metafile, [], readManifest).map(({ name }) => name);
    expect(names).not.toContain('shaken-away');
    expect(names).not.toContain('types-only');
  });

  it('names a package after its manifest, not its directory (aliased installs)', () => {
    const aliased = shippedPackages(metafile, [], readManifest).find(({ name }) => name === 'real-name');
    expect(aliased?.directories).toEqual(['node_modules/alias-dir']);
  });

  it('lists a version installed twice once, with both directories', () => {
    const dup = shippedPackages(metafile, [], readManifest).filter(({ name }) => name === 'dup');
    expect(dup).toEqual([
      {
        name: 'dup',
        version: '2.1.0',
        directories: ['node_modules/dup', 'node_modules/outer/node_modules/dup'],
        copiedFiles: [],
      },
    ]);
  });

  it('adds the package of a file copied next to the bundle, naming the file', () => {
    const wasm = shippedPackages(metafile, [WASM], readManifest).find(({ name }) => name === 'parquet-wasm');
    expect(wasm).toEqual({
      name: 'parquet-wasm',
      version: '0.8.0',
      directories: ['node_modules/parquet-wasm'],
      copiedFiles: ['node/parquet_wasm_bg.wasm'],
    });
  });
});

describe('vulnerable version ranges, read as npm audit reads them', () => {
  it.each([
    ['1.2.3', '<1.2.4', true],
    ['1.2.4', '<1.2.4', false],
    ['2.0.3', '<1.2.4 || >=2.0.0 <2.0.4', true],
    ['2.0.4', '<1.2.4 || >=2.0.0 <2.0.4', false],
    ['1.0.4', '<=1.0.4', true],
    ['1.0.4', '>= 1.0.0, < 1.0.5', undefined],
    ['4.17.20', '< 4.17.21', true],
    ['1.9.9', '<2', true],
    ['2.0.0-beta.1', '<2', false],
    ['2.0.0-beta.1', '<2.0.0', true],
    ['1.2.9', '1.2.x', true],
    ['1.3.0', '1.2.x', false],
    ['1.5.0', '1.2.3 - 1.4', false],
    ['1.4.7', '1.2.3 - 1.4', true],
    ['1.2.3-beta.1', '1.2.3 - 1.4', true],
    ['0.0.1', '*', true],
    ['9.9.9', '>=0.0.0', true],
    ['1.0.0', '=1.0.0', true],
    ['1.0.0-rc.2', '>=1.0.0-rc.1 <1.0.0', true],
    ['1.0.0-rc.10', '<1.0.0-rc.9', false],
    ['1.0.0', '^1.0.0', true],
    ['1.1.0', '~1.0.0', false],
    ['1.0.0', 'two point oh or so', undefined],
  ])('%s in %s: %s', (version, range, expected) => {
    expect(inVersionRange(version, range)).toBe(expected);
  });
});

describe('advisories for what the bundles ship', () => {
  it('asks the registry about exactly the shipped packages, each version once', () => {
    expect(bulkRequestBody(fixtureBundles)).toEqual({
      '@aws-lambda-powertools/logger': ['2.36.0'],
      '@scope/nested': ['0.9.1'],
      dup: ['2.1.0'],
      inner: ['1.0.4'],
      outer: ['3.0.0'],
      'parquet-wasm': ['0.8.0'],
      'real-name': ['5.0.0'],
      zod: ['3.22.2', '4.1.2'],
    });
  });

  it('applies an advisory to a bundle only when the version it ships is in the vulnerable range', () => {
    const report = auditReport('https://registry.example/bulk', fixtureBundles, advisories);
    const found = (bundle: string) =>
      report.bundles
        .find(({ name }) => name === bundle)
        ?.findings.map((f) => `${f.severity} ${f.packageName}@${f.version} ${f.advisoryId}`);
    expect(found('example')).toEqual([
      'critical zod@4.1.2 1100002',
      'moderate inner@1.0.4 1100003',
      'low dup@2.1.0 1100004',
    ]);
    expect(found('small')).toEqual(['high zod@3.22.2 1100001']);
  });

  it('counts an advisory whose range it cannot read against the shipped version, and says so', () => {
    const report = auditReport('https://registry.example/bulk', fixtureBundles, advisories);
    const dup = report.bundles.flatMap(({ findings }) => findings).find((f) => f.packageName === 'dup');
    expect(dup?.rangeUnreadable).toBe(true);
  });

  it('fails (exit code 1) on a high or critical finding, and only those', () => {
    const report = auditReport('https://registry.example/bulk', fixtureBundles, advisories);
    expect(report.blocking.map((f) => `${f.bundle} ${f.severity}`)).toEqual([
      'example critical',
      'small high',
    ]);
    expect(auditExitCode(report)).toBe(1);
  });

  it('passes (exit code 0) when only moderate, low and info advisories apply', () => {
    const mild: AdvisoryResponse = { inner: advisories.inner ?? [], dup: advisories.dup ?? [] };
    const report = auditReport('https://registry.example/bulk', fixtureBundles, mild);
    expect(report.bundles.flatMap(({ findings }) => findings)).toHaveLength(2);
    expect(auditExitCode(report)).toBe(0);
  });
});

describe('npm run audit:bundles', () => {
  /** Runs the command with canned bundles, a stubbed fetch and captured output. */
  async function run(argv: string[], fetch: AuditDependencies['fetch'], timeoutMs?: number) {
    const stdout: string[] = [];
    const stderr: string[] = [];
    const requests: { url: string; body: unknown }[] = [];
    const code = await runAuditBundles(argv, {
      inventories: async () => fixtureBundles,
      registry: async () => 'https://registry.npmjs.org/',
      fetch: async (url, init) => {
        requests.push({ url: String(url), body: JSON.parse(String(init?.body)) });
        return fetch(url, init);
      },
      stdout: (text) => stdout.push(text),
      stderr: (text) => stderr.push(text),
      timeoutMs,
    });
    return { code, stdout: stdout.join('\n'), stderr: stderr.join('\n'), requests };
  }
  const answer = (status: number, body: unknown) => async () =>
    new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
  const ENDPOINT = 'https://registry.npmjs.org/-/npm/v1/security/advisories/bulk';

  it('with --list prints each bundle with its packages and asks no registry (exit code 0)', async () => {
    const result = await run(['--list'], () => Promise.reject(new Error('must not be called')));
    expect(result.code).toBe(0);
    expect(result.requests).toEqual([]);
    expect(result.stdout).toContain('example (lambdas/example/handler.ts): 8 packages');
    expect(result.stdout).toContain(
      '  parquet-wasm@0.8.0 (+ node/parquet_wasm_bg.wasm copied next to index.js)',
    );
    expect(result.stdout).toContain('small (lambdas/small/handler.ts): 1 package\n  zod@3.22.2');
  });

  it('posts the shipped packages to the bulk advisory endpoint and exits 1 when a critical one ships', async () => {
    const result = await run([], answer(200, fixture('advisories.json')));
    expect(result.requests).toEqual([{ url: ENDPOINT, body: bulkRequestBody(fixtureBundles) }]);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/CRITICAL +zod@4\.1\.2 +>=4\.0\.0 <4\.1\.3 +Prototype pollution/);
    expect(result.stdout).toContain('2 high or critical advisories apply to what the Lambda bundles ship');
  });

  it('exits 0 and says so when no advisory applies', async () => {
    const result = await run([], answer(200, {}));
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('example (8 packages): no advisories');
    expect(result.stdout).toContain('No high or critical advisory applies to what the Lambda bundles ship.');
  });

  it('with --json prints the report as JSON', async () => {
    const result = await run(['--json'], answer(200, fixture('advisories.json')));
    const report = JSON.parse(result.stdout) as AuditReport;
    expect(report.advisoryEndpoint).toBe(ENDPOINT);
    expect(report.blocking.map(({ advisoryId }) => advisoryId)).toEqual([1100002, 1100001]);
  });

  it('answers a 405 from the advisory endpoint with one line that says what to do, and exit code 2', async () => {
    const result = await run([], async () => new Response('Method Not Allowed', { status: 405 }));
    expect(result).toMatchObject({ code: 2, stdout: '' });
    expect(result.stderr).toBe(
      `shardline audit: the npm advisory endpoint answered HTTP 405 (${ENDPOINT}); ` +
        "run `npm run audit:bundles` where registry.npmjs.org's audit API is reachable",
    );
  });

  it('answers an unreachable endpoint with one line naming the network error, and exit code 2', async () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:443'), { code: 'ECONNREFUSED' });
    const result = await run([], () => Promise.reject(new TypeError('fetch failed', { cause: refused })));
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      `shardline audit: could not reach the npm advisory endpoint: connect ECONNREFUSED 127.0.0.1:443 (${ENDPOINT}); ` +
        "run `npm run audit:bundles` where registry.npmjs.org's audit API is reachable",
    );
  });

  it('gives up on an endpoint that does not answer in time, with one line and exit code 2', async () => {
    const hang: AuditDependencies['fetch'] = (_url, init) =>
      new Promise((_resolve, reject) =>
        init?.signal?.addEventListener('abort', () => reject(init.signal?.reason)),
      );
    const result = await run([], hang, 50);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(
      /^shardline audit: the npm advisory endpoint did not answer within 0\.05 s \(/,
    );
  });

  it('answers JSON that is not an advisory report with one line and exit code 2', async () => {
    const result = await run([], answer(200, { zod: [{ id: 1, severity: 'severe' }] }));
    expect(result.code).toBe(2);
    expect(result.stderr.split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(/answered JSON that is not an advisory report \(zod\.0\./);
  });

  it('rejects an unknown option with the usage, and exit code 2', async () => {
    const result = await run(['--fix'], answer(200, {}));
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^shardline audit: .*'--fix'.*usage: npm run audit:bundles/);
  });

  it('asks the registry npm uses: npm_config_registry, else npm config, else the default', async () => {
    const config = async () => 'https://npm.internal.example/\n';
    expect(await npmRegistry({ npm_config_registry: 'https://mirror.example/npm/' }, config)).toBe(
      'https://mirror.example/npm/',
    );
    expect(await npmRegistry({}, config)).toBe('https://npm.internal.example/');
    expect(await npmRegistry({}, () => Promise.reject(new Error('npm not found')))).toBe(
      'https://registry.npmjs.org/',
    );
  });
});

describe('the real Lambda bundles (esbuild, no network)', () => {
  let bundles: BundleInventory[];
  const shipped = (bundle: string) =>
    bundles.find(({ name }) => name === bundle)?.packages.map(({ name }) => name);
  beforeAll(async () => {
    bundles = await bundleInventories(projectRoot);
  });

  it('ship the runtime packages the handlers import', () => {
    expect(shipped('producer')).toEqual(
      expect.arrayContaining(['zod', '@aws-lambda-powertools/logger', '@aws-sdk/client-kinesis']),
    );
    expect(shipped('consumer')).toEqual(
      expect.arrayContaining(['zod', 'apache-arrow', 'parquet-wasm', '@aws-lambda-powertools/logger']),
    );
  });

  it("ship parquet-wasm's WebAssembly module with the consumer", () => {
    const consumer = bundles.find(({ name }) => name === 'consumer');
    const parquetWasm = consumer?.packages.find(({ name }) => name === 'parquet-wasm');
    expect(parquetWasm?.copiedFiles).toEqual(['node/parquet_wasm_bg.wasm']);
  });

  it('ship no dev-only or CDK-app package', () => {
    const devOnly = [
      'vitest',
      'aws-cdk-lib',
      'constructs',
      'cdk-nag',
      '@duckdb/node-api',
      'commander',
      'esbuild',
    ];
    for (const bundle of ['producer', 'consumer']) {
      expect({ bundle, devOnly: shipped(bundle)?.filter((name) => devOnly.includes(name)) }).toEqual({
        bundle,
        devOnly: [],
      });
    }
  });

  it('are the Lambda functions of the stack, built for the runtime the stack pins', async () => {
    const [{ buildApp }, { NodejsFunction }, { FUNCTION_RUNTIME }] = await Promise.all([
      import('../../lib/app'),
      import('aws-cdk-lib/aws-lambda-nodejs'),
      import('../../lib/constructs/bundled-function'),
    ]);
    const outdir = mkdtempSync(join(tmpdir(), 'shardline-audit-cdk-'));
    try {
      const { stack } = buildApp({ bundling: false, validation: false, nag: false, outdir });
      const functions = stack.node.findAll().filter((c) => c instanceof NodejsFunction);
      expect(functions.map((f) => f.node.id).sort()).toEqual(LAMBDA_BUNDLES.map((b) => b.constructId).sort());
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
    expect(BUNDLE_BUILD_OPTIONS.target).toBe(FUNCTION_RUNTIME.name.replace(/^nodejs(\d+)\.x$/, 'node$1'));
  });
});

describe('npm run audit:bundles with the real fetch', () => {
  it('against a registry whose advisory endpoint answers 405 prints one line and exits 2', async () => {
    const server = createServer((_request, response) => response.writeHead(405).end('Method Not Allowed'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const registry = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    const stderr: string[] = [];
    try {
      const code = await runAuditBundles([], {
        ...defaultAuditDependencies(projectRoot),
        inventories: async () => fixtureBundles,
        registry: () => npmRegistry({ npm_config_registry: registry }, async () => undefined),
        stdout: (text) => expect.unreachable(`nothing on stdout, got ${text}`),
        stderr: (text) => stderr.push(text),
      });
      expect({ code, stderr }).toEqual({
        code: 2,
        stderr: [
          `shardline audit: the npm advisory endpoint answered HTTP 405 (${registry}-/npm/v1/security/advisories/bulk); ` +
            `run \`npm run audit:bundles\` where ${new URL(registry).host}'s audit API is reachable`,
        ],
      });
    } finally {
      server.close();
    }
  });
});
