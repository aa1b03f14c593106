import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { RunningState } from '../../cli/dashboard/dashboardState';
import type { StatusReport } from '../../cli/status/collectStatus';
import { CLI, PROJECT_ROOT, runCli } from '../helpers/cli';
import { startUp, type UpProcess } from '../helpers/upProcess';

/**
 * `shardline dashboard` in a real browser: Debian's chromium (never a downloaded one), driven by
 * playwright-core. The page first shows the empty state, recovers by itself when `up` starts, then
 * charts a live run; the numbers it shows must be the ones `shardline status --json` prints. The last
 * test saves the README's screenshot, docs/images/dashboard.png, in the middle of a second run.
 */

const CHROMIUM = '/usr/bin/chromium';
const APT_LINE = 'apt-get update && apt-get install -y chromium';
/** The flags these machines need (see the machine notes): without the network ones Chromium keeps calling out. */
const CHROMIUM_FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const SCREENSHOT = join(PROJECT_ROOT, 'docs', 'images', 'dashboard.png');
const EVENTS = 3_000;

const scratch = mkdtempSync(join(tmpdir(), 'shardline-dashboard-'));
const dataDir = join(scratch, 'data');
let dashboard: ChildProcess | undefined;
let up: UpProcess | undefined;
let browser: BrowserContext | undefined;
let page: Page;

