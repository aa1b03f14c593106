import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assembleSnapshotChain, checkEncodingReuse } from '../../lambdas/consumer/analytics';
import { parseCheckpoint } from '../../lambdas/consumer/checkpoint';
import { parseCommitRecord } from '../../lambdas/consumer/commitRecord';
import { decodeRecord } from '../../lambdas/consumer/decode';
import { COMMITS_PREFIX, STAGING_PREFIX, STATE_PREFIX } from '../../lambdas/shared/lakeLayout';
import {
  NO_FAULTS,
  type ScriptedFault,
  type SimulationOptions,
  type SimulationResult,
} from './protocolHarness';
import { recordsOf, runAndCheck, SHARD, spec } from './scenario';

/**
 * Fixed examples of the interleavings issue 13 lists, each on the property harness (protocolHarness.ts)
 * with fixed batches, a script of faults per invocation and call, and no other fault. Every run checks
 * what a plain reader of the lake sees after every step (no duplicate, no uncommitted row, no row
 * vanishing) and the end state (every valid record once, the DLQ, the checkpoint, the commit records,
 * the analytics state and outputs); each example runs under several seeds, which vary the interleaving
 * of the processes, the landing time of late requests and the stall lengths.
 *
 * Call indices are read off a run without faults (the calls of one invocation are numbered in the order
 * it makes them), and each example checks that its scripted fault struck the call it meant.
 */

const SEEDS = [1, 2, 3, 4, 5, 6, 7, 8];
// Three batches of three, each with one invalid record, windows closing, a late event and alerts.
const specs = [
  spec({}),
  spec({ type: 'add_to_cart' }),
  spec({ invalid: true }),
  spec({ type: 'payment_processed', user: 2 }),
  spec({ stepSeconds: 200 }),
  spec({ invalid: true }),
  spec({ type: 'payment_processed', failed: true }),
  spec({ stepSeconds: -30 }),
  spec({ invalid: true }),
];
const batches = [3, 3, 3];
const records = recordsOf(specs);

/** The commands invocation `k` makes, by call index, in a run without faults (with the same environments). */
const dryRuns = new Map<string, SimulationResult>();
async function commandsOf(k: number, environments = 2): Promise<string[]> {
  const id = String(environments);
  let dry = dryRuns.get(id);
  if (!dry) {
    dry = await runAndCheck({ specs, seed: 1, faults: NO_FAULTS, overrides: { batches, environments } });
    dryRuns.set(id, dry);
  }
  const commands: string[] = [];
  for (const label of dry.trace) {
    const match = new RegExp(`^inv${k}#(\\d+) (\\w+)Command$`).exec(label);
    if (match) commands[Number(match[1])] = match[2] as string;
  }
  return commands;
}

/** Named calls of invocation `k`: staging, DLQ, commit, first final PUT, commit record, clear. */
async function callsOf(k: number, environments = 2) {
  const commands = await commandsOf(k, environments);
  const commit = commands.indexOf('UpdateItem');
  return {
    staging: commands.indexOf('PutObject'),
    dlq: commands.indexOf('SendMessageBatch'),
    commit,
    firstFinalPut: commit + 1,
    commitRecord: commands.lastIndexOf('PutObject'),
    clear: commands.lastIndexOf('UpdateItem'),
    commands,
  };
}

const scriptOf = (faults: [invocation: number, call: number, fault: ScriptedFault][]) => {
  const script = new Map<number, Map<number, ScriptedFault>>();
  for (const [invocation, call, fault] of faults) {
    const calls = script.get(invocation) ?? new Map<number, ScriptedFault>();
    calls.set(call, fault);
    script.set(invocation, calls);
  }
  return script;
};

