import { deflateRawSync, inflateRawSync } from 'node:zlib';
import type { WindowKind } from '../../shared/analyticsRows';
import { ShardlineError } from '../../shared/errors';
import type { MerchantVisit, TimedEvent, UserAlertState, VelocityWindow } from './alerts';
import { addJoinedHashes, type DistinctUsers, hash32, markPersisted } from './distinctUsers';
import type { EngagementWindow } from './engagement';
import { type AnalyticsCounters, type AnalyticsState, type TenantStats, zeroCounters } from './engine';
import { AnalyticsStateTooLargeError, CorruptAnalyticsStateError } from './errors';
import type { OpenSession } from './sessions';
import { TouchedMap } from './touchedMap';
import type { WindowAggregate } from './windows';

/**
 * How the analytics state of a shard is cut into DynamoDB items (docs/ANALYTICS.md, "State layout"):
 * one meta item (watermark, timers, counters, bucket counts) and, per part, a power-of-two number of
 * buckets, each holding the entries whose key hashes to it. Each bucket is compact JSON, raw-deflated.
 * A part whose largest bucket outgrows `splitBytes` doubles its bucket count; the layout never shrinks.
 * An empty bucket encodes as zero bytes. Entries are written in key order, so equal states always give
 * equal bytes: that is how the writer knows which items changed.
 */

export const STATE_PARTS = ['windows', 'sessions', 'users', 'tenants'] as const;
export type StatePart = (typeof STATE_PARTS)[number];
export type StateLayout = Record<StatePart, number>;

export const DEFAULT_LAYOUT: StateLayout = { windows: 1, sessions: 1, users: 1, tenants: 1 };
export const META_SK = 'analytics#meta#0';
const FORMAT_VERSION = 1;

export interface StateSizing {
  /** A part doubles its buckets when one bucket's compressed data exceeds this. */
  splitBytes: number;
  /** No bucket may exceed this: with its previous version beside it, the item stays under 400 KB. */
  maxBucketBytes: number;
  maxBuckets: number;
  /** Deltas a snapshot chain may hold before a full snapshot (stateSnapshot.ts); absent or 0: none. */
  maxDeltas?: number;
}

export const DEFAULT_SIZING: StateSizing = {
  splitBytes: 64 * 1024,
  maxBucketBytes: 180 * 1024,
  maxBuckets: 1024,
};

/**
 * The sort key of one bucket.
 *
 * @example
 * ```ts
 * bucketSk('users', 3); // 'analytics#users#3'
 * ```
 */
export function bucketSk(part: StatePart, bucket: number): string {
  return `analytics#${part}#${bucket}`;
}

/**
 * Every sort key of a layout, meta first.
 *
 * @example
 * ```ts
 * layoutSks(DEFAULT_LAYOUT).length; // 5
 * ```
 */
export function layoutSks(layout: StateLayout): string[] {
  return [
    META_SK,
    ...STATE_PARTS.flatMap((part) => Array.from({ length: layout[part] }, (_, b) => bucketSk(part, b))),
  ];
}

const EMPTY = new Uint8Array(0);
/**
 * The state is re-compressed on every commit: level 1 deflates its JSON twice as fast as the default (6)
 * for about 10% more bytes (bench/results, "Consumer speed"). Any level inflates the same way.
 */
const DEFLATE = { level: 1 };

/** Compact JSON, raw-deflated: the bytes of every stored part of the state. */
export function compress(value: unknown): Uint8Array {
  return new Uint8Array(deflateRawSync(Buffer.from(JSON.stringify(value), 'utf8'), DEFLATE));
}

/** The value {@link compress} made; `sk` names the item in the error when the bytes are not one. */
export function decompress(sk: string, bytes: Uint8Array): unknown {
  try {
    return JSON.parse(inflateRawSync(bytes).toString('utf8'));
  } catch (error) {
    throw new CorruptAnalyticsStateError(sk, (error as Error).message);
  }
}

// Compact JSON shapes of the entries. Short names: every byte is stored twice (data and prev).

