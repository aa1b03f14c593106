import { ANALYTICS_DATASETS } from './analyticsRows';
import { sortableSequenceNumber } from './sequence';

/**
 * Where everything lives in the lake bucket (docs/EXACTLY_ONCE.md). Readers (Athena's Glue tables,
 * DuckDB views, `shardline query` and `verify`) cover only the final prefixes; staging, state and commit
 * records sit outside every one of them, so a plain reader of a table's prefix never meets them.
 */

/**
 * Final objects: written only after their commit, to keys fixed by the shard and the committed range.
 * The events, then one prefix per analytics dataset (analyticsRows.ts declares them).
 */
export const FINAL_PREFIXES: readonly string[] = [
  'events',
  ...Object.values(ANALYTICS_DATASETS).map((dataset) => dataset.prefix),
];

/**
 * One bundle per attempt, written before its commit. Never deleted by the protocol: the bucket's
 * lifecycle rule expires them after {@link STAGING_EXPIRATION_DAYS}.
 */
export const STAGING_PREFIX = 'staging';

/**
 * Days a staged bundle is kept. Far longer than any request can stay in flight (Lambda's longest
 * timeout is 15 minutes) and than the scheduled publisher (every minute) needs to finish a publication.
 */
export const STAGING_EXPIRATION_DAYS = 7;

/** One analytics state snapshot per commit. No lifecycle rule: a quiet or closed shard keeps its state. */
export const STATE_PREFIX = 'state';

/** One commit record per commit, written after its final objects: the catalogue of what was committed. */
export const COMMITS_PREFIX = '_commits';

/** Claim-checked payloads of large invalid records (the DLQ message points here). */
export const DLQ_PAYLOADS_PREFIX = 'dlq-payloads';

/**
 * The staging key of one attempt's bundle. The attempt id is random: two attempts that read the same
 * checkpoint never share a key.
 *
 * @example
 * ```ts
 * stagingKey('shardId-000000000000', '3f0c…'); // 'staging/shardId-000000000000/3f0c….bundle'
 * ```
 */
export const stagingKey = (shardId: string, attemptId: string) =>
  `${STAGING_PREFIX}/${shardId}/${attemptId}.bundle`;

/**
 * The key of the analytics state snapshot an attempt writes.
 *
 * @example
 * ```ts
 * stateSnapshotKey('shardId-000000000000', '3f0c…'); // 'state/shardId-000000000000/3f0c….snapshot'
 * ```
 */
export const stateSnapshotKey = (shardId: string, attemptId: string) =>
  `${STATE_PREFIX}/${shardId}/${attemptId}.snapshot`;

/** The prefix of one shard's commit records, for listing them in commit order. */
export const commitRecordPrefix = (shardId: string) => `${COMMITS_PREFIX}/${shardId}/`;

/**
 * The key of the commit record of the commit that ends at `lastSequenceNumber`. Zero-padded, so keys list
 * in commit order.
 *
 * @example
 * ```ts
 * commitRecordKey('shardId-000000000000', '42'); // '_commits/shardId-000000000000/000…042.json'
 * ```
 */
export const commitRecordKey = (shardId: string, lastSequenceNumber: string) =>
  `${commitRecordPrefix(shardId)}${sortableSequenceNumber(lastSequenceNumber)}.json`;

/** Whether a key is a final object, the only kind a table or view may read. */
export const isFinalKey = (key: string) => FINAL_PREFIXES.some((prefix) => key.startsWith(`${prefix}/`));
