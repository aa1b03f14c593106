/**
 * An AWS::S3::Bucket's LifecycleConfiguration, read from the template and applied to the local S3:
 * s3rver ignores lifecycle configuration, so a periodic sweep deletes the objects whose expiration rule
 * has come due, as S3 does (S3 User Guide, "Expiring objects").
 */
import { DeleteObjectCommand, paginateListObjectsV2, type S3Client } from '@aws-sdk/client-s3';
import type { CfnTemplate, CfnValue } from '../template';
import { UnsupportedTemplateError } from './errors';

const DAY_MS = 86_400_000;

/** One enabled expiration rule: current objects under `prefix` expire after `days` or on `date`. */
export interface ExpirationRule {
  id?: string;
  /** '' for every object of the bucket. */
  prefix: string;
  days?: number;
  /** Epoch milliseconds of an `ExpirationDate`. */
  date?: number;
}

export interface BucketLifecycleModel {
  bucketLogicalId: string;
  rules: ExpirationRule[];
  /** Actions with no local meaning (storage class transitions, noncurrent versions, uploads), by rule. */
  ignored: string[];
}

/** Rule properties that decide nothing about current objects locally. */
const IGNORED_ACTIONS = [
  'Transitions',
  'Transition',
  'NoncurrentVersionExpiration',
  'NoncurrentVersionExpirationInDays',
  'NoncurrentVersionTransitions',
  'NoncurrentVersionTransition',
  'AbortIncompleteMultipartUpload',
  'ExpiredObjectDeleteMarker',
];

/**
 * The lifecycle rules of every bucket of the template that has some. Disabled rules are skipped; a
 * filter on tags or object size is refused, since the local sweep does not read them.
 *
 * @example
 * ```ts
 * describeBucketLifecycles(template)[0].rules; // [{ id: 'ExpireStagedBundles', prefix: 'staging/', days: 7 }]
 * ```
 */
export function describeBucketLifecycles(template: CfnTemplate): BucketLifecycleModel[] {
  const models: BucketLifecycleModel[] = [];
  for (const [logicalId, resource] of Object.entries(template.Resources ?? {})) {
    if (resource.Type !== 'AWS::S3::Bucket') continue;
    const configuration = resource.Properties?.LifecycleConfiguration as {
      Rules?: Record<string, CfnValue>[];
    };
    if (!configuration?.Rules?.length) continue;
    const model: BucketLifecycleModel = { bucketLogicalId: logicalId, rules: [], ignored: [] };
    for (const rule of configuration.Rules) {
      if (rule.Status !== 'Enabled') continue;
      const id = typeof rule.Id === 'string' ? rule.Id : undefined;
      for (const action of IGNORED_ACTIONS) {
        if (rule[action] !== undefined) model.ignored.push(`${id ?? 'rule'}: ${action}`);
      }
      if (rule.ExpirationInDays === undefined && rule.ExpirationDate === undefined) continue;
      model.rules.push({
        ...(id ? { id } : {}),
        prefix: prefixOf(logicalId, rule),
        ...(typeof rule.ExpirationInDays === 'number' ? { days: rule.ExpirationInDays } : {}),
        ...(typeof rule.ExpirationDate === 'string' ? { date: Date.parse(rule.ExpirationDate) } : {}),
      });
    }
    models.push(model);
  }
  return models;
}

function prefixOf(logicalId: string, rule: Record<string, CfnValue>): string {
  const filter = (rule.Filter ?? {}) as Record<string, CfnValue>;
  const filtersOnMore =
    ['TagFilters', 'ObjectSizeGreaterThan', 'ObjectSizeLessThan'].some((name) => rule[name] !== undefined) ||
    ['And', 'Tag', 'ObjectSizeGreaterThan', 'ObjectSizeLessThan'].some((name) => filter[name] !== undefined);
  if (filtersOnMore) {
    throw new UnsupportedTemplateError(
      logicalId,
      `lifecycle rule ${String(rule.Id ?? '')} filters on tags or object size, which the local S3 cannot apply: filter on a prefix only`,
    );
  }
  const prefix = rule.Prefix ?? filter.Prefix ?? '';
  if (typeof prefix !== 'string') {
    throw new UnsupportedTemplateError(
      logicalId,
      `lifecycle rule ${String(rule.Id ?? '')} has a computed prefix`,
    );
  }
  return prefix;
}

