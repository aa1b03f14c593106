import { GetObjectCommand, NoSuchKey, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { ShardlineError } from '../../shared/errors';
import type { AnalyticsState } from './engine';
import { CorruptAnalyticsStateError } from './errors';
import {
  DEFAULT_LAYOUT,
  decodeState,
  type EncodedState,
  encodeState,
  isStateUntouched,
  layoutOf,
  META_SK,
  type StateLayout,
  type StateSizing,
  untouchState,
} from './stateCodec';
import { applyDelta, encodeDelta } from './stateDelta';
import type { WarmAnalyticsState } from './warmStateCache';

/**
 * The analytics state of a shard as a chain of snapshot objects (docs/ANALYTICS.md, "Snapshots"). An
 * attempt writes one object under a key of its own before it commits, and the commit points the
 * checkpoint at it: the checkpoint is the one commit point of the lake and the state. The object is
 * either a full snapshot or a delta (stateDelta.ts) that names the chain it applies to: the full snapshot
 * it starts from and every delta since, oldest first. A commit that writes a full snapshot (the
 * compaction) makes the chain it replaced obsolete, and the chain is deleted once that publication is
 * finished; nothing else is ever deleted.
 *
 * Layout: the magic `SLS1`, a 4-byte big-endian header length, a JSON header, then the body.
 * - format 1, a full snapshot: the header lists each encoded item (meta, then each part's buckets, as
 *   stateCodec cuts them) with its length; the body is the items' bytes, each already raw-deflated.
 * - format 2, a delta: the header lists the chain before it, oldest first; the body is the raw-deflated
 *   delta.
 */

/**
 * Buckets split for cheap partial re-encoding, not to fit DynamoDB items: a snapshot has no item limit.
 * A chain holds at most 32 deltas (and {@link MAX_DELTA_BYTES_PER_BASE_BYTE} bounds their bytes): a cold
 * start reads at most 33 objects.
 */
export const SNAPSHOT_SIZING: StateSizing = {
  splitBytes: 64 * 1024,
  maxBucketBytes: 64 * 1024 * 1024,
  maxBuckets: 4096,
  maxDeltas: 32,
};

const MAGIC = Buffer.from('SLS1', 'ascii');

/** The committed snapshots a state is read from: its full snapshot first, then each delta, in order. */
export interface SnapshotChain {
  keys: readonly string[];
  /** The full snapshot's size. */
  baseBytes: number;
  /** The deltas' sizes, added up. */
  deltaBytes: number;
}

const NO_CHAIN: SnapshotChain = { keys: [], baseBytes: 0, deltaBytes: 0 };

type SnapshotHeader = { format: 1; items: [string, number][] } | { format: 2; chain: string[] };

function frame(header: SnapshotHeader, body: readonly Uint8Array[]): Uint8Array {
  const json = Buffer.from(JSON.stringify(header));
  const length = Buffer.alloc(4);
  length.writeUInt32BE(json.byteLength);
  return Buffer.concat([MAGIC, length, json, ...body]);
}

/**
 * Frames an encoded state as a full snapshot body.
 *
 * @example
 * ```ts
 * const body = encodeSnapshot(encodeState(state, DEFAULT_LAYOUT));
 * ```
 */
export function encodeSnapshot(encoded: EncodedState): Uint8Array {
  const items = [...encoded.items];
  return frame(
    { format: 1, items: items.map(([sk, b]) => [sk, b.byteLength]) },
    items.map(([, bytes]) => bytes),
  );
}

function parseSnapshot(key: string, bytes: Uint8Array): { header: SnapshotHeader; body: Buffer } {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buffer.byteLength < 8 || !buffer.subarray(0, 4).equals(MAGIC))
    throw new CorruptAnalyticsStateError(key, 'no SLS1 magic');
  const headerLength = buffer.readUInt32BE(4);
  let header: SnapshotHeader;
  try {
    header = JSON.parse(buffer.subarray(8, 8 + headerLength).toString('utf8'));
  } catch (error) {
    throw new CorruptAnalyticsStateError(key, (error as Error).message);
  }
  if (header.format !== 1 && header.format !== 2)
    throw new CorruptAnalyticsStateError(key, `unknown format ${(header as { format: unknown }).format}`);
  return { header, body: buffer.subarray(8 + headerLength) };
}

/**
 * The encoded items of a full snapshot body.
 *
 * @example
 * ```ts
 * const state = decodeState(decodeSnapshot(key, bytes));
 * ```
 */
export function decodeSnapshot(key: string, bytes: Uint8Array): Map<string, Uint8Array> {
  const { header, body } = parseSnapshot(key, bytes);
  if (header.format !== 1) throw new CorruptAnalyticsStateError(key, 'a delta, not a full snapshot');
  const items = new Map<string, Uint8Array>();
  let offset = 0;
  for (const [sk, length] of header.items) {
    if (offset + length > body.byteLength) throw new CorruptAnalyticsStateError(key, `truncated at ${sk}`);
    items.set(sk, new Uint8Array(body.subarray(offset, offset + length)));
    offset += length;
  }
  return items;
}

