import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { CheckpointTracker } from '../../../local/esm/checkpointTracker';

// Lambda checkpoints a shard only over records that are done; with ParallelizationFactor > 1 batches
// finish out of order, and the checkpoint must never pass a record still in flight.
describe('checkpoint tracker', () => {
  test('the checkpoint moves only over a gap-free prefix of done records', () => {
    const tracker = new CheckpointTracker();
    tracker.track(['1', '2', '3', '4']);
    expect(tracker.complete(['2', '3'])).toBeUndefined();
    expect(tracker.complete(['1'])).toBe('3');
    expect(tracker.pending).toBe(1);
    expect(tracker.complete(['4'])).toBe('4');
    expect(tracker.pending).toBe(0);
  });

  test('whatever order records complete in, the checkpoint is the last record of the done prefix', () => {
    fc.assert(
      fc.property(
        fc
          .integer({ min: 1, max: 200 })
          .chain((n) =>
            fc.tuple(fc.constant(n), fc.shuffledSubarray([...Array(n).keys()], { minLength: n })),
          ),
        ([n, order]) => {
          const tracker = new CheckpointTracker();
          const sequences = Array.from({ length: n }, (_, index) => String(index + 1));
          tracker.track(sequences);
          const done = new Set<number>();
          let checkpoint: string | undefined;
          for (const index of order) {
            done.add(index);
            checkpoint = tracker.complete([sequences[index] as string]) ?? checkpoint;
            let prefix = 0;
            while (done.has(prefix)) prefix += 1;
            expect(checkpoint).toBe(prefix === 0 ? undefined : sequences[prefix - 1]);
          }
          expect(tracker.pending).toBe(0);
        },
      ),
    );
  });
});
