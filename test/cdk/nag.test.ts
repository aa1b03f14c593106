import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Bucket } from 'aws-cdk-lib/aws-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../lib/app';

/**
 * cdk-nag's AwsSolutions rules run in every synthesis of the app (lib/app.ts), and any finding that is not
 * acknowledged fails it. These tests pin what is acknowledged, so a new acknowledgement is a reviewed
 * change to this list, and check that each one carries a reason.
 */
interface NagViolation {
  ruleName: string;
  violatingConstructs: Array<{ constructPath: string }>;
  acknowledgedId?: string;
  reason?: string;
}

interface ValidationReport {
  pluginReports: Array<{
    pluginName: string;
    conclusion: string;
    violations: NagViolation[];
    suppressedViolations?: NagViolation[];
  }>;
}

const outdirs: string[] = [];
let report: ValidationReport['pluginReports'][number];

function synthesize(build?: (stack: ReturnType<typeof buildApp>['stack']) => void) {
  const outdir = mkdtempSync(join(tmpdir(), 'shardline-nag-'));
  outdirs.push(outdir);
  const { app, stack } = buildApp({ stage: 'nag', outdir, bundling: false, validation: false });
  build?.(stack);
  return { outdir, synth: () => app.synth() };
}

beforeAll(() => {
  const { outdir, synth } = synthesize();
  synth();
  const reports = JSON.parse(
    readFileSync(join(outdir, 'validation-report.json'), 'utf8'),
  ) as ValidationReport;
  report = reports.pluginReports.find((plugin) => plugin.pluginName === 'AwsSolutions') as typeof report;
});

afterAll(() => {
  for (const outdir of outdirs) rmSync(outdir, { recursive: true, force: true });
});

describe('cdk-nag AwsSolutions', () => {
  it('passes with zero unacknowledged findings', () => {
    expect(report.violations).toEqual([]);
    expect(report.conclusion).toBe('success');
  });

  it('acknowledges exactly these findings, each on the resource it concerns', () => {
    const acknowledged = (report.suppressedViolations ?? []).flatMap((violation) =>
      violation.violatingConstructs.map((construct) => `${violation.ruleName} @ ${construct.constructPath}`),
    );
    // Object ARNs per prefix (lib/permissions.ts): the protocol names objects per shard and sequence range.
    const protocol = [
      'events',
      'windows',
      'sessions',
      'alerts',
      'late_events',
      'engagement',
      'staging',
      'state',
      '_commits',
    ];
    const objectPrefixes = (role: string, prefixes: string[]) =>
      prefixes.map(
        (prefix) =>
          `AwsSolutions-IAM5[Resource::<LakeBucket9CD7BBD2.Arn>/${prefix}/*] @ Shardline-nag/${role}/DefaultPolicy/Resource`,
      );
    expect(acknowledged.sort()).toEqual(
      [
        ...objectPrefixes('ConsumerRole', [...protocol, 'dlq-payloads']),
        ...objectPrefixes('PublisherRole', protocol),
        'AwsSolutions-IAM5[Resource::<FailuresBucketD9B971D9.Arn>/*] @ Shardline-nag/ConsumerRole/DefaultPolicy/Resource',
        ...['ConsumerRole', 'ProducerRole', 'PublisherRole'].map(
          (role) => `AwsSolutions-IAM5[Resource::*] @ Shardline-nag/${role}/DefaultPolicy/Resource`,
        ),
        'AwsSolutions-L1 @ Shardline-nag/Consumer/Resource',
        'AwsSolutions-L1 @ Shardline-nag/Producer/Resource',
        'AwsSolutions-L1 @ Shardline-nag/Publisher/Resource',
        'AwsSolutions-SQS3 @ Shardline-nag/DeadLetterQueue/Resource',
      ].sort(),
    );
  });

  it('gives every acknowledgement a reason that explains it', () => {
    for (const violation of report.suppressedViolations ?? []) {
      expect(violation.reason?.length ?? 0, violation.ruleName).toBeGreaterThan(120);
      expect(violation.reason, violation.ruleName).not.toMatch(/\b(todo|tbd|fixme|placeholder|n\/a)\b/i);
    }
  });

  it('passes with an alarm email: the topic enforces TLS, and its AWS-managed-key finding is acknowledged', () => {
    const outdir = mkdtempSync(join(tmpdir(), 'shardline-nag-'));
    outdirs.push(outdir);
    const { app } = buildApp({
      stage: 'nag',
      outdir,
      bundling: false,
      validation: false,
      context: { alarmEmail: 'oncall@example.com' },
    });
    expect(() => app.synth()).not.toThrow();
  });

  it('fails synthesis when a new resource breaks a rule, so nothing slips in unreviewed', () => {
    const { synth } = synthesize((stack) => {
      // No encryption setting, no TLS enforcement, no access logs: several AwsSolutions findings.
      new Bucket(stack, 'Unreviewed');
    });
    expect(synth).toThrow(/AwsSolutions-S1/);
  });
});
