import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { beforeAll, describe, expect, it } from 'vitest';
import { EVENT_COLUMNS } from '../../lambdas/shared/rows';
import { LakeCatalog } from '../../lib/constructs/lake-catalog';

let template: Template;
beforeAll(() => {
  const stack = new Stack(new App(), 'CatalogTest', {
    env: { account: '123456789012', region: 'eu-west-1' },
  });
  const bucket = s3.Bucket.fromBucketName(stack, 'Lake', 'lake-bucket');
  new LakeCatalog(stack, 'Catalog', {
    bucket,
    databaseName: 'shardline_dev',
    workGroupName: 'shardline-dev',
  });
  template = Template.fromStack(stack);
});

describe('the lake catalog', () => {
  it('has a Glue table per dataset: events as Parquet and CSV, windows, sessions, alerts and late events', () => {
    const tables = template.findResources('AWS::Glue::Table');
    const names = Object.values(tables).map((t) => t.Properties.TableInput.Name);
    expect(names.sort()).toEqual([
      'alerts',
      'engagement',
      'events',
      'events_csv',
      'late_events',
      'sessions',
      'windows',
    ]);
  });

  it('projects dt and hour partitions so queries work right after deploy, with no crawler or MSCK REPAIR', () => {
    template.hasResourceProperties('AWS::Glue::Table', {
      TableInput: Match.objectLike({
        Name: 'events',
        PartitionKeys: [
          { Name: 'dt', Type: 'string' },
          { Name: 'hour', Type: 'string' },
        ],
        Parameters: Match.objectLike({
          'projection.enabled': 'true',
          'projection.dt.type': 'date',
          'projection.dt.format': 'yyyy-MM-dd',
          'projection.hour.type': 'integer',
          'projection.hour.digits': '2',
          'storage.location.template': 's3://lake-bucket/events/parquet/dt=${dt}/hour=${hour}/',
        }),
      }),
    });
    expect(template.findResources('AWS::Glue::Crawler')).toEqual({});
  });

  it('declares the events columns from the same list the Parquet writer uses, with Athena types', () => {
    const events = Object.values(template.findResources('AWS::Glue::Table')).find(
      (t) => t.Properties.TableInput.Name === 'events',
    );
    const columns = events?.Properties.TableInput.StorageDescriptor.Columns as Array<{
      Name: string;
      Type: string;
    }>;
    expect(columns.map((c) => c.Name)).toEqual(EVENT_COLUMNS.map((c) => c.name));
    expect(columns.find((c) => c.Name === 'occurred_at')?.Type).toBe('timestamp');
    expect(columns.find((c) => c.Name === 'sequence_number')?.Type).toBe('string');
  });

  it('gives Athena a workgroup with encrypted results in the lake bucket and a per-query scan limit', () => {
    template.hasResourceProperties('AWS::Athena::WorkGroup', {
      Name: 'shardline-dev',
      WorkGroupConfiguration: {
        EnforceWorkGroupConfiguration: true,
        BytesScannedCutoffPerQuery: 10 * 1024 ** 3,
        ResultConfiguration: {
          OutputLocation: 's3://lake-bucket/athena-results/',
          EncryptionConfiguration: { EncryptionOption: 'SSE_S3' },
        },
      },
    });
  });

  it('ships named queries for the common questions', () => {
    expect(Object.keys(template.findResources('AWS::Athena::NamedQuery')).length).toBeGreaterThanOrEqual(4);
    template.hasResourceProperties('AWS::Athena::NamedQuery', {
      Database: 'shardline_dev',
      WorkGroup: 'shardline-dev',
    });
  });
});
