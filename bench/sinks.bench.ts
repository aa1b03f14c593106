/**
 * Encoder throughput: 100,000 realistic rows (about 500 bytes of source event JSON each) through each sink,
 * five timed runs after one warm-up, reported as rows per second (median, min, max).
 *
 *   npx tsx bench/sinks.bench.ts [rows]
 */
import { encodeCsv, encodeParquet } from '../lambdas/consumer/sinks';
import type { EventRow } from '../lambdas/shared/rows';

const ROWS = Number(process.argv[2] ?? 100_000);
const RUNS = 5;
const START_MS = Date.UTC(2026, 2, 14);
const CURRENCIES = ['EUR', 'USD', 'GBP', 'JPY', 'CHF'] as const;
const USD_RATES = [1.085, 1, 1.27, 0.0067, 1.13] as const;

/** A deterministic order_created event in its wire form (~500 bytes of JSON), as the producer sends it. */
function sourceEvent(index: number): string {
  const occurredAt = new Date(START_MS + index * 997).toISOString();
  const items = Array.from({ length: 1 + (index % 3) }, (_, item) => ({
    product_id: `sku-${(index * 7 + item) % 5_003}`,
    quantity: 1 + ((index + item) % 4),
    unit_price: Math.round(((index * 31 + item * 17) % 20_000) + 99) / 100,
  }));
  return JSON.stringify({
    event_id: `${(0x1f00_0000 + index).toString(16)}-6d1a-4f55-9a51-${index.toString(16).padStart(12, '0')}`,
    schema_version: 1,
    event_type: 'order_created',
    tenant_id: `tenant-${index % 13}`,
    occurred_at: occurredAt,
    user_id: `user-${(index * 7_919) % 100_003}`,
    session_id: index % 9 === 0 ? undefined : `sess-${(index * 104_729) % 50_021}-${index % 17}`,
    payload: {
      order_id: `ord-${index}-${(index * 2_654_435_761) % 1_000_000_007}`,
      items,
      total_amount: items.reduce((sum, item) => sum + item.quantity * item.unit_price, 0),
      currency: CURRENCIES[index % CURRENCIES.length],
      note: 'gift wrap, "fragile" — merci ✓ (campaign spring-2026)',
    },
  });
}

/** The row the consumer would write for that event, with Kinesis metadata attached. */
function toRow(json: string, index: number): EventRow {
  const event = JSON.parse(json);
  const occurredAt = Date.parse(event.occurred_at);
  const amount = Math.round(event.payload.total_amount * 100) / 100;
  return {
    event_id: event.event_id,
    schema_version: event.schema_version,
    tenant_id: event.tenant_id,
    event_type: event.event_type,
    occurred_at: occurredAt,
    user_id: event.user_id,
    session_id: event.session_id ?? null,
    amount,
    currency: event.payload.currency,
    amount_usd: Math.round(amount * (USD_RATES[index % USD_RATES.length] as number) * 1e6) / 1e6,
    payload: JSON.stringify(event.payload),
    event_date: event.occurred_at.slice(0, 10),
    event_hour: new Date(occurredAt).getUTCHours(),
    shard_id: `shardId-00000000000${index % 4}`,
    sequence_number: (
      49_654_961_345_298_432_180_927_634_158_921_034_877_246_110_347_112_349_714n + BigInt(index)
    )
      .toString()
      .padStart(56, '0'),
    partition_key: event.user_id,
    arrival_time: occurredAt + 40 + (index % 200),
    processed_at: occurredAt + 900 + (index % 500),
  };
}

function measure(name: string, encode: (rows: readonly EventRow[]) => Uint8Array, rows: readonly EventRow[]) {
  const bytes = encode(rows).length; // warm-up: JIT, wasm memory growth
  const rates: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    const started = process.hrtime.bigint();
    encode(rows);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    rates.push(rows.length / seconds);
  }
  rates.sort((a, b) => a - b);
  const format = (rate: number | undefined) => Math.round(rate ?? 0).toLocaleString('en-US');
  console.log(
    `${name.padEnd(8)} median ${format(rates[Math.floor(RUNS / 2)]).padStart(9)} rows/s   ` +
      `min ${format(rates[0]).padStart(9)}   max ${format(rates[RUNS - 1]).padStart(9)}   ` +
      `output ${(bytes / 1e6).toFixed(1)} MB`,
  );
}

const sources = Array.from({ length: ROWS }, (_, index) => sourceEvent(index));
const rows = sources.map(toRow);
const sourceBytes = sources.reduce((sum, json) => sum + Buffer.byteLength(json), 0);
console.log(
  `${ROWS.toLocaleString('en-US')} rows, ${Math.round(sourceBytes / ROWS)} bytes of source JSON per row ` +
    `(${(sourceBytes / 1e6).toFixed(1)} MB), median of ${RUNS} runs, Node ${process.version}`,
);
measure('parquet', encodeParquet, rows);
measure('csv', encodeCsv, rows);
