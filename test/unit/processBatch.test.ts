import type { KinesisStreamRecord } from 'aws-lambda';
import { beforeEach, describe, expect, it } from 'vitest';
import { SNAPSHOT_SIZING } from '../../lambdas/consumer/analytics';
import { decodeBundle } from '../../lambdas/consumer/bundle';
import {
  CheckpointConflictError,
  checkpointKey,
  commitBatch,
  LegacyCheckpointError,
  parseCheckpoint,
} from '../../lambdas/consumer/checkpoint';
import { parseCommitRecord } from '../../lambdas/consumer/commitRecord';
import {
  type ConsumerDeps,
  LostCheckpointError,
  ParallelizationNotSupportedError,
  processKinesisEvent,
  requireSingleWriter,
} from '../../lambdas/consumer/processBatch';
import { publishPendingCommits } from '../../lambdas/publisher/publishPending';
import { analyticsConfig } from '../../lambdas/shared/analyticsConfig';
import { commitRecordKey, stagingKey, stateSnapshotKey } from '../../lambdas/shared/lakeLayout';
import { kinesisEvent, kinesisRecord, validEventJson } from '../helpers/kinesisEvents';
import { type CallHook, clientsFor, FakeDynamo, FakeS3, FakeSqs, type FakeWorld } from '../property/fakeAws';
import { SimulatedTimeout } from '../property/protocolHarness';

/**
 * The consumer's protocol step by step, on the real code against the in-memory AWS of
 * test/property/fakeAws.ts, whose DynamoDB evaluates the real condition expressions. Every call is
 * recorded in order; a test can fail one, lose its response, or hold it until something else happened.
 * Crash-and-replay against the real emulators: test/integration/exactlyOnce.test.ts; every interleaving:
 * test/property/.
 */

const SHARD = 'shardId-000000000000';
const config = { bucketName: 'lake', tableName: 'state', dlqUrl: 'http://sqs/dlq', streamName: 'events' };
const shardKey = (shardId = SHARD) => ({ tableName: 'state', streamName: 'events', shardId });

const batch = (shardId = SHARD, from = 100) =>
  kinesisEvent([
    kinesisRecord(shardId, String(from), validEventJson(from)),
    kinesisRecord(shardId, String(from + 1), '{broken'),
    kinesisRecord(
      shardId,
      String(from + 2),
      validEventJson(from + 2, { occurred_at: '2026-11-01T05:00:00Z' }),
    ),
  ]);

/** A call as a short label: the command, and the key or the kind of checkpoint write. */
function labelOf(command: string, input: Record<string, unknown>): string {
  const name = command.replace(/Command$/, '');
  if (name === 'UpdateItem') {
    const update = String(input.UpdateExpression);
    return update.startsWith('REMOVE pending') ? 'UpdateItem clear' : 'UpdateItem commit';
  }
  if (input.Key && typeof input.Key === 'string') return `${name} ${input.Key}`;
  if (name === 'ListObjectsV2') return `${name} ${String(input.Prefix)}`;
  return name;
}

type Fault = 'fail' | 'lose';

interface Process {
  deps: ConsumerDeps;
  calls: string[];
}

let world: FakeWorld;
let attempts = 0;

beforeEach(() => {
  world = { dynamo: new FakeDynamo(), s3: new FakeS3(), sqs: new FakeSqs() };
});

/**
 * One simulated process: its calls are recorded; `fault` may fail a call before it reaches AWS or lose
 * its response after it took effect; `before` runs (and is awaited) before a call reaches AWS.
 */
