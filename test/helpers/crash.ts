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

/**
 * Installs the plan on a "process" made of these clients; returns a probe of whether it died. Once the
 * commit has landed the consumer never throws, so a process that dies while publishing returns normally
 * (its publication left pending) rather than rejecting: look at the probe, not at the outcome.
 */
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

const isCommit = (call: CrashCall) =>
  call.command === 'UpdateItemCommand' &&
  /^SET version = :next/.test(String(call.input.UpdateExpression ?? ''));
const isPutUnder = (call: CrashCall, prefix: string) =>
  call.command === 'PutObjectCommand' && String(call.input.Key ?? '').startsWith(prefix);

/** A crash at every step of the commit protocol (docs/EXACTLY_ONCE.md), in the order an attempt takes them. */
export const CRASH_POINTS: CrashPlan[] = [
  { name: 'before staging', before: (call) => isPutUnder(call, 'staging/') },
  { name: 'after staging', after: (call) => isPutUnder(call, 'staging/') },
  { name: 'after the DLQ, before the commit', after: (call) => call.command === 'SendMessageBatchCommand' },
  { name: 'after the commit, before any publish', after: isCommit },
  { name: 'mid-publish, after the first final object', after: (call) => isPutUnder(call, 'events/') },
  {
    name: 'after the commit record, before the clear',
    after: (call) => isPutUnder(call, '_commits/'),
  },
];
