import { describe, expect, it } from 'vitest';
import {
  addToWindow,
  hash64,
  openWindow,
  type WindowSpec,
  windowKey,
  windowRow,
  windowStartsFor,
} from '../../../lambdas/consumer/analytics';
import { event, MINUTE, SECOND, T0 } from './fixtures';

const tumbling: WindowSpec = { kind: 'tumbling', sizeMs: MINUTE, stepMs: MINUTE };
const hopping: WindowSpec = { kind: 'hopping', sizeMs: 10 * MINUTE, stepMs: MINUTE };

describe('window maths', () => {
  it('puts an event in exactly one tumbling window, aligned to the epoch', () => {
    expect(windowStartsFor(T0 + 90 * SECOND, tumbling)).toEqual([T0 + MINUTE]);
  });

  it('puts an event on a window boundary in the window that starts there', () => {
    expect(windowStartsFor(T0 + MINUTE, tumbling)).toEqual([T0 + MINUTE]);
  });

  it('puts an event in length / step hopping windows, latest first', () => {
    const starts = windowStartsFor(T0 + 90 * SECOND, hopping);
    expect(starts).toHaveLength(10);
    expect(starts[0]).toBe(T0 + MINUTE);
    expect(starts.at(-1)).toBe(T0 - 8 * MINUTE);
    for (const start of starts) expect(T0 + 90 * SECOND).toBeGreaterThanOrEqual(start);
    for (const start of starts) expect(T0 + 90 * SECOND).toBeLessThan(start + 10 * MINUTE);
  });

  it('covers a hopping window length that is not a multiple of the step', () => {
    const spec: WindowSpec = { kind: 'hopping', sizeMs: 150 * SECOND, stepMs: MINUTE };
    expect(windowStartsFor(T0 + 130 * SECOND, spec)).toEqual([T0 + 2 * MINUTE, T0 + MINUTE, T0]);
  });

  it('keys a window by kind, length, tenant, type and start', () => {
    expect(windowKey(tumbling, 'acme', 'page_view', 120_000)).toBe('tumbling|60000|acme|page_view|120000');
  });
});

describe('a window aggregate', () => {
  it('counts events and sums, minimises and maximises the USD amounts of those that have one', () => {
    const window = openWindow(tumbling, 'acme', 'add_to_cart', T0);
    for (const [offset, amountUsd, userId] of [
      [1, 10, 'u-1'],
      [2, null, 'u-2'],
      [3, 2.5, 'u-1'],
      [4, 40.25, 'u-3'],
    ] as const) {
      addToWindow(window, event(offset * SECOND, { amountUsd, userId }), hash64(`acme#${userId}`), 256);
    }
    const row = windowRow(window, 'shardId-000000000000', {
      watermark: T0 + 2 * MINUTE,
      sequenceNumber: '42',
    });
    expect(row).toMatchObject({
      window_kind: 'tumbling',
      window_start: T0,
      window_end: T0 + MINUTE,
      event_count: 4,
      amount_count: 3,
      amount_usd_sum: 52.75,
      amount_usd_min: 2.5,
      amount_usd_max: 40.25,
      distinct_users: 3,
      distinct_users_exact: true,
      first_event_at: T0 + SECOND,
      last_event_at: T0 + 4 * SECOND,
      closed_at_sequence_number: '42',
    });
  });

  it('reports null amount statistics for a window without amounts', () => {
    const window = openWindow(tumbling, 'acme', 'page_view', T0);
    addToWindow(window, event(SECOND), hash64('acme#u-1'), 256);
    const row = windowRow(window, 'shardId-000000000000', { watermark: T0, sequenceNumber: '1' });
    expect([row.amount_usd_sum, row.amount_usd_min, row.amount_usd_max]).toEqual([null, null, null]);
  });
});
