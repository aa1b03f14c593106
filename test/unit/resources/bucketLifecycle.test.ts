import { describe, expect, it } from 'vitest';
import { STAGING_EXPIRATION_DAYS, STAGING_PREFIX } from '../../../lambdas/shared/lakeLayout';
import { describeBucketLifecycles, expiredKeys, expiresAt } from '../../../local/resources/bucketLifecycle';
import { UnsupportedTemplateError } from '../../../local/resources/errors';

const DAY = 86_400_000;
const bucketWith = (rules: unknown[]) => ({
  Resources: {
    Lake: { Type: 'AWS::S3::Bucket', Properties: { LifecycleConfiguration: { Rules: rules } } },
    Plain: { Type: 'AWS::S3::Bucket', Properties: {} },
  },
});

describe('describeBucketLifecycles', () => {
  it('reads enabled expiration rules with a Prefix or a Filter prefix, and skips disabled ones', () => {
    const models = describeBucketLifecycles(
      bucketWith([
        { Id: 'staging', Prefix: 'staging/', ExpirationInDays: 7, Status: 'Enabled' },
        { Id: 'tmp', Filter: { Prefix: 'tmp/' }, ExpirationInDays: 1, Status: 'Enabled' },
        { Id: 'off', Prefix: 'state/', ExpirationInDays: 1, Status: 'Disabled' },
        { ExpirationInDays: 365, Status: 'Enabled' },
      ]) as never,
    );
    expect(models).toEqual([
      {
        bucketLogicalId: 'Lake',
        rules: [
          { id: 'staging', prefix: 'staging/', days: 7 },
          { id: 'tmp', prefix: 'tmp/', days: 1 },
          { prefix: '', days: 365 },
        ],
        ignored: [],
      },
    ]);
  });

  it('lists actions with no local meaning instead of dropping them silently', () => {
    const [model] = describeBucketLifecycles(
      bucketWith([
        { Id: 'uploads', AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 }, Status: 'Enabled' },
      ]) as never,
    );
    expect(model).toMatchObject({ rules: [], ignored: ['uploads: AbortIncompleteMultipartUpload'] });
  });

  it('refuses a rule that filters on tags, which the local S3 cannot evaluate', () => {
    expect(() =>
      describeBucketLifecycles(
        bucketWith([
          { Id: 'tagged', Filter: { Tag: { Key: 'a', Value: 'b' } }, ExpirationInDays: 1, Status: 'Enabled' },
        ]) as never,
      ),
    ).toThrow(UnsupportedTemplateError);
  });
});

describe('expiresAt', () => {
  it('adds the days and rounds up to the next midnight UTC (the S3 User Guide example)', () => {
    const created = Date.parse('2014-01-15T10:30:00Z');
    expect(new Date(expiresAt(created, { prefix: '', days: 3 })).toISOString()).toBe(
      '2014-01-19T00:00:00.000Z',
    );
  });

  it('expires on an ExpirationDate', () => {
    const date = Date.parse('2026-02-01T00:00:00Z');
    expect(expiresAt(0, { prefix: '', date })).toBe(date);
  });
});

describe('expiredKeys', () => {
  const rules = [{ prefix: `${STAGING_PREFIX}/`, days: STAGING_EXPIRATION_DAYS }];
  const created = Date.parse('2026-12-01T12:00:00Z');
  const objects = [
    { key: 'staging/shardId-0/a.bundle', lastModified: created },
    { key: 'state/shardId-0/a.snapshot', lastModified: created },
    { key: 'events/parquet/dt=2026-12-01/hour=12/x.parquet', lastModified: created },
  ];

  it('keeps a staged bundle until the midnight after its seven days', () => {
    expect(expiredKeys(objects, rules, Date.parse('2026-12-08T23:59:59Z'))).toEqual([]);
  });

  it('expires only the staged bundle once its time has come, never state or final objects', () => {
    expect(expiredKeys(objects, rules, Date.parse('2026-12-09T00:00:00Z'))).toEqual([
      'staging/shardId-0/a.bundle',
    ]);
    expect(expiredKeys(objects, rules, created + 365 * DAY)).toEqual(['staging/shardId-0/a.bundle']);
  });
});
