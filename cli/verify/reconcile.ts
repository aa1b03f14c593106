import { compareSequenceNumbers, isInSequenceRange } from '../../lambdas/shared/sequence';

/**
 * The pure core of `shardline verify`: given what the stream holds and what each output holds, find
 * what is missing, duplicated or unexpected. Records are identified by `<shardId>:<sequenceNumber>`.
 */

export interface StreamInventory {
  /** Records that decode to a valid event: each must be in Parquet and CSV exactly once. */
  valid: Set<string>;
  /** Records that do not: each must be in the DLQ (deduplicated on read). */
  invalid: Set<string>;
  /** Per shard, the oldest sequence number still retained; older outputs cannot be checked. */
  oldestRetained: Map<string, string>;
}

/** How many times each record id occurs in one output. */
export type OutputCounts = Map<string, number>;

/**
 * Records that are legitimately absent from an output: covered by an on-failure message still in the
 * DLQ (the event source mapping gave up on them), or already redriven (put back on the stream as new
 * records). Returns why, or null.
 */
export type Excuse = (recordId: string) => 'on-failure' | 'redriven' | 'failure-store' | null;

export interface OutputCheck {
  output: string;
  expected: number;
  found: number;
  missing: number;
  duplicated: number;
  unexpected: number;
  /** Rows for records older than the stream's retention: not checkable, not counted as errors. */
  beyondRetention: number;
  /** Expected records absent because they are in an on-failure message in the DLQ or were redriven. */
  excused: number;
  /**
   * Expected records absent because they wait in the failure store (a failed batch not yet redriven):
   * not lost, not delivered either. Their own category, never counted as excused.
   */
  inFailureStore: number;
  examples: { missing: string[]; duplicated: string[]; unexpected: string[] };
}

export interface VerifyReport {
  ok: boolean;
  streamRecords: number;
  valid: number;
  invalid: number;
  outputs: OutputCheck[];
}

const EXAMPLES = 5;

function isRetained(recordId: string, inventory: StreamInventory): boolean {
  const colon = recordId.lastIndexOf(':');
  const oldest = inventory.oldestRetained.get(recordId.slice(0, colon));
  if (oldest === undefined) return false;
  return compareSequenceNumbers(recordId.slice(colon + 1), oldest) >= 0;
}

/**
 * Checks one output against the records it should hold exactly once.
 *
 * @example
 * ```ts
 * const check = checkOutput('parquet', inventory.valid, parquetCounts, inventory);
 * check.missing; // 0 when nothing was lost
 * ```
 */
export function checkOutput(
  output: string,
  expected: Set<string>,
  counts: OutputCounts,
  inventory: StreamInventory,
  excuse: Excuse = () => null,
): OutputCheck {
  const check: OutputCheck = {
    output,
    expected: expected.size,
    found: 0,
    missing: 0,
    duplicated: 0,
    unexpected: 0,
    beyondRetention: 0,
    excused: 0,
    inFailureStore: 0,
    examples: { missing: [], duplicated: [], unexpected: [] },
  };
  const note = (kind: 'missing' | 'duplicated' | 'unexpected', id: string) => {
    check[kind]++;
    if (check.examples[kind].length < EXAMPLES) check.examples[kind].push(id);
  };
  for (const id of expected) {
    if (counts.has(id)) continue;
    const why = excuse(id);
    if (why === 'failure-store') check.inFailureStore++;
    else if (why) check.excused++;
    else note('missing', id);
  }
  for (const [id, count] of counts) {
    check.found += count;
    if (expected.has(id)) {
      if (count > 1) note('duplicated', id);
    } else if (isRetained(id, inventory)) {
      note('unexpected', id);
    } else {
      check.beyondRetention += count;
    }
  }
  return check;
}

/**
 * Builds the excuse for records covered by on-failure ranges still in the DLQ, by redrive ledger entries
 * (record ids and `shard:start-end` ranges), or by failed batches in the failure store (record ids).
 *
 * @example
 * ```ts
 * const excuse = excuseFrom([{ shardId: 's', start: '1', end: '5' }], new Set(['s:9']), new Set(['s:7']));
 * excuse('s:3'); // 'on-failure'
 * excuse('s:7'); // 'failure-store'
 * ```
 */
export function excuseFrom(
  onFailureRanges: ReadonlyArray<{ shardId: string; start: string; end: string }>,
  redriven: ReadonlySet<string>,
  inFailureStore: ReadonlySet<string> = new Set(),
): Excuse {
  const ranges = onFailureRanges.map((r) => ({ shardId: r.shardId, first: r.start, last: r.end }));
  const redrivenRanges = [...redriven]
    .map((id) => /^(.+):(\d+)-(\d+)$/.exec(id))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ shardId: m[1] as string, first: m[2] as string, last: m[3] as string }));
  const within = (list: typeof ranges, shardId: string, seq: string) =>
    list.some((r) => r.shardId === shardId && isInSequenceRange(seq, r));
  return (recordId) => {
    if (redriven.has(recordId)) return 'redriven';
    const colon = recordId.lastIndexOf(':');
    const shardId = recordId.slice(0, colon);
    const seq = recordId.slice(colon + 1);
    if (within(redrivenRanges, shardId, seq)) return 'redriven';
    if (inFailureStore.has(recordId)) return 'failure-store';
    if (within(ranges, shardId, seq)) return 'on-failure';
    return null;
  };
}

export function reconcile(
  inventory: StreamInventory,
  outputs: { parquet: OutputCounts; csv: OutputCounts; dlq: OutputCounts },
  excuse: Excuse = () => null,
): VerifyReport {
  const checks = [
    checkOutput('events (Parquet)', inventory.valid, outputs.parquet, inventory, excuse),
    checkOutput('events_csv (CSV)', inventory.valid, outputs.csv, inventory, excuse),
    checkOutput('DLQ (invalid records)', inventory.invalid, outputs.dlq, inventory, excuse),
  ];
  return {
    ok: checks.every((c) => c.missing === 0 && c.duplicated === 0 && c.unexpected === 0),
    streamRecords: inventory.valid.size + inventory.invalid.size,
    valid: inventory.valid.size,
    invalid: inventory.invalid.size,
    outputs: checks,
  };
}

export interface LakeCopyReport {
  ok: boolean;
  /** Distinct records found in either output. */
  records: number;
  /** Each output against the union of both: missing means present in the other output only. */
  outputs: OutputCheck[];
}

/**
 * What can be checked without the stream (a stopped pipeline's copy of its lake): that Parquet and CSV
 * hold the same records, each exactly once. Whether either holds every record the stream had, or what
 * the DLQ holds, needs the stream.
 *
 * @example
 * ```ts
 * reconcileLakeCopy({ parquet, csv }).ok; // false if a record is in one output only, or twice in one
 * ```
 */
export function reconcileLakeCopy(outputs: { parquet: OutputCounts; csv: OutputCounts }): LakeCopyReport {
  const union = new Set([...outputs.parquet.keys(), ...outputs.csv.keys()]);
  const inventory: StreamInventory = { valid: union, invalid: new Set(), oldestRetained: new Map() };
  const checks = [
    checkOutput('events (Parquet)', union, outputs.parquet, inventory),
    checkOutput('events_csv (CSV)', union, outputs.csv, inventory),
  ];
  return {
    ok: checks.every((c) => c.missing === 0 && c.duplicated === 0),
    records: union.size,
    outputs: checks,
  };
}
