/**
 * Durable SQS state for fauxqs, which keeps queues and messages in memory.
 *
 * Why a journal: fauxqs 2.4 does ship a persistence layer (`startFauxqs({ dataDir })`), but it is built on
 * `node:sqlite`, which Node 20 does not have (fauxqs declares Node >= 22.5). Its stores report every state
 * change through a small write-through interface (`insertMessage`, `deleteMessage`,
 * `updateMessageInflight`, …) before they answer the request. `SqsJournal` implements that interface
 * by appending one JSON line per change to `<dataDir>/sqs/journal.ndjson`, and `loadJournal` replays
 * the file on start the way fauxqs's own SQLite loader does, then compacts it to a snapshot.
 *
 * Guarantees and limits:
 * - A message is journalled before SendMessage answers, and a deletion before DeleteMessage answers,
 *   so an acknowledged call survives SIGKILL of the emulator or of the whole process group (the line
 *   is in the kernel's page cache). There is no fsync per call, so a kernel crash or power loss can lose
 *   the last calls (the same guarantee as kinesalite's and dynalite's LevelDB, which do not sync either).
 * - Queues (attributes, tags), messages, receive counts and in-flight visibility deadlines survive.
 *   FIFO deduplication windows, SNS topics and fauxqs's in-memory S3 do not (Shardline uses neither).
 * - It depends on fauxqs 2.4's internal store shape; the launcher checks the version and says so.
 * - One process owns a journal at a time (`journal.lock` holds the owner's pid).
 */
import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { ShardlineError } from '../../lambdas/shared/errors';
import { isProcessAlive } from '../processes';

/** A message as fauxqs 2.4 stores it (only the fields the replay reads are typed). */
export interface JournalMessage {
  messageId: string;
  approximateReceiveCount: number;
  approximateFirstReceiveTimestamp?: number;
  delayUntil?: number;
  messageGroupId?: string;
  [field: string]: unknown;
}

export interface JournalQueue {
  name: string;
  arn: string;
  attributes: Record<string, string>;
  tags: Record<string, string>;
  createdTimestamp: number;
  lastModifiedTimestamp: number;
  sequenceCounter: number;
}

/** One line of the journal: the name of the fauxqs persistence call and its arguments. */
export type JournalEntry =
  | { op: 'insertQueue'; queue: JournalQueue }
  | { op: 'deleteQueue'; name: string }
  | { op: 'updateQueueAttributes'; name: string; attributes: Record<string, string>; lastModified: number }
  | { op: 'updateQueueSequenceCounter'; name: string; counter: number }
  | { op: 'insertMessage'; queue: string; message: JournalMessage }
  | { op: 'deleteMessage'; messageId: string }
  | {
      op: 'updateMessageInflight';
      messageId: string;
      receiptHandle: string;
      visibilityDeadline: number;
      receiveCount: number;
      firstReceiveTimestamp?: number;
    }
  | { op: 'updateMessageReady'; messageId: string }
  | { op: 'deleteQueueMessages'; queue: string }
  | { op: 'deleteAllMessages' };

export interface JournalMessageState {
  queue: string;
  message: JournalMessage;
  inflight?: { receiptHandle: string; visibilityDeadline: number };
}

/** The SQS state a journal describes; messages keep the order they were enqueued in. */
export interface JournalState {
  queues: Map<string, JournalQueue>;
  messages: Map<string, JournalMessageState>;
}

// Structural view of the fauxqs 2.4 internals the journal plugs into (dist/sqs/sqsStore.js).
interface FauxqsInflightEntry {
  message: JournalMessage;
  receiptHandle: string;
  visibilityDeadline: number;
}

export interface FauxqsQueue {
  name: string;
  arn: string;
  attributes: Record<string, string>;
  tags: Map<string, string>;
  createdTimestamp: number;
  lastModifiedTimestamp: number;
  sequenceCounter: number;
  messages: JournalMessage[];
  delayedMessages: JournalMessage[];
  inflightMessages: Map<string, FauxqsInflightEntry>;
  fifoMessages: Map<string, JournalMessage[]>;
  fifoDelayed: Map<string, JournalMessage[]>;
  fifoLockedGroups: Map<string, number>;
  isFifo(): boolean;
  persistence?: unknown;
}

