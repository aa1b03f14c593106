import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { type DeadLetterMessage, DLQ_MESSAGE_KIND } from '../lambdas/consumer/deadLetter';
import type { KinesisOnFailureMessage } from '../local/esm/onFailureDestination';

/**
 * Reads the dead-letter queue without consuming it, and deduplicates on read: the consumer gives each
 * invalid record's message a deterministic `recordId`, and a replay after a crash may send it twice
 * (docs/EXACTLY_ONCE.md). The event source mapping's on-failure messages are kept apart.
 */

/** The message Lambda's event source mapping sends to an on-failure destination for a Kinesis batch. */
export type OnFailureMessage = KinesisOnFailureMessage;

/** A stable id for an on-failure batch: shard and sequence range. */
export const onFailureId = (message: OnFailureMessage) =>
  `${message.KinesisBatchInfo.shardId}:${message.KinesisBatchInfo.startSequenceNumber}-${message.KinesisBatchInfo.endSequenceNumber}`;

export interface DeadLetterSnapshot {
  /** Invalid records, one per distinct recordId. */
  invalidRecords: DeadLetterMessage[];
  /** Extra copies of invalid-record messages that dedup-on-read removed. */
  duplicateCopies: number;
  /** Event source mapping on-failure messages (batches that exhausted retries or aged out), one per range. */
  onFailure: OnFailureMessage[];
  /** Messages that parse as neither. */
  unrecognised: number;
  /** Receipt handles of every copy, by recordId or on-failure id, for deleting after a redrive. */
  receipts: Map<string, string[]>;
}

/**
 * Receives every visible message with a short visibility timeout, then makes them all visible again.
 *
 * @example
 * ```ts
 * const { invalidRecords, onFailure } = await readDeadLetters(sqs, queueUrl);
 * ```
 */
export async function readDeadLetters(sqs: SQSClient, queueUrl: string): Promise<DeadLetterSnapshot> {
  const held = await holdDeadLetters(sqs, queueUrl);
  await held.release();
  return held;
}

/**
 * Receives every visible message and keeps them hidden (their receipt handles stay valid) until
 * `release`, which makes visible again those not deleted meanwhile. Redrive deletes what it redrove in
 * between.
 */
export async function holdDeadLetters(sqs: SQSClient, queueUrl: string) {
  const messages: Message[] = [];
  for (;;) {
    const page = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        VisibilityTimeout: 120,
        WaitTimeSeconds: 0,
        MessageAttributeNames: ['All'],
      }),
    );
    if (!page.Messages?.length) break;
    messages.push(...page.Messages);
  }
  const snapshot = classify(
    messages.map((m) => ({ body: m.Body ?? '', receiptHandle: m.ReceiptHandle ?? '' })),
  );
  const deleted = new Set<string>();
  return {
    ...snapshot,
    /** Deletes the given messages now, while their receipt handles are current. */
    async remove(receiptHandles: readonly string[]) {
      await deleteDeadLetters(sqs, queueUrl, receiptHandles);
      for (const handle of receiptHandles) deleted.add(handle);
    },
    async release() {
      const keep = messages.filter((m) => !deleted.has(m.ReceiptHandle ?? ''));
      for (let i = 0; i < keep.length; i += 10) {
        const batch = keep.slice(i, i + 10);
        await sqs.send(
          new ChangeMessageVisibilityBatchCommand({
            QueueUrl: queueUrl,
            Entries: batch.map((m, j) => ({
              Id: String(j),
              ReceiptHandle: m.ReceiptHandle,
              VisibilityTimeout: 0,
            })),
          }),
        );
      }
    },
  };
}

export type HeldDeadLetters = Awaited<ReturnType<typeof holdDeadLetters>>;

/** Deletes every copy of the given DLQ entries (after a successful redrive). */
export async function deleteDeadLetters(sqs: SQSClient, queueUrl: string, receiptHandles: readonly string[]) {
  for (let i = 0; i < receiptHandles.length; i += 10) {
    const batch = receiptHandles.slice(i, i + 10);
    const response = await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: batch.map((handle, j) => ({ Id: String(j), ReceiptHandle: handle })),
      }),
    );
    if (response.Failed?.length) {
      throw new Error(
        `SQS did not delete ${response.Failed.length} message(s): ${response.Failed[0]?.Message}`,
      );
    }
  }
}

/**
 * Splits messages into invalid records (deduplicated by recordId), on-failure batches (deduplicated by
 * range) and the rest.
 *
 * @example
 * ```ts
 * classify([{ body: '{"kind":"invalid-record","recordId":"shardId-0:1"}', receiptHandle: 'r1' }]).invalidRecords.length; // 1
 * ```
 */
export function classify(
  messages: ReadonlyArray<{ body: string; receiptHandle: string }>,
): DeadLetterSnapshot {
  const invalid = new Map<string, DeadLetterMessage>();
  const onFailure = new Map<string, OnFailureMessage>();
  const snapshot: DeadLetterSnapshot = {
    invalidRecords: [],
    duplicateCopies: 0,
    onFailure: [],
    unrecognised: 0,
    receipts: new Map(),
  };
  const remember = (id: string, handle: string) =>
    snapshot.receipts.set(id, [...(snapshot.receipts.get(id) ?? []), handle]);
  for (const { body, receiptHandle } of messages) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      snapshot.unrecognised++;
      continue;
    }
    const message = parsed as Partial<DeadLetterMessage> & Partial<OnFailureMessage>;
    if (message.kind === DLQ_MESSAGE_KIND && typeof message.recordId === 'string') {
      if (invalid.has(message.recordId)) snapshot.duplicateCopies++;
      else invalid.set(message.recordId, message as DeadLetterMessage);
      remember(message.recordId, receiptHandle);
    } else if (message.KinesisBatchInfo?.shardId && message.KinesisBatchInfo.startSequenceNumber) {
      const id = onFailureId(message as OnFailureMessage);
      if (!onFailure.has(id)) onFailure.set(id, message as OnFailureMessage);
      remember(id, receiptHandle);
    } else {
      snapshot.unrecognised++;
    }
  }
  snapshot.invalidRecords = [...invalid.values()];
  snapshot.onFailure = [...onFailure.values()];
  return snapshot;
}
