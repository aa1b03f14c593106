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
import type { WarmAnalyticsState } from './warmStateCache';

/**
 * The analytics state of a shard as one snapshot object per commit (docs/ANALYTICS.md, "Exactly once").
 * An attempt writes its snapshot under a key of its own before it commits, and the commit points the
 * checkpoint at it: the checkpoint is the one commit point of the lake and the state. The snapshot the
 * commit replaced is deleted once the publication is finished; nothing else is ever deleted.
 *
 * Layout: the magic `SLS1`, a 4-byte big-endian header length, a JSON header listing each encoded item
 * (meta, then each part's buckets, as stateCodec cuts them) with its length, then the items' bytes.
 * Each item is already raw-deflated by the codec, so the snapshot is not compressed again.
 */

/**
 * Buckets split for cheap partial re-encoding, not to fit DynamoDB items: a snapshot has no item limit.
 */
export const SNAPSHOT_SIZING: StateSizing = {
  splitBytes: 64 * 1024,
  maxBucketBytes: 64 * 1024 * 1024,
  maxBuckets: 4096,
};

const MAGIC = Buffer.from('SLS1', 'ascii');

/**
 * Frames an encoded state as one snapshot body.
 *
 * @example
 * ```ts
 * const body = encodeSnapshot(encodeState(state, DEFAULT_LAYOUT));
 * ```
 */
export function encodeSnapshot(encoded: EncodedState): Uint8Array {
  const items = [...encoded.items];
  const header = Buffer.from(
    JSON.stringify({ format: 1, items: items.map(([sk, b]) => [sk, b.byteLength]) }),
  );
  const length = Buffer.alloc(4);
  length.writeUInt32BE(header.byteLength);
  return Buffer.concat([MAGIC, length, header, ...items.map(([, bytes]) => bytes)]);
}

/**
 * The encoded items of a snapshot body.
 *
 * @example
 * ```ts
 * const state = decodeState(decodeSnapshot(key, bytes));
 * ```
 */
export function decodeSnapshot(key: string, bytes: Uint8Array): Map<string, Uint8Array> {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buffer.byteLength < 8 || !buffer.subarray(0, 4).equals(MAGIC))
    throw new CorruptAnalyticsStateError(key, 'no SLS1 magic');
  const headerLength = buffer.readUInt32BE(4);
  let header: { format: number; items: [string, number][] };
  try {
    header = JSON.parse(buffer.subarray(8, 8 + headerLength).toString('utf8'));
  } catch (error) {
    throw new CorruptAnalyticsStateError(key, (error as Error).message);
  }
  if (header.format !== 1) throw new CorruptAnalyticsStateError(key, `unknown format ${header.format}`);
  const items = new Map<string, Uint8Array>();
  let offset = 8 + headerLength;
  for (const [sk, length] of header.items) {
    if (offset + length > buffer.byteLength) throw new CorruptAnalyticsStateError(key, `truncated at ${sk}`);
    items.set(sk, new Uint8Array(buffer.subarray(offset, offset + length)));
    offset += length;
  }
  return items;
}

/** A state ready to fold into, and the encoding it had, when it came warm. */
export interface LoadedAnalyticsState {
  state: AnalyticsState;
  /** The encoding a warm state was committed with: the next encoding reuses what the fold leaves alone. */
  earlier: EncodedState | null;
  /** Whether the warm cache stood in for reading the snapshot. */
  warm: boolean;
  /** How the state was cut into buckets: the encoder starts there and only ever doubles a part. */
  layout: StateLayout;
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

/**
 * The committed state of a shard: the warm one if it is the state of the snapshot the checkpoint refers
 * to and nothing touched it since, else the snapshot read from S3, else (no snapshot yet) an empty state.
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
    return { state: decodeState(new Map()), earlier: null, warm: false, layout: { ...DEFAULT_LAYOUT } };
  if (warm && warm.stateKey === stateKey && isStateUntouched(warm.state))
    return { state: warm.state, earlier: warm.encoded, warm: true, layout: warm.encoded.layout };
  let bytes: Uint8Array | undefined;
  try {
    const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: stateKey }));
    bytes = await object.Body?.transformToByteArray();
  } catch (error) {
    if (error instanceof NoSuchKey || (error as { name?: string }).name === 'NoSuchKey')
      throw new MissingStateSnapshotError(stateKey);
    throw error;
  }
  const items = decodeSnapshot(stateKey, bytes ?? new Uint8Array(0));
  return {
    state: decodeState(items),
    earlier: null,
    warm: false,
    layout: layoutOf(items.get(META_SK) ?? new Uint8Array(0)),
  };
}

/**
 * Encodes the state after a fold, reusing the earlier encoding for what the fold did not touch.
 *
 * @example
 * ```ts
 * const encoded = encodeAnalyticsState(loaded);
 * const body = encodeSnapshot(encoded);
 * ```
 */
export function encodeAnalyticsState(
  loaded: LoadedAnalyticsState,
  sizing: StateSizing = SNAPSHOT_SIZING,
): EncodedState {
  const encoded = encodeState(loaded.state, loaded.layout, sizing, loaded.earlier);
  // From now on, what the state's maps record is relative to this encoding.
  untouchState(loaded.state);
  return encoded;
}

/**
 * Writes a snapshot under the attempt's own key.
 *
 * @example
 * ```ts
 * await putStateSnapshot(s3, bucket, stateSnapshotKey(shardId, attemptId), encodeSnapshot(encoded));
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
