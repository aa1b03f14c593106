import { describe, expect, it } from 'vitest';
import {
  AnalyticsStateTooLargeError,
  applyEvents,
  canonicalState,
  DEFAULT_LAYOUT,
  decodeState,
  emptyAnalyticsState,
  encodeState,
  layoutOf,
  META_SK,
} from '../../../lambdas/consumer/analytics';
import { config, event, SECOND } from './fixtures';

const settings = config({ distinctExactLimit: 3 });

function busyState(users = 40) {
  const events = Array.from({ length: users * 5 }, (_, i) =>
    event(i * SECOND, {
      userId: `u-${i % users}`,
      sessionId: `s-${i % users}`,
      eventType: i % 3 === 0 ? 'add_to_cart' : 'page_view',
      amountUsd: i % 3 === 0 ? i / 3 : null,
    }),
  );
  return applyEvents(emptyAnalyticsState(), events, settings).state;
}

describe('the state codec', () => {
  it('decodes exactly what it encoded, sketches and exact sets included', () => {
    const state = busyState();
    expect([...state.windows.values()].some((w) => w.users.kind === 'sketch')).toBe(true);
    const { items } = encodeState(state, DEFAULT_LAYOUT);
    expect(canonicalState(decodeState(items))).toBe(canonicalState(state));
  });

  it('encodes equal states to equal bytes, whatever order their entries were added in', () => {
    const state = busyState();
    const reordered = decodeState(encodeState(state, DEFAULT_LAYOUT).items);
    reordered.users = new Map([...reordered.users].reverse());
    const a = encodeState(state, DEFAULT_LAYOUT).items;
    const b = encodeState(reordered, DEFAULT_LAYOUT).items;
    for (const [sk, bytes] of a) expect(Buffer.from(b.get(sk) as Uint8Array).equals(bytes)).toBe(true);
  });

  it('encodes an empty bucket as zero bytes and reads a missing item as an empty bucket', () => {
    const { items } = encodeState(emptyAnalyticsState(), DEFAULT_LAYOUT);
    expect(items.get('analytics#users#0')?.byteLength).toBe(0);
    expect(canonicalState(decodeState(new Map()))).toBe(canonicalState(emptyAnalyticsState()));
  });

  it('doubles the buckets of a part whose largest bucket outgrows the split size, and records the layout', () => {
    const state = busyState(200);
    const sizing = { splitBytes: 2_000, maxBucketBytes: 180 * 1024, maxBuckets: 1024 };
    const { layout, items } = encodeState(state, DEFAULT_LAYOUT, sizing);
    expect(layout.users).toBeGreaterThan(1);
    expect(layoutOf(items.get(META_SK) as Uint8Array)).toEqual(layout);
    for (const [sk, bytes] of items) if (sk !== META_SK) expect(bytes.byteLength).toBeLessThanOrEqual(2_000);
    expect(canonicalState(decodeState(items))).toBe(canonicalState(state));
  });

  it('never shrinks a layout', () => {
    const layout = { windows: 4, sessions: 2, users: 8, tenants: 1 };
    expect(encodeState(emptyAnalyticsState(), layout).layout).toEqual(layout);
  });

  it('refuses a state that no bucket count can fit under the item budget', () => {
    const sizing = { splitBytes: 100, maxBucketBytes: 200, maxBuckets: 2 };
    expect(() => encodeState(busyState(), DEFAULT_LAYOUT, sizing)).toThrowError(AnalyticsStateTooLargeError);
  });
});
