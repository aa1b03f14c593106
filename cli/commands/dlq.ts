import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type DeadLetterSnapshot, holdDeadLetters, onFailureId, readDeadLetters } from '../deadLetters';
import { type FixFunction, payloadOf, redrive } from '../dlq/redrive';
import { CliError } from '../errors';
import { formatTable } from '../format';
import type { TargetOptions } from '../main';
import { type ResolvedTarget, resolveTarget, targetClients } from '../targets';

export type DlqKind = 'invalid' | 'on-failure' | 'all';

export interface DlqListOptions extends TargetOptions {
  kind: DlqKind;
  limit: number;
}

/** One row per DLQ entry: invalid records (deduplicated by recordId) and on-failure batches. */
export function dlqRows(snapshot: DeadLetterSnapshot, kind: DlqKind) {
  const rows: Array<{
    kind: string;
    id: string;
    reason: string;
    records: number;
    bytes: number | null;
    at: string;
    copies: number;
  }> = [];
  if (kind !== 'on-failure') {
    for (const m of snapshot.invalidRecords) {
      rows.push({
        kind: 'invalid-record',
        id: m.recordId,
        reason: `${m.reason}${m.issues[0] ? `: ${m.issues[0].path || '(root)'} ${m.issues[0].message}` : ''}`,
        records: 1,
        bytes: m.payloadBytes,
        at: m.failedAt,
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
        copies: snapshot.receipts.get(id)?.length ?? 1,
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

export async function dlqList(options: DlqListOptions): Promise<void> {
  const { snapshot } = await snapshotOf(options);
  const rows = dlqRows(snapshot, options.kind).slice(0, options.limit);
  if (options.json) {
    console.log(
      JSON.stringify({
        entries: rows,
        duplicateCopies: snapshot.duplicateCopies,
        unrecognised: snapshot.unrecognised,
      }),
    );
    return;
  }
  const invalid = snapshot.invalidRecords.length;
  const failed = snapshot.onFailure.length;
  console.log(
    `${invalid} invalid record(s), ${failed} on-failure batch(es)${snapshot.duplicateCopies ? `, ${snapshot.duplicateCopies} repeated copies folded` : ''}`,
  );
  console.log(
    formatTable({
      columns: ['kind', 'id', 'reason', 'records', 'bytes', 'at'],
      rows: rows.map((r) => [r.kind, r.id, r.reason.slice(0, 70), r.records, r.bytes, r.at]),
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
  throw new CliError(`no DLQ entry ${id} (list them with \`npx shardline dlq list\`)`);
}

export interface DlqRedriveOptions extends TargetOptions {
  kind: DlqKind;
  fix?: string;
  dryRun: boolean;
}

/** Loads a fix script: a JS or TS module whose default (or `fix`) export maps a record to a fixed one or null. */
export async function loadFix(path: string): Promise<FixFunction> {
  let module: Record<string, unknown>;
  try {
    module = (await import(pathToFileURL(resolve(path)).href)) as Record<string, unknown>;
  } catch (error) {
    throw new CliError(`cannot load the fix script ${path}: ${(error as Error).message}`);
  }
  const fix = module.default ?? module.fix;
  if (typeof fix !== 'function')
    throw new CliError(`${path} must export a function (default export or \`fix\`)`);
  return fix as FixFunction;
}

export async function dlqRedrive(options: DlqRedriveOptions): Promise<void> {
  const fix = options.fix ? await loadFix(options.fix) : undefined;
  const target = await resolveTarget(options);
  const clients = targetClients(target);
  const held = await holdDeadLetters(clients.sqs, target.resources.dlqUrl);
  const reports = await redrive(contextOf(target, clients), held, {
    kind: options.kind,
    fix,
    dryRun: options.dryRun,
  });
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
