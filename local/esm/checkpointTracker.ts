/**
 * Tracks which records read from a shard are done (processed, or sent on-failure), so the checkpoint only
 * moves over a gap-free prefix. With ParallelizationFactor > 1, lanes finish out of order; a record done
 * early in one lane is not checkpointed until every record before it is done too (a restart may then
 * process it again: at-least-once, as with Lambda).
 */
export class CheckpointTracker {
  private readonly order: string[] = [];
  private readonly done = new Set<string>();
  private head = 0;

  /** Records read, in shard order, not yet done. */
  get pending(): number {
    return this.order.length - this.head;
  }

  /**
   * Registers records as they are read from the shard, in order.
   *
   * @example
   * ```ts
   * tracker.track(['1', '2', '3']);
   * ```
   */
  track(sequenceNumbers: readonly string[]): void {
    for (const sequenceNumber of sequenceNumbers) this.order.push(sequenceNumber);
  }

  /**
   * Marks records done; returns the new checkpoint if it moved.
   *
   * @example
   * ```ts
   * tracker.track(['1', '2', '3']);
   * tracker.complete(['2']); // undefined: '1' is still pending
   * tracker.complete(['1']); // '2'
   * ```
   */
  complete(sequenceNumbers: readonly string[]): string | undefined {
    for (const sequenceNumber of sequenceNumbers) this.done.add(sequenceNumber);
    let checkpoint: string | undefined;
    while (this.head < this.order.length) {
      const next = this.order[this.head] as string;
      if (!this.done.has(next)) break;
      this.done.delete(next);
      checkpoint = next;
      this.head += 1;
    }
    if (this.head > 4096 && this.head * 2 > this.order.length) {
      this.order.splice(0, this.head);
      this.head = 0;
    }
    return checkpoint;
  }
}
