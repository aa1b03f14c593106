import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { GeneratedRecord } from '../lambdas/producer/generate';
import { maxOldSpaceSizeMb } from '../local/lambda/runtimeEnvironment';
import { tsxImportFlags } from './lib/child';
import { benchRecords, kinesisEvent } from './lib/records';

const run = promisify(execFile);

/** Lambda's invocation payload limit, as the local event source mapping applies it. */
export const PAYLOAD_CAP_BYTES = 6 * 1024 * 1024;

export interface MemoryCase {
  name: string;
  records: number;
  payloadBytes: number;
  valid: number;
  invalid: number;
  processMs: number;
  /** RSS with the consumer's modules loaded, before the event is read. */
  rssLoadedMb: number;
  /** Peak RSS of the whole process (getrusage maxrss). */
  peakRssMb: number;
  /** What the batch itself added: peak minus loaded. */
  batchRssMb: number;
}

export interface MemoryResult {
  /** The Lambda memory the cases are judged against, and the V8 heap limit the function host gives it. */
  lambdaMemoryMb: number;
  maxOldSpaceSizeMb: number;
  cases: MemoryCase[];
}

/** The largest prefix of the records whose Kinesis event serializes to at most `capBytes`. */
export function recordsUnderCap(records: readonly GeneratedRecord[], capBytes: number): GeneratedRecord[] {
  let low = 1;
  let high = records.length;
  const size = (count: number) => Buffer.byteLength(JSON.stringify(kinesisEvent(records.slice(0, count))));
  if (size(high) <= capBytes) return [...records];
  while (low < high) {
    const middle = Math.ceil((low + high) / 2);
    if (size(middle) <= capBytes) low = middle;
    else high = middle - 1;
  }
  return records.slice(0, low);
}

/** Valid order_created events with 500 line items each (about 60 KB): the largest events the schema allows. */
function largeOrders(count: number): GeneratedRecord[] {
  const encoder = new TextEncoder();
  return Array.from({ length: count }, (_, index) => {
    const items = Array.from({ length: 500 }, (_, item) => ({
      product_id: `p-${(index * 500 + item) % 5000}-${'0123456789abcdef'.repeat(2)}`,
      quantity: 1 + (item % 3),
      unit_price: 10 + (item % 90) + 0.99,
    }));
    const event = {
      event_id: `00000000-0000-4000-8000-${String(index).padStart(12, '0')}`,
      schema_version: 1,
      tenant_id: 'acme',
      event_type: 'order_created',
      occurred_at: new Date(Date.parse('2026-11-01T00:10:00.000Z') + index).toISOString(),
      user_id: `u-${index % 200}`,
      session_id: `s-${index}`,
      payload: {
        order_id: `o-${index}`,
        items,
        total_amount: Math.round(items.reduce((sum, i) => sum + i.quantity * i.unit_price, 0) * 100) / 100,
        currency: 'EUR',
      },
    };
    return { data: encoder.encode(JSON.stringify(event)), partitionKey: `acme#u-${index % 200}` };
  });
}

/**
 * Peak RSS of the consumer for one 10,000-record batch and for batches at the 6 MB payload cap, each in a
 * fresh Node process with the V8 heap limit a 512 MB function gets from the local function host.
 *
 * @example
 * ```ts
 * const memory = await runMemoryBench({ lambdaMemoryMb: 512 });
 * ```
 */
export async function runMemoryBench(options: { lambdaMemoryMb: number }): Promise<MemoryResult> {
  const dir = await mkdtemp(join(tmpdir(), 'shardline-bench-memory-'));
  const heapMb = maxOldSpaceSizeMb(options.lambdaMemoryMb);
  const small = benchRecords({ count: 10_000, seed: 10_000 });
  const cases: Array<{ name: string; records: GeneratedRecord[] }> = [
    { name: '10,000 records of ~500 B (over the 6 MB cap: the ESM would split it)', records: small },
    { name: '6 MB cap, ~500 B records', records: recordsUnderCap(small, PAYLOAD_CAP_BYTES) },
    {
      name: '6 MB cap, ~60 KB orders (500 items each)',
      records: recordsUnderCap(largeOrders(200), PAYLOAD_CAP_BYTES),
    },
  ];
  try {
    const results: MemoryCase[] = [];
    for (const [index, entry] of cases.entries()) {
      const file = join(dir, `event-${index}.json`);
      await writeFile(file, JSON.stringify(kinesisEvent(entry.records)));
      const { stdout } = await run(
        process.execPath,
        [
          `--max-old-space-size=${heapMb}`,
          ...tsxImportFlags(),
          join(import.meta.dirname, 'worker.ts'),
          'memory',
          file,
        ],
        {
          env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
          maxBuffer: 1 << 20,
        },
      );
      const measured = JSON.parse(stdout) as Omit<MemoryCase, 'name' | 'batchRssMb'>;
      results.push({ name: entry.name, ...measured, batchRssMb: measured.peakRssMb - measured.rssLoadedMb });
    }
    return { lambdaMemoryMb: options.lambdaMemoryMb, maxOldSpaceSizeMb: heapMb, cases: results };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