/**
 * The keys of the snapshots before this one in its chain: none for a full snapshot.
 *
 * @example
 * ```ts
 * const earlier = snapshotPredecessors(key, bytes); // fetch these, then assembleSnapshotChain
 * ```
 */
function snapshotPredecessors(key: string, bytes: Uint8Array): readonly string[] {
  const { header } = parseSnapshot(key, bytes);
  return header.format === 2 ? header.chain : [];
}

/** A state rebuilt from its chain, with the chain and the full snapshot's layout. */
export interface AssembledState {
  state: AnalyticsState;
  chain: SnapshotChain;
  layout: StateLayout;
}

/**
 * Rebuilds the state a snapshot holds from the bytes of it and of its predecessors
 * ({@link snapshotPredecessors}); `bytesOf` returns undefined for an object that is not there.
 *
 * @example
 * ```ts
 * const { state } = assembleSnapshotChain(checkpoint.stateKey, (key) => objects.get(key));
 * ```
 */
export function assembleSnapshotChain(
  key: string,
  bytesOf: (key: string) => Uint8Array | undefined,
): AssembledState {
  const read = (name: string) => {
    const bytes = bytesOf(name);
    if (bytes === undefined) throw new MissingStateSnapshotError(name);
    return bytes;
  };
  const head = read(key);
  const keys = [...snapshotPredecessors(key, head), key];
  const [baseKey, ...deltaKeys] = keys as [string, ...string[]];
  const base = read(baseKey);
  const items = decodeSnapshot(baseKey, base);
  const state = decodeState(items);
  let deltaBytes = 0;
  for (const deltaKey of deltaKeys) {
    const { header, body } = parseSnapshot(deltaKey, read(deltaKey));
    if (header.format !== 2) throw new CorruptAnalyticsStateError(deltaKey, 'a full snapshot inside a chain');
    applyDelta(state, body, deltaKey);
    deltaBytes += body.byteLength;
  }
  untouchState(state);
  return {
    state,
    chain: { keys, baseBytes: base.byteLength, deltaBytes },
    layout: layoutOf(items.get(META_SK) ?? new Uint8Array(0)),
  };
}

/** A state ready to fold into, and the encoding it had, when it came warm. */
export interface LoadedAnalyticsState {
  state: AnalyticsState;
  /**
   * The full encoding a warm state was committed with, when its last commit wrote a full snapshot: a
   * full encoding reuses what the fold leaves alone.
   */
  earlier: EncodedState | null;
  /** Whether the warm cache stood in for reading the snapshots. */
  warm: boolean;
  /** How the state was cut into buckets: the encoder starts there and only ever doubles a part. */
  layout: StateLayout;
  /** The committed snapshots the state is read from (none: no state yet). */
  chain: SnapshotChain;
}

/** The checkpoint refers to a snapshot that is not there (or no longer: another attempt moved on). */
export class MissingStateSnapshotError extends ShardlineError {
  constructor(key: string) {
    super(
      `analytics state snapshot ${key} is missing: another invocation committed since this one read the checkpoint, or the object was deleted by hand`,
    );
    this.name = 'MissingStateSnapshotError';
  }
}

async function getSnapshot(s3: S3Client, bucket: string, key: string, range?: string): Promise<Uint8Array> {
  try {
    const object = await s3.send(
      new GetObjectCommand({ Bucket: bucket, Key: key, ...(range ? { Range: range } : {}) }),
    );
    return (await object.Body?.transformToByteArray()) ?? new Uint8Array(0);
  } catch (error) {
    if (error instanceof NoSuchKey || (error as { name?: string }).name === 'NoSuchKey')
      throw new MissingStateSnapshotError(key);
    throw error;
  }
}

/**
 * The committed state of a shard: the warm one if it is the state of the snapshot the checkpoint refers
 * to and nothing touched it since, else the snapshot chain read from S3, else (no snapshot yet) an empty
 * state.
 *
 * @example
 * ```ts
 * const loaded = await loadAnalyticsState(s3, bucket, checkpoint.stateKey, warmStates.take(shard));
 * ```
 */
export async function loadAnalyticsState(
  s3: S3Client,
  bucket: string,
  stateKey: string | null,
  warm: WarmAnalyticsState | null,
): Promise<LoadedAnalyticsState> {
  // Decoded from no items rather than emptyAnalyticsState(): its maps are TouchedMaps, so the state this
  // first commit keeps warm can stand in for its snapshot at the next batch.
  if (stateKey === null)
    return {
      state: decodeState(new Map()),
      earlier: null,
      warm: false,
      layout: { ...DEFAULT_LAYOUT },
      chain: NO_CHAIN,
    };
  if (warm && warm.stateKey === stateKey && isStateUntouched(warm.state))
    return { state: warm.state, earlier: warm.encoded, warm: true, layout: warm.layout, chain: warm.chain };
  const fetched = new Map<string, Uint8Array>([[stateKey, await getSnapshot(s3, bucket, stateKey)]]);
  const earlierKeys = snapshotPredecessors(stateKey, fetched.get(stateKey) as Uint8Array);
  const bodies = await Promise.all(earlierKeys.map((key) => getSnapshot(s3, bucket, key)));
  for (const [index, key] of earlierKeys.entries()) fetched.set(key, bodies[index] as Uint8Array);
  const { state, chain, layout } = assembleSnapshotChain(stateKey, (key) => fetched.get(key));
  return { state, earlier: null, warm: false, layout, chain };
}

