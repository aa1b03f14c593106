import { tableFromIPC } from 'apache-arrow';
import type { KinesisStreamRecord } from 'aws-lambda';
import { readParquet } from 'parquet-wasm/node';
import { type StateSizing, WarmStateCache } from '../../lambdas/consumer/analytics';
import { parseCheckpoint } from '../../lambdas/consumer/checkpoint';
import { type ConsumerDeps, processKinesisEvent } from '../../lambdas/consumer/processBatch';
import { publishPendingCommits } from '../../lambdas/publisher/publishPending';
import type { AnalyticsConfig } from '../../lambdas/shared/analyticsConfig';
import { FINAL_PREFIXES } from '../../lambdas/shared/lakeLayout';
import { kinesisEvent } from '../helpers/kinesisEvents';
import { type CallHook, clientsFor, FakeDynamo, FakeS3, FakeSqs, type FakeWorld } from './fakeAws';

/**
 * An adversarial simulation of the commit protocol, on the real consumer and publisher code against the
 * in-memory AWS (whose DynamoDB evaluates the real condition expressions). One cooperative scheduler
 * decides, from a seed, which pending step runs next: each AWS call of each process is a step, so any
 * interleaving of invocations, zombies and the publisher can happen. On each call a fault may strike:
 *
 * - `fail`: the call fails before reaching AWS (a throttle, a 500);
 * - `lose`: the call takes effect, the response is lost (the client sees a timeout);
 * - `delay`: the client gives up at once, the request takes effect at a random later step;
 * - `stall`: the process pauses for many steps (a zombie: its invocation times out and is retried
 *   beside it, and it resumes later);
 * - `crash`: the process dies here; the call itself may still land later (a PUT in flight).
 *
 * After every step a reader lists the lake's final prefixes and checks what any reader would see: no
 * record twice, no row of an uncommitted record, and no row that was visible before and is gone now.
 */

export interface FaultRates {
  fail: number;
  lose: number;
  delay: number;
  stall: number;
  crash: number;
}

export const NO_FAULTS: FaultRates = { fail: 0, lose: 0, delay: 0, stall: 0, crash: 0 };

export const DEFAULT_FAULTS: FaultRates = { fail: 0.03, lose: 0.03, delay: 0.03, stall: 0.02, crash: 0.02 };

/** A deterministic PRNG (mulberry32): the same seed, the same run. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Step {
  label: string;
  run: () => void;
}

/** The cooperative scheduler: steps become ready now or at a later step count, one runs at a time. */
export class Scheduler {
  private ready: Step[] = [];
  private timed: { at: number; step: Step }[] = [];
  steps = 0;
  /** Every step label in the order run, for a failure's message. */
  readonly trace: string[] = [];

  constructor(readonly random: () => number) {}

  /** A step runnable from now on. */
  add(label: string, run: () => void): void {
    this.ready.push({ label, run });
  }

  /** A step runnable only after `delay` more steps (or earlier, when nothing else can run). */
  addLater(label: string, delay: number, run: () => void): void {
    this.timed.push({ at: this.steps + delay, step: { label, run } });
  }

  /** Waits for this process's turn. */
  turn(label: string, delay = 0): Promise<void> {
    return new Promise((resolve) =>
      delay > 0 ? this.addLater(label, delay, resolve) : this.add(label, resolve),
    );
  }

  get idle(): boolean {
    return this.ready.length === 0 && this.timed.length === 0;
  }

  /** Runs one step; false when nothing is left. */
  async runOne(): Promise<boolean> {
    this.timed.sort((a, b) => a.at - b.at);
    while (this.timed[0] && this.timed[0].at <= this.steps)
      this.ready.push((this.timed.shift() as { step: Step }).step);
    if (this.ready.length === 0) {
      const next = this.timed.shift();
      if (!next) return false;
      this.ready.push(next.step);
    }
    const index = Math.floor(this.random() * this.ready.length);
    const [step] = this.ready.splice(index, 1) as [Step];
    this.steps++;
    this.trace.push(step.label);
    step.run();
    // Let the process that got the turn run until it waits for its next one.
    await new Promise((resolve) => setImmediate(resolve));
    return true;
  }
}

export class SimulatedTimeout extends Error {
  constructor(command: string) {
    super(`simulated timeout of ${command}`);
    this.name = 'TimeoutError';
  }
}

export class SimulatedServerError extends Error {
  constructor(command: string) {
    super(`simulated 500 from ${command}`);
    this.name = 'InternalError';
  }
}

const never = new Promise<never>(() => {});