/** Runs the example under every seed; each run is checked by runAndCheck. */
async function example(
  faults: [invocation: number, call: number, fault: ScriptedFault][],
  options: { overrides?: Partial<SimulationOptions> } = {},
): Promise<SimulationResult[]> {
  const results: SimulationResult[] = [];
  const environments = options.overrides?.environments ?? 2;
  // The scripted faults strike the calls they mean: the invocation makes the calls of the dry run up to them.
  const expected = await Promise.all(
    faults.map(
      async ([k, call, fault]) =>
        `inv${k}#${call} ${(await commandsOf(k, environments))[call]}Command: ${fault}`,
    ),
  );
  for (const seed of SEEDS) {
    const result = await runAndCheck({
      specs,
      seed,
      faults: NO_FAULTS,
      overrides: { batches, script: scriptOf(faults), publisherEvery: null, ...options.overrides },
    });
    for (const event of expected) expect(result.events).toContain(event);
    results.push(result);
  }
  return results;
}

/** The step at which a label first ran (-1: never). */
const stepOf = (result: SimulationResult, pattern: RegExp) => result.trace.findIndex((l) => pattern.test(l));

const commitRecordsOf = (result: SimulationResult) =>
  [...result.world.s3.objects]
    .filter(([key]) => key.startsWith(`${COMMITS_PREFIX}/`))
    .map(([key, body]) => parseCommitRecord(key, Buffer.from(body).toString('utf8')));

const stagedBundlesOf = (result: SimulationResult, invocation: number) =>
  [...result.world.s3.objects.keys()].filter((k) =>
    k.startsWith(`${STAGING_PREFIX}/${SHARD}/attempt-${invocation}-`),
  );

beforeAll(() => checkEncodingReuse(true));
afterAll(() => checkEncodingReuse(false));

