/**
 * A small, fast, seedable PRNG (sfc32) so that the same seed always generates the same events,
 * on every platform and Node version.
 *
 * @example
 * ```ts
 * const random = seededRandom(42);
 * random.next(); // a float in [0, 1)
 * ```
 */
export function seededRandom(seed: number) {
  let a = 0x9e3779b9;
  let b = 0x243f6a88;
  let c = 0xb7e15162;
  let d = seed >>> 0;
  const next32 = () => {
    a >>>= 0;
    b >>>= 0;
    c >>>= 0;
    d >>>= 0;
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return t >>> 0;
  };
  // Warm up so that nearby seeds diverge.
  for (let i = 0; i < 12; i++) next32();
  const next = () => next32() / 4_294_967_296;
  return {
    next,
    /** An integer in [min, max]. */
    int: (min: number, max: number) => min + Math.floor(next() * (max - min + 1)),
    pick: <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T,
    /** A version-4 UUID built from the generator's bits. */
    uuid: () => {
      const hex = Array.from({ length: 4 }, () => next32().toString(16).padStart(8, '0')).join('');
      const variant = ((Number.parseInt(hex[16] ?? '0', 16) & 0x3) | 0x8).toString(16);
      return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
    },
  };
}

export type Random = ReturnType<typeof seededRandom>;
