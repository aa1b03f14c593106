import { barChart, chartMessage, formatMs, formatNumber, lineChart, sparkline } from './charts.js';

/**
 * The dashboard page: polls GET /api/state every second and renders it. The server does the
 * arithmetic (cli/dashboard/dashboardState.ts); this file only draws.
 */

const POLL_MS = 1000;

const byId = (id) => document.getElementById(id);

const timeOfDay = (iso) => (iso ? new Date(iso).toLocaleTimeString('en-GB', { hour12: false }) : '–');

/** "failure store: 3 batches, oldest 5h", from the status report's failure store summary. */
function describeFailureStore(store) {
  if (!store) return 'failure store: –';
  if (store.batches === 0) return 'failure store: empty';
  const age = store.oldestAgeMs;
  const oldest =
    age < 60_000
      ? `${Math.floor(age / 1_000)}s`
      : age < 3_600_000
        ? `${Math.floor(age / 60_000)}m`
        : age < 86_400_000
          ? `${Math.floor(age / 3_600_000)}h`
          : `${Math.floor(age / 86_400_000)}d`;
  return `failure store: ${store.batches} batch${store.batches === 1 ? '' : 'es'}, oldest ${oldest}`;
}

function setText(id, text) {
  const element = byId(id);
  if (element.textContent !== text) element.textContent = text;
}

function showBanner(text) {
  const banner = byId('banner');
  banner.hidden = !text;
  banner.textContent = text ?? '';
}

function setPill(kind, text) {
  const pill = byId('pill');
  pill.className = `pill ${kind}`;
  pill.textContent = text;
}

function renderNotRunning(state) {
  byId('live').hidden = true;
  byId('empty').hidden = false;
  setText('empty-dir', state.dataDir);
  setText('empty-command', state.startCommand);
  setText('stage', '');
  setText('meta', state.dataDir);
  setPill('stopped', 'not running');
  showBanner(null);
}

const MAX_CELL_CHARACTERS = 48;

/** 2026-11-01T03:12:09.123Z → 2026-11-01 03:12:09; anything else as text. */
function cellText(value) {
  if (value === null || value === undefined) return '';
  if (typeof value === 'object') return JSON.stringify(value);
  const text = String(value);
  const timestamp = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})/.exec(text);
  return timestamp ? `${timestamp[1]} ${timestamp[2]}` : text;
}

function renderRows(containerId, result, { missing, none }) {
  const container = byId(containerId);
  container.replaceChildren();
  if (!result || result.rows.length === 0) {
    const p = document.createElement('p');
    p.className = 'chart-empty';
    p.textContent = result ? none : missing;
    container.append(p);
    container.dataset.rendered = result ? 'empty' : 'missing';
    return;
  }
  const table = document.createElement('table');
  const head = table.createTHead().insertRow();
  for (const column of result.columns) {
    const th = document.createElement('th');
    th.textContent = column;
    head.append(th);
  }
  const body = table.createTBody();
  for (const row of result.rows) {
    const tr = body.insertRow();
    for (const value of row) {
      const td = tr.insertCell();
      const text = cellText(value);
      // Evidence JSON and id lists run long: the cell shows the start, the tooltip all of it.
      td.textContent = text.length > MAX_CELL_CHARACTERS ? `${text.slice(0, MAX_CELL_CHARACTERS)}…` : text;
      if (text.length > MAX_CELL_CHARACTERS) td.title = text;
      if (typeof value === 'number') td.className = 'num';
    }
  }
  container.append(table);
  container.dataset.rendered = 'true';
}

const shortShard = (shardId) => `shard ${Number(shardId.replace(/^shardId-/, ''))}`;

/** Records behind as status prints them: "≥" when the count stopped at its cap. */
function recordsBehindText(shard) {
  if (shard.recordsBehind === null) return '–';
  return `${shard.recordsBehindComplete ? '' : '≥ '}${formatNumber(shard.recordsBehind)}`;
}

function renderShardTable(shards) {
  const body = byId('shards-body');
  body.replaceChildren();
  for (const shard of shards) {
    const tr = body.insertRow();
    const cells = [
      [shard.shardId, ''],
      [formatNumber(shard.committedRecords), 'num', `shard-committed-${shard.shardId}`],
      [recordsBehindText(shard), 'num', `shard-records-behind-${shard.shardId}`],
      [shard.lastCommittedSequenceNumber ? `…${shard.lastCommittedSequenceNumber.slice(-12)}` : '–', 'mono'],
      [formatMs(shard.millisBehindLatest), 'num', `shard-lag-${shard.shardId}`],
      [formatMs(shard.iteratorAgeMs), 'num'],
      [formatNumber(shard.invocations), 'num'],
      [formatNumber(shard.errors), shard.errors > 0 ? 'num bad' : 'num'],
    ];
    for (const [text, className, testId] of cells) {
      const td = tr.insertCell();
      td.textContent = text;
      if (className) td.className = className;
      if (testId) td.dataset.testid = testId;
    }
  }
}

