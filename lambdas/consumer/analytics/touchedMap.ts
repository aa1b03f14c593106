/**
 * A Map that records which entries anyone could have changed since {@link TouchedMap.untouch}: every key
 * read, written or deleted, and everything once it is iterated or cleared. The engine changes entries in
 * place, and it can only reach an entry through one of these calls, so an entry that is not recorded has
 * the value it had: its encoded text from then can be reused (stateCodec.ts). `has`, `keys` and `size`
 * expose no value and record nothing.
 */
export class TouchedMap<K, V> extends Map<K, V> {
  private readonly touchedKeys = new Set<K>();
  private touchedEverything = false;

  /** The keys touched, or 'all' once the map was iterated or cleared. */
  touched(): ReadonlySet<K> | 'all' {
    return this.touchedEverything ? 'all' : this.touchedKeys;
  }

  /** Whether nothing was touched since the last {@link untouch}. */
  isUntouched(): boolean {
    return !this.touchedEverything && this.touchedKeys.size === 0;
  }

  /** Starts recording afresh: what the map holds now is the reference. */
  untouch(): void {
    this.touchedKeys.clear();
    this.touchedEverything = false;
  }

  override get(key: K): V | undefined {
    this.touchedKeys?.add(key);
    return super.get(key);
  }

  override set(key: K, value: V): this {
    // Map's constructor may call set before the fields exist; nothing is recorded before `untouch`.
    this.touchedKeys?.add(key);
    return super.set(key, value);
  }

  override delete(key: K): boolean {
    this.touchedKeys.add(key);
    return super.delete(key);
  }

  override clear(): void {
    this.touchedEverything = true;
    super.clear();
  }

  override forEach(callback: (value: V, key: K, map: Map<K, V>) => void, thisArg?: unknown): void {
    this.touchedEverything = true;
    super.forEach(callback, thisArg);
  }

  override entries(): MapIterator<[K, V]> {
    this.touchedEverything = true;
    return super.entries();
  }

  override values(): MapIterator<V> {
    this.touchedEverything = true;
    return super.values();
  }

  override [Symbol.iterator](): MapIterator<[K, V]> {
    this.touchedEverything = true;
    return super[Symbol.iterator]();
  }
}