type DistinctJson = { x: string } | { h: string };
export type WindowJson = {
  k: WindowKind;
  t: string;
  y: string;
  s: number;
  e: number;
  n: number;
  an: number;
  sum: number;
  min: number | null;
  max: number | null;
  u: DistinctJson;
  f: number;
  l: number;
};
type SessionJson = { t: string; u: string; id: string; s: number; l: number; n: number; st: boolean };
type UserJson = {
  t: string;
  u: string;
  seen: number;
  a: [number, number, number];
  v: [number, number, number, string[], boolean][];
  r: [number, string][];
  ra: number | null;
  f: [number, string][];
  fa: number | null;
  /** Only written when set, so that users without locations, merchants or viewings cost no bytes. */
  p?: [number, string, number, number];
  m?: [number, string, string][];
  ma?: number;
  g?: [number, number, number, number, number, [string, number][], number, number][];
};
type TenantJson = { s: number; d: number; l: number | null; late: number };

function distinctToJson(users: DistinctUsers): DistinctJson {
  if (users.kind === 'exact') return { x: [...users.hashes].sort().join('') };
  return { h: Buffer.from(users.registers).toString('base64') };
}

function distinctFromJson(json: DistinctJson): DistinctUsers {
  if ('h' in json) return { kind: 'sketch', registers: new Uint8Array(Buffer.from(json.h, 'base64')) };
  return { kind: 'exact', hashes: addJoinedHashes(new Set(), json.x) };
}

type EngagementJson = NonNullable<UserJson['g']>[number];
const engagementToJson = (w: EngagementWindow): EngagementJson => [
  w.start,
  w.end,
  w.watches,
  w.completed,
  w.watchMs,
  w.sessions.map(([id, n]): [string, number] => [id, n]),
  w.first,
  w.last,
];
const engagementFromJson = ([
  start,
  end,
  watches,
  completed,
  watchMs,
  sessions,
  first,
  last,
]: EngagementJson): EngagementWindow => ({
  start,
  end,
  watches,
  completed,
  watchMs,
  sessions: sessions.map(([id, n]): [string, number] => [id, n]),
  first,
  last,
});

const timed = (list: TimedEvent[]): [number, string][] => list.map((e) => [e.at, e.id]);
const untimed = (list: [number, string][]): TimedEvent[] => list.map(([at, id]) => ({ at, id }));

