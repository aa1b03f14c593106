/**
 * Distinct users per window: an exact set of 64-bit user hashes up to a limit, then a HyperLogLog sketch
 * (2^11 registers: about 2.3% standard error, 2 KiB). Hashes, not user ids, keep a window's size bounded
 * whatever the ids look like. Two different users share a 64-bit hash with a probability below 1e-13 at
 * the default limit of 256, so the exact set is exact for every practical purpose.
 */

export const HLL_PRECISION = 11;
const HLL_REGISTERS = 1 << HLL_PRECISION;
const HLL_ALPHA = 0.7213 / (1 + 1.079 / HLL_REGISTERS);

export type DistinctUsers =
  | { kind: 'exact'; hashes: Set<string> }
  | { kind: 'sketch'; registers: Uint8Array };

function mix32(h: number): number {
  let x = h;
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  x ^= x >>> 16;
  return x >>> 0;
}

const hex8 = (n: number) => n.toString(16).padStart(8, '0');

/**
 * A 64-bit hash of a text as 16 hex digits: two 32-bit multiplicative lanes over the UTF-16 code units,
 * each finished with an avalanche mix. Stable across processes and versions (it is stored).
 *
 * @example
 * ```ts
 * hash64('acme#u-1').length; // 16
 * ```
 */
export function hash64(text: string): string {
  let a = 0x811c9dc5;
  let b = 0x2545f491;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
    b ^= b >>> 15;
  }
  const high = mix32(a ^ text.length);
  const low = mix32(b ^ Math.imul(high, 0x27d4eb2d));
  return hex8(high) + hex8(low);
}

/** A 32-bit hash for bucketing keys. */
export function hash32(text: string): number {
  return Number.parseInt(hash64(text).slice(0, 8), 16);
}

/**
 * Adds hashes stored joined, as snapshots store an exact set's (16 hex digits each, no separator).
 *
 * @example
 * ```ts
 * addJoinedHashes(new Set(), '0123456789abcdeffedcba9876543210'); // two hashes
 * ```
 */
export function addJoinedHashes(hashes: Set<string>, joined: string): Set<string> {
  for (let i = 0; i < joined.length; i += 16) hashes.add(joined.slice(i, i + 16));
  return hashes;
}

/**
 * An empty distinct-user counter.
 *
 * @example
 * ```ts
 * const users = emptyDistinctUsers();
 * ```
 */
export function emptyDistinctUsers(): DistinctUsers {
  return { kind: 'exact', hashes: new Set() };
}

function addToSketch(registers: Uint8Array, hash: string) {
  const high = Number.parseInt(hash.slice(0, 8), 16);
  const low = Number.parseInt(hash.slice(8, 16), 16);
  const index = high >>> (32 - HLL_PRECISION);
  const rest = high & ((1 << (32 - HLL_PRECISION)) - 1);
  // Rank: position of the first 1-bit in the 53 bits after the index bits.
  const rank =
    rest !== 0
      ? Math.clz32(rest) - HLL_PRECISION + 1
      : low !== 0
        ? 32 - HLL_PRECISION + Math.clz32(low) + 1
        : 64 - HLL_PRECISION + 1;
  if (rank > (registers[index] as number)) registers[index] = rank;
}

/**
 * Counts one user (by {@link hash64}); switches from the exact set to the sketch when the set would grow
 * past `exactLimit`. Returns the counter to keep (the same object, or the new sketch).
 *
 * @example
 * ```ts
 * let users = emptyDistinctUsers();
 * users = addUser(users, hash64('acme#u-1'), 256);
 * estimateDistinct(users); // { count: 1, exact: true }
 * ```
 */
export function addUser(users: DistinctUsers, hash: string, exactLimit: number): DistinctUsers {
  if (users.kind === 'sketch') {
    addToSketch(users.registers, hash);
    return users;
  }
  if (users.hashes.has(hash) || users.hashes.size < exactLimit) {
    users.hashes.add(hash);
    return users;
  }
  const registers = new Uint8Array(HLL_REGISTERS);
  for (const known of users.hashes) addToSketch(registers, known);
  addToSketch(registers, hash);
  return { kind: 'sketch', registers };
}

/**
 * The number of distinct users: exact for the set, the HyperLogLog estimate (with the small-range
 * correction) for the sketch.
 *
 * @example
 * ```ts
 * estimateDistinct(emptyDistinctUsers()); // { count: 0, exact: true }
 * ```
 */
export function estimateDistinct(users: DistinctUsers): { count: number; exact: boolean } {
  if (users.kind === 'exact') return { count: users.hashes.size, exact: true };
  let sum = 0;
  let zeros = 0;
  for (const register of users.registers) {
    sum += 2 ** -register;
    if (register === 0) zeros++;
  }
  const raw = (HLL_ALPHA * HLL_REGISTERS * HLL_REGISTERS) / sum;
  const estimate =
    raw <= 2.5 * HLL_REGISTERS && zeros > 0 ? HLL_REGISTERS * Math.log(HLL_REGISTERS / zeros) : raw;
  return { count: Math.round(estimate), exact: false };
}

/**
 * What of each counter is already in a committed snapshot: for the exact set, how many of its hashes
 * (sets iterate in insertion order and only grow, so those are its first ones); for the sketch, a copy
 * of its registers. Recorded when a snapshot is decoded or encoded (stateCodec.ts, stateDelta.ts), so
 * that a delta snapshot carries only the hashes added since. A counter with no record is written whole.
 */
const persisted = new WeakMap<DistinctUsers, number | Uint8Array>();

/**
 * Records that a snapshot now holds the counter as it is.
 *
 * @example
 * ```ts
 * markPersisted(window.users);
 * ```
 */
export function markPersisted(users: DistinctUsers): void {
  persisted.set(users, users.kind === 'exact' ? users.hashes.size : users.registers.slice());
}

/** A counter's change since it was last persisted: hashes appended to the exact set, or the whole sketch. */
export type DistinctChange = { from: number; add: string[] } | { registers: Uint8Array };

/**
 * What changed in a counter since {@link markPersisted}: null when nothing did. A counter never persisted
 * (new, or just turned into a sketch) comes whole.
 *
 * @example
 * ```ts
 * changeSincePersisted(window.users); // { from: 3, add: ['0123456789abcdef'] }
 * ```
 */
export function changeSincePersisted(users: DistinctUsers): DistinctChange | null {
  const before = persisted.get(users);
  if (users.kind === 'sketch') {
    if (before instanceof Uint8Array && Buffer.from(before).equals(users.registers)) return null;
    return { registers: users.registers };
  }
  const from = typeof before === 'number' ? before : 0;
  if (from === users.hashes.size) return before === undefined ? { from: 0, add: [] } : null;
  const add: string[] = [];
  let index = 0;
  for (const hash of users.hashes) if (index++ >= from) add.push(hash);
  return { from, add };
}
