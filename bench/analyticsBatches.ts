/**
 * `npx tsx bench/analyticsBatches.ts [--runs N] [--records N] [--sizes 100,1000] [--users N] [--split-bytes N] [--max-deltas N]`:
 * the consumer core with the stream analytics on, the way the handler runs it, for a few batch sizes,
 * without the rest of `npm run bench`. The same measurement as the "with analytics" column of
 * bench/results/latest.md (bench/consumer.ts `benchBatchSize`), in about a minute. `--users 6667` puts
 * 20,000 users on the shard (warmed up first). `--max-deltas 0` writes a full snapshot at every commit
 * (as before snapshot chains), to compare. `node --cpu-prof --import tsx bench/analyticsBatches.ts` shows
 * where the time goes.
 */
import { SNAPSHOT_SIZING } from '../lambdas/consumer/analytics';
import { DEFAULT_ANALYTICS_CONFIG } from '../lambdas/shared/analyticsConfig';
import { benchBatchSize } from './consumer';

function option(name: string, fallback: string): string {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? (process.argv[index + 1] ?? fallback) : fallback;
}

const sizes = option('sizes', '100,1000').split(',').map(Number);
const runs = Number(option('runs', '3'));
const records = Number(option('records', '5000'));
// An experiment, not the consumer's setting: a smaller split makes more, smaller state items.
const splitBytes = Number(option('split-bytes', String(SNAPSHOT_SIZING.splitBytes)));
const users = Number(option('users', '200'));
const maxDeltas = Number(option('max-deltas', String(SNAPSHOT_SIZING.maxDeltas)));

const fixed = (value: number, digits = 0) => value.toFixed(digits).padStart(9);
process.stdout.write(
  'records per batch | records/s median (min–max) | per CPU-second | ms per batch median | snapshot bytes | S3 PUTs | WRU | naive peer records/s\n',
);
for (const batchSize of sizes) {
  const result = await benchBatchSize(batchSize, {
    runs,
    recordsPerRun: Math.max(records, batchSize),
    analytics: DEFAULT_ANALYTICS_CONFIG,
    analyticsStateSizing: { ...SNAPSHOT_SIZING, splitBytes, maxDeltas },
    usersPerTenant: users,
    warmUpRecords: users > 200 ? users * 9 : 0,
  });
  const { recordsPerSecond: rate, cpuRecordsPerSecond: cpu, msPerBatch, perBatch, naive } = result;
  process.stdout.write(
    `${fixed(batchSize)} | ${fixed(rate.median)} (${rate.min.toFixed(0)}–${rate.max.toFixed(0)}) | ${fixed(cpu.median)} | ${fixed(msPerBatch.median, 1)} | ${fixed(result.snapshotBytes)} | ${fixed(perBatch.s3Puts, 1)} | ${fixed(perBatch.writeRequestUnits, 1)} | ${fixed(naive?.recordsPerSecond.median ?? 0)}\n`,
  );
}
