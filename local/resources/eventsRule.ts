/**
 * AWS::Events::Rule with a ScheduleExpression, read from the template and run locally: each target
 * Lambda function is invoked at the rule's rate (or on its cron minutes) with the event EventBridge
 * sends, as AWS does. Rules with only an EventPattern have no local counterpart.
 */
import { randomUUID } from 'node:crypto';
import { ShardlineError } from '../../lambdas/shared/errors';
import type { InvokeOutcome } from '../lambda';
import type { CfnTemplate, CfnValue } from '../template';
import { UnsupportedTemplateError } from './errors';
import { cronMatches, parseScheduleExpression, type Schedule } from './scheduleExpression';

export const EVENTS_RULE_TYPE = 'AWS::Events::Rule';

export interface ScheduleTargetModel {
  id: string;
  functionLogicalId: string;
  /** The target's constant `Input` (parsed JSON), sent instead of the scheduled event. */
  input?: unknown;
}

export interface ScheduleRuleModel {
  logicalId: string;
  /** The rule's name: its `Name`, else `<stack>-<logicalId>` (CloudFormation adds a random suffix). */
  name: string;
  schedule: Schedule;
  /** `State: DISABLED` rules are read but never fire. */
  enabled: boolean;
  targets: ScheduleTargetModel[];
}

/**
 * The scheduled rules of a template. Refuses what it cannot run: a target that is not a Lambda function
 * of the stack, or an input path or transformer.
 *
 * @example
 * ```ts
 * const [rule] = describeScheduleRules(template, 'Shardline-dev');
 * rule.schedule; // { kind: 'rate', periodMs: 60000, expression: 'rate(1 minute)' }
 * ```
 */
export function describeScheduleRules(template: CfnTemplate, stackName: string): ScheduleRuleModel[] {
  const resources = template.Resources ?? {};
  const rules: ScheduleRuleModel[] = [];
  for (const [logicalId, resource] of Object.entries(resources)) {
    if (resource.Type !== EVENTS_RULE_TYPE) continue;
    const props = resource.Properties ?? {};
    if (typeof props.ScheduleExpression !== 'string') continue;
    let schedule: Schedule;
    try {
      schedule = parseScheduleExpression(props.ScheduleExpression);
    } catch (error) {
      throw new UnsupportedTemplateError(logicalId, (error as Error).message);
    }
    const targets = ((props.Targets ?? []) as Record<string, CfnValue>[]).map((target) => {
      const functionLogicalId = functionTargetOf(target.Arn);
      if (!functionLogicalId || resources[functionLogicalId]?.Type !== 'AWS::Lambda::Function') {
        throw new UnsupportedTemplateError(
          logicalId,
          `target ${String(target.Id)} is not a Lambda function of this stack: only those run locally`,
        );
      }
      if (target.InputPath !== undefined || target.InputTransformer !== undefined) {
        throw new UnsupportedTemplateError(
          logicalId,
          `target ${String(target.Id)}: InputPath and InputTransformer are not run locally`,
        );
      }
      return {
        id: String(target.Id),
        functionLogicalId,
        ...(typeof target.Input === 'string' ? { input: JSON.parse(target.Input) as unknown } : {}),
      };
    });
    rules.push({
      logicalId,
      name: typeof props.Name === 'string' ? props.Name : `${stackName}-${logicalId}`,
      schedule,
      enabled: props.State !== 'DISABLED',
      targets,
    });
  }
  return rules;
}

function functionTargetOf(arn: CfnValue | undefined): string | undefined {
  const getAtt = (arn as { 'Fn::GetAtt'?: [string, string] } | undefined)?.['Fn::GetAtt'];
  return getAtt?.[1] === 'Arn' ? getAtt[0] : undefined;
}

/**
 * The event EventBridge sends a target of a scheduled rule.
 *
 * @example
 * ```ts
 * scheduledEvent({ ruleArn, region: 'us-east-1', accountId: '000000000000', time: new Date() })['detail-type'];
 * // 'Scheduled Event'
 * ```
 */
export function scheduledEvent(options: { ruleArn: string; region: string; accountId: string; time: Date }) {
  const time = new Date(options.time);
  time.setUTCSeconds(0, 0);
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    account: options.accountId,
    // EventBridge stamps the scheduled minute, to the second.
    time: time.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    region: options.region,
    resources: [options.ruleArn],
    detail: {},
  };
}

export const ruleArn = (rule: ScheduleRuleModel, region: string, accountId: string) =>
  `arn:aws:events:${region}:${accountId}:rule/${rule.name}`;

