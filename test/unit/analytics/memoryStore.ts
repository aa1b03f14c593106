import {
  AnalyticsStateConflictError,
  type AnalyticsStateStore,
  type StatePut,
  type StoredStateItem,
} from '../../../lambdas/consumer/analytics';

/**
 * An in-memory analytics store with DynamoDB's conditional-put semantics (a put succeeds only if the
 * item's writer is the expected one, or the item is absent when none is expected). Every call can be
 * intercepted, to crash or delay a simulated process.
 */
export class MemoryStateStore implements AnalyticsStateStore {
  readonly items = new Map<string, StoredStateItem>();
  puts = 0;

  async readAll(): Promise<StoredStateItem[]> {
    return [...this.items.values()].map((item) => structuredClone(item));
  }

  async put({ item, expectedWriter }: StatePut): Promise<void> {
    this.apply({ item, expectedWriter });
  }

  /** The put itself, synchronous: throws AnalyticsStateConflictError when the condition fails. */
  apply({ item, expectedWriter }: StatePut): void {
    const current = this.items.get(item.sk);
    const holds = expectedWriter === null ? current === undefined : current?.writer === expectedWriter;
    if (!holds) throw new AnalyticsStateConflictError('memory', item.sk);
    this.puts++;
    this.items.set(item.sk, structuredClone(item));
  }
}
