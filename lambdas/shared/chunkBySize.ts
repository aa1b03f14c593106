/**
 * Splits items into consecutive chunks of at most `maxItems` items and `maxBytes` bytes (as `sizeOf`
 * counts them), keeping their order, lazily so that any number of items streams through in constant
 * memory. An item larger than `maxBytes` travels in a chunk of its own: the API call says no to it.
 *
 * @example
 * ```ts
 * [...chunkBySize(['aa', 'bb', 'c'], { maxItems: 10, maxBytes: 4 }, (s) => s.length)];
 * // [['aa', 'bb'], ['c']]
 * ```
 */
export function* chunkBySize<T>(
  items: Iterable<T>,
  limits: { maxItems: number; maxBytes: number },
  sizeOf: (item: T) => number,
): Generator<T[]> {
  let chunk: T[] = [];
  let chunkBytes = 0;
  for (const item of items) {
    const size = sizeOf(item);
    if (chunk.length >= limits.maxItems || (chunk.length > 0 && chunkBytes + size > limits.maxBytes)) {
      yield chunk;
      chunk = [];
      chunkBytes = 0;
    }
    chunk.push(item);
    chunkBytes += size;
  }
  if (chunk.length > 0) yield chunk;
}