describe('fixed examples of the interleavings of issue 13', () => {
  it('a commit request that times out on the client and is applied a moment later neither loses the batch nor publishes it twice', async () => {
    const { commit, commands } = await callsOf(1);
    expect(commands[commit]).toBe('UpdateItem');
    const results = await example([[1, commit, 'delay']]);
    let landedBeforeRetryRead = 0;
    for (const result of results) {
      const late = stepOf(result, new RegExp(`^late inv1#${commit} `));
      const retryRead = stepOf(result, /^inv2#0 GetItemCommand$/);
      expect(late).toBeGreaterThan(0);
      if (late < retryRead) landedBeforeRetryRead++;
    }
    // Both cases happen across the seeds: the late commit landing before the retry reads the checkpoint
    // (the retry finishes its publication), and after (the late request fails its condition).
    expect(landedBeforeRetryRead).toBeGreaterThan(0);
    expect(landedBeforeRetryRead).toBeLessThan(results.length);
  });

  it('an attempt killed with a final PUT in flight that lands after its retry ran leaves no duplicate', async () => {
    const { firstFinalPut, commands } = await callsOf(1);
    expect(commands[firstFinalPut]).toBe('PutObject');
    for (const result of await example([[1, firstFinalPut, 'crash-inflight']])) {
      const landed = stepOf(result, new RegExp(`^in-flight inv1#${firstFinalPut} `));
      const retryStarted = stepOf(result, /^inv2#0 /);
      expect(retryStarted).toBeGreaterThan(0);
      expect(landed).toBeGreaterThan(retryStarted);
    }
  });

  it('an attempt killed with its commit record PUT in flight leaves the catalogue whole', async () => {
    const { commitRecord } = await callsOf(0);
    const results = await example([[0, commitRecord, 'crash-inflight']]);
    for (const result of results)
      expect(stepOf(result, new RegExp(`^in-flight inv0#${commitRecord} `))).toBeGreaterThan(0);
  });

  it.each([
    ['right after staging', 'staging'],
    ['after the DLQ, before its commit leaves', 'commit'],
  ] as const)('rows of an attempt that dies %s are never visible to any reader', async (_, where) => {
    const calls = await callsOf(1);
    const call = where === 'staging' ? calls.dlq : calls.commit;
    expect(call).toBeGreaterThan(calls.staging);
    for (const result of await example([[1, call, 'crash-unsent']])) {
      // Its bundle stays staged where no table looks, and no commit names its attempt.
      expect(stagedBundlesOf(result, 1)).toHaveLength(1);
      expect(commitRecordsOf(result).some((r) => r.attemptId.startsWith('attempt-1-'))).toBe(false);
    }
  });

  it('two attempts of one checkpoint version stage at once under their own keys, and only one commits', async () => {
    const { staging } = await callsOf(1);
    let bothStaged = 0;
    for (const result of await example([[1, staging, 'stall']])) {
      const zombie = stagedBundlesOf(result, 1);
      const retry = stagedBundlesOf(result, 2);
      if (zombie.length === 1 && retry.length === 1) bothStaged++;
      const second = [records[3], records[5]].map((r) => r?.kinesis.sequenceNumber);
      const committed = commitRecordsOf(result).filter(
        (r) => r.firstSequenceNumber === second[0] && r.lastSequenceNumber === second[1],
      );
      expect(committed).toHaveLength(1);
    }
    expect(bothStaged).toBeGreaterThan(0);
  });

  it("a clear delayed until after the next commit does not clear that commit's pending publication", async () => {
    const { clear, commands } = await callsOf(0);
    expect(commands[clear]).toBe('UpdateItem');
    let landedAfterNextCommit = 0;
    for (const result of await example([[0, clear, 'delay']])) {
      const late = stepOf(result, new RegExp(`^late inv0#${clear} `));
      const nextCommit = stepOf(result, /^inv1#\d+ UpdateItemCommand$/);
      if (late > nextCommit && nextCommit >= 0) landedAfterNextCommit++;
    }
    expect(landedAfterNextCommit).toBeGreaterThan(0);
  });

  it('the scheduled publisher racing the consumer over the same pending publication publishes nothing twice', async () => {
    const { firstFinalPut } = await callsOf(0);
    let publisherPublished = 0;
    // The consumer's own final PUT fails once: the next invocation and the publisher both go for it.
    for (const result of await example([[0, firstFinalPut, 'fail']], { overrides: { publisherEvery: 2 } }))
      if (result.trace.some((l) => /^pub@\d+#\d+ PutObjectCommand$/.test(l))) publisherPublished++;
    expect(publisherPublished).toBeGreaterThan(0);
  });

  it('the scheduled publisher racing a consumer that meets no fault publishes nothing twice', async () => {
    await example([], { overrides: { publisherEvery: 2 } });
  });

  it("a quiet shard's last publication is finished by the scheduled publisher alone, and its snapshot kept", async () => {
    const { firstFinalPut } = await callsOf(2);
    for (const result of await example([[2, firstFinalPut, 'fail']])) {
      expect(result.invocations).toBe(3);
      expect(result.trace.some((l) => /^pub-final#\d+ PutObjectCommand$/.test(l))).toBe(true);
      const item = [...result.world.dynamo.items.values()].find((i) => i.sk?.S === 'checkpoint');
      const checkpoint = parseCheckpoint(SHARD, item);
      // What a compaction replaced is gone once the publisher finished; the committed chain stays.
      const objects = result.world.s3.objects;
      const { chain } = assembleSnapshotChain(checkpoint.stateKey as string, (key) => objects.get(key));
      const snapshots = [...objects.keys()].filter((k) => k.startsWith(`${STATE_PREFIX}/`));
      expect(snapshots.sort()).toEqual([...chain.keys].sort());
    }
  });

  it('a commit never overwrites an unpublished one: the next invocation finishes it first', async () => {
    const { commitRecord } = await callsOf(0);
    for (const result of await example([[0, commitRecord, 'fail']])) {
      const next = stepOf(result, /^inv1#1 GetObjectCommand$/);
      expect(next).toBeGreaterThan(0);
      expect(commitRecordsOf(result)).toHaveLength(3);
    }
  });

  it.each([
    ['commit fails', 'commit'],
    ['DLQ send fails', 'dlq'],
  ] as const)(
    'a failed attempt whose %s leaves no folded state in the warm cache of its environment',
    async (_, where) => {
      const calls = await callsOf(1, 1);
      const call = where === 'commit' ? calls.commit : calls.dlq;
      // One execution environment: the retry runs where the failed attempt folded its batch.
      for (const result of await example([[1, call, 'fail']], { overrides: { environments: 1 } }))
        expect(result.invocations).toBe(4);
    },
  );

  it('the examples have an invalid record in every batch', () => {
    expect(records.filter((r) => !decodeRecord(r).ok)).toHaveLength(3);
    expect(batches.reduce((a, b) => a + b, 0)).toBe(records.length);
  });
});