/**
 * A fault a fixed example scripts on one call: a random fault, or a crash whose fate is fixed:
 * `crash-inflight` (the request was on the wire and lands well after the process died, typically after
 * its retry ran) or `crash-unsent` (the process died before the request left).
 */
export type ScriptedFault = keyof FaultRates | 'ok' | 'crash-inflight' | 'crash-unsent';

/** A hook that runs each call of process `name` as a scheduled step, with faults drawn from `rates`. */
export function faultyHook(
  scheduler: Scheduler,
  name: string,
  rates: () => FaultRates,
  events: string[],
  // Scripted faults by call index, for the fixed examples; they replace the random draw.
  script: Map<number, ScriptedFault> = new Map(),
): { hook: CallHook; crashed: () => boolean } {
  let calls = 0;
  let crashed = false;
  const hook: CallHook = async (command, _input, perform) => {
    const call = calls++;
    await scheduler.turn(`${name}#${call} ${command}`);
    if (crashed) return never;
    const r = rates();
    const draw = scheduler.random();
    const scripted = script.get(call);
    const fault: ScriptedFault =
      scripted ??
      (draw < r.fail
        ? 'fail'
        : draw < r.fail + r.lose
          ? 'lose'
          : draw < r.fail + r.lose + r.delay
            ? 'delay'
            : draw < r.fail + r.lose + r.delay + r.stall
              ? 'stall'
              : draw < r.fail + r.lose + r.delay + r.stall + r.crash
                ? 'crash'
                : 'ok');
    if (fault !== 'ok') events.push(`${name}#${call} ${command}: ${fault}`);
    switch (fault) {
      case 'fail':
        throw new SimulatedServerError(command);
      case 'lose':
        perform();
        throw new SimulatedTimeout(command);
      case 'delay':
        scheduler.addLater(`late ${name}#${call} ${command}`, 1 + Math.floor(scheduler.random() * 40), () => {
          try {
            perform();
          } catch {
            // A late request that fails its condition changes nothing, and nobody hears of it.
          }
        });
        throw new SimulatedTimeout(command);
      case 'stall':
        await scheduler.turn(`${name}#${call} resumes`, 20 + Math.floor(scheduler.random() * 60));
        return perform();
      case 'crash':
        crashed = true;
        // Half the time the request was already on the wire: it lands later.
        if (scheduler.random() < 0.5)
          scheduler.addLater(
            `in-flight ${name}#${call} ${command}`,
            1 + Math.floor(scheduler.random() * 40),
            () => {
              try {
                perform();
              } catch {}
            },
          );
        return never;
      case 'crash-inflight':
        crashed = true;
        scheduler.addLater(
          `in-flight ${name}#${call} ${command}`,
          40 + Math.floor(scheduler.random() * 40),
          () => {
            try {
              perform();
            } catch {}
          },
        );
        return never;
      case 'crash-unsent':
        crashed = true;
        return never;
      default:
        return perform();
    }
  };
  return { hook, crashed: () => crashed };
}

function plain(value: unknown): unknown {
  if (typeof value === 'bigint') return Number(value);
  if (value && typeof value === 'object' && 'toArray' in value)
    return Array.from((value as { toArray(): ArrayLike<unknown> }).toArray(), plain);
  return value;
}

/** Rows of a Parquet object as plain values: integers as numbers, lists as arrays. */
export function parquetRows(bytes: Uint8Array): Record<string, unknown>[] {
  const table = tableFromIPC(readParquet(bytes).intoIPCStream());
  return table
    .toArray()
    .map((row) =>
      Object.fromEntries(
        Object.entries(row.toJSON() as Record<string, unknown>).map(([k, v]) => [k, plain(v)]),
      ),
    );
}

/** Parses RFC 4180 CSV (quoted fields may hold commas, quotes and line breaks) into records of fields. */
export function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      record.push(field);
      field = '';
    } else if (c === '\n') {
      record.push(field);
      records.push(record);
      record = [];
      field = '';
    } else if (c !== '\r') field += c;
  }
  if (field !== '' || record.length > 0) records.push([...record, field]);
  return records;
}

/** Sequence numbers of the rows of an events CSV object. */
function csvSequenceNumbers(bytes: Uint8Array): string[] {
  const [header = [], ...rows] = parseCsv(Buffer.from(bytes).toString('utf8'));
  const column = header.indexOf('sequence_number');
  return rows.map((row) => row[column] as string);
}

