import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, paginateListObjectsV2, type S3Client } from '@aws-sdk/client-s3';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { readCheckpoint } from '../../lambdas/consumer/checkpoint';
import { EVENTS_PREFIX } from '../../lambdas/consumer/objects';
import { parquetRows, parseCsv, ReaderViolation } from '../property/protocolHarness';

/**
 * A plain reader of the lake on the real emulators, as Athena, DuckDB or Spark read it: list the events
 * prefix, read every object (Parquet and CSV), count each record. Each check compares what it sees with
 * the committed checkpoints and with the previous check: no record twice in a format, no record above
 * its shard's committed sequence number (an uncommitted row), nothing that was visible gone.
 */

export interface PlainReaderOptions {
  s3: S3Client;
  dynamo: DynamoDBClient;
  bucketName: string;
  tableName: string;
  streamName: string;
  /** Only objects whose key this accepts are read (for example one shard's); all by default. */
  accept?: (key: string) => boolean;
}

type Counts = Map<string, number>;

export class PlainLakeReader {
  /** Checks done. */
  checks = 0;
  /** What the checks found wrong, in order (a check never throws into the process it observes). */
  readonly violations: string[] = [];
  /** Checks that could not read the lake (an emulator down): they saw nothing, right or wrong. */
  unreadable = 0;
  private previous: { parquet: Counts; csv: Counts } | null = null;
  private readonly parsed = new Map<string, string[]>();
  private queue: Promise<void> = Promise.resolve();

  constructor(private readonly options: PlainReaderOptions) {}

  /** One check; checks run one after another, in the order asked for. Violations are recorded. */
  check(): Promise<void> {
    const run = this.queue.then(() =>
      this.checkNow().catch((error: Error) => {
        if (error instanceof ReaderViolation) this.violations.push(error.message);
        else this.unreadable++;
      }),
    );
    this.queue = run;
    return run;
  }

  private async checkNow(): Promise<void> {
    const { s3, bucketName } = this.options;
    const parquet: Counts = new Map();
    const csv: Counts = new Map();
    const count = (map: Counts, id: string) => map.set(id, (map.get(id) ?? 0) + 1);
    const pages = paginateListObjectsV2({ client: s3 }, { Bucket: bucketName, Prefix: `${EVENTS_PREFIX}/` });
    for await (const page of pages) {
      for (const object of page.Contents ?? []) {
        const key = object.Key ?? '';
        if (this.options.accept && !this.options.accept(key)) continue;
        const ids = await this.recordsOf(key, object.ETag ?? '');
        for (const id of ids) count(key.endsWith('.parquet') ? parquet : csv, id);
      }
    }
    // Read after the objects: a visible object was published after its commit, so before this read.
    const committed = new Map<string, bigint | null>();
    for (const id of new Set([...parquet.keys(), ...csv.keys()])) {
      const shardId = id.slice(0, id.indexOf(':'));
      if (!committed.has(shardId)) {
        const checkpoint = await readCheckpoint(this.options.dynamo, {
          tableName: this.options.tableName,
          streamName: this.options.streamName,
          shardId,
        });
        const last = checkpoint.lastCommittedSequenceNumber;
        committed.set(shardId, last === null ? null : BigInt(last));
      }
    }
    for (const [format, rows] of [
      ['parquet', parquet],
      ['csv', csv],
    ] as const) {
      for (const [id, n] of rows) {
        if (n > 1) throw new ReaderViolation(`${format}: record ${id} visible ${n} times`);
        const last = committed.get(id.slice(0, id.indexOf(':')));
        if (last === null || last === undefined || BigInt(id.slice(id.indexOf(':') + 1)) > last)
          throw new ReaderViolation(`${format}: record ${id} visible but not committed`);
      }
      for (const id of this.previous?.[format].keys() ?? [])
        if (!rows.has(id)) throw new ReaderViolation(`${format}: record ${id} was visible and is gone`);
    }
    this.previous = { parquet, csv };
    this.checks++;
  }

  /** The records (`shardId:sequenceNumber`) of an object, read and parsed once per version of it. */
  private async recordsOf(key: string, etag: string): Promise<string[]> {
    const id = `${key}\u0000${etag}`;
    let ids = this.parsed.get(id);
    if (!ids) {
      const object = await this.options.s3.send(
        new GetObjectCommand({ Bucket: this.options.bucketName, Key: key }),
      );
      const bytes = (await object.Body?.transformToByteArray()) ?? new Uint8Array(0);
      if (key.endsWith('.parquet'))
        ids = parquetRows(bytes).map((row) => `${row.shard_id}:${row.sequence_number}`);
      else if (key.endsWith('.csv')) {
        const [header = [], ...rows] = parseCsv(Buffer.from(bytes).toString('utf8'));
        const shard = header.indexOf('shard_id');
        const seq = header.indexOf('sequence_number');
        ids = rows.map((row) => `${row[shard]}:${row[seq]}`);
      } else ids = [];
      this.parsed.set(id, ids);
    }
    return ids;
  }

  /** Records visible in the last check, per format: `shardId:sequenceNumber` → rows. */
  get visible(): { parquet: Counts; csv: Counts } {
    return this.previous ?? { parquet: new Map(), csv: new Map() };
  }
}

/**
 * Runs `check` after every write the clients make (landed or not), before the caller sees the result:
 * the reader looks at the lake after every step of the protocol that could change what it sees.
 * `check` must not throw (see {@link PlainLakeReader.check}): the observed process must not see the reader.
 *
 * @example
 * ```ts
 * checkAfterEveryWrite([s3, dynamo, sqs], () => reader.check());
 * ```
 */
export function checkAfterEveryWrite(
  clients: (S3Client | DynamoDBClient | SQSClient)[],
  check: () => Promise<void>,
) {
  for (const client of clients)
    (client as S3Client).middlewareStack.add(
      (next, context) => async (args) => {
        try {
          return await next(args);
        } finally {
          // A read changes nothing a reader could see: only writes are steps worth a look.
          if (!/^(Get|List|Head|Scan|Query)/.test(String(context.commandName))) await check();
        }
      },
      { step: 'initialize', name: 'plainReaderCheck' },
    );
}