/** Starts `shardline dashboard --json` and returns the URL it prints. */
async function startDashboard(): Promise<string> {
  const child = spawn(process.execPath, [CLI, 'dashboard', '--json', '--data-dir', dataDir], {
    cwd: PROJECT_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  dashboard = child;
  let stderr = '';
  child.stderr?.on('data', (chunk) => {
    stderr += chunk;
  });
  const [line] = (await Promise.race([
    once(child.stdout as NodeJS.ReadableStream, 'data'),
    once(child, 'exit').then(() => {
      throw new Error(`shardline dashboard exited: ${stderr}`);
    }),
  ])) as [Buffer];
  return (JSON.parse(line.toString()) as { url: string }).url;
}

async function status(): Promise<StatusReport> {
  const run = await runCli(['status', '--json', '--data-dir', dataDir]);
  if (run.code !== 0) throw new Error(`shardline status failed: ${run.stderr}`);
  return JSON.parse(run.stdout) as StatusReport;
}

/** A number as the page prints it ("4,000"), read back. */
async function shownNumber(testId: string): Promise<number> {
  const text = (await page.getByTestId(testId).textContent()) ?? '';
  return Number(text.replaceAll(',', ''));
}

/** Records behind as the page prints them: "1,234", or "≥ 100,000" when status stopped counting. */
function recordsBehindAsShown(shard: StatusReport['shards'][number]): string {
  if (shard.recordsBehind === null) return '–';
  return `${shard.recordsBehindComplete ? '' : '≥ '}${shard.recordsBehind.toLocaleString('en-US')}`;
}

const chromiumInstalled = existsSync(CHROMIUM);

// Without the browser every test fails, each with the line that installs it (a failing beforeAll would
// only mark them skipped).
beforeEach(() => {
  if (!chromiumInstalled) {
    throw new Error(
      `the dashboard's browser test needs Debian's chromium at ${CHROMIUM}; install it with \`${APT_LINE}\``,
    );
  }
});

beforeAll(async () => {
  if (!chromiumInstalled) return;
  mkdirSync(dataDir, { recursive: true });
  const url = await startDashboard();
  browser = await chromium.launchPersistentContext(join(scratch, 'chromium-profile'), {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_FLAGS,
    viewport: { width: 1400, height: 1000 },
  });
  page = await browser.newPage();
  await page.goto(url);
});

afterAll(async () => {
  await browser?.close();
  if (dashboard && dashboard.exitCode === null) {
    dashboard.kill('SIGTERM');
    await once(dashboard, 'exit');
  }
  await up?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

describe('shardline dashboard in headless Chromium', () => {
  it('shows the empty state, with the command to run, while nothing runs in the data directory', async () => {
    const empty = page.getByTestId('empty-state');
    await empty.waitFor({ state: 'visible' });
    expect(await empty.textContent()).toContain(`shardline up is not running in ${dataDir}`);
    expect(await page.locator('#empty-command').textContent()).toBe(`npx shardline up --data-dir ${dataDir}`);
  });

  it('recovers by itself when shardline up starts', async () => {
    up = await startUp(dataDir);
    await page.getByTestId('chart-lag').locator('[data-testid^="lag-shardId-"]').first().waitFor();
    expect(await page.getByTestId('empty-state').isHidden()).toBe(true);
    await expect
      .poll(() => page.getByTestId('pipeline-status').textContent(), { timeout: 10_000 })
      .toMatch(/idle|processing/);
  }, 120_000);

  it('charts a live run with numbers that match shardline status --json', async () => {
    // With the injected anomalies, so that alerts, sessions and windows all have rows (and the README
    // screenshot, taken later in this run, shows them).
    const produced = await runCli([
      'produce',
      '--events',
      String(EVENTS),
      '--rate',
      '1500',
      '--seed',
      '5',
      '--invalid-ratio',
      '0.03',
      '--anomalies',
      '--json',
      '--data-dir',
      dataDir,
    ]);
    expect(produced.stderr).toBe('');
    const { sent, failed } = JSON.parse(produced.stdout) as { sent: number; failed: number };
    expect(failed).toBe(0);
    expect(sent).toBeGreaterThan(EVENTS);

    // The page follows the run until every record is committed and the mapping is idle; from then on
    // the numbers hold still, so the page and `status --json` must agree.
    await expect.poll(() => shownNumber('committed-records'), { timeout: 30_000 }).toBe(sent);
    await expect
      .poll(() => page.getByTestId('pipeline-status').textContent(), { timeout: 30_000 })
      .toBe('idle');
    const report = await status();
    expect(report.shards.reduce((sum, s) => sum + s.committedRecords, 0)).toBe(sent);
    const query = runCli([
      'query',
      'SELECT event_type, count(*) AS events FROM events GROUP BY ALL',
      '--json',
      '--data-dir',
      dataDir,
    ]);

    await expect.poll(() => shownNumber('dlq-depth'), { timeout: 10_000 }).toBe(report.dlqDepth);
    expect(report.dlqDepth).toBeGreaterThan(0);
    for (const shard of report.shards) {
      await expect
        .poll(() => shownNumber(`shard-committed-${shard.shardId}`), { timeout: 10_000 })
        .toBe(shard.committedRecords);
      await expect
        .poll(() => page.getByTestId(`lag-${shard.shardId}`).getAttribute('data-value'), { timeout: 10_000 })
        .toBe(String(shard.millisBehindLatest ?? ''));
      // Drained: status counts nothing after the checkpoint, and the chart and the table say so.
      expect([shard.recordsBehind, shard.recordsBehindComplete]).toEqual([0, true]);
      await expect
        .poll(() => page.getByTestId(`records-behind-${shard.shardId}`).getAttribute('data-value'), {
          timeout: 10_000,
        })
        .toBe(String(shard.recordsBehind));
      const shown = recordsBehindAsShown(shard);
      expect(
        await page.getByTestId(`records-behind-${shard.shardId}`).locator('.bar-value').textContent(),
      ).toBe(shown);
      expect(await page.getByTestId(`shard-records-behind-${shard.shardId}`).textContent()).toBe(shown);
    }

    // The count tiles show the checkpoints' exactly-once row counters, and the newest window end.
    const tiles = {
      'rows-windows': report.rows.windows,
      'rows-sessions': report.rows.sessions,
      'rows-alerts': report.rows.alerts,
      'rows-late-events': report.rows.lateEvents,
      'rows-invalid': report.rows.invalid,
    };
    for (const [testId, rows] of Object.entries(tiles)) {
      await expect.poll(() => shownNumber(testId), { timeout: 10_000 }).toBe(rows);
    }
    expect(report.rows.events + report.rows.invalid).toBe(sent);
    expect(Math.min(report.rows.windows, report.rows.sessions, report.rows.alerts)).toBeGreaterThan(0);
    const windowEnd = page.getByTestId('latest-window-end');
    await expect
      .poll(() => windowEnd.getAttribute('data-value'), { timeout: 10_000 })
      .toBe(report.latestWindowEnd);
    expect(await windowEnd.textContent()).toBe(report.latestWindowEnd?.slice(11, 19));

    // The line chart drew both series, and its "in" points add up to what was put on the stream.
    const rates = page.getByTestId('chart-rates');
    expect(Number(await rates.locator('path.series.in').getAttribute('data-points'))).toBeGreaterThan(10);
    expect(Number(await rates.locator('path.series.out').getAttribute('data-points'))).toBeGreaterThan(0);
    const state = (await page.evaluate(async () => (await fetch('/api/state')).json())) as RunningState;
    const putOnStream = state.rates.points.reduce((sum, p) => sum + (p.in ?? 0), 0);
    expect(putOnStream).toBe(sent);

    // The events-per-type bars, once the lake has been mirrored, count what DuckDB counts.
    const counts = JSON.parse((await query).stdout) as { event_type: string; events: number }[];
    expect(counts.reduce((sum, c) => sum + c.events, 0)).toBe(sent - report.dlqDepth);
    for (const { event_type, events } of counts) {
      await expect
        .poll(() => page.getByTestId(`event-type-${event_type}`).getAttribute('data-value'), {
          timeout: 15_000,
        })
        .toBe(String(events));
    }
    expect(await page.getByTestId('dlq-sparkline').locator('polyline').count()).toBe(1);
  }, 90_000);

  it('saves the README screenshot while a second burst flows through', async () => {
    const BURST = 3_000;
    const committedBefore = await shownNumber('committed-records');
    const burst = runCli([
      'produce',
      '--events',
      String(BURST),
      '--rate',
      '750',
      '--seed',
      '6',
      '--data-dir',
      dataDir,
    ]);
    // Caught mid-burst: records going in, then records coming out and some of the burst committed. The two
    // are separate waits: on a loaded machine the consumer trails the 4-second burst by more than the rate
    // window, so "in" can already read 0 when a tenth of the burst is committed (a CI run failed that way).
    await expect.poll(() => shownNumber('rate-in'), { timeout: 30_000, interval: 100 }).toBeGreaterThan(0);
    const committing = async () =>
      (await shownNumber('rate-out')) > 0 &&
      (await shownNumber('committed-records')) >= committedBefore + BURST / 10;
    await expect.poll(committing, { timeout: 60_000, interval: 100 }).toBe(true);
    mkdirSync(join(PROJECT_ROOT, 'docs', 'images'), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    expect((await burst).code).toBe(0);
  }, 120_000);

  it('goes back to the empty state when shardline up stops', async () => {
    await up?.stop();
    await page.getByTestId('empty-state').waitFor({ state: 'visible', timeout: 10_000 });
    expect(await page.getByTestId('pipeline-status').textContent()).toBe('not running');
  });
});
