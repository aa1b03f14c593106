import { describe, expect, it } from 'vitest';
import {
  assembleSnapshotChain,
  SNAPSHOT_SIZING,
  snapshotChainKeys,
  WarmStateCache,
} from '../../lambdas/consumer/analytics';
import { parseCheckpoint } from '../../lambdas/consumer/checkpoint';
import { processKinesisEvent } from '../../lambdas/consumer/processBatch';
import { ORPHAN_MIN_AGE_MS, sweepOrphanedSnapshots } from '../../lambdas/publisher/sweepSnapshots';
import { analyticsConfig } from '../../lambdas/shared/analyticsConfig';
import { stateSnapshotKey } from '../../lambdas/shared/lakeLayout';
import { kinesisEvent, kinesisRecord, validEventJson } from '../helpers/kinesisEvents';
import { clientsFor, FakeDynamo, FakeS3, FakeSqs, passThrough } from '../property/fakeAws';

const SHARD = 'shardId-000000000000';
const OTHER = 'shardId-000000000001';
const config = { bucketName: 'lake', tableName: 'state', dlqUrl: 'http://sqs/dlq', streamName: 'events' };
const DAY = 24 * 60 * 60 * 1000;

/** A shard with a committed chain of a full snapshot and two deltas, on the in-memory AWS. */
async function shardWithChain() {
  const world = { dynamo: new FakeDynamo(), s3: new FakeS3(), sqs: new FakeSqs() };
  const clients = clientsFor(world, passThrough);
  let attempt = 0;
  for (const from of [100, 200, 300]) {
    await processKinesisEvent(kinesisEvent([kinesisRecord(SHARD, String(from), validEventJson(from))]), {
      ...clients,
      config,
      analytics: analyticsConfig({}),
      analyticsStateSizing: { ...SNAPSHOT_SIZING, maxDeltas: 4 },
      warmStates: new WarmStateCache(),
      newId: () => `a-${++attempt}`,
    });
  }
  const item = [...world.dynamo.items.values()].find((i) => i.sk?.S === 'checkpoint');
  const head = parseCheckpoint(SHARD, item).stateKey as string;
  return { world, clients, head };
}

describe('the orphaned-snapshot sweep', () => {
  it('deletes old snapshots outside the committed chain, and keeps the chain, young ones and shards without a checkpoint', async () => {
    const { world, clients, head } = await shardWithChain();
    const chain = await snapshotChainKeys(clients.s3, config.bucketName, head);
    expect(chain).toEqual([1, 2, 3].map((n) => stateSnapshotKey(SHARD, `a-${n}`)));

    const now = Date.now();
    const put = (key: string, ageMs: number) => {
      world.s3.objects.set(key, new Uint8Array([1, 2, 3]));
      world.s3.writtenAt.set(key, now - ageMs);
    };
    const crashed = stateSnapshotKey(SHARD, 'crashed');
    const recent = stateSnapshotKey(SHARD, 'still-running');
    const unknownShard = stateSnapshotKey(OTHER, 'no-checkpoint');
    put(crashed, ORPHAN_MIN_AGE_MS + DAY);
    put(recent, ORPHAN_MIN_AGE_MS - DAY);
    put(unknownShard, 30 * DAY);
    // The committed chain is old too: its age does not matter, only that the checkpoint names it.
    for (const key of chain) world.s3.writtenAt.set(key, now - 30 * DAY);

    const summary = await sweepOrphanedSnapshots({ ...clients, config, now: () => now });

    expect(summary).toEqual({ shards: 1, deleted: 1, kept: 4 });
    expect(world.s3.objects.has(crashed)).toBe(false);
    for (const key of [...chain, recent, unknownShard]) expect(world.s3.objects.has(key)).toBe(true);
    // The state still reads back whole.
    expect(() => assembleSnapshotChain(head, (key) => world.s3.objects.get(key))).not.toThrow();
  });

  it('deletes nothing of a shard whose committed chain it cannot read, and fails the run so the alarm sees it', async () => {
    const { world, clients, head } = await shardWithChain();
    const orphan = stateSnapshotKey(SHARD, 'crashed');
    world.s3.objects.set(orphan, new Uint8Array([1]));
    world.s3.writtenAt.set(orphan, Date.now() - 30 * DAY);
    world.s3.objects.delete(head);
    const before = [...world.s3.objects.keys()].filter((key) => key.startsWith('state/')).sort();

    await expect(sweepOrphanedSnapshots({ ...clients, config })).rejects.toThrow(
      /1 shard\(s\) could not be swept/,
    );
    expect([...world.s3.objects.keys()].filter((key) => key.startsWith('state/')).sort()).toEqual(before);
  });

  it("reads a chain's keys from the first bytes of its head, and the whole object when the header is longer", async () => {
    const { world, clients, head } = await shardWithChain();
    const calls: Array<string | undefined> = [];
    const counting = clientsFor(world, async (command, input, perform) => {
      if (command === 'GetObjectCommand') calls.push(input.Range as string | undefined);
      return perform();
    });
    expect(await snapshotChainKeys(counting.s3, config.bucketName, head)).toHaveLength(3);
    expect(calls).toEqual(['bytes=0-65535']);

    // A header longer than the probe: the same keys, from a second, whole read.
    const bytes = world.s3.objects.get(head) as Uint8Array;
    const headerLength = Buffer.from(bytes).readUInt32BE(4);
    const padded = JSON.stringify({
      ...JSON.parse(Buffer.from(bytes.subarray(8, 8 + headerLength)).toString()),
      padding: 'x'.repeat(70_000),
    });
    const length = Buffer.alloc(4);
    length.writeUInt32BE(Buffer.byteLength(padded));
    const long = Buffer.concat([
      bytes.subarray(0, 4),
      length,
      Buffer.from(padded),
      bytes.subarray(8 + headerLength),
    ]);
    world.s3.objects.set(head, new Uint8Array(long));
    calls.length = 0;
    expect(await snapshotChainKeys(counting.s3, config.bucketName, head)).toEqual(
      await snapshotChainKeys(clients.s3, config.bucketName, head),
    );
    expect(calls).toEqual(['bytes=0-65535', undefined]);
  });
});
