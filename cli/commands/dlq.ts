import { existsSync } from 'node:fs';
import { type DeadLetterSnapshot, holdDeadLetters, onFailureId, readDeadLetters } from '../deadLetters';
import {
  type FailedBatch,
  formatAge,
  InvalidSinceError,
  parseSince,
  readFailedBatches,
} from '../dlq/failureStore';
import { payloadOf, redrive, redriveFailedBatches } from '../dlq/redrive';
import { CliError } from '../errors';
import { formatTable } from '../format';
import type { TargetOptions } from '../main';
import { type ResolvedTarget, resolveTarget, targetClients } from '../targets';

export type DlqKind = 'invalid' | 'on-failure' | 'all';

export interface DlqListOptions extends TargetOptions {
  kind: DlqKind;
  limit: number;
}

/**
 * One row per DLQ entry: invalid records (deduplicated by recordId), on-failure messages in the queue,
 * and failed batches in the failure store, each with its record count and age.
 *
 * @example
 * ```ts
 * dlqRows(snapshot, 'all', failedBatches, Date.now()).map((row) => row.kind); // ['invalid-record', 'failed-batch']
 * ```
 */
export function dlqRows(
  snapshot: DeadLetterSnapshot,
  kind: DlqKind,
  failedBatches: readonly FailedBatch[] = [],
  nowMs = Date.now(),
) {
  const rows: Array<{
    kind: string;
    id: string;
    reason: string;
    records: number;
    bytes: number | null;
    at: string;
    ageMs: number;
    copies: number;
  }> = [];
  const ageOf = (at: string) => Math.max(0, nowMs - Date.parse(at));
  if (kind !== 'on-failure') {
    for (const m of snapshot.invalidRecords) {
      rows.push({
        kind: 'invalid-record',
        id: m.recordId,
        reason: `${m.reason}${m.issues[0] ? `: ${m.issues[0].path || '(root)'} ${m.issues[0].message}` : ''}`,
        records: 1,
        bytes: m.payloadBytes,
        at: m.failedAt,
        ageMs: ageOf(m.failedAt),
        copies: snapshot.receipts.get(m.recordId)?.length ?? 1,
      });
    }
  }
  if (kind !== 'invalid') {
    for (const m of snapshot.onFailure) {
      const id = onFailureId(m);
      rows.push({
        kind: 'on-failure',
        id,
        reason: `${m.requestContext.condition ?? 'unknown'} after ${m.requestContext.approximateInvokeCount ?? '?'} invocation(s)`,
        records: m.KinesisBatchInfo.batchSize,
        bytes: null,
        at: m.timestamp,
        ageMs: ageOf(m.timestamp),
        copies: snapshot.receipts.get(id)?.length ?? 1,
      });
    }
    for (const batch of failedBatches) {
      rows.push({
        kind: 'failed-batch',
        id: batch.id,
        reason: `${batch.condition} after ${batch.object.requestContext?.approximateInvokeCount ?? '?'} invocation(s)`,
        records: batch.records.length,
        bytes: batch.records.reduce(
          (sum, record) => sum + Math.floor((record.kinesis.data.length * 3) / 4),
          0,
        ),
        at: batch.failedAt,
        ageMs: ageOf(batch.failedAt),
        copies: 1,
      });
    }
  }
  return rows;
}

async function snapshotOf(options: TargetOptions) {
  const target = await resolveTarget(options);
  const clients = targetClients(target);
  return { target, clients, snapshot: await readDeadLetters(clients.sqs, target.resources.dlqUrl) };
}

const NO_FAILURE_STORE =
  'this stack has no failure store (stack output FailuresBucketName): redeploy it with `npx shardline deploy`';

/** The failed batches of the failure store, or null when the stack has none. */
async function failedBatchesOf(
  target: ResolvedTarget,
  clients: ReturnType<typeof targetClients>,
  since?: Date,
): Promise<FailedBatch[] | null> {
  const bucket = target.resources.failuresBucketName;
  if (!bucket) return null;
  return readFailedBatches(clients.s3, bucket, since ? { since } : {});
}