/** What a plain reader of the lake's final prefixes sees at one moment. */
export interface ReaderView {
  /** Objects per final key. */
  keys: Set<string>;
  /** Sequence number → how many rows carry it, per dataset/format. */
  parquet: Map<string, number>;
  csv: Map<string, number>;
  /** Analytics rows as canonical JSON, per dataset. */
  analytics: Map<string, string[]>;
}

const rowCache = new WeakMap<Uint8Array, unknown>();
function cached<T>(bytes: Uint8Array, parse: (b: Uint8Array) => T): T {
  if (!rowCache.has(bytes)) rowCache.set(bytes, parse(bytes));
  return rowCache.get(bytes) as T;
}

/** Reads every final object the way a reader of the prefixes (Athena, DuckDB, Spark) does: all of them. */
export function readLake(s3: FakeS3): ReaderView {
  const view: ReaderView = { keys: new Set(), parquet: new Map(), csv: new Map(), analytics: new Map() };
  const count = (map: Map<string, number>, seq: string) => map.set(seq, (map.get(seq) ?? 0) + 1);
  for (const [key, bytes] of s3.objects) {
    if (!FINAL_PREFIXES.some((p) => key.startsWith(`${p}/`))) continue;
    view.keys.add(key);
    if (key.startsWith('events/parquet/'))
      for (const row of cached(bytes, parquetRows)) count(view.parquet, String(row.sequence_number));
    else if (key.startsWith('events/csv/'))
      for (const seq of cached(bytes, csvSequenceNumbers)) count(view.csv, seq);
    else {
      const dataset = key.slice(0, key.indexOf('/'));
      const rows = view.analytics.get(dataset) ?? [];
      rows.push(...cached(bytes, (b) => parquetRows(b).map((row) => JSON.stringify(row))));
      view.analytics.set(dataset, rows);
    }
  }
  return view;
}

export class ReaderViolation extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ReaderViolation';
  }
}

/**
 * Checks one reader view against the previous one and the committed checkpoint: each record at most
 * once per format, none above the committed sequence number, none of what was visible gone.
 */
export function checkReaderView(
  view: ReaderView,
  previous: ReaderView | null,
  lastCommitted: string | null,
): void {
  for (const [format, rows] of [
    ['parquet', view.parquet],
    ['csv', view.csv],
  ] as const) {
    for (const [seq, n] of rows) {
      if (n > 1) throw new ReaderViolation(`${format}: record ${seq} visible ${n} times`);
      if (lastCommitted === null || BigInt(seq) > BigInt(lastCommitted))
        throw new ReaderViolation(
          `${format}: record ${seq} visible but not committed (checkpoint ${lastCommitted})`,
        );
    }
    for (const seq of (format === 'parquet' ? previous?.parquet : previous?.csv)?.keys() ?? [])
      if (!rows.has(seq)) throw new ReaderViolation(`${format}: record ${seq} was visible and is gone`);
  }
  for (const key of previous?.keys ?? [])
    if (!view.keys.has(key)) throw new ReaderViolation(`object ${key} was visible and is gone`);
}

export interface SimulationOptions {
  seed: number;
  records: KinesisStreamRecord[];
  config: ConsumerDeps['config'];
  analytics: AnalyticsConfig | null;
  sizing?: StateSizing;
  faults: FaultRates;
  /** Largest batch the simulated mapping delivers. */
  maxBatch: number;
  /** Invocations with faults; after these the run goes on without any, so that it finishes. */
  faultyInvocations: number;
  /** Steps after which the mapping gives up on an invocation (Lambda's timeout). */
  timeoutSteps: number;
  /** Whether the scheduled publisher runs (every `publisherEvery` steps) while the mapping works. */
  publisherEvery: number | null;
  /** Faults scripted per invocation and call index, for fixed examples. */
  script?: Map<number, Map<number, ScriptedFault>>;
  /** Fixed batch boundaries for the fixed examples (sizes in delivery order); random when absent. */
  batches?: number[];
  /** Execution environments invocations are spread over (each has its own warm analytics states). */
  environments?: number;
}

export interface SimulationResult {
  world: FakeWorld;
  view: ReaderView;
  invocations: number;
  /** Every fault that struck, for a failure's message. */
  events: string[];
  trace: string[];
  readerChecks: number;
}

function batchFrom(records: KinesisStreamRecord[], start: number, size: number) {
  return records.slice(start, Math.min(records.length, start + size));
}

/**
 * Runs the simulated mapping over `records` (one shard) until every record is acknowledged, the
 * publisher, zombies and late requests alongside, then drains: every late request lands and the
 * publisher runs once more, as its schedule would. Throws a ReaderViolation at the first bad view.
 */
