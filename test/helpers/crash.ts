import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { S3Client } from '@aws-sdk/client-s3';
import type { SQSClient } from '@aws-sdk/client-sqs';

/**
 * Simulates a consumer process dying at a chosen point of the commit protocol. Once the crash point is
 * reached, every later AWS call of that "process" fails, including its own cleanup, exactly as if it had
 * been SIGKILLed. A new set of clients is a restarted process.
 */
export class SimulatedCrash extends Error {
  constructor(point: string) {
    super(`simulated crash: ${point}`);
    this.name = 'SimulatedCrash';
  }
}

export interface CrashCall {
  command: string;
  input: Record<string, unknown>;
}

export interface CrashPlan {
  name: string;
  /** Crash before sending this call (it never reaches AWS). */
  before?: (call: CrashCall, history: CrashCall[]) => boolean;
  /** Crash after this call has succeeded at AWS (its response is lost). */
  after?: (call: CrashCall, history: CrashCall[]) => boolean;
}

type AnyClient = S3Client | DynamoDBClient | SQSClient;

/** Installs the plan on a "process" made of these clients; returns a probe of whether it died. */
export function installCrashPlan(plan: CrashPlan, clients: AnyClient[]) {
  const state = { dead: false, history: [] as CrashCall[] };
  for (const client of clients) {
    (client as S3Client).middlewareStack.add(
      (next, context) => async (args) => {
        if (state.dead) throw new SimulatedCrash(`${plan.name} (process already dead)`);
        const call = { command: String(context.commandName), input: args.input as Record<string, unknown> };
        if (plan.before?.(call, state.history)) {
          state.dead = true;
          throw new SimulatedCrash(plan.name);
        }
        const output = await next(args);
        state.history.push(call);
        if (plan.after?.(call, state.history)) {
          state.dead = true;
          throw new SimulatedCrash(plan.name);
        }
        return output;
      },
      { step: 'initialize', name: 'simulatedCrash' },
    );
  }
  return state;
}

const updateMatches = (call: CrashCall, pattern: RegExp) =>
  call.command === 'UpdateItemCommand' && pattern.test(String(call.input.UpdateExpression ?? ''));

/** The four crash points of the protocol (docs/EXACTLY_ONCE.md). */
export const CRASH_POINTS: CrashPlan[] = [
  { name: 'after the intent', after: (call) => updateMatches(call, /SET intent/) },
  {
    name: 'between the first and the second object put',
    after: (call, history) =>
      call.command === 'PutObjectCommand' &&
      history.filter((c) => c.command === 'PutObjectCommand').length === 1,
  },
  { name: 'after all puts, before the commit', before: (call) => updateMatches(call, /SET lastSeq/) },
  { name: 'after the commit, before returning', after: (call) => updateMatches(call, /SET lastSeq/) },
];
