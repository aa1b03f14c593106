import { formatAge } from '../dlq/failureStore';
import { formatTable } from '../format';
import type { TargetOptions } from '../main';
import {
  collectStatus,
  RECORDS_BEHIND_CAP,
  type StatusReport,
  WATCH_RECORDS_BEHIND_CAP,
} from '../status/collectStatus';
import { resolveTarget, targetClients } from '../targets';

const orDash = (value: unknown) => (value === null || value === undefined ? '-' : String(value));

export function renderStatus(report: StatusReport): string {
  const shardTable = formatTable({
    columns: [
      'shard',
      'committed records',
      'records behind',
      'checkpoint',
      'ms behind',
      'iterator age ms',
      'invocations',
      'in flight',
      'errors',
      'retries',
      'on-failure',
    ],
    rows: report.shards.map((s) => [
      s.shardId,
      s.committedRecords,
      s.recordsBehind === null ? '-' : `${s.recordsBehindComplete ? '' : '≥'}${s.recordsBehind}`,
      s.lastCommittedSequenceNumber
        ? `…${s.lastCommittedSequenceNumber.slice(-12)}${s.pendingPublication ? ' (publishing)' : ''}`
        : '-',
      orDash(s.millisBehindLatest),
      orDash(s.iteratorAgeMs),
      orDash(s.invocations),
      orDash(s.inFlight),
      orDash(s.errors),
      orDash(s.retries),
      orDash(s.recordsSentToOnFailure),
    ]),
  });
  const where = report.local
    ? `local, pid ${report.local.pid}, ${report.idle ? 'idle' : 'processing'}, data in ${report.local.dataDir}`
    : report.target;
  const endpoints = report.local
    ? Object.entries(report.local.endpoints).map(([service, url]) => `  ${service.padEnd(9)}${url}`)
    : [`  region   ${report.resources.region}`];
  return [
    `shardline ${report.stage} (${where})`,
    '',
    shardTable,
    '',
    `DLQ depth: ${report.dlqDepth} message(s)${
      report.deadLetters
        ? `: ${report.deadLetters.invalidRecords} invalid record(s), ${report.deadLetters.onFailureBatches} on-failure batch(es)`
        : ''
    }`,
    report.failureStore
      ? `Failure store: ${report.failureStore.batches} failed batch(es), ${report.failureStore.bytes} bytes` +
        (report.failureStore.oldestAgeMs === null
          ? ''
          : `, oldest ${formatAge(report.failureStore.oldestAgeMs)} old (redrive with \`npx shardline dlq redrive\`)`)
      : 'Failure store: none (the stack predates it)',
    ...(report.deadLetters?.lastErrors ?? []).map(
      (e) => `  last error ${e.at}  ${e.reason}  ${e.issue}  (${e.recordId})`,
    ),
    `Rows committed: ${report.rows.events} event(s), ${report.rows.invalid} invalid, ${report.rows.windows} window(s), ` +
      `${report.rows.sessions} session(s), ${report.rows.alerts} alert(s), ${report.rows.lateEvents} late event(s), ${report.rows.engagement} engagement row(s)`,
    `  newest window ends ${report.latestWindowEnd ?? '-'}, last commit ${report.lastCommitAt ?? '-'}`,
    'Lake:',
    ...Object.entries(report.prefixes)
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(
        ([prefix, p]) =>
          `  ${prefix.padEnd(16)}${String(p.objects).padStart(7)} object(s) ${(p.bytes / 1024).toFixed(1).padStart(10)} KiB`,
      ),
    '',
    report.local ? 'Endpoints:' : 'AWS:',
    ...endpoints,
  ].join('\n');
}

export async function status(options: TargetOptions & { watch?: number | true }): Promise<void> {
  const target = await resolveTarget(options);
  const clients = targetClients(target);
  // Refreshed every few seconds, the records-behind count stops sooner, as the dashboard's does.
  const recordsBehindCap = options.watch === undefined ? RECORDS_BEHIND_CAP : WATCH_RECORDS_BEHIND_CAP;
  const show = async () => {
    const report = await collectStatus(target, clients, { deadLetters: true, recordsBehindCap });
    return options.json ? JSON.stringify(report) : renderStatus(report);
  };
  if (options.watch === undefined) {
    console.log(
      options.json
        ? JSON.stringify(
            await collectStatus(target, clients, { deadLetters: true, recordsBehindCap }),
            null,
            2,
          )
        : await show(),
    );
    return;
  }
  const everyMs = (options.watch === true ? 2 : options.watch) * 1000;
  let running = true;
  process.once('SIGINT', () => {
    running = false;
  });
  while (running) {
    const text = await show();
    // --json --watch prints one JSON object per line (NDJSON) for scripts; otherwise redraw the screen.
    if (options.json) console.log(text);
    else
      process.stdout.write(`\x1b[2J\x1b[H${text}\n\n(refreshing every ${everyMs / 1000} s; Ctrl-C stops)\n`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}
