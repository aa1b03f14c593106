import {
  COMMITS_PREFIX,
  DLQ_PAYLOADS_PREFIX,
  FINAL_PREFIXES,
  STAGING_PREFIX,
  STATE_PREFIX,
} from '../lambdas/shared/lakeLayout';

/** Object actions the consumer may take on the objects under some key prefixes. */
export interface LakeObjectGrant {
  readonly actions: readonly string[];
  /** Key prefixes without the trailing slash; the grant covers `<prefix>/*`. */
  readonly prefixes: readonly string[];
}

/**
 * What the consumer may do to lake objects, prefix by prefix (lambdas/shared/lakeLayout.ts): put its final
 * objects, staged bundles, state snapshots, commit records and claim-checked DLQ payloads; read back only
 * staged bundles and state snapshots; delete only state snapshots. Nothing on the Athena results prefix, no
 * versions, tagging, retention or legal hold.
 */
export const CONSUMER_LAKE_OBJECT_GRANTS: readonly LakeObjectGrant[] = [
  {
    actions: ['s3:PutObject'],
    prefixes: [...FINAL_PREFIXES, DLQ_PAYLOADS_PREFIX, STAGING_PREFIX, STATE_PREFIX, COMMITS_PREFIX],
  },
  { actions: ['s3:GetObject'], prefixes: [STAGING_PREFIX, STATE_PREFIX] },
  { actions: ['s3:DeleteObject'], prefixes: [STATE_PREFIX] },
];

/** The only prefixes the consumer may list (s3:ListBucket with an `s3:prefix` condition): its commit records. */
export const CONSUMER_LAKE_LIST_PREFIXES: readonly string[] = [COMMITS_PREFIX];