/** One target invocation of one rule. */
export interface ScheduledRun {
  ruleLogicalId: string;
  targetId: string;
  event: unknown;
  outcome: InvokeOutcome;
}

export interface ScheduleRunnerOptions {
  rules: ScheduleRuleModel[];
  region: string;
  accountId: string;
  /** Invokes the function with this logical id (its local function host). */
  invoke(functionLogicalId: string, event: unknown): Promise<InvokeOutcome>;
  /** The clock that stamps events and matches cron minutes. Default `Date.now`. */
  now?: () => number;
  log?: (line: string) => void;
}

export interface ScheduleRunner {
  /** Fires one rule (or every rule) now, as its schedule would, and waits for its targets. */
  runNow(ruleLogicalId?: string): Promise<ScheduledRun[]>;
  /** Every run so far, in order. */
  readonly runs: readonly ScheduledRun[];
  /** Stops the timers and waits for the runs in flight. */
  stop(): Promise<void>;
}

export class UnknownRuleError extends ShardlineError {
  constructor(ruleLogicalId: string, known: string[]) {
    super(`no scheduled rule ${ruleLogicalId} in the template (it has: ${known.join(', ') || 'none'})`);
    this.name = 'UnknownRuleError';
  }
}

/**
 * Runs the enabled rules on their schedules: a rate rule first fires one period after the start, then
 * every period; a cron rule fires in each matching UTC minute. Like EventBridge, a run does not wait for
 * the previous one. EventBridge invokes asynchronously, and Lambda retries a failed asynchronous
 * invocation twice; locally a failure is logged and the next scheduled run is the retry.
 *
 * @example
 * ```ts
 * const runner = startScheduleRunner({ rules, region, accountId, invoke: (id, event) => hosts[id].invoke(event) });
 * await runner.runNow();
 * await runner.stop();
 * ```
 */
export function startScheduleRunner(options: ScheduleRunnerOptions): ScheduleRunner {
  const now = options.now ?? Date.now;
  const log = options.log ?? (() => {});
  const runs: ScheduledRun[] = [];
  const inFlight = new Set<Promise<unknown>>();
  const timers: NodeJS.Timeout[] = [];
  let stopped = false;

  const fire = async (rule: ScheduleRuleModel): Promise<ScheduledRun[]> => {
    const event = scheduledEvent({
      ruleArn: ruleArn(rule, options.region, options.accountId),
      region: options.region,
      accountId: options.accountId,
      time: new Date(now()),
    });
    return Promise.all(
      rule.targets.map(async (target) => {
        const payload = target.input ?? event;
        const outcome = await options.invoke(target.functionLogicalId, payload);
        const run = { ruleLogicalId: rule.logicalId, targetId: target.id, event: payload, outcome };
        runs.push(run);
        const result = outcome.ok ? 'succeeded' : `failed (${outcome.errorType}: ${outcome.errorMessage})`;
        log(`${rule.name} (${rule.schedule.expression}) → ${target.functionLogicalId}: ${result}`);
        return run;
      }),
    );
  };
  const track = <T>(promise: Promise<T>) => {
    inFlight.add(promise);
    promise.finally(() => inFlight.delete(promise)).catch(() => {});
    return promise;
  };

  for (const rule of options.rules.filter((r) => r.enabled)) {
    const { schedule } = rule;
    if (schedule.kind === 'rate') {
      timers.push(setInterval(() => void track(fire(rule)), schedule.periodMs).unref());
    } else {
      const tick = () => {
        if (stopped) return;
        if (cronMatches(schedule.fields, new Date(now()))) void track(fire(rule));
        timers.push(setTimeout(tick, 60_000 - (now() % 60_000)).unref());
      };
      timers.push(setTimeout(tick, 60_000 - (now() % 60_000)).unref());
    }
  }

  return {
    runs,
    async runNow(ruleLogicalId) {
      const chosen = ruleLogicalId
        ? options.rules.filter((rule) => rule.logicalId === ruleLogicalId)
        : options.rules;
      if (ruleLogicalId && chosen.length === 0) {
        throw new UnknownRuleError(
          ruleLogicalId,
          options.rules.map((rule) => rule.logicalId),
        );
      }
      return (await Promise.all(chosen.map((rule) => track(fire(rule))))).flat();
    },
    async stop() {
      stopped = true;
      for (const timer of timers) clearTimeout(timer);
      await Promise.allSettled([...inFlight]);
    },
  };
}