function process(
  options: {
    fault?: (label: string) => Fault | undefined;
    before?: (label: string) => Promise<void> | undefined;
    analytics?: boolean;
    /** Deltas a snapshot chain may hold (the consumer's default when absent). */
    maxDeltas?: number;
    id?: string;
  } = {},
): Process {
  const calls: string[] = [];
  const hook: CallHook = async (command, input, perform) => {
    const label = labelOf(command, input);
    calls.push(label);
    await options.before?.(label);
    const fault = options.fault?.(label);
    if (fault === 'fail') throw new Error(`simulated failure of ${label}`);
    if (fault === 'lose') {
      perform();
      throw new SimulatedTimeout(command);
    }
    return perform();
  };
  const id = options.id ?? `attempt-${++attempts}`;
  return {
    calls,
    deps: {
      ...clientsFor(world, hook),
      config,
      now: () => Date.parse('2026-11-01T04:00:00Z'),
      newId: () => id,
      analytics: options.analytics ? analyticsConfig({}) : null,
      ...(options.maxDeltas === undefined
        ? {}
        : { analyticsStateSizing: { ...SNAPSHOT_SIZING, maxDeltas: options.maxDeltas } }),
    },
  };
}

const checkpointOf = (shardId = SHARD) =>
  parseCheckpoint(
    shardId,
    world.dynamo.items.get(`${checkpointKey(shardKey(shardId)).pk?.S}\u0000checkpoint`),
  );
const keysUnder = (prefix: string) => [...world.s3.objects.keys()].filter((k) => k.startsWith(prefix)).sort();
const finalKeys = () => keysUnder('events/');
const indexOf = (calls: string[], pattern: RegExp) => calls.findIndex((c) => pattern.test(c));