export interface FauxqsSqsStore {
  createQueue(
    name: string,
    url: string,
    arn: string,
    attributes: Record<string, string>,
    tags: Record<string, string>,
  ): FauxqsQueue;
  allQueues(): Iterable<FauxqsQueue>;
  persistence?: unknown;
}

const JOURNAL_FILE = 'journal.ndjson';
const LOCK_FILE = 'journal.lock';
const DEFAULT_FIFO_GROUP = '__default';

export class JournalCorruptError extends ShardlineError {
  constructor(file: string, line: number, reason: string) {
    super(
      `SQS journal ${file} is unreadable at line ${line} (${reason}): move the file aside to start with empty queues`,
    );
    this.name = 'JournalCorruptError';
  }
}

export class JournalLockedError extends ShardlineError {
  constructor(dir: string, pid: number) {
    super(
      `another SQS emulator (pid ${pid}) owns ${dir}: stop it first, or delete ${join(dir, LOCK_FILE)} if that process is gone`,
    );
    this.name = 'JournalLockedError';
  }
}

/**
 * Folds journal entries into the state they describe. Pure.
 *
 * @example
 * ```ts
 * const state = replayJournal([
 *   { op: 'insertQueue', queue },
 *   { op: 'insertMessage', queue: queue.name, message },
 *   { op: 'deleteMessage', messageId: message.messageId },
 * ]);
 * state.messages.size; // 0
 * ```
 */
export function replayJournal(entries: Iterable<JournalEntry>): JournalState {
  const queues = new Map<string, JournalQueue>();
  const messages = new Map<string, JournalMessageState>();
  const deleteMessagesOf = (queue: string) => {
    for (const [id, state] of messages) if (state.queue === queue) messages.delete(id);
  };
  for (const entry of entries) {
    switch (entry.op) {
      case 'insertQueue':
        queues.set(entry.queue.name, structuredClone(entry.queue));
        break;
      case 'deleteQueue':
        queues.delete(entry.name);
        deleteMessagesOf(entry.name);
        break;
      case 'updateQueueAttributes': {
        const queue = queues.get(entry.name);
        if (queue) {
          queue.attributes = { ...entry.attributes };
          queue.lastModifiedTimestamp = entry.lastModified;
        }
        break;
      }
      case 'updateQueueSequenceCounter': {
        const queue = queues.get(entry.name);
        if (queue) queue.sequenceCounter = entry.counter;
        break;
      }
      case 'insertMessage':
        // A redriven message keeps its id: delete-then-insert moves it to the end of the new queue.
        messages.delete(entry.message.messageId);
        messages.set(entry.message.messageId, {
          queue: entry.queue,
          message: structuredClone(entry.message),
        });
        break;
      case 'deleteMessage':
        messages.delete(entry.messageId);
        break;
      case 'updateMessageInflight': {
        const state = messages.get(entry.messageId);
        if (state) {
          state.inflight = {
            receiptHandle: entry.receiptHandle,
            visibilityDeadline: entry.visibilityDeadline,
          };
          state.message.approximateReceiveCount = entry.receiveCount;
          if (entry.firstReceiveTimestamp !== undefined) {
            state.message.approximateFirstReceiveTimestamp = entry.firstReceiveTimestamp;
          }
        }
        break;
      }
      case 'updateMessageReady': {
        const state = messages.get(entry.messageId);
        if (state) state.inflight = undefined;
        break;
      }
      case 'deleteQueueMessages':
        deleteMessagesOf(entry.queue);
        break;
      case 'deleteAllMessages':
        messages.clear();
        break;
    }
  }
  return { queues, messages };
}

/**
 * The entries that recreate `state` from nothing: what a compacted journal contains. Pure.
 *
 * @example
 * ```ts
 * replayJournal(snapshotEntries(state)); // equal to state
 * ```
 */