/** Each part's entry codec: the compact JSON of one value. */
export const CODECS = {
  windows: {
    encode: (w: WindowAggregate): WindowJson => ({
      k: w.kind,
      t: w.tenantId,
      y: w.eventType,
      s: w.start,
      e: w.end,
      n: w.count,
      an: w.amountCount,
      sum: w.amountSum,
      min: w.amountMin,
      max: w.amountMax,
      u: distinctToJson(w.users),
      f: w.firstEventAt,
      l: w.lastEventAt,
    }),
    decode: (j: WindowJson): WindowAggregate => ({
      kind: j.k,
      tenantId: j.t,
      eventType: j.y,
      start: j.s,
      end: j.e,
      count: j.n,
      amountCount: j.an,
      amountSum: j.sum,
      amountMin: j.min,
      amountMax: j.max,
      users: distinctFromJson(j.u),
      firstEventAt: j.f,
      lastEventAt: j.l,
    }),
  },
  sessions: {
    encode: (s: OpenSession): SessionJson => ({
      t: s.tenantId,
      u: s.userId,
      id: s.sessionId,
      s: s.start,
      l: s.last,
      n: s.count,
      st: s.sawStart,
    }),
    decode: (j: SessionJson): OpenSession => ({
      tenantId: j.t,
      userId: j.u,
      sessionId: j.id,
      start: j.s,
      last: j.l,
      count: j.n,
      sawStart: j.st,
    }),
  },
  users: {
    encode: (u: UserAlertState): UserJson => ({
      t: u.tenantId,
      u: u.userId,
      seen: u.lastSeen,
      a: [u.amounts.n, u.amounts.mean, u.amounts.m2],
      v: u.velocity.map((w) => [w.start, w.end, w.count, w.eventIds, w.alerted]),
      r: timed(u.recent),
      ra: u.rapidFireAlertedAt,
      f: timed(u.failures),
      fa: u.failuresAlertedAt,
      ...(u.lastPlace
        ? { p: [u.lastPlace.at, u.lastPlace.id, u.lastPlace.latitude, u.lastPlace.longitude] as const }
        : {}),
      ...(u.merchants.length > 0
        ? { m: u.merchants.map((v): [number, string, string] => [v.at, v.merchantId, v.id]) }
        : {}),
      ...(u.merchantsAlertedAt === null ? {} : { ma: u.merchantsAlertedAt }),
      ...(u.engagement.length > 0 ? { g: u.engagement.map(engagementToJson) } : {}),
    }),
    decode: (j: UserJson): UserAlertState => ({
      tenantId: j.t,
      userId: j.u,
      lastSeen: j.seen,
      amounts: { n: j.a[0], mean: j.a[1], m2: j.a[2] },
      velocity: j.v.map(
        ([start, end, count, eventIds, alerted]): VelocityWindow => ({
          start,
          end,
          count,
          eventIds,
          alerted,
        }),
      ),
      recent: untimed(j.r),
      rapidFireAlertedAt: j.ra,
      failures: untimed(j.f),
      failuresAlertedAt: j.fa,
      lastPlace: j.p ? { at: j.p[0], id: j.p[1], latitude: j.p[2], longitude: j.p[3] } : null,
      merchants: (j.m ?? []).map(([at, merchantId, id]): MerchantVisit => ({ at, merchantId, id })),
      merchantsAlertedAt: j.ma ?? null,
      engagement: (j.g ?? []).map(engagementFromJson),
    }),
  },
  tenants: {
    encode: (t: TenantStats): TenantJson => ({
      s: t.sessions,
      d: t.totalDurationMs,
      l: t.lastDurationMs,
      late: t.lateEvents,
    }),
    decode: (j: TenantJson): TenantStats => ({
      sessions: j.s,
      totalDurationMs: j.d,
      lastDurationMs: j.l,
      lateEvents: j.late,
    }),
  },
} as const;

export type PartValue = {
  windows: WindowAggregate;
  sessions: OpenSession;
  users: UserAlertState;
  tenants: TenantStats;
};

interface MetaJson {
  v: number;
  max: number | null;
  next: number | null;
  c: AnalyticsCounters;
  layout: StateLayout;
}

/**
 * The bucket of a key among `buckets` (a power of two).
 *
 * @example
 * ```ts
 * bucketOf('acme#u-1', 4); // 0..3
 * ```
 */
export function bucketOf(key: string, buckets: number): number {
  return hash32(key) & (buckets - 1);
}

/** One entry, serialised once: its bucket hash and its `[key, value]` JSON text. */
export interface PreparedEntry {
  hash: number;
  text: string;
}

function prepareEntry<P extends StatePart>(part: P, key: string, value: PartValue[P]): PreparedEntry {
  const encode = CODECS[part].encode as (value: PartValue[P]) => unknown;
  if (part === 'windows') markPersisted((value as WindowAggregate).users);
  return { hash: hash32(key), text: JSON.stringify([key, encode(value)]) };
}

/**
 * Every entry's text by key. From an earlier encoding of the same map, only the entries touched since
 * (see TouchedMap) are serialised again; `changed` gets each key whose entry may differ. Values are read
 * through `Map.prototype.get`, so that reading them does not count as touching them.
 */
