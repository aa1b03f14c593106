import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../lib/app';
import { requireTool } from './tools';

/**
 * cfn-lint (AWS's CloudFormation linter, Python) on the synthesized template of a development and a
 * production stage: resource properties, value ranges, intrinsic functions and best-practice rules that
 * CDK's own validation does not cover. One check is ignored: W3005, "dependency already enforced by a
 * GetAtt", which the CDK generates for every function's DependsOn on its role and default policy.
 */
const run = promisify(execFile);
const cfnLint = requireTool('cfn-lint', "pip install cfn-lint (or pip install 'moto[server]' cfn-lint)");
const IGNORED = ['W3005'];

let outdir: string;
const templates: Record<string, string> = {};

beforeAll(() => {
  outdir = mkdtempSync(join(tmpdir(), 'shardline-cfn-lint-'));
  for (const stage of ['dev', 'prod']) {
    const { stack } = buildApp({
      stage,
      outdir: join(outdir, stage),
      bundling: false,
      validation: false,
      nag: false,
      context: stage === 'prod' ? { alarmEmail: 'oncall@example.com' } : {},
    });
    const file = join(outdir, `${stage}.template.json`);
    writeFileSync(file, JSON.stringify(Template.fromStack(stack).toJSON(), null, 1));
    templates[stage] = file;
  }
});

afterAll(() => rmSync(outdir, { recursive: true, force: true }));

/** One cfn-lint run over several templates (it starts slowly: about 10 s each time). */
async function lint(...files: string[]) {
  try {
    await run(cfnLint.command, ['--ignore-checks', ...IGNORED, '--format', 'parseable', '--', ...files]);
    return { code: 0, findings: '' };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string };
    return { code: failed.code ?? -1, findings: failed.stdout ?? '' };
  }
}

describe.skipIf(!cfnLint.available)('cfn-lint', () => {
  it('finds nothing in the dev and prod templates', async () => {
    const result = await lint(templates.dev as string, templates.prod as string);
    expect(result.findings).toBe('');
    expect(result.code).toBe(0);
  });

  it('does flag a broken template, so the check is not vacuous', async () => {
    const broken = join(outdir, 'broken.template.json');
    writeFileSync(
      broken,
      JSON.stringify({
        Resources: { Queue: { Type: 'AWS::SQS::Queue', Properties: { MessageRetentionPeriod: 'forever' } } },
      }),
    );
    const result = await lint(broken);
    expect(result.code).not.toBe(0);
    expect(result.findings).toMatch(/broken\.template\.json:\d+:\d+:\d+:\d+:E\d{4}:/);
  });
});
