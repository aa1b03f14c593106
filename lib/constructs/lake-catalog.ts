import { Aws } from 'aws-cdk-lib';
import * as athena from 'aws-cdk-lib/aws-athena';
import * as glue from 'aws-cdk-lib/aws-glue';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { ANALYTICS_DATASETS, type AnalyticsColumnType } from '../../lambdas/shared/analyticsRows';
import { OCCURRED_AT_RANGE } from '../../lambdas/shared/events';
import { type ColumnType, EVENT_COLUMNS } from '../../lambdas/shared/rows';

export interface LakeCatalogProps {
  /** The lake bucket: data under events/, windows/, sessions/, alerts/; Athena results under athena-results/. */
  readonly bucket: s3.IBucket;
  /** Glue database and Athena workgroup name, e.g. `shardline_dev` / `shardline-dev`. */
  readonly databaseName: string;
  readonly workGroupName: string;
  /**
   * Athena cancels a query that would scan more than this.
   *
   * @default 10 GiB
   */
  readonly bytesScannedCutoffPerQuery?: number;
}

/**
 * The projected `dt` range: every event date the lake accepts (`OCCURRED_AT_RANGE`, 2000-01-01 up to,
 * not including, 2100-01-01). Athena cannot see a partition outside the range, so a narrower one would
 * silently hide committed rows. Queries should filter on `dt`: an unfiltered one enumerates every day.
 */
export const PROJECTION_DT_RANGE = [
  new Date(OCCURRED_AT_RANGE.fromMs).toISOString().slice(0, 10),
  new Date(OCCURRED_AT_RANGE.toMs - 1).toISOString().slice(0, 10),
] as const;

/**
 * OpenCSVSerde settings matching `encodeCsv` (lambdas/consumer/sinks/csv.ts): RFC 4180, a quote inside a
 * quoted field doubled. OpenCSVSerde (opencsv 2.3) reads a doubled quote as one quote by itself, but
 * also treats its escape character specially, and it refuses an escape equal to the quote. Its default,
 * a backslash, would turn a payload's `\"` into a quote that ends the field early, so the escape is
 * U+0001, which no lake string holds: every text field rejects control characters and the payload is
 * JSON, which writes them as `\u0001`.
 */
export const CSV_SERDE_PARAMETERS = { separatorChar: ',', quoteChar: '"', escapeChar: '\u0001' } as const;

const GLUE_TYPE: Record<ColumnType | AnalyticsColumnType, string> = {
  string: 'string',
  int32: 'int',
  int64: 'bigint',
  double: 'double',
  boolean: 'boolean',
  timestamptz: 'timestamp',
  date: 'date',
  string_list: 'array<string>',
};

/**
 * The lake's Glue catalog and Athena workgroup: a table per dataset with partition projection on `dt`
 * and `hour`, so queries work right after deploy (no crawler, no MSCK REPAIR), an encrypted result
 * location, a per-query scan limit, and named queries for the common questions. The columns come from
 * the same lists the Parquet writers use.
 */
export class LakeCatalog extends Construct {
  readonly database: glue.CfnDatabase;
  readonly workGroup: athena.CfnWorkGroup;
  readonly tableNames: string[] = [];

