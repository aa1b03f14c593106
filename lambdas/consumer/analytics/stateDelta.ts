import { addJoinedHashes, changeSincePersisted, type DistinctUsers, markPersisted } from './distinctUsers';
import type { AnalyticsState } from './engine';
import { CorruptAnalyticsStateError } from './errors';
import {
  CODECS,
  compress,
  decompress,
  type PartValue,
  STATE_PARTS,
  type StatePart,
  type WindowJson,
} from './stateCodec';
import { TouchedMap } from './touchedMap';
import type { WindowAggregate } from './windows';

/**
 * A delta: what one commit changed in a shard's analytics state, relative to the state the committed
 * snapshot chain before it holds (docs/ANALYTICS.md, "Snapshots"). It carries every entry the batch
 * touched (TouchedMap) whole, or 0 for one it removed, the watermark, timers and counters, and for a
 * window only the user hashes added to its distinct-user set since the set was last persisted: a window's
 * counters change with every event, its set rarely, and the set is most of its bytes.
 *
 * Deltas are the cheap commit; a full snapshot (stateCodec.ts) is the compaction. A delta exists only
 * when each map can say what it touched: once a map was iterated or cleared through its own methods, the
 * commit writes a full snapshot (the engine's timer sweep iterates without recording, and records each
 * entry it changes).
 */

/** A window's distinct users in a delta: absent (unchanged), hashes appended, or the whole sketch. */
type DistinctDeltaJson = { f: number; a: string } | { h: string };
type WindowDeltaJson = Omit<WindowJson, 'u'> & { u?: DistinctDeltaJson };
type DeltaEntry = [key: string, value: unknown];

interface DeltaJson {
  v: 1;
  max: number | null;
  next: number | null;
  c: AnalyticsState['counters'];
  e: Record<StatePart, DeltaEntry[]>;
}

const DELTA_VERSION = 1;
/** What a removed entry is written as. */
const REMOVED = 0;

function distinctDelta(users: DistinctUsers): DistinctDeltaJson | undefined {
  const change = changeSincePersisted(users);
  markPersisted(users);
  if (change === null) return undefined;
  if ('registers' in change) return { h: Buffer.from(change.registers).toString('base64') };
  return { f: change.from, a: change.add.join('') };
}

function encodeWindow(window: WindowAggregate): WindowDeltaJson {
  const { u: _whole, ...counters } = CODECS.windows.encode({ ...window, users: EMPTY_USERS });
  const users = distinctDelta(window.users);
  return users === undefined ? counters : { ...counters, u: users };
}
const EMPTY_USERS: DistinctUsers = { kind: 'exact', hashes: new Set() };

/**
 * The delta of everything the state's maps recorded as touched since the state was last encoded or
 * decoded, or null when a map was iterated (the whole part may have changed: write a full snapshot).
 * Records the windows' distinct users as persisted.
 *
 * @example
 * ```ts
 * const delta = encodeDelta(loaded.state); // null: write encodeState(...) instead
 * ```
 */
export function encodeDelta(state: AnalyticsState): Uint8Array | null {
  const touchedKeys = {} as Record<StatePart, ReadonlySet<string>>;
  for (const part of STATE_PARTS) {
    const map = state[part];
    const touched = map instanceof TouchedMap ? map.touched() : 'all';
    if (touched === 'all') return null;
    touchedKeys[part] = touched as ReadonlySet<string>;
  }
  const entries = {} as Record<StatePart, DeltaEntry[]>;
  for (const part of STATE_PARTS) {
    const map = state[part] as Map<string, PartValue[StatePart]>;
    const encode = CODECS[part].encode as (value: PartValue[StatePart]) => unknown;
    entries[part] = [...touchedKeys[part]].sort().map((key): DeltaEntry => {
      // Read without touching, like the full encoder.
      const value = Map.prototype.get.call(map, key) as PartValue[StatePart] | undefined;
      if (value === undefined) return [key, REMOVED];
      return [key, part === 'windows' ? encodeWindow(value as WindowAggregate) : encode(value)];
    });
  }
  const delta: DeltaJson = {
    v: DELTA_VERSION,
    max: state.maxEventTime,
    next: state.nextTimerAt,
    c: state.counters,
    e: entries,
  };
  return compress(delta);
}

function applyWindow(key: string, json: WindowDeltaJson, earlier: WindowAggregate | undefined, name: string) {
  let users: DistinctUsers;
  const delta = json.u;
  if (delta === undefined) {
    if (!earlier) throw new CorruptAnalyticsStateError(name, `window ${key} has no users to keep`);
    users = earlier.users;
  } else if ('h' in delta) {
    users = { kind: 'sketch', registers: new Uint8Array(Buffer.from(delta.h, 'base64')) };
  } else {
    const before = delta.f === 0 ? undefined : earlier?.users;
    if (delta.f !== 0 && (before?.kind !== 'exact' || before.hashes.size !== delta.f))
      throw new CorruptAnalyticsStateError(name, `window ${key} does not hold ${delta.f} user hashes`);
    users = before ?? { kind: 'exact', hashes: new Set() };
    addJoinedHashes((users as Extract<DistinctUsers, { kind: 'exact' }>).hashes, delta.a);
  }
  markPersisted(users);
  const window = CODECS.windows.decode({ ...json, u: { x: '' } });
  window.users = users;
  return window;
}

/**
 * Applies a delta to the state the snapshots before it hold, in place. `name` is the delta's key, for
 * errors. Leaves the maps' touched records alone: the caller untouches once the chain is applied.
 *
 * @example
 * ```ts
 * applyDelta(state, deltaBytes, 'state/shardId-000000000000/<attempt>.snapshot');
 * ```
 */
export function applyDelta(state: AnalyticsState, bytes: Uint8Array, name: string): void {
  const delta = decompress(name, bytes) as DeltaJson;
  if (delta.v !== DELTA_VERSION)
    throw new CorruptAnalyticsStateError(name, `unknown delta version ${delta.v}`);
  state.maxEventTime = delta.max;
  state.nextTimerAt = delta.next;
  state.counters = delta.c;
  for (const part of STATE_PARTS) {
    const map = state[part] as Map<string, PartValue[StatePart]>;
    const decode = CODECS[part].decode as (json: never) => PartValue[StatePart];
    for (const [key, json] of delta.e[part] ?? []) {
      if (json === REMOVED) map.delete(key);
      else if (part === 'windows')
        map.set(key, applyWindow(key, json as WindowDeltaJson, map.get(key) as WindowAggregate, name));
      else map.set(key, decode(json as never));
    }
  }
}
