import type { KinesisStreamRecord } from 'aws-lambda';
import fc from 'fast-check';
import { expect } from 'vitest';
import {
  type AnalyticsOutputs,
  applyEvents,
  assembleSnapshotChain,
  canonicalState,
  emptyAnalyticsState,
  toAnalyticsEvent,
} from '../../lambdas/consumer/analytics';
import { parseCheckpoint } from '../../lambdas/consumer/checkpoint';
import { parseCommitRecord } from '../../lambdas/consumer/commitRecord';
import { decodeRecord } from '../../lambdas/consumer/decode';
import { toRow } from '../../lambdas/consumer/transform';
import { analyticsConfig } from '../../lambdas/shared/analyticsConfig';
import { COMMITS_PREFIX, stateSnapshotKey } from '../../lambdas/shared/lakeLayout';
import { bigSequence, kinesisRecord } from '../helpers/kinesisEvents';
import {
  DEFAULT_FAULTS,
  type FaultRates,
  parquetRows,
  type SimulationOptions,
  simulate,
} from './protocolHarness';

/**
 * Scenarios for the protocol simulation (protocolHarness.ts): random or hand-written event sequences on
 * one shard, the simulation, and every check of the end state.
 */

export const SHARD = 'shardId-000000000000';
const T0 = Date.parse('2026-11-01T00:00:00.000Z');
const config = { bucketName: 'lake', tableName: 'state', dlqUrl: 'http://sqs/dlq', streamName: 'events' };
// Small windows and thresholds, so that a few dozen events close windows, split sessions, go late,
// switch to the distinct sketch and raise every kind of alert.
const analytics = analyticsConfig({
  tumblingWindowMs: 60_000,
  hoppingWindowMs: 180_000,
  hoppingStepMs: 60_000,
  watermarkDelayMs: 5_000,
  allowedLatenessMs: 20_000,
  sessionGapMs: 5 * 60_000,
  distinctExactLimit: 2,
  userIdleMs: 30 * 60_000,
  velocity: { maxEventsPerWindow: 3, windowMs: 60_000 },
  amount: { sigmas: 2, minSamples: 3 },
  rapidFire: { events: 3, withinMs: 10_000 },
  paymentFailures: { failures: 2, withinMs: 10 * 60_000 },
});
// Tiny buckets: parts split into several items as the state grows. Chains of 0 to 3 deltas, by seed,
// so that runs cover full snapshots only, frequent compactions and longer chains.
const sizingFor = (seed: number) => ({
  splitBytes: 250,
  maxBucketBytes: 180 * 1024,
  maxBuckets: 256,
  maxDeltas: Math.abs(seed) % 4,
});

const EVENT_TYPES = [
  'page_view',
  'add_to_cart',
  'payment_processed',
  'session_start',
  'session_end',
] as const;

export const eventSpec = fc.record({
  tenant: fc.constantFrom('acme', 'globex'),
  user: fc.integer({ min: 1, max: 4 }),
  type: fc.constantFrom(...EVENT_TYPES),
  // Mostly forward in small steps; sometimes back (late events), sometimes a long gap.
  stepSeconds: fc.oneof(
    { arbitrary: fc.integer({ min: 0, max: 30 }), weight: 8 },
    { arbitrary: fc.integer({ min: -150, max: -1 }), weight: 1 },
    { arbitrary: fc.integer({ min: 200, max: 1_500 }), weight: 1 },
  ),
  session: fc.option(fc.integer({ min: 1, max: 3 }), { nil: null }),
  cents: fc.integer({ min: 100, max: 50_000 }),
  failed: fc.boolean(),
  invalid: fc.integer({ min: 0, max: 14 }).map((n) => n === 0),
});
export type EventSpec = typeof eventSpec extends fc.Arbitrary<infer T> ? T : never;

function payloadOf(spec: EventSpec): Record<string, unknown> {
  const amount = spec.cents / 100;
  switch (spec.type) {
    case 'page_view':
      return { url: '/p/1' };
    case 'add_to_cart':
      return { product_id: 'p-1', quantity: 1, unit_price: amount, currency: 'USD' };
    case 'payment_processed':
      return {
        payment_id: 'pay-1',
        order_id: 'o-1',
        amount,
        currency: 'USD',
        method: 'card',
        status: spec.failed ? 'failed' : 'succeeded',
      };
    case 'session_start':
      return { device: 'mobile', country: 'DE' };
    case 'session_end':
      return { duration_ms: 1_000 };
  }
}

export function recordsOf(specs: EventSpec[]) {
  let time = T0;
  return specs.map((spec, i) => {
    time += spec.stepSeconds * 1_000;
    const json = JSON.stringify({
      event_id: `00000000-0000-4000-8000-${i.toString(16).padStart(12, '0')}`,
      schema_version: 1,
      tenant_id: spec.tenant,
      event_type: spec.type,
      occurred_at: new Date(time).toISOString(),
      user_id: `u-${spec.user}`,
      ...(spec.session === null ? {} : { session_id: `s-${spec.session}` }),
      payload: payloadOf(spec),
    });
    return kinesisRecord(SHARD, bigSequence(i + 1), spec.invalid ? json.slice(0, 20) : json);
  });
}

