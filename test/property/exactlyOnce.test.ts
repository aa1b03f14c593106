import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkEncodingReuse } from '../../lambdas/consumer/analytics';
import { eventSpec, runAndCheck } from './scenario';

/**
 * The exactly-once property as every reader sees it, on the real consumer and publisher code: for random
 * event sequences, batch boundaries, bisects and replays, with writes whose response is lost, writes
 * applied after the client gave up, PUTs landing after their process died, zombies racing their retries,
 * crashes at every step and the scheduled publisher racing the consumer, a reader listing the lake after
 * every single step never sees a record twice, a row of an uncommitted record, or a row disappear; and
 * once the shard is quiet and the publisher has come by, every valid record is in the lake once, every
 * invalid one in the DLQ, and the analytics state and outputs equal one fold over all the events.
 *
 * Seeds are fresh on every run (fast-check's own); a failure prints the seed and the path to replay it.
 */

const seedArb = fc.integer({ min: 0, max: 2 ** 31 - 1 });

describe('exactly once as every reader sees it, under lost, late and repeated requests, zombies and crashes', () => {
  // Every encoding that reuses a warm state's is also made from scratch, and must be the same bytes.
  beforeAll(() => checkEncodingReuse(true));
  afterAll(() => checkEncodingReuse(false));

  it('never shows a reader a duplicate, an uncommitted row or a vanishing row, and ends with every record once', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(eventSpec, { minLength: 1, maxLength: 30 }), seedArb, (specs, seed) =>
        runAndCheck({ specs, seed }).then(() => undefined),
      ),
      { numRuns: Number(process.env.SHARDLINE_PROPERTY_RUNS ?? 60) },
    );
  });

  it('holds with analytics off and twice the fault rates', async () => {
    const harsh = { fail: 0.06, lose: 0.06, delay: 0.06, stall: 0.04, crash: 0.04 };
    await fc.assert(
      fc.asyncProperty(fc.array(eventSpec, { minLength: 1, maxLength: 30 }), seedArb, (specs, seed) =>
        runAndCheck({ specs, seed, faults: harsh, withAnalytics: false }).then(() => undefined),
      ),
      { numRuns: Number(process.env.SHARDLINE_PROPERTY_RUNS ?? 40) },
    );
  });

  it('actually exercises every fault, the publisher and the warm states in a typical run', async () => {
    const faults = new Set<string>();
    let readerChecks = 0;
    for (let seed = 1; seed <= 6; seed++) {
      const specs =
        fc.sample(fc.array(eventSpec, { minLength: 25, maxLength: 25 }), { numRuns: 1, seed })[0] ?? [];
      const result = await runAndCheck({ specs, seed });
      for (const event of result.events) faults.add(event.slice(event.lastIndexOf(': ') + 2));
      readerChecks += result.readerChecks;
    }
    expect([...faults].sort()).toEqual(['crash', 'delay', 'fail', 'lose', 'stall']);
    expect(readerChecks).toBeGreaterThan(500);
  });
});
