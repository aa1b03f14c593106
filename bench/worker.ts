/**
 * Child-process entry for the parts of the benchmark that need a process of their own:
 *
 *   cpu <json>      consumer core (lake only, with analytics, with analytics at 20,000 users) and its
 *                   naive peer + DuckDB reference, pinned to one core
 *   profile <json>  the consumer core only, for `node --cpu-prof`
 *   memory <file>   one event from a JSON file through the consumer, reporting peak RSS
 *
 * Each prints one JSON document on stdout.
 */
import { readFileSync } from 'node:fs';
import type { KinesisStreamEvent } from 'aws-lambda';
import { processKinesisEvent } from '../lambdas/consumer/processBatch';
import { DEFAULT_ANALYTICS_CONFIG } from '../lambdas/shared/analyticsConfig';
import { benchBatchSize, fakeDeps, runConsumerBench } from './consumer';
import { runDuckDbBench } from './duckdb';

const [mode, argument = '{}'] = process.argv.slice(2);

async function main() {
  switch (mode) {
    case 'cpu': {
      const options = JSON.parse(argument) as {
        batchSizes: number[];
        runs: number;
        recordsPerRun: number;
        analyticsRuns: number;
        analyticsRecordsPerRun: number;
        /** Users per tenant and warm-up records of the large-state run (batches of 100 only). */
        largeState: { usersPerTenant: number; warmUpRecords: number };
      };
      const consumer = await runConsumerBench(options);
      // With analytics a small batch costs about as much as a large one (the state is read and rewritten
      // every batch), so these runs are shorter.
      const consumerWithAnalytics = await runConsumerBench({
        batchSizes: options.batchSizes,
        runs: options.analyticsRuns,
        recordsPerRun: options.analyticsRecordsPerRun,
        analytics: DEFAULT_ANALYTICS_CONFIG,
      });
      const consumerLargeState = await runConsumerBench({
        batchSizes: [100],
        runs: options.analyticsRuns,
        recordsPerRun: options.analyticsRecordsPerRun,
        analytics: DEFAULT_ANALYTICS_CONFIG,
        ...options.largeState,
      });
      const duckdb = await runDuckDbBench(options);
      return { consumer, consumerWithAnalytics, consumerLargeState, duckdb };
    }
    case 'profile': {
      const { batchSize, batches, analytics, usersPerTenant } = JSON.parse(argument) as {
        batchSize: number;
        batches: number;
        analytics: boolean;
        usersPerTenant?: number;
      };
      // Runs 0: the checked pass and one untimed pass, `batches` batches each.
      return benchBatchSize(batchSize, {
        runs: 0,
        recordsPerRun: batchSize * batches,
        analytics: analytics ? DEFAULT_ANALYTICS_CONFIG : null,
        ...(usersPerTenant ? { usersPerTenant } : {}),
      });
    }
    case 'memory': {
      const { deps } = fakeDeps();
      const rssLoadedMb = process.memoryUsage().rss / 2 ** 20;
      // As the Lambda runtime does: the invocation payload arrives as JSON text and is parsed.
      const text = readFileSync(argument, 'utf8');
      const event = JSON.parse(text) as KinesisStreamEvent;
      const started = performance.now();
      const result = await processKinesisEvent(event, deps);
      const shard = result.shards[0];
      return {
        records: event.Records.length,
        payloadBytes: Buffer.byteLength(text),
        valid: shard?.valid ?? 0,
        invalid: shard?.invalid ?? 0,
        processMs: performance.now() - started,
        rssLoadedMb,
        peakRssMb: process.resourceUsage().maxRSS / 1024,
        heapUsedMb: process.memoryUsage().heapUsed / 2 ** 20,
      };
    }
    default:
      throw new Error(`unknown worker mode ${mode}: use cpu, profile or memory`);
  }
}

process.stdout.write(`${JSON.stringify(await main())}\n`);
