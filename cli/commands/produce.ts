import { CliError } from '../errors';
import { invokeProducer } from '../invokeProducer';
import { fileLog } from '../logs';
import type { TargetOptions } from '../main';
import { type InputFormat, openInput } from '../produce/inputSource';
import { type GeneratorOptions, producerRequest } from '../produce/producerRequest';
import { openProducerSession } from '../produce/producerSession';
import { type ProgressBar, progressBar } from '../produce/progressBar';
import { type SendFileSummary, sendFile } from '../produce/sendFile';
import { resolveTarget, targetClients } from '../targets';

export interface ProduceOptions extends TargetOptions, GeneratorOptions {
  /** Send the events of this file (`-`: standard input) instead of generated ones. */
  file?: string;
  format?: InputFormat;
  strict?: boolean;
}

/** The generator options that mean nothing with --file. */
export const GENERATOR_ONLY_OPTIONS = ['events', 'invalidRatio', 'seed', 'tenants', 'anomalies'] as const;

const shardList = (shards: Record<string, number>) =>
  Object.entries(shards)
    .map(([shard, n]) => `${shard}: ${n}`)
    .join(', ');

/**
 * The summary of a file sent, for people.
 *
 * @example
 * ```ts
 * fileSummaryLines(summary, 1200); // ['sent 1000 records (0 failed) in 1200 ms …', …]
 * ```
 */
export function fileSummaryLines(summary: SendFileSummary, elapsedMs: number): string[] {
  const lines = [
    `sent ${summary.sent} of ${summary.records} records (${summary.failed} failed) in ${elapsedMs} ms, ${summary.invocations} producer invocation(s): ${shardList(summary.shards)}`,
  ];
  if (summary.invalid > 0) {
    const where = summary.invalidSamples.map((s) => s.line).join(', ');
    lines.push(
      `${summary.invalid} of them are not valid events and will be in the DLQ (line ${where}${summary.invalid > summary.invalidSamples.length ? ', …' : ''}): see \`npx shardline dlq\`, or use --strict to refuse them`,
    );
  }
  if (summary.oversized.length > 0)
    lines.push(
      `${summary.oversized.length} record(s) NOT sent: larger than a Kinesis record (1 MiB): line ${summary.oversized
        .slice(0, 10)
        .map((o) => o.line)
        .join(', ')}`,
    );
  return lines;
}

async function produceFile(options: ProduceOptions & { file: string }): Promise<void> {
  if (options.file === '-' && process.stdin.isTTY)
    throw new CliError(
      'nothing is piped into standard input: `cat events.ndjson | npx shardline produce --file -`, or give a file',
    );
  const target = await resolveTarget(options);
  const log = await fileLog(options.dataDir, 'producer.log');
  const producer = openProducerSession(target, targetClients(target), log);
  let bar: ProgressBar | undefined;
  const started = Date.now();
  let summary: SendFileSummary;
  try {
    summary = await sendFile(
      async () => {
        const source = await openInput(options.file, options.format);
        bar ??= progressBar(source.totalBytes);
        return source;
      },
      producer,
      {
        strict: options.strict ?? false,
        rereadable: options.file !== '-',
        ...(options.rate ? { rate: options.rate } : {}),
        onProgress: (progress) => bar?.update(progress),
      },
    );
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code?.startsWith('Z_'))
      throw new CliError(`${options.file} is not valid gzip: ${(error as Error).message}`);
    throw error;
  } finally {
    bar?.done();
    await producer.close();
    log.close();
  }
  const elapsedMs = Date.now() - started;
  if (options.json) console.log(JSON.stringify({ ...summary, elapsedMs }));
  else for (const line of fileSummaryLines(summary, elapsedMs)) console.log(line);
  if (summary.failed > 0 || summary.oversized.length > 0) process.exitCode = 1;
}

export async function produceCommand(
  options: ProduceOptions,
  given: ReadonlySet<string> = new Set(),
): Promise<void> {
  if (options.file !== undefined) {
    const ignored = GENERATOR_ONLY_OPTIONS.filter((name) => given.has(name));
    if (ignored.length > 0)
      throw new CliError(
        `--file sends the file's events: drop ${ignored.map((n) => `--${n.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`).join(', ')}`,
      );
    return produceFile(options as ProduceOptions & { file: string });
  }
  if (options.strict || options.format)
    throw new CliError(
      '--strict and --format apply to --file: add --file PATH (or --file - for standard input)',
    );
  const target = await resolveTarget(options);
  const started = Date.now();
  const log = await fileLog(options.dataDir, 'producer.log');
  const response = await invokeProducer(target, targetClients(target), producerRequest(options), log).finally(
    () => log.close(),
  );
  const elapsedMs = Date.now() - started;
  if (options.json) {
    console.log(JSON.stringify({ ...response, elapsedMs }));
  } else {
    console.log(
      `sent ${response.sent} records (${response.failed} failed) in ${elapsedMs} ms: ${shardList(response.shards)}`,
    );
  }
  if (response.failed > 0) process.exitCode = 1;
}