function renderLake(lake) {
  const snapshot = lake.snapshot;
  setText(
    'lake-refreshed',
    snapshot ? `lake read at ${timeOfDay(snapshot.refreshedAt)}` : 'reading the lake…',
  );
  if (!snapshot) {
    chartMessage(byId('chart-event-types'), lake.error ?? 'reading the lake…');
    chartMessage(byId('chart-windows'), lake.error ?? 'reading the lake…');
    return;
  }
  if (snapshot.eventsByType.length === 0) {
    chartMessage(
      byId('chart-event-types'),
      'No events in the lake yet: produce some with npx shardline produce.',
    );
  } else {
    barChart(byId('chart-event-types'), {
      categories: snapshot.eventsByType.map((c) => ({ key: c.key, values: [c.count] })),
      series: [{ name: 'events', className: 'types' }],
      testId: 'event-type',
    });
  }
  if (snapshot.windowsByType === null) {
    chartMessage(byId('chart-windows'), 'This lake has no windows view yet.');
  } else if (snapshot.windowsByType.length === 0) {
    chartMessage(byId('chart-windows'), 'No windows closed yet.');
  } else {
    barChart(byId('chart-windows'), {
      categories: snapshot.windowsByType.map((c) => ({ key: c.key, values: [c.count] })),
      series: [{ name: 'windows', className: 'windows' }],
      testId: 'window-type',
    });
  }
  renderRows('alerts', snapshot.recentAlerts, {
    missing: 'This lake has no alerts view yet.',
    none: 'No alerts.',
  });
  renderRows('sessions', snapshot.recentSessions, {
    missing: 'This lake has no sessions view yet.',
    none: 'No sessions yet.',
  });
}

/** The checkpoints' exactly-once row counters; the window end is event time, so it stays in UTC. */
function renderCommitted(committed) {
  const rows = committed?.rows;
  setText('rows-windows', formatNumber(rows?.windows));
  setText('rows-sessions', formatNumber(rows?.sessions));
  setText('rows-alerts', formatNumber(rows?.alerts));
  setText('rows-late-events', formatNumber(rows?.lateEvents));
  setText('rows-invalid', formatNumber(rows?.invalid));
  const windowEnd = committed?.latestWindowEnd ?? null;
  const [day, time] = windowEnd ? [windowEnd.slice(0, 10), windowEnd.slice(11, 19)] : [null, '–'];
  setText('latest-window-end', time);
  byId('latest-window-end').dataset.value = windowEnd ?? '';
  const noWindow = committed ? 'no window closed yet' : 'event time, UTC';
  setText('latest-window-end-date', day ? `${day}, event time, UTC` : noWindow);
  const lastCommit = committed?.lastCommitAt ?? null;
  setText('last-commit', `all shards' checkpoints${lastCommit ? `, last at ${timeOfDay(lastCommit)}` : ''}`);
}

function renderLag(shards) {
  if (shards.length === 0) {
    chartMessage(byId('chart-records-behind'), 'Reading the shards…');
    chartMessage(byId('chart-lag'), 'Reading the shards…');
    return;
  }
  barChart(byId('chart-records-behind'), {
    categories: shards.map((s) => ({
      key: s.shardId,
      label: shortShard(s.shardId),
      values: [s.recordsBehind],
      texts: [recordsBehindText(s)],
    })),
    series: [{ name: 'records behind', className: 'backlog' }],
    testId: 'records-behind',
  });
  barChart(byId('chart-lag'), {
    categories: shards.map((s) => ({
      key: s.shardId,
      label: shortShard(s.shardId),
      values: [s.millisBehindLatest, s.iteratorAgeMs],
    })),
    series: [
      { name: 'behind latest', className: 'lag' },
      { name: 'iterator age', className: 'age' },
    ],
    format: formatMs,
    testId: 'lag',
  });
}

function renderRunning(state) {
  byId('empty').hidden = true;
  byId('live').hidden = false;
  setText('stage', state.stage);
  setText('meta', `pid ${state.pid} · up since ${timeOfDay(state.startedAt)} · ${state.dataDir}`);
  if (state.committedRecords === null) setPill('starting', 'reading…');
  else if (state.idle === null) setPill('starting', 'starting');
  else if (state.idle) setPill('idle', 'idle');
  else setPill('processing', 'processing');
  showBanner(state.warning ?? state.lake.error);

  setText('rate-in', formatNumber(state.rates.latestIn));
  setText('rate-out', formatNumber(state.rates.latestOut));
  setText('committed-records', formatNumber(state.committedRecords));
  renderCommitted(state.committed);
  setText('dlq-depth', formatNumber(state.dlq.depth));
  sparkline(byId('dlq-sparkline'), state.dlq.history);
  setText('failure-store', describeFailureStore(state.failureStore));

  const points = state.rates.points;
  lineChart(byId('chart-rates'), {
    times: points.map((p) => p.t),
    series: [
      { name: 'in: put on the stream', className: 'in', values: points.map((p) => p.in) },
      { name: 'out: committed', className: 'out', values: points.map((p) => p.out) },
    ],
    unit: 'events/s',
  });
  renderLag(state.shards);
  renderShardTable(state.shards);
  const objects = state.objects;
  setText(
    'objects',
    objects
      ? `${formatNumber(objects.parquet)} Parquet and ${formatNumber(objects.csv)} CSV objects, ${formatNumber(objects.bytes / 1024)} KiB`
      : '',
  );
  renderLake(state.lake);
}

async function refresh() {
  try {
    const response = await fetch('/api/state', { cache: 'no-store' });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    const state = await response.json();
    if (state.status === 'not-running') renderNotRunning(state);
    else renderRunning(state);
    setText('updated', `updated ${timeOfDay(state.generatedAt)}`);
    document.body.dataset.state = state.status;
  } catch {
    setPill('stopped', 'no dashboard');
    showBanner('The dashboard server is not answering: is `shardline dashboard` still running?');
    document.body.dataset.state = 'unreachable';
  } finally {
    setTimeout(refresh, POLL_MS);
  }
}

refresh();
