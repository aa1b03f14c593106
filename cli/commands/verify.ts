import { formatTable } from '../format';
import { resolveTargetOrStoppedCopy, type StoppedLakeCopy } from '../lake/localCopy';
import type { TargetOptions } from '../main';
import { type LakeCopyReport, reconcileLakeCopy } from '../verify/reconcile';
import { recordCountsIn, type VerifyTargetReport, verifyTarget } from '../verify/verifyTarget';

export function renderVerify(report: VerifyTargetReport): string {
  const table = formatTable({
    columns: [
      'output',
      'expected',
      'found',
      'missing',
      'duplicated',
      'unexpected',
      'on-failure/redriven',
      'in failure store',
    ],
    rows: report.outputs.map((o) => [
      o.output,
      o.expected,
      o.found,
      o.missing,
      o.duplicated,
      o.unexpected,
      o.excused,
      o.inFailureStore,
    ]),
  });
  const store = report.failureStore;
  const examples = report.outputs.flatMap((o) =>
    (['missing', 'duplicated', 'unexpected'] as const)
      .filter((kind) => o.examples[kind].length > 0)
      .map((kind) => `  ${o.output} ${kind}: ${o.examples[kind].join(', ')}`),
  );
  return [
    `${report.streamRecords} records in the stream: ${report.valid} valid, ${report.invalid} invalid`,
    table,
    ...(report.dlqDuplicateCopies > 0
      ? [
          `(${report.dlqDuplicateCopies} repeated DLQ message(s) from replays, deduplicated on read by recordId)`,
        ]
      : []),
    ...(store && store.records > 0
      ? [
          `NOT DELIVERED: ${store.records} record(s) in ${store.batches} failed batch(es) wait in the failure ` +
            `store (${store.beyondStream} no longer in the stream); put them back with \`npx shardline dlq redrive\``,
        ]
      : []),
    ...(store === null
      ? ['(no failure store: the stack predates it; redeploy to add FailuresBucketName)']
      : []),
    ...(report.publicationsOwed.length > 0
      ? [
          `PUBLICATION OWED on ${report.publicationsOwed.join(', ')}: committed records not yet in the lake; ` +
            'the scheduled publisher (every minute) or the next batch finishes it: run verify again in a minute',
        ]
      : []),
    ...(examples.length > 0 ? ['Examples:', ...examples] : []),
    report.ok ? 'OK: every record is in its outputs exactly once.' : 'MISMATCH: see above.',
  ].join('\n');
}

/** The one line `verify` prints on a stopped copy for what it could not check. */
const uncheckedOffline = (dataDir: string) =>
  `not checked: the stream and the DLQ (up is not running; start \`npx shardline up --data-dir ${dataDir}\` and verify again)`;

export function renderLakeCopyCheck(report: LakeCopyReport): string {
  const table = formatTable({
    columns: ['output', 'records', 'found', 'only in the other output', 'duplicated'],
    rows: report.outputs.map((o) => [o.output, o.expected, o.found, o.missing, o.duplicated]),
  });
  return [
    `${report.records} records in the stopped copy of the lake`,
    table,
    report.ok
      ? 'OK: Parquet and CSV hold the same records, each exactly once.'
      : 'MISMATCH: Parquet and CSV disagree, see above.',
  ].join('\n');
}

/**
 * On a stopped copy only the outputs can be compared with each other: exit 1 if they disagree, else 2,
 * since the check against the stream did not run.
 */
async function verifyStoppedCopy(copy: StoppedLakeCopy, options: TargetOptions): Promise<void> {
  let report: LakeCopyReport;
  try {
    report = reconcileLakeCopy({
      parquet: await recordCountsIn(copy.lake, 'events'),
      csv: await recordCountsIn(copy.lake, 'events_csv'),
    });
  } finally {
    copy.lake.close();
  }
  console.log(
    options.json
      ? JSON.stringify({ stoppedCopy: copy.mirrorDir, checked: 'lake copy', ...report }, null, 2)
      : renderLakeCopyCheck(report),
  );
  process.stderr.write(`shardline: ${uncheckedOffline(options.dataDir)}\n`);
  process.exitCode = report.ok ? 2 : 1;
}

export async function verify(options: TargetOptions): Promise<void> {
  const resolved = await resolveTargetOrStoppedCopy(options);
  if ('copy' in resolved) return verifyStoppedCopy(resolved.copy, options);
  const report = await verifyTarget(resolved.target, options.dataDir);
  console.log(options.json ? JSON.stringify(report, null, 2) : renderVerify(report));
  if (!report.ok) process.exitCode = 1;
}
