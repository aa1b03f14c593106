/**
 * `npx tsx bench/e2eRate.ts [--events N] [--rate N] [--lake-only]`: one offered rate of the end-to-end
 * bench (bench/e2e.ts `runE2eBench`) on a freshly synthesized stack, without the rest of `npm run bench`,
 * and with as many events as wanted: the quick bench's 6,000 events at 2,000/s last 3 s, too short for the
 * consumer's code to warm up. Prints the latency to commit, the invocations and the machine's CPU; writes
 * nothing to bench/results.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ShardlineError } from '../lambdas/shared/errors';
import { runE2eBench } from './e2e';

class UsageError extends ShardlineError {
  constructor(message: string) {
    super(`${message}; usage: npx tsx bench/e2eRate.ts [--events N] [--rate N] [--lake-only]`);
    this.name = 'UsageError';
  }
}

function positive(name: string, fallback: number): number {
  const index = process.argv.indexOf(`--${name}`);
  if (index < 0) return fallback;
  const value = Number(process.argv[index + 1]);
  if (!Number.isInteger(value) || value <= 0) throw new UsageError(`--${name} takes a positive integer`);
  return value;
}

try {
  const events = positive('events', 20_000);
  const rate = positive('rate', 2_000);
  const analytics = !process.argv.includes('--lake-only');
  const workDir = await mkdtemp(join(tmpdir(), 'shardline-e2e-rate-'));
  try {
    const { results, failures } = await runE2eBench({
      rates: [{ label: `${rate}/S`, ratePerSecond: rate, events, analytics }],
      cdkOutDir: join(workDir, 'cdk.out'),
      synth: true,
      log: (line) => process.stderr.write(`${line}\n`),
    });
    for (const failure of failures) process.stderr.write(`${failure.label} failed: ${failure.error}\n`);
    for (const result of results) {
      const { latencyToCommitMs: latency, invocationMs: invocation, cpu } = result;
      process.stdout.write(
        `${result.label}, ${events} events, analytics ${analytics ? 'on' : 'off'}: p50 ${latency.p50} ms, p95 ${Math.round(latency.p95)} ms, p99 ${latency.p99} ms; ` +
          `${Math.round(result.sustainedEventsPerSecond)} events/s sustained; ${result.invocations} invocations of ${Math.round(result.averageBatchSize)} records, median ${Math.round(invocation.median)} ms (${Math.round(invocation.min)}–${Math.round(invocation.max)}); ` +
          `machine ${Math.round(cpu.machineUtilisation * 100)}% busy\n`,
      );
    }
    if (failures.length > 0) process.exitCode = 1;
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
} catch (error) {
  process.stderr.write(`${(error as Error).message}\n`);
  process.exitCode = 2;
}