export function snapshotEntries(state: JournalState): JournalEntry[] {
  const entries: JournalEntry[] = [];
  for (const queue of state.queues.values()) entries.push({ op: 'insertQueue', queue });
  for (const { queue, message, inflight } of state.messages.values()) {
    if (!state.queues.has(queue)) continue;
    entries.push({ op: 'insertMessage', queue, message });
    if (inflight) {
      entries.push({
        op: 'updateMessageInflight',
        messageId: message.messageId,
        receiptHandle: inflight.receiptHandle,
        visibilityDeadline: inflight.visibilityDeadline,
        receiveCount: message.approximateReceiveCount,
        ...(message.approximateFirstReceiveTimestamp === undefined
          ? {}
          : { firstReceiveTimestamp: message.approximateFirstReceiveTimestamp }),
      });
    }
  }
  return entries;
}

/**
 * Parses journal text. A torn last line (the process died while writing it) is dropped: that call was
 * never acknowledged. Anything else unreadable is an error.
 *
 * @example
 * ```ts
 * parseJournal('{"op":"deleteAllMessages"}\n', 'journal.ndjson'); // [{ op: 'deleteAllMessages' }]
 * ```
 */
export function parseJournal(text: string, file: string): JournalEntry[] {
  const lines = text.split('\n');
  const entries: JournalEntry[] = [];
  lines.forEach((line, index) => {
    if (line === '') return;
    const isLast = index === lines.length - 1;
    try {
      const entry = JSON.parse(line) as JournalEntry;
      if (typeof entry?.op !== 'string') throw new Error('no "op" field');
      entries.push(entry);
    } catch (error) {
      if (isLast) return;
      throw new JournalCorruptError(file, index + 1, (error as Error).message);
    }
  });
  return entries;
}

/**
 * The write side: fauxqs calls these methods (its persistence interface) before it answers a request.
 * Each call appends one line synchronously, so the order of lines is the order of changes.
 */
export class SqsJournal {
  private fd: number | undefined;

  constructor(
    readonly dir: string,
    fd: number,
  ) {
    this.fd = fd;
  }

  insertQueue(queue: FauxqsQueue): void {
    this.append({ op: 'insertQueue', queue: queueRecord(queue) });
  }
  deleteQueue(name: string): void {
    this.append({ op: 'deleteQueue', name });
  }
  updateQueueAttributes(name: string, attributes: Record<string, string>, lastModified: number): void {
    this.append({ op: 'updateQueueAttributes', name, attributes, lastModified });
  }
  updateQueueSequenceCounter(name: string, counter: number): void {
    this.append({ op: 'updateQueueSequenceCounter', name, counter });
  }
  insertMessage(queue: string, message: JournalMessage): void {
    this.append({ op: 'insertMessage', queue, message });
  }
  deleteMessage(messageId: string): void {
    this.append({ op: 'deleteMessage', messageId });
  }
  updateMessageInflight(
    messageId: string,
    receiptHandle: string,
    visibilityDeadline: number,
    receiveCount: number,
    firstReceiveTimestamp: number | undefined,
  ): void {
    this.append({
      op: 'updateMessageInflight',
      messageId,
      receiptHandle,
      visibilityDeadline,
      receiveCount,
      ...(firstReceiveTimestamp === undefined ? {} : { firstReceiveTimestamp }),
    });
  }
  updateMessageReady(messageId: string): void {
    this.append({ op: 'updateMessageReady', messageId });
  }
  deleteQueueMessages(queue: string): void {
    this.append({ op: 'deleteQueueMessages', queue });
  }
  deleteAllMessages(): void {
    this.append({ op: 'deleteAllMessages' });
  }

  /** Closes the file and releases the lock. */
  close(): void {
    if (this.fd === undefined) return;
    fsyncSync(this.fd);
    closeSync(this.fd);
    this.fd = undefined;
    unlinkSync(join(this.dir, LOCK_FILE));
  }

  private append(entry: JournalEntry): void {
    if (this.fd === undefined) throw new Error(`SQS journal in ${this.dir} is closed`);
    writeSync(this.fd, `${JSON.stringify(entry)}\n`);
  }
}

