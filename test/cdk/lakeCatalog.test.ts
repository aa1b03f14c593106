import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { beforeAll, describe, expect, it } from 'vitest';
import { encodeCsv } from '../../lambdas/consumer/sinks/csv';
import { OCCURRED_AT_RANGE } from '../../lambdas/shared/events';
import { EVENT_COLUMNS, type EventRow } from '../../lambdas/shared/rows';
import { LakeCatalog } from '../../lib/constructs/lake-catalog';
import { parseOpenCsvLine } from '../helpers/openCsv';

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

  it('projects dt over every event date the lake accepts, so Athena sees every committed row', () => {
    const tables = Object.values(template.findResources('AWS::Glue::Table'));
    const first = new Date(OCCURRED_AT_RANGE.fromMs).toISOString().slice(0, 10);
    const last = new Date(OCCURRED_AT_RANGE.toMs - 1).toISOString().slice(0, 10);
    expect([first, last]).toEqual(['2000-01-01', '2099-12-31']);
    for (const table of tables) {
      expect(table.Properties.TableInput.Parameters['projection.dt.range']).toBe(`${first},${last}`);
    }
  });

  it('reads back, with its own OpenCSVSerde settings, a CSV row whose payload holds \\" and commas', () => {
    const [csvTable] = Object.values(template.findResources('AWS::Glue::Table')).filter(
      (t) => t.Properties.TableInput.Name === 'events_csv',
    );
    const serde = csvTable?.Properties.TableInput.StorageDescriptor.SerdeInfo.Parameters;
    const payload = JSON.stringify({ note: 'say "hi", then \\ and \\"', url: '=cmd|x' });
    const row: EventRow = {
      event_id: '0b6f4f1e-6d1a-4f55-9a51-3c7e2d9a1b00',
      schema_version: 1,
      tenant_id: 'acme',
      event_type: 'page_view',
      occurred_at: Date.UTC(2026, 2, 14, 9, 26, 53, 589),
      user_id: 'user-42',
      session_id: null,
      amount: null,
      currency: null,
      amount_usd: null,
      payload,
      event_date: '2026-03-14',
      event_hour: 9,
      shard_id: 'shardId-000000000001',
      sequence_number: '49654961345298432180927634158921034877246110347112349714',
      partition_key: 'user-42',
      arrival_time: Date.UTC(2026, 2, 14, 9, 26, 54, 1),
      processed_at: Date.UTC(2026, 2, 14, 9, 26, 55, 250),
    };
    const [, line] = Buffer.from(encodeCsv([row]))
      .toString('utf8')
      .split('\n');
    const fields = parseOpenCsvLine(line ?? '', serde);
    expect(fields).toHaveLength(EVENT_COLUMNS.length);
    expect(fields[EVENT_COLUMNS.findIndex((c) => c.name === 'payload')]).toBe(payload);
    expect(fields[EVENT_COLUMNS.findIndex((c) => c.name === 'partition_key')]).toBe('user-42');
  });
});