function prepareEntries<P extends StatePart>(
  part: P,
  map: Map<string, PartValue[P]>,
  earlier: ReadonlyMap<string, PreparedEntry> | undefined,
  changed: Set<string>,
): Map<string, PreparedEntry> {
  const read = (key: string) => Map.prototype.get.call(map, key) as PartValue[P];
  const touched = map instanceof TouchedMap ? map.touched() : 'all';
  if (earlier === undefined || touched === 'all') {
    const entries = new Map<string, PreparedEntry>();
    for (const key of map.keys()) entries.set(key, prepareEntry(part, key, read(key)));
    for (const key of earlier?.keys() ?? []) changed.add(key);
    for (const key of map.keys()) changed.add(key);
    return entries;
  }
  const entries = new Map(earlier);
  for (const key of touched as ReadonlySet<string>) {
    changed.add(key);
    if (map.has(key)) entries.set(key, prepareEntry(part, key, read(key)));
    else entries.delete(key);
  }
  return entries;
}

function sortedEntries(entries: ReadonlyMap<string, PreparedEntry>): PreparedEntry[] {
  return [...entries.keys()].sort().map((key) => entries.get(key) as PreparedEntry);
}

function groupEntries(entries: readonly PreparedEntry[], buckets: number): PreparedEntry[][] {
  const groups: PreparedEntry[][] = Array.from({ length: buckets }, () => []);
  for (const entry of entries) groups[entry.hash & (buckets - 1)]?.push(entry);
  return groups;
}

/** The same bytes as compressing the array of entries: key order is kept inside each bucket. */
function compressEntries(group: readonly PreparedEntry[]): Uint8Array {
  if (group.length === 0) return EMPTY;
  return new Uint8Array(
    deflateRawSync(Buffer.from(`[${group.map((e) => e.text).join(',')}]`, 'utf8'), DEFLATE),
  );
}

/** A part's buckets as an earlier encoding left them, and the keys whose entries may have changed since. */
interface EarlierBuckets {
  buckets: number;
  encoded: readonly Uint8Array[];
  changed: ReadonlySet<string>;
}

/**
 * Encodes one part: doubles the bucket count while the bucket with the most text compresses to more
 * than `splitBytes`, then compresses every bucket once. Entries are serialised once whatever the count.
 * A bucket that holds no changed key keeps its earlier bytes, which are what compressing it gives.
 */
function encodePart(
  entries: readonly PreparedEntry[],
  startBuckets: number,
  sizing: StateSizing,
  earlier: EarlierBuckets | undefined,
): { buckets: number; encoded: Uint8Array[] } {
  let buckets = startBuckets;
  for (;;) {
    const groups = groupEntries(entries, buckets);
    const unchanged = unchangedBuckets(earlier, buckets);
    const compressGroup = (group: readonly PreparedEntry[], index: number) =>
      unchanged[index] ?? compressEntries(group);
    let largest = 0;
    let largestLength = -1;
    for (const [index, group] of groups.entries()) {
      const length = group.reduce((sum, e) => sum + e.text.length, 0);
      if (length > largestLength) {
        largest = index;
        largestLength = length;
      }
    }
    const largestBytes = compressGroup(groups[largest] ?? [], largest);
    if (buckets < sizing.maxBuckets && largestBytes.byteLength > sizing.splitBytes) {
      buckets *= 2;
      continue;
    }
    // The largest bucket is already compressed: compressing is most of the cost of encoding.
    return {
      buckets,
      encoded: groups.map((group, index) => (index === largest ? largestBytes : compressGroup(group, index))),
    };
  }
}

/** The earlier bytes of each bucket that no changed key hashes to, at this bucket count. */
function unchangedBuckets(earlier: EarlierBuckets | undefined, buckets: number): (Uint8Array | undefined)[] {
  if (!earlier || earlier.buckets !== buckets) return [];
  const unchanged: (Uint8Array | undefined)[] = [...earlier.encoded];
  for (const key of earlier.changed) unchanged[bucketOf(key, buckets)] = undefined;
  return unchanged;
}

export interface EncodedState {
  layout: StateLayout;
  /** Every item of the layout by sort key; an empty bucket has zero bytes. */
  items: Map<string, Uint8Array>;
  /** Each part's entries as serialised, by key: what the next encoding of the same state reuses. */
  entries: Record<StatePart, ReadonlyMap<string, PreparedEntry>>;
}