/**
 * When an object expires under a rule, in epoch milliseconds: S3 adds the days to the object's creation
 * time and rounds up to the next midnight UTC; an `ExpirationDate` rule expires objects on that date.
 *
 * @example
 * ```ts
 * new Date(expiresAt(Date.parse('2014-01-15T10:30:00Z'), { prefix: '', days: 3 })).toISOString();
 * // '2014-01-19T00:00:00.000Z' (the S3 User Guide's own example)
 * ```
 */
export function expiresAt(lastModified: number, rule: ExpirationRule): number {
  const byDays =
    rule.days === undefined
      ? Number.POSITIVE_INFINITY
      : (Math.floor((lastModified + rule.days * DAY_MS) / DAY_MS) + 1) * DAY_MS;
  return Math.min(byDays, rule.date ?? Number.POSITIVE_INFINITY);
}

/**
 * The keys among `objects` that some rule has expired at `now`.
 *
 * @example
 * ```ts
 * expiredKeys([{ key: 'staging/a', lastModified: 0 }], [{ prefix: 'staging/', days: 7 }], 8 * 86_400_000);
 * // ['staging/a']
 * ```
 */
export function expiredKeys(
  objects: Iterable<{ key: string; lastModified: number }>,
  rules: readonly ExpirationRule[],
  now: number,
): string[] {
  const expired: string[] = [];
  for (const object of objects) {
    const due = rules.some(
      (rule) => object.key.startsWith(rule.prefix) && expiresAt(object.lastModified, rule) <= now,
    );
    if (due) expired.push(object.key);
  }
  return expired;
}

export interface LifecycleSweeperOptions {
  s3: S3Client;
  buckets: { name: string; rules: readonly ExpirationRule[] }[];
  /** The clock rules are evaluated against. Default `Date.now`; tests move it forward. */
  now?: () => number;
  /** How often the sweep runs (S3 itself applies rules about once a day). Default one minute. */
  intervalMs?: number;
  log?: (line: string) => void;
}

export interface LifecycleSweeper {
  /** Sweeps every bucket now; resolves to the `bucket/key`s it deleted. */
  sweepNow(): Promise<string[]>;
  stop(): Promise<void>;
}

/**
 * Applies the buckets' expiration rules to the local S3 every `intervalMs`, listing only each rule's
 * prefix. Sweeps never overlap.
 *
 * @example
 * ```ts
 * const sweeper = startLifecycleSweeper({ s3, buckets: [{ name: 'lake', rules }] });
 * await sweeper.sweepNow();
 * await sweeper.stop();
 * ```
 */
export function startLifecycleSweeper(options: LifecycleSweeperOptions): LifecycleSweeper {
  const now = options.now ?? Date.now;
  const log = options.log ?? (() => {});
  let running: Promise<string[]> | undefined;

  const sweepBucket = async (bucket: string, rules: readonly ExpirationRule[]) => {
    const deleted: string[] = [];
    for (const prefix of new Set(rules.map((rule) => rule.prefix))) {
      const objects: { key: string; lastModified: number }[] = [];
      for await (const page of paginateListObjectsV2(
        { client: options.s3 },
        { Bucket: bucket, Prefix: prefix },
      )) {
        for (const object of page.Contents ?? []) {
          objects.push({ key: object.Key as string, lastModified: object.LastModified?.getTime() ?? now() });
        }
      }
      for (const key of expiredKeys(objects, rules, now())) {
        await options.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
        deleted.push(`${bucket}/${key}`);
      }
    }
    return deleted;
  };
  const sweep = () => {
    running ??= (async () => {
      try {
        const deleted = (await Promise.all(options.buckets.map((b) => sweepBucket(b.name, b.rules)))).flat();
        if (deleted.length > 0)
          log(`lifecycle: expired ${deleted.length} objects (${deleted.slice(0, 3).join(', ')}…)`);
        return deleted;
      } finally {
        running = undefined;
      }
    })();
    return running;
  };
  const timer = setInterval(() => {
    sweep().catch((error: Error) =>
      log(`lifecycle sweep failed (${error.name}: ${error.message}); next sweep retries`),
    );
  }, options.intervalMs ?? 60_000).unref();

  return {
    async sweepNow() {
      // A sweep already under way may have listed before the caller's clock moved: run one more.
      await running?.catch(() => {});
      return sweep();
    },
    async stop() {
      clearInterval(timer);
      await running?.catch(() => {});
    },
  };
}
