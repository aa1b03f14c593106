import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { InvokeOutcome } from '../../../local/lambda';
import { UnsupportedTemplateError } from '../../../local/resources/errors';
import {
  describeScheduleRules,
  ruleArn,
  scheduledEvent,
  startScheduleRunner,
  UnknownRuleError,
} from '../../../local/resources/eventsRule';

const REGION = 'us-east-1';
const ACCOUNT = '000000000000';

const templateWith = (rule: Record<string, unknown>) => ({
  Resources: {
    Publisher: { Type: 'AWS::Lambda::Function', Properties: {} },
    Topic: { Type: 'AWS::SNS::Topic', Properties: {} },
    Schedule: { Type: 'AWS::Events::Rule', Properties: rule },
    OnPattern: { Type: 'AWS::Events::Rule', Properties: { EventPattern: { source: ['aws.s3'] } } },
  },
});
const publisherTarget = { Id: 'Target0', Arn: { 'Fn::GetAtt': ['Publisher', 'Arn'] } };

describe('describeScheduleRules', () => {
  it('reads a scheduled rule and its Lambda target, and leaves event-pattern rules alone', () => {
    const rules = describeScheduleRules(
      templateWith({
        ScheduleExpression: 'rate(1 minute)',
        State: 'ENABLED',
        Targets: [publisherTarget],
      }) as never,
      'Shardline-dev',
    );
    expect(rules).toEqual([
      {
        logicalId: 'Schedule',
        name: 'Shardline-dev-Schedule',
        schedule: { kind: 'rate', expression: 'rate(1 minute)', periodMs: 60_000 },
        enabled: true,
        targets: [{ id: 'Target0', functionLogicalId: 'Publisher' }],
      },
    ]);
  });

  it('passes a target’s constant Input instead of the scheduled event', () => {
    const [rule] = describeScheduleRules(
      templateWith({
        ScheduleExpression: 'rate(5 minutes)',
        Targets: [{ ...publisherTarget, Input: '{"dryRun":true}' }],
      }) as never,
      'S',
    );
    expect(rule?.targets).toEqual([
      { id: 'Target0', functionLogicalId: 'Publisher', input: { dryRun: true } },
    ]);
  });

  it.each([
    ['a target that is not a Lambda function', { Targets: [{ Id: 'T', Arn: { Ref: 'Topic' } }] }],
    [
      'an input transformer',
      { Targets: [{ ...publisherTarget, InputTransformer: { InputTemplate: '{}' } }] },
    ],
    [
      'a schedule EventBridge would refuse',
      { ScheduleExpression: 'rate(1 minutes)', Targets: [publisherTarget] },
    ],
  ])('refuses %s', (_, props) => {
    expect(() =>
      describeScheduleRules(templateWith({ ScheduleExpression: 'rate(1 minute)', ...props }) as never, 'S'),
    ).toThrow(UnsupportedTemplateError);
  });
});

describe('scheduledEvent', () => {
  it('has the shape EventBridge sends a scheduled rule’s target, stamped with the minute', () => {
    const arn = 'arn:aws:events:us-east-1:000000000000:rule/r';
    const event = scheduledEvent({
      ruleArn: arn,
      region: REGION,
      accountId: ACCOUNT,
      time: new Date('2026-12-02T10:11:42.123Z'),
    });
    expect(event).toEqual({
      version: '0',
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      'detail-type': 'Scheduled Event',
      source: 'aws.events',
      account: ACCOUNT,
      time: '2026-12-02T10:11:00Z',
      region: REGION,
      resources: [arn],
      detail: {},
    });
  });
});

describe('startScheduleRunner', () => {
  const rule = {
    logicalId: 'Schedule',
    name: 'Shardline-dev-Schedule',
    schedule: { kind: 'rate' as const, expression: 'rate(1 minute)', periodMs: 60_000 },
    enabled: true,
    targets: [{ id: 'Target0', functionLogicalId: 'Publisher' }],
  };
  const ok: InvokeOutcome = { ok: true, result: null, durationMs: 1 };
  let invocations: { functionLogicalId: string; event: unknown }[];
  const invoke = async (functionLogicalId: string, event: unknown) => {
    invocations.push({ functionLogicalId, event });
    return ok;
  };

  beforeEach(() => {
    invocations = [];
    vi.useFakeTimers({ now: Date.parse('2026-12-02T10:00:00Z') });
  });
  afterEach(() => vi.useRealTimers());

  it('invokes the target once per period, starting one period after the start', async () => {
    const runner = startScheduleRunner({ rules: [rule], region: REGION, accountId: ACCOUNT, invoke });
    await vi.advanceTimersByTimeAsync(59_999);
    expect(invocations).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    await vi.advanceTimersByTimeAsync(120_000);
    expect(invocations.map((i) => (i.event as { time: string }).time)).toEqual([
      '2026-12-02T10:01:00Z',
      '2026-12-02T10:02:00Z',
      '2026-12-02T10:03:00Z',
    ]);
    expect(invocations[0]?.event).toMatchObject({ resources: [ruleArn(rule, REGION, ACCOUNT)] });
    await runner.stop();
    await vi.advanceTimersByTimeAsync(600_000);
    expect(invocations).toHaveLength(3);
  });

  it('fires a rule now on demand and reports each target’s outcome', async () => {
    const runner = startScheduleRunner({ rules: [rule], region: REGION, accountId: ACCOUNT, invoke });
    const runs = await runner.runNow('Schedule');
    expect(runs).toEqual([
      { ruleLogicalId: 'Schedule', targetId: 'Target0', event: invocations[0]?.event, outcome: ok },
    ]);
    await expect(runner.runNow('Missing')).rejects.toThrow(UnknownRuleError);
    await runner.stop();
  });

  it('never fires a disabled rule on its own', async () => {
    const runner = startScheduleRunner({
      rules: [{ ...rule, enabled: false }],
      region: REGION,
      accountId: ACCOUNT,
      invoke,
    });
    await vi.advanceTimersByTimeAsync(600_000);
    expect(invocations).toHaveLength(0);
    await runner.stop();
  });

  it('fires a cron rule in each matching UTC minute', async () => {
    const cron = {
      ...rule,
      schedule: {
        kind: 'cron' as const,
        expression: 'cron(0/2 * * * ? *)',
        fields: {
          minutes: new Set([0, 2, 4, 6]),
          hours: new Set(Array.from({ length: 24 }, (_, h) => h)),
          daysOfMonth: new Set(Array.from({ length: 31 }, (_, d) => d + 1)),
          months: new Set(Array.from({ length: 12 }, (_, m) => m + 1)),
          years: 'any' as const,
        },
      },
    };
    const runner = startScheduleRunner({ rules: [cron], region: REGION, accountId: ACCOUNT, invoke });
    await vi.advanceTimersByTimeAsync(6 * 60_000 + 1_000);
    expect(invocations.map((i) => (i.event as { time: string }).time)).toEqual([
      '2026-12-02T10:02:00Z',
      '2026-12-02T10:04:00Z',
      '2026-12-02T10:06:00Z',
    ]);
    await runner.stop();
  });
});