let checkReusedEncoding = false;

/**
 * Makes every encoding that reuses an earlier one also encode from scratch and throw
 * {@link ReusedEncodingMismatchError} if the bytes differ. For tests: it costs a full encoding.
 *
 * @example
 * ```ts
 * checkEncodingReuse(true);
 * ```
 */
export function checkEncodingReuse(on: boolean): void {
  checkReusedEncoding = on;
}

/** An encoding that reused an earlier one differs from encoding the state from scratch. */
export class ReusedEncodingMismatchError extends ShardlineError {
  constructor(sk: string) {
    super(
      `analytics state item ${sk} encoded differently when reusing the earlier encoding: a change to the state was not recorded (see touchedMap.ts)`,
    );
    this.name = 'ReusedEncodingMismatchError';
  }
}

/** Untouches the state's maps: from now on, what they record is relative to an encoding made now. */
export function untouchState(state: AnalyticsState): void {
  for (const part of STATE_PARTS) {
    const map = state[part];
    if (map instanceof TouchedMap) map.untouch();
  }
}

/**
 * Whether nothing in the state's maps was touched since it was encoded (every map is a TouchedMap, none
 * read, written or iterated since {@link untouchState}).
 *
 * @example
 * ```ts
 * isStateUntouched(decodeState(items)); // true
 * ```
 */
export function isStateUntouched(state: AnalyticsState): boolean {
  return STATE_PARTS.every((part) => {
    const map = state[part];
    return map instanceof TouchedMap && map.isUntouched();
  });
}

/**
 * Cuts the state into items, starting from `layout` and doubling a part's buckets while its largest
 * bucket exceeds `sizing.splitBytes`. Throws {@link AnalyticsStateTooLargeError} when a bucket still
 * exceeds `sizing.maxBucketBytes` at `sizing.maxBuckets`.
 *
 * `earlier`, an encoding of this same state object (made before the changes its TouchedMaps recorded),
 * makes the cost proportional to what changed: only touched entries are serialised again and only
 * buckets holding one are compressed again. The bytes are the same as without it.
 *
 * @example
 * ```ts
 * const { layout, items } = encodeState(state, DEFAULT_LAYOUT);
 * ```
 */
export function encodeState(
  state: AnalyticsState,
  layout: StateLayout,
  sizing: StateSizing = DEFAULT_SIZING,
  earlier: EncodedState | null = null,
): EncodedState {
  const nextLayout = { ...layout };
  const items = new Map<string, Uint8Array>();
  const parts: Record<StatePart, Map<string, PartValue[StatePart]>> = {
    windows: state.windows,
    sessions: state.sessions,
    users: state.users,
    tenants: state.tenants,
  };
  const entries = {} as Record<StatePart, ReadonlyMap<string, PreparedEntry>>;
  for (const part of STATE_PARTS) {
    const changed = new Set<string>();
    const partEntries = prepareEntries(part, parts[part], earlier?.entries[part], changed);
    const earlierBuckets = earlier
      ? {
          buckets: earlier.layout[part],
          encoded: Array.from(
            { length: earlier.layout[part] },
            (_, b) => earlier.items.get(bucketSk(part, b)) ?? EMPTY,
          ),
          changed,
        }
      : undefined;
    const { buckets, encoded } = encodePart(
      sortedEntries(partEntries),
      nextLayout[part],
      sizing,
      earlierBuckets,
    );
    const largest = Math.max(...encoded.map((b) => b.byteLength));
    if (largest > sizing.maxBucketBytes)
      throw new AnalyticsStateTooLargeError(part, largest, sizing.maxBucketBytes);
    nextLayout[part] = buckets;
    entries[part] = partEntries;
    for (const [bucket, bytes] of encoded.entries()) items.set(bucketSk(part, bucket), bytes);
  }
  items.set(META_SK, encodeMeta(state, nextLayout));
  if (earlier && checkReusedEncoding) assertSameEncoding(items, encodeState(state, layout, sizing).items);
  return { layout: nextLayout, items, entries };
}

