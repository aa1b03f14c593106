import { describe, expect, test } from 'vitest';
import { planShardStart, type ShardStartContext } from '../../../local/esm/shardDiscovery';

// Lambda processes parent shards before their children after a split or merge, starts a new mapping at
// StartingPosition, and resumes an existing one at its checkpoint.
const parent = { shardId: 'shardId-000000000000', closed: true };
const child = { shardId: 'shardId-000000000001', parentShardId: 'shardId-000000000000', closed: false };
const merged = {
  shardId: 'shardId-000000000003',
  parentShardId: 'shardId-000000000001',
  adjacentParentShardId: 'shardId-000000000002',
  closed: false,
};

function context(overrides: Partial<ShardStartContext> = {}): ShardStartContext {
  return {
    listedShardIds: new Set(['shardId-000000000000', 'shardId-000000000001', 'shardId-000000000002']),
    endedShardIds: new Set(),
    initial: true,
    checkpoint: undefined,
    settings: { StartingPosition: 'TRIM_HORIZON' },
    nowMs: 1_000,
    ...overrides,
  };
}

describe('where a shard starts', () => {
  test('a persisted checkpoint wins: processing resumes after it', () => {
    expect(
      planShardStart(
        child,
        context({ checkpoint: { shardId: child.shardId, lastProcessedSequenceNumber: '42' } }),
      ),
    ).toEqual({ action: 'start', position: { type: 'AFTER_SEQUENCE_NUMBER', sequenceNumber: '42' } });
  });

  test('a shard marked ended is not read again', () => {
    expect(planShardStart(parent, context({ checkpoint: { shardId: parent.shardId, ended: true } }))).toEqual(
      {
        action: 'ended',
        persist: false,
      },
    );
  });

  test('a child waits until its parent is fully processed, then reads from its start', () => {
    expect(planShardStart(child, context())).toEqual({
      action: 'wait-for-parents',
      parents: ['shardId-000000000000'],
    });
    expect(planShardStart(child, context({ endedShardIds: new Set(['shardId-000000000000']) }))).toEqual({
      action: 'start',
      position: { type: 'TRIM_HORIZON' },
    });
  });

  test('a merged shard waits for both of its parents', () => {
    expect(planShardStart(merged, context({ endedShardIds: new Set(['shardId-000000000001']) }))).toEqual({
      action: 'wait-for-parents',
      parents: ['shardId-000000000002'],
    });
  });

  test('a parent that aged out of the stream no longer holds its child back', () => {
    expect(planShardStart(child, context({ listedShardIds: new Set([child.shardId]) }))).toMatchObject({
      action: 'start',
    });
  });

  test('a new LATEST mapping skips closed shards and starts open ones at the tip, remembering when', () => {
    const latest = context({ settings: { StartingPosition: 'LATEST' } });
    expect(planShardStart(parent, latest)).toEqual({ action: 'ended', persist: true });
    expect(planShardStart(child, latest)).toEqual({
      action: 'start',
      position: { type: 'LATEST' },
      persistStartedAtMs: 1_000,
    });
  });

  test('a LATEST start fixed before a restart resumes at the time it was fixed', () => {
    expect(
      planShardStart(
        child,
        context({
          settings: { StartingPosition: 'LATEST' },
          checkpoint: { shardId: child.shardId, startedAtMs: 500 },
        }),
      ),
    ).toEqual({ action: 'start', position: { type: 'AT_TIMESTAMP', timestampMs: 500 } });
  });

  test('AT_TIMESTAMP applies to the shards that existed when the mapping was created', () => {
    const atTimestamp = context({
      settings: { StartingPosition: 'AT_TIMESTAMP', StartingPositionTimestamp: 1_700_000_000 },
    });
    expect(planShardStart({ shardId: 'shardId-000000000002', closed: false }, atTimestamp)).toEqual({
      action: 'start',
      position: { type: 'AT_TIMESTAMP', timestampMs: 1_700_000_000_000 },
    });
  });

  test('a shard created after the mapping started (a later split) is read from its beginning', () => {
    expect(
      planShardStart(
        child,
        context({
          initial: false,
          settings: { StartingPosition: 'LATEST' },
          endedShardIds: new Set([parent.shardId]),
        }),
      ),
    ).toEqual({ action: 'start', position: { type: 'TRIM_HORIZON' } });
  });
});
