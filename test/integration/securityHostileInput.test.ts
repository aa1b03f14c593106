import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readDeadLetters } from '../../cli/deadLetters';
import { openTargetLake } from '../../cli/lake/targetLake';
import { localTarget } from '../../cli/targets';
import type { DeadLetterMessage } from '../../lambdas/consumer/deadLetter';
import { chunkRecords } from '../../lambdas/producer/putRecords';
import { kinesisClient, s3Client, sqsClient } from '../../lambdas/shared/clients';
import { clientOptionsFor } from '../../local/emulators';
import { expectedRowValues, type HostileCase, loadHostileCorpus } from '../fixtures/hostile/corpus';
import { lossAndDuplicates, type PipelineHarness, startHarness } from '../soak/harness';

/**
 * The whole hostile-input corpus through the real local pipeline: every record put on the stream, read
 * by the event source mapping, processed by the bundled consumer, and checked where it landed: the lake
 * row (Parquet and CSV) or the DLQ message with its reason, a claim-checked payload byte for byte. Then
 * ordinary traffic must still flow, `shardline verify` must be clean, and no secret in a payload may
 * reach a log.
 */
const ORDINARY_EVENTS = 300;
/** Secret-looking values inside payloads: they may be in the lake or the DLQ, never in a log line. */
const SECRETS = ['AKIAIOSFODNN7EXAMPLE', 'sk_live_51Hh4rdS3cretValue', 'hunter2-correct-horse-battery'];
const SECRET_RECORDS = [
  {
    id: 'secret-in-valid-event',
    data: JSON.stringify({
      event_id: '5ec2e7aa-0000-4000-8000-000000000001',
      schema_version: 1,
      tenant_id: 'acme',
      event_type: 'page_view',
      occurred_at: '2026-11-01T03:15:00Z',
      user_id: `user-${SECRETS[0]}`,
      payload: { url: `/login?token=${SECRETS[1]}` },
    }),
  },
  {
    id: 'secret-in-invalid-record',
    data: `{"event_type":"login","password":"${SECRETS[2]}","api_key":"${SECRETS[0]}"`,
  },
];

interface Landed {
  case: HostileCase;
  shardId: string;
  sequenceNumber: string;
}

const cases = loadHostileCorpus();
let harness: PipelineHarness;
let landed: Landed[];
let lakeRows: Map<string, { parquet: Record<string, unknown>; csv: Record<string, unknown> }>;
let deadLetters: Map<string, DeadLetterMessage>;

const recordId = (l: Pick<Landed, 'shardId' | 'sequenceNumber'>) => `${l.shardId}:${l.sequenceNumber}`;

async function putAll(records: Array<{ data: Uint8Array; partitionKey: string }>) {
  const kinesis = kinesisClient(clientOptionsFor(harness.pipeline.emulators, 'kinesis'));
  const placed: Array<{ shardId: string; sequenceNumber: string }> = [];
  try {
    for (const chunk of chunkRecords(records)) {
      const response = await kinesis.send(
        new PutRecordsCommand({
          StreamName: harness.pipeline.runtime.resources.streamName,
          Records: chunk.map((r) => ({ Data: r.data, PartitionKey: r.partitionKey })),
        }),
      );
      expect(response.FailedRecordCount).toBe(0);
      for (const entry of response.Records ?? []) {
        placed.push({ shardId: entry.ShardId as string, sequenceNumber: entry.SequenceNumber as string });
      }
    }
  } finally {
    kinesis.destroy();
  }
  return placed;
}

async function queryRows(
  lake: { query(sql: string): Promise<{ columns: string[]; rows: unknown[][] }> },
  view: string,
) {
  const result = await lake.query(
    `SELECT event_id, tenant_id, event_type, epoch_ms(occurred_at)::DOUBLE AS occurred_at, user_id, session_id,
       amount, currency, amount_usd, payload, event_date::VARCHAR AS event_date, event_hour, partition_key,
       shard_id || ':' || sequence_number AS record_id FROM ${view}`,
  );
  return new Map(
    result.rows.map((row) => {
      const object = Object.fromEntries(result.columns.map((column, index) => [column, row[index]]));
      return [String(object.record_id), object];
    }),
  );
}

beforeAll(async () => {
  harness = await startHarness({ stage: 'hostile' });
  const placed = await putAll([
    ...cases.map((c) => ({ data: c.data, partitionKey: c.partitionKey })),
    ...SECRET_RECORDS.map((r) => ({ data: Buffer.from(r.data), partitionKey: `secret#${r.id}` })),
  ]);
  landed = cases.map((c, index) => ({ ...(placed[index] as Omit<Landed, 'case'>), case: c }));
  const ordinary = await harness.produce({ count: ORDINARY_EVENTS, seed: 91, invalidRatio: 0.02 });
  expect(ordinary).toEqual({ sent: ORDINARY_EVENTS, failed: 0 });
  await harness.waitForCommitted(placed.length + ORDINARY_EVENTS, 90_000);

  const { lake } = await openTargetLake(localTarget(harness.pipeline.runtime), harness.dataDir);
  try {
    const parquet = await queryRows(lake, 'events');
    const csv = await queryRows(lake, 'events_csv');
    lakeRows = new Map([...parquet].map(([id, row]) => [id, { parquet: row, csv: csv.get(id) ?? {} }]));
  } finally {
    lake.close();
  }
  const sqs = sqsClient(clientOptionsFor(harness.pipeline.emulators, 'sqs'));
  const snapshot = await readDeadLetters(sqs, harness.pipeline.runtime.resources.dlqUrl);
  sqs.destroy();
  deadLetters = new Map(snapshot.invalidRecords.map((message) => [message.recordId, message]));
}, 180_000);