function assertSameEncoding(reused: Map<string, Uint8Array>, fresh: Map<string, Uint8Array>) {
  for (const sk of new Set([...reused.keys(), ...fresh.keys()])) {
    const a = reused.get(sk);
    const b = fresh.get(sk);
    if (!a || !b || !Buffer.from(a).equals(b)) throw new ReusedEncodingMismatchError(sk);
  }
}

/**
 * The meta item of a state in a layout, as {@link encodeState} writes it.
 *
 * @example
 * ```ts
 * encodeMeta(state, layout); // the bytes of analytics#meta#0
 * ```
 */
export function encodeMeta(state: AnalyticsState, layout: StateLayout): Uint8Array {
  const meta: MetaJson = {
    v: FORMAT_VERSION,
    max: state.maxEventTime,
    next: state.nextTimerAt,
    c: state.counters,
    layout,
  };
  return compress(meta);
}

/**
 * The layout recorded in a meta item (zero bytes: no state yet, the default layout).
 *
 * @example
 * ```ts
 * const layout = layoutOf(metaBytes);
 * ```
 */
export function layoutOf(metaBytes: Uint8Array): StateLayout {
  if (metaBytes.byteLength === 0) return { ...DEFAULT_LAYOUT };
  const meta = decompress(META_SK, metaBytes) as MetaJson;
  if (meta.v !== FORMAT_VERSION)
    throw new CorruptAnalyticsStateError(META_SK, `unknown format version ${meta.v}`);
  return meta.layout;
}

/**
 * Rebuilds the state from the items of a layout (as `encodeState` cut it). A missing item is an empty
 * bucket.
 *
 * @example
 * ```ts
 * const state = decodeState(encodeState(state, DEFAULT_LAYOUT).items);
 * ```
 */
export function decodeState(items: ReadonlyMap<string, Uint8Array>): AnalyticsState {
  const metaBytes = items.get(META_SK) ?? EMPTY;
  const layout = layoutOf(metaBytes);
  const meta = metaBytes.byteLength === 0 ? null : (decompress(META_SK, metaBytes) as MetaJson);
  const state: AnalyticsState = {
    maxEventTime: meta?.max ?? null,
    nextTimerAt: meta?.next ?? null,
    windows: new TouchedMap(),
    sessions: new TouchedMap(),
    users: new TouchedMap(),
    tenants: new TouchedMap(),
    counters: meta?.c ?? zeroCounters(),
  };
  for (const part of STATE_PARTS) {
    const decode = CODECS[part].decode as (json: never) => PartValue[StatePart];
    const target = state[part] as Map<string, PartValue[StatePart]>;
    for (let bucket = 0; bucket < layout[part]; bucket++) {
      const sk = bucketSk(part, bucket);
      const bytes = items.get(sk) ?? EMPTY;
      if (bytes.byteLength === 0) continue;
      for (const [key, json] of decompress(sk, bytes) as [string, never][]) target.set(key, decode(json));
    }
  }
  for (const window of Map.prototype.values.call(state.windows) as MapIterator<WindowAggregate>)
    markPersisted(window.users);
  untouchState(state);
  return state;
}

/**
 * A canonical text of a state, for comparing two states in tests and checks.
 *
 * @example
 * ```ts
 * canonicalState(a) === canonicalState(b);
 * ```
 */
export function canonicalState(state: AnalyticsState): string {
  const encodeAll = <P extends StatePart>(part: P) => {
    const encode = CODECS[part].encode as (value: PartValue[P]) => unknown;
    const map = state[part] as Map<string, PartValue[P]>;
    return [...map.keys()].sort().map((key) => [key, encode(map.get(key) as PartValue[P])]);
  };
  return JSON.stringify({
    max: state.maxEventTime,
    next: state.nextTimerAt,
    c: state.counters,
    windows: encodeAll('windows'),
    sessions: encodeAll('sessions'),
    users: encodeAll('users'),
    tenants: encodeAll('tenants'),
  });
}
