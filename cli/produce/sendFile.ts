import type { ProducerResponse } from '../invokeProducer';
import { StrictValidationError } from './errors';
import type { InputRecord } from './inputRecord';
import type { InputSource } from './inputSource';
import { invocationChunks, type OversizedRecord } from './invocationChunks';
import { readRecords } from './readRecords';
import { recordProblem } from './validateRecord';

export interface FileProducer {
  send(request: { records: (string | Record<string, unknown>)[] }): Promise<ProducerResponse>;
}

export interface SendFileOptions {
  /** Refuse the input if any record is not a valid event, instead of sending it for the DLQ. */
  strict?: boolean;
  /** Records per second, at most. */
  rate?: number;
  /** Whether the input can be read twice (a file: yes; standard input: no). */
  rereadable?: boolean;
  onProgress?: (progress: { records: number; failed: number; bytesRead: number }) => void;
  maxInvocationBytes?: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export interface InvalidRecord {
  line: number;
  problem: string;
}

export interface SendFileSummary {
  /** Records read from the input. */
  records: number;
  sent: number;
  /** Records the producer could not put on the stream after its retries. */
  failed: number;
  shards: Record<string, number>;
  invocations: number;
  /** Records that are not valid events: sent as is (the consumer's DLQ will hold them). */
  invalid: number;
  /** The first few of them, with why. */
  invalidSamples: InvalidRecord[];
  /** Records larger than a Kinesis record: not sent. */
  oversized: OversizedRecord[];
}

const SAMPLES = 10;
const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function describe(problems: InvalidRecord[], total: number): string {
  const shown = problems
    .slice(0, 5)
    .map((p) => `line ${p.line}: ${p.problem}`)
    .join('; ');
  return `${total} record(s) are not valid events (${shown}${total > 5 ? '; …' : ''})`;
}

/** A first pass over a file for `--strict`: every problem, nothing sent. */
async function refuseInvalid(open: () => Promise<InputSource>): Promise<void> {
  const source = await open();
  const problems: InvalidRecord[] = [];
  let total = 0;
  for await (const record of readRecords(source.stream, source.format)) {
    const problem = recordProblem(record);
    if (problem === null) continue;
    total++;
    if (problems.length < SAMPLES) problems.push({ line: record.line, problem });
  }
  if (total > 0)
    throw new StrictValidationError(
      `--strict: ${describe(problems, total)}; nothing was sent. Fix them, or drop --strict to send them to the DLQ`,
    );
}

/**
 * Streams an input through the producer in requests under Lambda's payload limit, paced to `rate`, and
 * sums up what happened. By default a record that is not a valid event is sent as it is, so that the
 * consumer puts it in the DLQ with its reason (counted here as `invalid`). With `strict`, invalid
 * records are refused up front: a file is checked in a first pass and nothing is sent; standard input,
 * which cannot be read twice, stops at the first invalid record (what came before it was sent).
 *
 * @example
 * ```ts
 * const summary = await sendFile(() => openInput('events.ndjson'), producer, { rereadable: true });
 * ```
 */
export async function sendFile(
  open: () => Promise<InputSource>,
  producer: FileProducer,
  options: SendFileOptions = {},
): Promise<SendFileSummary> {
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? defaultSleep;
  if (options.strict && options.rereadable) await refuseInvalid(open);
  const source = await open();
  const summary: SendFileSummary = {
    records: 0,
    sent: 0,
    failed: 0,
    shards: {},
    invocations: 0,
    invalid: 0,
    invalidSamples: [],
    oversized: [],
  };
  const strictInline = options.strict && !options.rereadable;
  async function* checked(): AsyncGenerator<InputRecord> {
    for await (const record of readRecords(source.stream, source.format)) {
      summary.records++;
      const problem = recordProblem(record);
      if (problem !== null) {
        if (strictInline)
          throw new StrictValidationError(
            `--strict: line ${record.line} is not a valid event (${problem}); ${summary.sent} record(s) before it were already sent`,
          );
        summary.invalid++;
        if (summary.invalidSamples.length < SAMPLES)
          summary.invalidSamples.push({ line: record.line, problem });
      }
      yield record;
    }
  }
  const chunks = invocationChunks(checked(), {
    ...(options.maxInvocationBytes ? { maxBytes: options.maxInvocationBytes } : {}),
    ...(options.rate ? { maxRecords: Math.max(1, Math.ceil(options.rate)) } : {}),
    onOversized: (record) => summary.oversized.push(record),
  });
  const started = now();
  let offered = 0;
  for await (const chunk of chunks) {
    if (options.rate) {
      const wait = started + (offered / options.rate) * 1000 - now();
      if (wait > 0) await sleep(wait);
    }
    const response = await producer.send({ records: chunk.records });
    summary.invocations++;
    summary.sent += response.sent;
    summary.failed += response.failed;
    for (const [shard, n] of Object.entries(response.shards))
      summary.shards[shard] = (summary.shards[shard] ?? 0) + n;
    offered += chunk.records.length;
    options.onProgress?.({ records: summary.sent, failed: summary.failed, bytesRead: source.bytesRead() });
  }
  return summary;
}