export const spec = (overrides: Partial<EventSpec>): EventSpec => ({
  tenant: 'acme',
  user: 1,
  type: 'page_view',
  stepSeconds: 10,
  session: 1,
  cents: 1_000,
  failed: false,
  invalid: false,
  ...overrides,
});
/** The same outputs as multisets: every row as canonical JSON, sorted. */
function canonicalOutputs(outputs: AnalyticsOutputs) {
  const rows = (list: object[]) => list.map((row) => JSON.stringify(row, Object.keys(row).sort())).sort();
  return {
    windows: rows(outputs.windows),
    sessions: rows(outputs.sessions),
    alerts: rows(outputs.alerts),
    late_events: rows(outputs.lateEvents),
  };
}

/** Rows of the lake's analytics datasets, canonical and sorted. */
function lakeAnalytics(objects: Map<string, Uint8Array>) {
  const outputs: Record<string, object[]> = { windows: [], sessions: [], alerts: [], late_events: [] };
  for (const [key, body] of objects) {
    const dataset = key.slice(0, key.indexOf('/'));
    if (dataset in outputs) outputs[dataset]?.push(...parquetRows(body));
  }
  return canonicalOutputs({
    windows: outputs.windows,
    sessions: outputs.sessions,
    alerts: outputs.alerts,
    lateEvents: outputs.late_events,
  } as unknown as AnalyticsOutputs);
}

function validEvents(records: KinesisStreamRecord[]) {
  return records.flatMap((record) => {
    const decoded = decodeRecord(record);
    if (!decoded.ok) return [];
    const origin = {
      shardId: SHARD,
      sequenceNumber: record.kinesis.sequenceNumber,
      partitionKey: '',
      arrivalTime: 0,
    };
    return [toAnalyticsEvent(toRow(decoded.event, origin, 0))];
  });
}

export interface Run {
  specs: EventSpec[];
  seed: number;
  faults?: FaultRates;
  withAnalytics?: boolean;
  overrides?: Partial<SimulationOptions>;
}

/** Simulates one run and checks the end state (the reader's view was checked at every step inside). */
export async function runAndCheck({
  specs,
  seed,
  faults = DEFAULT_FAULTS,
  withAnalytics = true,
  overrides,
}: Run) {
  const records = recordsOf(specs);
  const result = await simulate({
    seed,
    records,
    config,
    analytics: withAnalytics ? analytics : null,
    sizing: sizingFor(seed),
    faults,
    maxBatch: 8,
    faultyInvocations: 30,
    timeoutSteps: 30,
    publisherEvery: 37,
    ...overrides,
  });
  const context = () => `seed ${seed}; faults: ${result.events.join('; ')}`;
  const valid = records.filter((r) => decodeRecord(r).ok).map((r) => r.kinesis.sequenceNumber);
  const invalid = records.filter((r) => !decodeRecord(r).ok).map((r) => r.kinesis.sequenceNumber);
  const once = (seqs: string[]) => new Map(seqs.map((s) => [s, 1]));
  expect(result.view.parquet, context()).toEqual(once(valid));
  expect(result.view.csv, context()).toEqual(once(valid));

  const dlq = new Set(result.world.sqs.bodies.map((b) => String(JSON.parse(b).recordId)));
  expect([...dlq].sort(), context()).toEqual(invalid.map((seq) => `${SHARD}:${seq}`).sort());

  const item = [...result.world.dynamo.items.values()].find((i) => i.sk?.S === 'checkpoint');
  const checkpoint = parseCheckpoint(SHARD, item);
  expect(checkpoint.lastCommittedSequenceNumber, context()).toBe(records.at(-1)?.kinesis.sequenceNumber);
  expect(checkpoint.pending, context()).toBeNull();
  expect(checkpoint.committedRows.events, context()).toBe(valid.length);
  expect(checkpoint.committedRows.invalid, context()).toBe(invalid.length);
  expect(checkpoint.committedRecords, context()).toBe(records.length);

  // The commit records: disjoint ranges, and together exactly the final objects.
  const commits = [...result.world.s3.objects]
    .filter(([key]) => key.startsWith(`${COMMITS_PREFIX}/`))
    .map(([key, body]) => parseCommitRecord(key, Buffer.from(body).toString('utf8')))
    .sort((a, b) => (BigInt(a.firstSequenceNumber) < BigInt(b.firstSequenceNumber) ? -1 : 1));
  for (const [i, commit] of commits.entries()) {
    const next = commits[i + 1];
    if (next)
      expect(BigInt(commit.lastSequenceNumber) < BigInt(next.firstSequenceNumber), context()).toBe(true);
  }
  expect(
    commits.reduce((n, c) => n + c.records, 0),
    context(),
  ).toBe(records.length);
  expect(commits.flatMap((c) => c.keys).sort(), context()).toEqual([...result.view.keys].sort());

  if (withAnalytics) {
    const expected = applyEvents(emptyAnalyticsState(), validEvents(records), analytics);
    const objects = result.world.s3.objects;
    const { state, chain } = assembleSnapshotChain(checkpoint.stateKey as string, (key) => objects.get(key));
    expect(canonicalState(state), context()).toBe(canonicalState(expected.state));
    expect(lakeAnalytics(objects), context()).toEqual(canonicalOutputs(expected.outputs));
    // Each committed snapshot outside the chain was made obsolete by a compaction and deleted once that
    // publication finished; the chain's are all there (assembling read them).
    expect(chain.keys.length, context()).toBeLessThanOrEqual(sizingFor(seed).maxDeltas + 1);
    for (const commit of commits) {
      const key = stateSnapshotKey(SHARD, commit.attemptId);
      if (!chain.keys.includes(key)) expect(objects.has(key), `${context()}; ${key}`).toBe(false);
    }
  }
  return result;
}
