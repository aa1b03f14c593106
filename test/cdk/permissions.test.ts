import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resourceNames } from '../../lambdas/shared/naming';
import { buildApp } from '../../lib/app';
import { actionsForCommands, EVENT_SOURCE_MAPPING_ACTIONS, SDK_COMMAND_ACTIONS } from '../../lib/permissions';
import { LAMBDA_BUNDLES, type SdkCalls, sdkCallsOf } from '../../scripts/auditBundles';

/**
 * Issue 13 item 9: the emulators enforce no IAM, so a grant that is missing passes every local test and
 * fails in AWS. Each handler is bundled as CDK bundles it; the AWS SDK commands its reachable code sends
 * are mapped to IAM actions (lib/permissions.ts), and the function's synthesized role must grant exactly
 * those, plus what its event source mapping needs, and its own logs.
 */
const PROJECT_ROOT = resolve(import.meta.dirname, '../..');
const STAGE = 'perm';
const names = resourceNames(STAGE);

type Statement = { Effect: string; Action: string | string[]; Resource: unknown; Condition?: unknown };
type Resource = { Type: string; Properties: Record<string, unknown> };

let outdir: string;
let resources: Record<string, Resource>;
const calledActions = new Map<string, string[]>();
const sdkCalls = new Map<string, SdkCalls>();

beforeAll(async () => {
  outdir = mkdtempSync(join(tmpdir(), 'shardline-permissions-'));
  const { stack } = buildApp({ stage: STAGE, outdir, bundling: false, validation: false });
  resources = Template.fromStack(stack).toJSON().Resources as Record<string, Resource>;
  await Promise.all(
    LAMBDA_BUNDLES.map(async (bundle) => {
      const calls = await sdkCallsOf(PROJECT_ROOT, bundle.entry);
      sdkCalls.set(bundle.name, calls);
      calledActions.set(bundle.name, actionsForCommands(calls.commands));
    }),
  );
}, 60_000);

afterAll(() => rmSync(outdir, { recursive: true, force: true }));

const list = <T>(value: T | T[]) => (Array.isArray(value) ? value : [value]);

function functionIdNamed(functionName: string): string {
  const [id] = Object.entries(resources).find(
    ([, resource]) =>
      resource.Type === 'AWS::Lambda::Function' && resource.Properties.FunctionName === functionName,
  ) ?? [''];
  expect(id, `a function named ${functionName}`).not.toBe('');
  return id;
}

/** The Allow statements of the policies attached to a function's role. */
function roleStatements(functionId: string): Statement[] {
  const role = resources[functionId]?.Properties.Role as { 'Fn::GetAtt': [string] } | undefined;
  const roleId = role?.['Fn::GetAtt'][0];
  return Object.values(resources)
    .filter(
      (resource) =>
        resource.Type === 'AWS::IAM::Policy' &&
        JSON.stringify(resource.Properties.Roles) === JSON.stringify([{ Ref: roleId }]),
    )
    .flatMap((policy) => (policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement)
    .filter((statement) => statement.Effect === 'Allow');
}

function hasEventSourceMapping(functionId: string): boolean {
  return Object.values(resources).some(
    (resource) =>
      resource.Type === 'AWS::Lambda::EventSourceMapping' &&
      JSON.stringify(resource.Properties.FunctionName) === JSON.stringify({ Ref: functionId }),
  );
}

/** Every action the role grants, except writing its own logs and traces (Lambda's, not the code's). */
function grantedDataActions(functionId: string): string[] {
  const actions = roleStatements(functionId).flatMap((statement) => list(statement.Action));
  return [
    ...new Set(actions.filter((action) => !action.startsWith('logs:') && !action.startsWith('xray:'))),
  ].sort();
}

const functions = LAMBDA_BUNDLES.map((bundle) => {
  const key = `${bundle.name}FunctionName` as keyof typeof names;
  return [bundle.name, names[key]] as const;
});

describe.each(functions)('the %s', (bundleName, functionName) => {
  it('is granted every IAM action its code calls', () => {
    const granted = grantedDataActions(functionIdNamed(functionName));
    const calls = sdkCalls.get(bundleName) as SdkCalls;
    // Each missing action with the command that needs it and the files that send it.
    const missing = calls.commands.flatMap((command) =>
      (SDK_COMMAND_ACTIONS[command] ?? [])
        .filter((action) => !granted.includes(action))
        .map((action) => `${action} (${command} in ${calls.sources[command]?.join(', ')})`),
    );
    expect(
      missing,
      `${functionName} calls these, and AWS would deny them: grant them in lib/permissions.ts`,
    ).toEqual([]);
  });

  it('is granted no data-plane action beyond its calls and its event source mapping', () => {
    const functionId = functionIdNamed(functionName);
    const allowed = new Set([
      ...(calledActions.get(bundleName) ?? []),
      ...(hasEventSourceMapping(functionId) ? EVENT_SOURCE_MAPPING_ACTIONS : []),
    ]);
    const extra = grantedDataActions(functionId).filter((action) => !allowed.has(action));
    expect(extra, `${functionName} never calls these: remove them from lib/permissions.ts`).toEqual([]);
  });
});

describe('object deletes', () => {
  it('are allowed only on state snapshots (state/*): nothing committed is ever deleted', () => {
    const deleteResources = Object.values(resources)
      .filter((resource) => resource.Type === 'AWS::IAM::Policy')
      .flatMap((policy) => (policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement)
      .filter((statement) => list(statement.Action).some((action) => action.startsWith('s3:Delete')))
      .flatMap((statement) => list(statement.Resource))
      .map((resource) => {
        const join = (resource as { 'Fn::Join'?: [string, unknown[]] })['Fn::Join'];
        return join ? String(join[1].at(-1)) : JSON.stringify(resource);
      });
    expect(deleteResources.length).toBeGreaterThan(0);
    expect(new Set(deleteResources)).toEqual(new Set(['/state/*']));
  });
});