describe('an attempt on a fresh shard', () => {
  it('stages one bundle, dead-letters the invalid record, commits, publishes, writes the commit record, then clears', async () => {
    const { deps, calls } = process({ id: 'a-1' });
    const result = await processKinesisEvent(batch(), deps);

    expect(result.batchItemFailures).toEqual([]);
    const staged = indexOf(calls, /^PutObject staging\//);
    const dlq = indexOf(calls, /^SendMessageBatch$/);
    const commit = indexOf(calls, /^UpdateItem commit$/);
    const firstFinal = indexOf(calls, /^PutObject events\//);
    const record = indexOf(calls, /^PutObject _commits\//);
    const clear = indexOf(calls, /^UpdateItem clear$/);
    expect([staged, dlq, commit, firstFinal, record, clear].every((i) => i >= 0)).toBe(true);
    expect(staged).toBeLessThan(dlq);
    expect(dlq).toBeLessThan(commit);
    expect(commit).toBeLessThan(firstFinal);
    expect(calls.slice(firstFinal, record).every((c) => c.startsWith('PutObject events/'))).toBe(true);
    expect(record).toBeLessThan(clear);
    expect(calls.at(-1)).toBe('UpdateItem clear');
  });

  it('stages its bundle under its own attempt id, outside every table location', async () => {
    await processKinesisEvent(batch(), process({ id: 'a-1' }).deps);
    const bundle = decodeBundle('b', world.s3.objects.get(stagingKey(SHARD, 'a-1')) as Uint8Array);
    expect(bundle).toMatchObject({ attemptId: 'a-1', firstSequenceNumber: '100', lastSequenceNumber: '102' });
    expect(bundle.objects.map((o) => o.key).sort()).toEqual(finalKeys());
  });

  it('publishes Parquet and CSV per partition under keys fixed by the shard and the range, without a token', async () => {
    const result = await processKinesisEvent(batch(), process().deps);
    expect(finalKeys()).toEqual([
      `events/csv/dt=2026-11-01/hour=03/${SHARD}-100-102.csv`,
      `events/csv/dt=2026-11-01/hour=05/${SHARD}-100-102.csv`,
      `events/parquet/dt=2026-11-01/hour=03/${SHARD}-100-102.parquet`,
      `events/parquet/dt=2026-11-01/hour=05/${SHARD}-100-102.parquet`,
    ]);
    expect(result.shards[0]).toMatchObject({
      received: 3,
      valid: 2,
      invalid: 1,
      skipped: 0,
      objectsWritten: 4,
      published: true,
      committedSequenceNumber: '102',
    });
  });

  it('sends the invalid record to the DLQ under its record id', async () => {
    await processKinesisEvent(batch(), process().deps);
    expect(world.sqs.bodies.map((b) => JSON.parse(b).recordId)).toEqual([`${SHARD}:101`]);
  });

  it('commits the range and its counts in one write, then clears pending without moving the version', async () => {
    await processKinesisEvent(batch(), process({ id: 'a-1' }).deps);
    expect(checkpointOf()).toMatchObject({
      version: 1,
      lastCommittedSequenceNumber: '102',
      committedRecords: 3,
      committedRows: { events: 2, invalid: 1 },
      lastAttemptId: 'a-1',
      pending: null,
    });
  });

  it('writes a commit record naming the range and every final key', async () => {
    await processKinesisEvent(batch(), process({ id: 'a-1' }).deps);
    const key = commitRecordKey(SHARD, '102');
    const record = parseCommitRecord(key, Buffer.from(world.s3.objects.get(key) as Uint8Array).toString());
    expect(record).toMatchObject({
      shardId: SHARD,
      attemptId: 'a-1',
      firstSequenceNumber: '100',
      lastSequenceNumber: '102',
      records: 3,
      rows: { events: 2, invalid: 1 },
    });
    expect([...record.keys].sort()).toEqual(finalKeys());
  });
});

describe('analytics state snapshots', () => {
  it('with full snapshots only, stages the new snapshot under the attempt id before the commit and deletes the replaced one before the clear', async () => {
    await processKinesisEvent(batch(SHARD, 100), process({ id: 'a-1', analytics: true, maxDeltas: 0 }).deps);
    expect(checkpointOf().stateKey).toBe(stateSnapshotKey(SHARD, 'a-1'));
    const second = process({ id: 'a-2', analytics: true, maxDeltas: 0 });
    await processKinesisEvent(batch(SHARD, 200), second.deps);

    const snapshot = indexOf(second.calls, /^PutObject state\//);
    expect(second.calls[snapshot]).toBe(`PutObject ${stateSnapshotKey(SHARD, 'a-2')}`);
    expect(snapshot).toBeLessThan(indexOf(second.calls, /^UpdateItem commit$/));
    const deleted = second.calls.indexOf(`DeleteObject ${stateSnapshotKey(SHARD, 'a-1')}`);
    expect(deleted).toBeGreaterThan(indexOf(second.calls, /^PutObject _commits\//));
    expect(deleted).toBeLessThan(indexOf(second.calls, /^UpdateItem clear$/));
    expect(keysUnder('state/')).toEqual([stateSnapshotKey(SHARD, 'a-2')]);
    expect(checkpointOf().stateKey).toBe(stateSnapshotKey(SHARD, 'a-2'));
  });

  it('reads a pending publication written before snapshot chains: its one replaced snapshot is obsolete', () => {
    const checkpoint = parseCheckpoint(SHARD, {
      ...checkpointKey(shardKey()),
      version: { N: '3' },
      pending: {
        M: {
          id: { S: 'a-3' },
          bundle: { S: 'staging/x.bundle' },
          previousState: { S: 'state/old.snapshot' },
          committedAt: { N: '1' },
        },
      },
    });
    expect(checkpoint.pending?.obsoleteStates).toEqual(['state/old.snapshot']);
  });

  it('writes deltas on the chain, deleting nothing, until a full snapshot makes the whole chain obsolete', async () => {
    const run = async (id: string, from: number) => {
      const attempt = process({ id, analytics: true, maxDeltas: 1 });
      const result = await processKinesisEvent(batch(SHARD, from), attempt.deps);
      return { calls: attempt.calls, kind: result.shards[0]?.analytics?.snapshotKind };
    };
    expect((await run('a-1', 100)).kind).toBe('full');
    const second = await run('a-2', 200);
    expect(second.kind).toBe('delta');
    expect(second.calls.filter((c) => c.startsWith('DeleteObject'))).toEqual([]);
    expect(keysUnder('state/')).toEqual([stateSnapshotKey(SHARD, 'a-1'), stateSnapshotKey(SHARD, 'a-2')]);

    // The chain is full (one delta): the third commit compacts, and its publication deletes the chain.
    const third = await run('a-3', 300);
    expect(third.kind).toBe('full');
    for (const replaced of ['a-1', 'a-2']) {
      const deleted = third.calls.indexOf(`DeleteObject ${stateSnapshotKey(SHARD, replaced)}`);
      expect(deleted).toBeGreaterThan(indexOf(third.calls, /^PutObject _commits\//));
      expect(deleted).toBeLessThan(indexOf(third.calls, /^UpdateItem clear$/));
    }
    expect(keysUnder('state/')).toEqual([stateSnapshotKey(SHARD, 'a-3')]);
  });
});

describe('a replayed batch', () => {
  it('skips records at or below the committed checkpoint and publishes only the rest', async () => {
    const [first, second] = batch().Records as KinesisStreamRecord[];
    await processKinesisEvent(kinesisEvent([first, second] as KinesisStreamRecord[]), process().deps);
    const result = await processKinesisEvent(batch(), process().deps);

    expect(result.shards[0]).toMatchObject({ skipped: 2, valid: 1, invalid: 0 });
    expect(world.sqs.bodies).toHaveLength(1);
    expect(finalKeys()).toContain(`events/parquet/dt=2026-11-01/hour=05/${SHARD}-102-102.parquet`);
  });

  it('writes a sequence number that appears twice in the batch once', async () => {
    const [first, , third] = batch().Records as [
      KinesisStreamRecord,
      KinesisStreamRecord,
      KinesisStreamRecord,
    ];
    const twice = kinesisEvent([first, first, third, first, third].map((r) => structuredClone(r)));
    const result = await processKinesisEvent(twice, process().deps);

    expect(result.shards[0]).toMatchObject({ received: 5, repeated: 3, skipped: 0, valid: 2 });
    const csv = finalKeys()
      .filter((k) => k.endsWith('.csv'))
      .map((k) => Buffer.from(world.s3.objects.get(k) as Uint8Array).toString());
    expect(csv.join('').match(/,100,/g)).toHaveLength(1);
  });

  it('writes nothing at all when every record is already committed', async () => {
    await processKinesisEvent(batch(), process().deps);
    const replay = process();
    const result = await processKinesisEvent(batch(), replay.deps);
    expect(result.shards[0]?.skipped).toBe(3);
    expect(replay.calls).toEqual(['GetItem']);
  });
});

describe('a commit whose publication was left unfinished', () => {
  const failFinalPuts = (label: string): Fault | undefined =>
    label.startsWith('PutObject events/') ? 'fail' : undefined;

  it('does not throw when a final PUT fails after the commit: the records are committed and pending', async () => {
    const result = await processKinesisEvent(batch(), process({ id: 'a-1', fault: failFinalPuts }).deps);
    expect(result.batchItemFailures).toEqual([]);
    expect(result.shards[0]).toMatchObject({ published: false, committedSequenceNumber: '102' });
    expect(checkpointOf().pending).toMatchObject({ id: 'a-1', bundle: stagingKey(SHARD, 'a-1') });
    expect(finalKeys()).toEqual([]);
    expect(keysUnder('_commits/')).toEqual([]);
  });

  it('is finished from its staged bundle by the next invocation before it stages anything', async () => {
    await processKinesisEvent(batch(), process({ id: 'a-1', fault: failFinalPuts }).deps);
    const staged = decodeBundle('b', world.s3.objects.get(stagingKey(SHARD, 'a-1')) as Uint8Array);
    const next = process({ id: 'a-2' });
    const result = await processKinesisEvent(batch(SHARD, 200), next.deps);

    expect(result.shards[0]?.finishedPublication).toBe('a-1');
    expect(next.calls.slice(0, 2)).toEqual(['GetItem', `GetObject ${stagingKey(SHARD, 'a-1')}`]);
    const clears = next.calls.flatMap((c, i) => (c === 'UpdateItem clear' ? [i] : []));
    expect(clears[0]).toBeLessThan(next.calls.indexOf(`PutObject ${stagingKey(SHARD, 'a-2')}`));
    // The same bytes under the same keys as the attempt would have written itself.
    for (const object of staged.objects)
      expect(Buffer.from(world.s3.objects.get(object.key) as Uint8Array).equals(object.body)).toBe(true);
    expect(keysUnder('_commits/')).toEqual([commitRecordKey(SHARD, '102'), commitRecordKey(SHARD, '202')]);
    expect(checkpointOf()).toMatchObject({ version: 2, lastCommittedSequenceNumber: '202', pending: null });
  });

  it('blocks any other commit until it is finished (a commit never overwrites an unpublished one)', async () => {
    await processKinesisEvent(batch(), process({ id: 'a-1', fault: failFinalPuts }).deps);
    const { dynamo } = process().deps;
    await expect(
      commitBatch(dynamo, shardKey(), 1, [], {
        attemptId: 'rival',
        lastSequenceNumber: '300',
        bundle: stagingKey(SHARD, 'rival'),
        stateKey: null,
        records: 1,
      }),
    ).rejects.toThrow(CheckpointConflictError);
    expect(checkpointOf()).toMatchObject({ lastCommittedSequenceNumber: '102', pending: { id: 'a-1' } });
  });
});

describe('a commit whose outcome the attempt did not hear', () => {
  it('that landed although its response was lost is recognised through lastAttemptId and published', async () => {
    const { deps } = process({ id: 'a-1', fault: (l) => (l === 'UpdateItem commit' ? 'lose' : undefined) });
    const result = await processKinesisEvent(batch(), deps);
    expect(result.shards[0]).toMatchObject({ published: true, committedSequenceNumber: '102' });
    expect(checkpointOf()).toMatchObject({ version: 1, lastAttemptId: 'a-1', pending: null });
    expect(finalKeys()).toHaveLength(4);
  });

  it('that never reached DynamoDB throws so that Lambda retries, with nothing published', async () => {
    const { deps } = process({ fault: (l) => (l === 'UpdateItem commit' ? 'fail' : undefined) });
    await expect(processKinesisEvent(batch(), deps)).rejects.toThrow(/simulated failure/);
    expect(checkpointOf().version).toBe(0);
    expect(finalKeys()).toEqual([]);
  });
});

describe('two attempts of one checkpoint version', () => {
  it('the one whose commit fails its condition throws CheckpointConflictError and publishes nothing', async () => {
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const slow = process({
      id: 'slow',
      before: (l) => (l === 'UpdateItem commit' ? held : undefined),
    });
    const outcome = processKinesisEvent(batch(), slow.deps).then(
      () => null,
      (error: unknown) => error,
    );
    // Let the slow attempt stage and reach its commit, then its retry runs to the end.
    while (!slow.calls.includes('UpdateItem commit')) await new Promise((r) => setImmediate(r));
    await processKinesisEvent(batch(), process({ id: 'retry' }).deps);
    const published = new Map(world.s3.objects);
    release();

    expect(await outcome).toBeInstanceOf(CheckpointConflictError);
    expect(checkpointOf()).toMatchObject({ version: 1, lastAttemptId: 'retry', pending: null });
    // Its bundle stays staged where no reader looks; the lake is exactly what the retry published.
    expect(world.s3.objects.has(stagingKey(SHARD, 'slow'))).toBe(true);
    expect(finalKeys()).toEqual([...published.keys()].filter((k) => k.startsWith('events/')).sort());
    expect(slow.calls.filter((c) => /^PutObject (events|_commits)\//.test(c))).toEqual([]);
  });

  it('the loser deletes its own analytics snapshot, which nothing can ever refer to', async () => {
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const slow = process({
      id: 'slow',
      analytics: true,
      before: (l) => (l === 'UpdateItem commit' ? held : undefined),
    });
    const outcome = processKinesisEvent(batch(), slow.deps).then(
      () => null,
      (error: unknown) => error,
    );
    while (!slow.calls.includes('UpdateItem commit')) await new Promise((r) => setImmediate(r));
    await processKinesisEvent(batch(), process({ id: 'retry', analytics: true }).deps);
    release();

    expect(await outcome).toBeInstanceOf(CheckpointConflictError);
    expect(keysUnder('state/')).toEqual([stateSnapshotKey(SHARD, 'retry')]);
    expect(checkpointOf().stateKey).toBe(stateSnapshotKey(SHARD, 'retry'));
  });
});

describe('refusals', () => {
  it('refuses a shard whose checkpoint is missing while the lake holds its commit records', async () => {
    await processKinesisEvent(batch(), process().deps);
    world.dynamo.items.clear();
    const replay = process();
    await expect(processKinesisEvent(batch(), replay.deps)).rejects.toThrow(LostCheckpointError);
    expect(replay.calls).toEqual(['GetItem', 'ListObjectsV2 _commits/shardId-000000000000/']);
  });

  it('refuses a ParallelizationFactor above 1 and accepts 1 or none', () => {
    expect(() => requireSingleWriter('2')).toThrow(ParallelizationNotSupportedError);
    expect(() => requireSingleWriter('10')).toThrow(/set it to 1/);
    for (const factor of [undefined, '', '1']) expect(() => requireSingleWriter(factor)).not.toThrow();
  });

  it.each([
    ['an intent', { intent: { M: { id: { S: 'old' } } } }],
    ['a lastIntentId', { lastIntentId: { S: 'old' } }],
  ])(
    'refuses a checkpoint item of the old protocol, with %s, with LegacyCheckpointError',
    async (_, legacy) => {
      world.dynamo.items.set(`events#${SHARD}\u0000checkpoint`, {
        ...checkpointKey(shardKey()),
        version: { N: '3' },
        lastSeq: { S: '99' },
        ...legacy,
      });
      const attempt = process();
      await expect(processKinesisEvent(batch(), attempt.deps)).rejects.toThrow(LegacyCheckpointError);
      expect(attempt.calls).toEqual(['GetItem']);
    },
  );
});

describe('the scheduled publisher', () => {
  it('finishes the pending publications of every shard in the table, one no longer listed by Kinesis included', async () => {
    // The parent shard closed by resharding: ListShards no longer lists it, but its checkpoint is in the
    // table. The publisher has no Kinesis client at all: it finds shards through the table.
    const shards = ['shardId-000000000000', 'shardId-000000000001', 'shardId-000000000007'];
    for (const shardId of shards)
      await processKinesisEvent(
        batch(shardId),
        process({
          id: `a-${shardId}`,
          fault: (l) => (l.startsWith('PutObject events/') ? 'fail' : undefined),
        }).deps,
      );
    // A shard with nothing pending is left alone.
    await processKinesisEvent(batch('shardId-000000000002'), process().deps);
    for (const shardId of shards) expect(checkpointOf(shardId).pending).not.toBeNull();

    const publisher = process();
    const summary = await publishPendingCommits({
      s3: publisher.deps.s3,
      dynamo: publisher.deps.dynamo,
      config,
      now: () => Date.parse('2026-11-01T04:01:00Z'),
    });

    expect(summary).toEqual({ pending: 3, finished: 3, oldestPendingAgeSeconds: 60 });
    expect(publisher.calls.filter((c) => c === 'UpdateItem clear')).toHaveLength(3);
    expect(publisher.calls.some((c) => c.includes('shardId-000000000002'))).toBe(false);
    for (const shardId of shards) {
      expect(checkpointOf(shardId).pending).toBeNull();
      expect(keysUnder(`events/parquet/`).filter((k) => k.includes(`${shardId}-100-102`))).toHaveLength(2);
      expect(world.s3.objects.has(commitRecordKey(shardId, '102'))).toBe(true);
    }
  });

  it('does nothing when no publication is pending', async () => {
    await processKinesisEvent(batch(), process().deps);
    const publisher = process();
    const summary = await publishPendingCommits({
      s3: publisher.deps.s3,
      dynamo: publisher.deps.dynamo,
      config,
    });
    expect(summary).toEqual({ pending: 0, finished: 0, oldestPendingAgeSeconds: 0 });
    expect(publisher.calls).toEqual(['Scan']);
  });
});