export async function simulate(options: SimulationOptions): Promise<SimulationResult> {
  const random = prng(options.seed);
  const scheduler = new Scheduler(random);
  const world: FakeWorld = { dynamo: new FakeDynamo(), s3: new FakeS3(), sqs: new FakeSqs() };
  const events: string[] = [];
  const environments = Array.from({ length: options.environments ?? 2 }, () => new WarmStateCache());
  let invocations = 0;
  let position = 0;
  let faulty = true;
  let previous: ReaderView | null = null;
  let readerChecks = 0;

  const lastCommitted = () => {
    const item = [...world.dynamo.items.values()].find((i) => i.sk?.S === 'checkpoint');
    return parseCheckpoint('shard', item).lastCommittedSequenceNumber;
  };
  const check = () => {
    const view = readLake(world.s3);
    checkReaderView(view, previous, lastCommitted());
    previous = view;
    readerChecks++;
  };

  const invoke = (batch: KinesisStreamRecord[]) => {
    const index = invocations++;
    const environment = environments[index % environments.length] as WarmStateCache;
    const { hook } = faultyHook(
      scheduler,
      `inv${index}`,
      () => (faulty ? options.faults : NO_FAULTS),
      events,
      options.script?.get(index),
    );
    const deps: ConsumerDeps = {
      ...clientsFor(world, hook),
      config: options.config,
      analytics: options.analytics,
      analyticsStateSizing: options.sizing,
      newId: () => `attempt-${index}-${Math.floor(random() * 1e9)}`,
    };
    return processKinesisEvent(kinesisEvent(batch), { ...deps, warmStates: environment }).then(
      () => 'ok' as const,
      () => 'failed' as const,
    );
  };

  const publisherRun = (label: string) => {
    const { hook } = faultyHook(scheduler, label, () => (faulty ? options.faults : NO_FAULTS), events);
    return publishPendingCommits({ ...clientsFor(world, hook), config: options.config }).then(
      () => 'ok' as const,
      () => 'failed' as const,
    );
  };

  // The mapping: one invocation at a time per shard, retried on failure or timeout (a timed-out one
  // keeps running beside its retry), bisected now and then, and sometimes replayed from an earlier
  // position, as after a restart of the poller.
  const mapping = (async () => {
    let size = options.batches?.[0] ?? 1 + Math.floor(random() * options.maxBatch);
    let fixed = 0;
    while (position < options.records.length) {
      if (invocations >= options.faultyInvocations) faulty = false;
      if (invocations > options.faultyInvocations + 4 * options.records.length + 50)
        throw new Error('the simulated mapping made no progress');
      const batch = batchFrom(options.records, position, size);
      const outcome = await Promise.race([
        invoke(batch),
        scheduler
          .turn(`timeout of inv${invocations - 1}`, options.timeoutSteps)
          .then(() => 'timeout' as const),
      ]);
      if (outcome === 'ok') {
        position += batch.length;
        if (!options.batches && faulty && random() < 0.1)
          position = Math.max(0, position - Math.floor(random() * 6));
        fixed++;
        size = options.batches?.[fixed] ?? 1 + Math.floor(random() * options.maxBatch);
      } else if (!options.batches && batch.length > 1 && random() < 0.5) size = Math.ceil(batch.length / 2);
      else size = batch.length;
    }
  })();
  let mappingDone = false;
  let mappingError: unknown = null;
  mapping.then(
    () => {
      mappingDone = true;
    },
    (error) => {
      mappingDone = true;
      mappingError = error;
    },
  );

  let publishing = false;
  while (!mappingDone || !scheduler.idle) {
    if (
      options.publisherEvery &&
      !publishing &&
      scheduler.steps % options.publisherEvery === 0 &&
      !mappingDone
    ) {
      publishing = true;
      void publisherRun(`pub@${scheduler.steps}`).then(() => {
        publishing = false;
      });
    }
    const ran = await scheduler.runOne();
    check();
    if (!ran && !mappingDone) await new Promise((resolve) => setImmediate(resolve));
    if (mappingError) throw mappingError;
    // Zombies that never resume and crashed processes hold no step: once the mapping is done and only
    // their never-settling promises remain, the scheduler is idle and the loop ends.
  }
  // The shard goes quiet: only the scheduled publisher comes by now, without faults.
  faulty = false;
  const finalRun = publisherRun('pub-final');
  while (!scheduler.idle) {
    await scheduler.runOne();
    check();
  }
  if ((await finalRun) !== 'ok') throw new Error('the final publisher run failed');
  return { world, view: readLake(world.s3), invocations, events, trace: scheduler.trace, readerChecks };
}