  constructor(scope: Construct, id: string, props: LakeCatalogProps) {
    super(scope, id);
    const account = Aws.ACCOUNT_ID;
    this.database = new glue.CfnDatabase(this, 'Database', {
      catalogId: account,
      databaseInput: {
        name: props.databaseName,
        description: 'Shardline lake: events, windows, sessions, alerts',
      },
    });

    const table = (
      name: string,
      prefix: string,
      columns: ReadonlyArray<{ name: string; type: ColumnType | AnalyticsColumnType }>,
      format: 'parquet' | 'csv',
    ) => {
      const location = `s3://${props.bucket.bucketName}/${prefix}/`;
      const storage =
        format === 'parquet'
          ? {
              inputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat',
              outputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat',
              serdeInfo: {
                serializationLibrary: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe',
              },
            }
          : {
              inputFormat: 'org.apache.hadoop.mapred.TextInputFormat',
              outputFormat: 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat',
              // OpenCSVSerde reads RFC 4180 quoting (our CSV quotes commas, quotes and newlines); it reads every
              // column as a string, so the CSV table is for inspection and the Parquet table for analysis.
              // The writer escapes a quote by doubling it, never with a backslash: see CSV_SERDE_PARAMETERS.
              serdeInfo: {
                serializationLibrary: 'org.apache.hadoop.hive.serde2.OpenCSVSerde',
                parameters: CSV_SERDE_PARAMETERS,
              },
            };
      const t = new glue.CfnTable(this, `Table${name}`, {
        catalogId: account,
        databaseName: props.databaseName,
        tableInput: {
          name,
          tableType: 'EXTERNAL_TABLE',
          parameters: {
            classification: format,
            ...(format === 'csv' ? { 'skip.header.line.count': '1' } : {}),
            'projection.enabled': 'true',
            'projection.dt.type': 'date',
            'projection.dt.format': 'yyyy-MM-dd',
            'projection.dt.range': PROJECTION_DT_RANGE.join(','),
            'projection.dt.interval': '1',
            'projection.dt.interval.unit': 'DAYS',
            'projection.hour.type': 'integer',
            'projection.hour.range': '0,23',
            'projection.hour.digits': '2',
            'storage.location.template': `${location}dt=\${dt}/hour=\${hour}/`,
          },
          partitionKeys: [
            { name: 'dt', type: 'string' },
            { name: 'hour', type: 'string' },
          ],
          storageDescriptor: {
            location,
            columns: columns.map((c) => ({
              name: c.name,
              type: format === 'csv' ? 'string' : GLUE_TYPE[c.type],
            })),
            ...storage,
          },
        },
      });
      t.node.addDependency(this.database);
      this.tableNames.push(name);
      return t;
    };

    table('events', 'events/parquet', EVENT_COLUMNS, 'parquet');
    table('events_csv', 'events/csv', EVENT_COLUMNS, 'csv');
    for (const [name, dataset] of Object.entries(ANALYTICS_DATASETS)) {
      table(
        name,
        dataset.prefix,
        dataset.columns as ReadonlyArray<{ name: string; type: AnalyticsColumnType }>,
        'parquet',
      );
    }

    this.workGroup = new athena.CfnWorkGroup(this, 'WorkGroup', {
      name: props.workGroupName,
      description: 'Shardline queries: encrypted results, a scan limit per query',
      state: 'ENABLED',
      recursiveDeleteOption: true,
      workGroupConfiguration: {
        enforceWorkGroupConfiguration: true,
        publishCloudWatchMetricsEnabled: true,
        bytesScannedCutoffPerQuery: props.bytesScannedCutoffPerQuery ?? 10 * 1024 ** 3,
        resultConfiguration: {
          outputLocation: `s3://${props.bucket.bucketName}/athena-results/`,
          encryptionConfiguration: { encryptionOption: 'SSE_S3' },
        },
      },
    });

    const named = (id: string, name: string, description: string, queryString: string) => {
      const q = new athena.CfnNamedQuery(this, id, {
        name,
        description,
        database: props.databaseName,
        workGroup: props.workGroupName,
        queryString,
      });
      q.node.addDependency(this.workGroup);
      q.node.addDependency(this.database);
    };
    named(
      'EventsPerType',
      'events per type, last day',
      'Event counts and USD totals per type over the last day',
      "SELECT event_type, count(*) AS events, round(sum(amount_usd), 2) AS usd FROM events WHERE dt >= date_format(current_date - interval '1' day, '%Y-%m-%d') GROUP BY 1 ORDER BY 2 DESC",
    );
    named(
      'RevenuePerTenant',
      'revenue per tenant and hour',
      'USD per tenant per hour from orders and payments',
      "SELECT tenant_id, dt, hour, round(sum(amount_usd), 2) AS usd FROM events WHERE event_type IN ('order_created', 'payment_processed') GROUP BY 1, 2, 3 ORDER BY 2 DESC, 3 DESC",
    );
    named(
      'RecentAlerts',
      'recent alerts',
      'The 100 newest alerts with severity and evidence',
      'SELECT * FROM alerts ORDER BY alert_time DESC LIMIT 100',
    );
    named(
      'SessionStats',
      'session statistics per tenant',
      'Closed sessions per tenant with average duration',
      'SELECT tenant_id, count(*) AS sessions, avg(duration_ms) / 1000 AS avg_seconds FROM sessions GROUP BY 1 ORDER BY 2 DESC',
    );
    named(
      'UserEngagement',
      'media engagement per user',
      'Viewings, completion rate, binge sessions and average engagement score per user',
      'SELECT tenant_id, user_id, sum(watches) AS watches, round(sum(completed_watches) * 1.0 / sum(watches), 4) AS completion_rate, sum(binge_sessions) AS binge_sessions, round(avg(engagement_score), 1) AS avg_engagement_score FROM engagement GROUP BY 1, 2 ORDER BY 6 DESC',
    );
  }
}
