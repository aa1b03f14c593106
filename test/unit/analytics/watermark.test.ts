import { describe, expect, it } from 'vitest';
import {
  advanceMaxEventTime,
  closesAt,
  isClosed,
  NO_WATERMARK,
  watermarkOf,
} from '../../../lambdas/consumer/analytics';

describe('the watermark', () => {
  it('starts below every event time, so nothing is closed before the first event', () => {
    expect(watermarkOf(null, 5_000)).toBe(NO_WATERMARK);
    expect(isClosed(Number.MIN_SAFE_INTEGER, NO_WATERMARK, 0)).toBe(false);
  });

  it('trails the largest event time by the configured delay', () => {
    expect(watermarkOf(60_000, 5_000)).toBe(55_000);
  });

  it('never moves back when an older event arrives', () => {
    const max = [10_000, 30_000, 20_000, 25_000].reduce<number | null>(advanceMaxEventTime, null);
    expect(max).toBe(30_000);
  });

  it('closes a window only once it has passed the window end plus the allowed lateness', () => {
    expect(closesAt(60_000, 30_000)).toBe(90_000);
    expect(isClosed(60_000, 89_999, 30_000)).toBe(false);
    expect(isClosed(60_000, 90_000, 30_000)).toBe(true);
  });
});