/**
 * A chain's deltas may add up to this many times its full snapshot's bytes, so that a cold start reads at
 * most five times the state, and a state whose batches rewrite most of it compacts often, which for a
 * small state is cheap (docs/ANALYTICS.md, "Snapshots").
 */
const MAX_DELTA_BYTES_PER_BASE_BYTE = 4;

/** The first bytes of a snapshot: enough for the header of any chain (33 keys). */
const HEADER_PROBE_BYTES = 64 * 1024;

/**
 * The keys of the chain a committed snapshot heads, itself last, from its header alone: a ranged GET of
 * its first 64 KiB, and the whole object only when the header is longer (a full snapshot of thousands of
 * buckets).
 *
 * @example
 * ```ts
 * const keep = new Set(await snapshotChainKeys(s3, bucket, checkpoint.stateKey));
 * ```
 */
export async function snapshotChainKeys(s3: S3Client, bucket: string, key: string): Promise<string[]> {
  const probe = await getSnapshot(s3, bucket, key, `bytes=0-${HEADER_PROBE_BYTES - 1}`);
  const complete =
    probe.byteLength >= 8 &&
    8 + Buffer.from(probe.buffer, probe.byteOffset, probe.byteLength).readUInt32BE(4) <= probe.byteLength;
  const bytes = complete ? probe : await getSnapshot(s3, bucket, key);
  return [...snapshotPredecessors(key, bytes), key];
}

/** A snapshot ready to write under `key`, and what committing it changes. */
export interface PreparedSnapshot {
  body: Uint8Array;
  kind: 'full' | 'delta';
  /** The full encoding, for a full snapshot: the next full encoding of a warm state reuses it. */
  encoded: EncodedState | null;
  /** The chain the state is read from once this snapshot is committed. */
  chain: SnapshotChain;
  /** The layout the next full encoding starts from. */
  layout: StateLayout;
  /** Committed snapshots nothing refers to once this one is committed: deleted after its publication. */
  obsolete: readonly string[];
}

/**
 * Encodes the state after a fold as the snapshot `key`: a delta on the loaded chain while the chain is
 * short and small enough and the fold could say what it touched, else a full snapshot (reusing the
 * earlier full encoding for what the fold left alone), which makes the loaded chain obsolete.
 *
 * @example
 * ```ts
 * const prepared = prepareSnapshot(loaded, stateSnapshotKey(shardId, attemptId));
 * await putStateSnapshot(s3, bucket, key, prepared.body);
 * ```
 */
export function prepareSnapshot(
  loaded: LoadedAnalyticsState,
  key: string,
  sizing: StateSizing = SNAPSHOT_SIZING,
): PreparedSnapshot {
  const { chain } = loaded;
  const deltas = chain.keys.length - 1;
  if (deltas >= 0 && deltas < (sizing.maxDeltas ?? 0)) {
    const delta = encodeDelta(loaded.state);
    if (
      delta !== null &&
      chain.deltaBytes + delta.byteLength <= MAX_DELTA_BYTES_PER_BASE_BYTE * chain.baseBytes
    ) {
      untouchState(loaded.state);
      return {
        body: frame({ format: 2, chain: [...chain.keys] }, [delta]),
        kind: 'delta',
        encoded: null,
        chain: {
          keys: [...chain.keys, key],
          baseBytes: chain.baseBytes,
          deltaBytes: chain.deltaBytes + delta.byteLength,
        },
        layout: loaded.layout,
        obsolete: [],
      };
    }
  }
  const encoded = encodeState(loaded.state, loaded.layout, sizing, loaded.earlier);
  // From now on, what the state's maps record is relative to this encoding.
  untouchState(loaded.state);
  const body = encodeSnapshot(encoded);
  return {
    body,
    kind: 'full',
    encoded,
    chain: { keys: [key], baseBytes: body.byteLength, deltaBytes: 0 },
    layout: encoded.layout,
    obsolete: chain.keys,
  };
}

/**
 * Writes a snapshot under the attempt's own key.
 *
 * @example
 * ```ts
 * await putStateSnapshot(s3, bucket, stateSnapshotKey(shardId, attemptId), prepared.body);
 * ```
 */
export async function putStateSnapshot(
  s3: S3Client,
  bucket: string,
  key: string,
  body: Uint8Array,
): Promise<void> {
  await s3.send(
    new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: 'application/octet-stream' }),
  );
}