export async function dlqList(options: DlqListOptions): Promise<void> {
  const { target, clients, snapshot } = await snapshotOf(options);
  const failedBatches = options.kind === 'invalid' ? [] : await failedBatchesOf(target, clients);
  const rows = dlqRows(snapshot, options.kind, failedBatches ?? []).slice(0, options.limit);
  if (options.json) {
    console.log(
      JSON.stringify({
        entries: rows,
        duplicateCopies: snapshot.duplicateCopies,
        unrecognised: snapshot.unrecognised,
        failureStore: failedBatches === null ? null : { batches: failedBatches.length },
      }),
    );
    return;
  }
  const invalid = snapshot.invalidRecords.length;
  const failed = snapshot.onFailure.length;
  console.log(
    `${invalid} invalid record(s), ${failed} on-failure message(s), ${failedBatches?.length ?? 0} failed batch(es) in the failure store${snapshot.duplicateCopies ? `, ${snapshot.duplicateCopies} repeated copies folded` : ''}`,
  );
  if (failedBatches === null && options.kind !== 'invalid') console.log(NO_FAILURE_STORE);
  console.log(
    formatTable({
      columns: ['kind', 'id', 'reason', 'records', 'bytes', 'age', 'at'],
      rows: rows.map((r) => [
        r.kind,
        r.id,
        r.reason.slice(0, 70),
        r.records,
        r.bytes,
        formatAge(r.ageMs),
        r.at,
      ]),
    }),
  );
}

export async function dlqShow(id: string, options: TargetOptions): Promise<void> {
  const { target, clients, snapshot } = await snapshotOf(options);
  const invalid = snapshot.invalidRecords.find((m) => m.recordId === id);
  if (invalid) {
    const raw = await payloadOf({ s3: clients.s3, bucketName: target.resources.bucketName }, invalid);
    const text = raw.toString('utf8');
    const printable = Buffer.from(text, 'utf8').equals(raw);
    const detail = {
      ...invalid,
      payload: printable ? text : undefined,
      payloadHex: printable ? undefined : raw.subarray(0, 256).toString('hex'),
    };
    console.log(JSON.stringify(detail, null, 2));
    return;
  }
  const failed = snapshot.onFailure.find((m) => onFailureId(m) === id);
  if (failed) {
    console.log(JSON.stringify(failed, null, 2));
    return;
  }
  const batch = (await failedBatchesOf(target, clients))?.find((b) => b.id === id);
  if (batch) {
    console.log(JSON.stringify({ key: batch.key, ...batch.object }, null, 2));
    return;
  }
  throw new CliError(`no DLQ entry ${id} (list them with \`npx shardline dlq list\`)`);
}

export interface DlqRedriveOptions extends TargetOptions {
  kind: DlqKind;
  fix?: string;
  dryRun: boolean;
  /** Only failed batches that failed at or after this: a duration back from now (6h) or an ISO date. */
  since?: string;
}

export async function dlqRedrive(options: DlqRedriveOptions): Promise<void> {
  if (options.fix && !existsSync(options.fix))
    throw new CliError(`the fix script ${options.fix} does not exist (pass the path of a JS or TS module)`);
  let since: Date | undefined;
  try {
    since = options.since === undefined ? undefined : parseSince(options.since);
  } catch (error) {
    if (error instanceof InvalidSinceError) throw new CliError(error.message);
    throw error;
  }
  const target = await resolveTarget(options);
  const clients = targetClients(target);
  const context = contextOf(target, clients);
  const held = await holdDeadLetters(clients.sqs, target.resources.dlqUrl);
  const reports = await redrive(context, held, {
    kind: options.kind,
    ...(options.fix ? { fixScript: options.fix } : {}),
    dryRun: options.dryRun,
  });
  if (options.kind !== 'invalid') {
    const failedBatches = await failedBatchesOf(target, clients, since);
    if (failedBatches === null) {
      if (!options.json) console.log(NO_FAILURE_STORE);
    } else {
      reports.push(...(await redriveFailedBatches(context, failedBatches, { dryRun: options.dryRun })));
    }
  }
  const summary: Record<string, number> = {};
  for (const r of reports) summary[r.outcome] = (summary[r.outcome] ?? 0) + 1;
  if (options.json) {
    console.log(JSON.stringify({ summary, entries: reports }));
    return;
  }
  console.log(
    Object.entries(summary)
      .map(([outcome, n]) => `${n} ${outcome}`)
      .join(', ') || 'the DLQ is empty',
  );
  const notable = reports.filter((r) => r.outcome !== 'redriven' && r.outcome !== 'already-redriven');
  if (notable.length > 0) {
    console.log(
      formatTable({
        columns: ['kind', 'id', 'outcome', 'detail'],
        rows: notable.map((r) => [r.kind, r.id, r.outcome, r.detail ?? '']),
      }),
    );
  }
}

function contextOf(target: ResolvedTarget, clients: ReturnType<typeof targetClients>) {
  return {
    kinesis: clients.kinesis,
    dynamo: clients.dynamo,
    s3: clients.s3,
    sqs: clients.sqs,
    streamName: target.resources.streamName,
    tableName: target.resources.tableName,
    bucketName: target.resources.bucketName,
    dlqUrl: target.resources.dlqUrl,
  };
}