/**
 * Replays `<dir>/journal.ndjson` into a fresh fauxqs SqsStore, compacts the file to a snapshot, and
 * wires a journal into the store so that every later change is appended.
 *
 * @example
 * ```ts
 * const store = new SqsStore();
 * const journal = loadJournal(store, '/data/sqs', (name) => `http://127.0.0.1:4566/000000000000/${name}`);
 * // ... serve requests; on shutdown:
 * journal.close();
 * ```
 */
export function loadJournal(
  store: FauxqsSqsStore,
  dir: string,
  queueUrl: (name: string) => string,
  now: number = Date.now(),
): SqsJournal {
  mkdirSync(dir, { recursive: true });
  acquireLock(dir);
  const file = join(dir, JOURNAL_FILE);
  const state = replayJournal(existsSync(file) ? parseJournal(readFileSync(file, 'utf8'), file) : []);

  // Compact: write the snapshot next to the journal, then atomically replace it.
  const compacted = `${file}.compacting`;
  writeFileSync(
    compacted,
    snapshotEntries(state)
      .map((entry) => `${JSON.stringify(entry)}\n`)
      .join(''),
  );
  const compactedFd = openSync(compacted, 'r+');
  fsyncSync(compactedFd);
  closeSync(compactedFd);
  renameSync(compacted, file);

  restore(store, state, queueUrl, now);
  const journal = new SqsJournal(dir, openSync(file, 'a'));
  store.persistence = journal;
  for (const queue of store.allQueues()) queue.persistence = journal;
  return journal;
}

/** Mirrors fauxqs's own SQLite loader: messages go back to ready, delayed or still in flight. */
function restore(
  store: FauxqsSqsStore,
  state: JournalState,
  queueUrl: (name: string) => string,
  now: number,
) {
  const queues = new Map<string, FauxqsQueue>();
  for (const record of state.queues.values()) {
    const queue = store.createQueue(
      record.name,
      queueUrl(record.name),
      record.arn,
      record.attributes,
      record.tags,
    );
    queue.createdTimestamp = record.createdTimestamp;
    queue.lastModifiedTimestamp = record.lastModifiedTimestamp;
    queue.sequenceCounter = record.sequenceCounter;
    queues.set(record.name, queue);
  }
  for (const { queue: queueName, message, inflight } of state.messages.values()) {
    const queue = queues.get(queueName);
    if (!queue) continue;
    const fifo = queue.isFifo();
    const group = message.messageGroupId ?? DEFAULT_FIFO_GROUP;
    if (inflight && inflight.visibilityDeadline > now) {
      queue.inflightMessages.set(inflight.receiptHandle, { message, ...inflight });
      if (fifo && message.messageGroupId) {
        queue.fifoLockedGroups.set(group, (queue.fifoLockedGroups.get(group) ?? 0) + 1);
      }
      continue;
    }
    const delayed = message.delayUntil !== undefined && message.delayUntil > now;
    if (fifo) {
      const groups = delayed ? queue.fifoDelayed : queue.fifoMessages;
      groups.set(group, [...(groups.get(group) ?? []), message]);
    } else {
      (delayed ? queue.delayedMessages : queue.messages).push(message);
    }
  }
}

function queueRecord(queue: FauxqsQueue): JournalQueue {
  return {
    name: queue.name,
    arn: queue.arn,
    attributes: { ...queue.attributes },
    tags: Object.fromEntries(queue.tags),
    createdTimestamp: queue.createdTimestamp,
    lastModifiedTimestamp: queue.lastModifiedTimestamp,
    sequenceCounter: queue.sequenceCounter,
  };
}

function acquireLock(dir: string) {
  const lock = join(dir, LOCK_FILE);
  try {
    writeFileSync(lock, `${process.pid}\n`, { flag: 'wx' });
    return;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  const owner = Number(readFileSync(lock, 'utf8').trim());
  if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && isProcessAlive(owner)) {
    throw new JournalLockedError(dir, owner);
  }
  // The previous owner is gone (e.g. SIGKILLed): take the lock over.
  writeFileSync(lock, `${process.pid}\n`);
}
