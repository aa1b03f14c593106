import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli';
import { startUp, type UpProcess } from '../helpers/upProcess';

/**
 * The kill test: events flow through `shardline up` while the consumer process is SIGKILLed at random
 * moments, and once the whole `up` process group (emulators included) is killed and restarted. The
 * lake must then hold every valid record exactly once and the DLQ every invalid one: `shardline verify`
 * says so. Sized by SHARDLINE_KILL_EVENTS and SHARDLINE_KILLS (`npm run test:kill` runs a large one).
 */
const EVENTS = Number(process.env.SHARDLINE_KILL_EVENTS ?? 6_000);
const CONSUMER_KILLS = Number(process.env.SHARDLINE_KILLS ?? 3);
const dataDir = mkdtempSync(join(tmpdir(), 'shardline-kill-'));
let up: UpProcess | undefined;

afterAll(async () => {
  await up?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function committedRecords(): Promise<number> {
  const run = await runCli(['status', '--json', '--data-dir', dataDir]);
  if (run.code !== 0) return -1;
  return JSON.parse(run.stdout).shards.reduce(
    (sum: number, s: { committedRecords: number }) => sum + s.committedRecords,
    0,
  );
}

async function waitForCommitted(target: number, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  let committed = 0;
  while (Date.now() < deadline) {
    committed = await committedRecords();
    if (committed >= target) return committed;
    await sleep(500);
  }
  throw new Error(`only ${committed}/${target} records committed after ${timeoutMs} ms`);
}

describe('the kill test', () => {
  it('keeps every record exactly once through consumer kills and a kill of the whole up process group', async () => {
    up = await startUp(dataDir);
    const produced = runCli(
      [
        'produce',
        '--events',
        String(EVENTS),
        '--seed',
        '77',
        '--invalid-ratio',
        '0.03',
        '--json',
        '--data-dir',
        dataDir,
      ],
      {
        timeoutMs: 300_000,
      },
    );

    let kills = 0;
    const killer = (async () => {
      while (kills < CONSUMER_KILLS) {
        await sleep(300 + Math.random() * 900);
        const pids = up?.consumerPids() ?? [];
        const victim = pids[Math.floor(Math.random() * pids.length)];
        if (victim === undefined) continue;
        try {
          process.kill(victim, 'SIGKILL');
          kills++;
        } catch {
          // Already gone (a respawn in progress): try again.
        }
      }
    })();
    const produceRun = await produced;
    expect(produceRun.code).toBe(0);
    expect(JSON.parse(produceRun.stdout).sent).toBe(EVENTS);
    await killer;

    // Mid-processing, kill everything at once, then start again on the same data.
    await up.killGroup();
    up = await startUp(dataDir, ['--no-synth']);

    await waitForCommitted(EVENTS, 240_000);
    const verify = await runCli(['verify', '--json', '--data-dir', dataDir], { timeoutMs: 120_000 });
    const report = JSON.parse(verify.stdout);
    for (const output of report.outputs) {
      expect({
        output: output.output,
        missing: output.missing,
        duplicated: output.duplicated,
        unexpected: output.unexpected,
      }).toEqual({
        output: output.output,
        missing: 0,
        duplicated: 0,
        unexpected: 0,
      });
    }
    expect(report.streamRecords).toBe(EVENTS);
    expect(verify.code).toBe(0);
    expect(kills).toBe(CONSUMER_KILLS);
    console.log(
      `kill test: ${EVENTS} events, ${kills} consumer kills + 1 process-group kill, ` +
        `${report.valid} valid / ${report.invalid} invalid, missing 0, duplicated 0, repeated DLQ copies folded: ${report.dlqDuplicateCopies}`,
    );
  }, 600_000);
});