afterAll(async () => {
  await harness?.stop();
});

describe('the hostile-input corpus through the real local pipeline', () => {
  it('never makes the consumer fail a batch: every record is handled on the first invocation', () => {
    const shards = harness.pipeline.mapping.stats().shards;
    expect(
      shards.map((s) => ({ shard: s.shardId, errors: s.errors, onFailure: s.recordsSentToOnFailure })),
    ).toEqual(shards.map((s) => ({ shard: s.shardId, errors: 0, onFailure: 0 })));
  });

  it.each(cases.filter((c) => c.expect.outcome === 'lake').map((c) => ({ id: c.id })))(
    '$id lands in Parquet and CSV as the corpus states',
    ({ id }) => {
      const l = landed.find((entry) => entry.case.id === id) as Landed;
      const expected = l.case.expect as Extract<HostileCase['expect'], { outcome: 'lake' }>;
      const row = lakeRows.get(recordId(l));
      expect(row, 'row in the lake').toBeDefined();
      if (!row) return;
      const { event_id: _, ...values } = expectedRowValues(expected.row);
      const columns = Object.fromEntries(Object.entries(values).filter(([column]) => column in row.parquet));
      expect(row.parquet).toMatchObject({ event_id: expected.row.event_id ?? l.case.eventId, ...columns });
      if (expected.row.payload !== undefined) {
        expect(JSON.parse(String(row.parquet.payload))).toEqual(expected.row.payload);
      }
      for (const [column, value] of Object.entries(row.csv)) {
        const text = expected.csv?.[column as keyof typeof expected.csv];
        if (text !== undefined) expect(String(value), `CSV ${column}`).toBe(text);
        else expect(value, `CSV ${column}`).toEqual(row.parquet[column]);
      }
      expect(deadLetters.has(recordId(l))).toBe(false);
    },
  );

  it.each(cases.filter((c) => c.expect.outcome === 'dlq').map((c) => ({ id: c.id })))(
    '$id lands in the DLQ with its reason and its exact payload',
    async ({ id }) => {
      const l = landed.find((entry) => entry.case.id === id) as Landed;
      const expected = l.case.expect as Extract<HostileCase['expect'], { outcome: 'dlq' }>;
      const message = deadLetters.get(recordId(l));
      expect(message, 'DLQ message').toBeDefined();
      if (!message) return;
      expect(message.reason).toBe(expected.reason);
      expect(message.issues.map((issue) => issue.path)).toEqual(expect.arrayContaining(expected.paths ?? []));
      expect(message.payloadBytes).toBe(l.case.data.byteLength);
      expect(message.payloadSha256).toBe(createHash('sha256').update(l.case.data).digest('hex'));
      if (message.payloadS3Key) {
        const s3 = s3Client(clientOptionsFor(harness.pipeline.emulators, 's3'));
        try {
          const object = await s3.send(
            new GetObjectCommand({
              Bucket: harness.pipeline.runtime.resources.bucketName,
              Key: message.payloadS3Key,
            }),
          );
          expect(Buffer.from(await (object.Body?.transformToByteArray() ?? [])).equals(l.case.data)).toBe(
            true,
          );
        } finally {
          s3.destroy();
        }
      } else {
        expect(Buffer.from(message.payloadBase64 ?? '', 'base64').equals(l.case.data)).toBe(true);
      }
      expect(lakeRows.has(recordId(l))).toBe(false);
    },
  );

  it('claim-checks every DLQ payload over 64 KiB, the 1 MiB records included, and inlines the rest', () => {
    const claimChecked = landed
      .filter((l) => l.case.expect.outcome === 'dlq' && l.case.data.byteLength > 64 * 1024)
      .map((l) => l.case.id);
    expect(claimChecked.sort()).toEqual([
      'deep-array',
      'deep-object',
      'deep-value-in-known-field',
      'dlq-payload-over-inline-limit',
      'one-mib-garbage',
      'one-mib-invalid',
      'url-100-kib',
    ]);
    for (const l of landed.filter((entry) => entry.case.expect.outcome === 'dlq')) {
      expect(Boolean(deadLetters.get(recordId(l))?.payloadS3Key), l.case.id).toBe(
        claimChecked.includes(l.case.id),
      );
    }
  });

  it('goes on with ordinary traffic, and shardline verify finds nothing lost or duplicated', async () => {
    const report = await harness.verify();
    expect(lossAndDuplicates(report)).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.streamRecords).toBe(cases.length + SECRET_RECORDS.length + ORDINARY_EVENTS);
  });

  it('writes no secret from a payload into any log: the pipeline log lines and every file under logs/', () => {
    const files = readdirSync(join(harness.dataDir, 'logs')).map((name) =>
      join(harness.dataDir, 'logs', name),
    );
    const texts = [harness.logLines.join('\n'), ...files.map((file) => readFileSync(file, 'utf8'))];
    expect(harness.logLines.some((line) => line.includes('shardline-consumer'))).toBe(true);
    for (const secret of SECRETS) {
      expect(texts.filter((text) => text.includes(secret)).length, secret).toBe(0);
    }
  });
});
