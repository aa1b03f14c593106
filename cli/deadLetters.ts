import {
  ChangeMessageVisibilityBatchCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { type DeadLetterMessage, DLQ_MESSAGE_KIND } from '../lambdas/consumer/deadLetter';

/**
 * Reads the dead-letter queue without consuming it, and deduplicates on read: the consumer gives each
 * invalid record's message a deterministic `recordId`, and a replay after a crash may send it twice
 * (docs/EXACTLY_ONCE.md). On-failure messages from the event source mapping are kept apart.
 */
export interface DeadLetterSnapshot {
  /** Invalid records, one per distinct recordId. */
  invalidRecords: DeadLetterMessage[];
  /** Extra copies of invalid-record messages that dedup-on-read removed. */
  duplicateCopies: number;
  /** Event source mapping on-failure messages (batches that exhausted retries or aged out). */
  onFailure: Record<string, unknown>[];
  /** Messages that parse as neither. */
  unrecognised: number;
}

/**
 * Receives every visible message with a short visibility timeout, then makes them all visible again.
 *
 * @example
 * ```ts
 * const { invalidRecords } = await readDeadLetters(sqs, queueUrl);
 * ```
 */
export async function readDeadLetters(sqs: SQSClient, queueUrl: string): Promise<DeadLetterSnapshot> {
  const messages: Message[] = [];
  for (;;) {
    const page = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        VisibilityTimeout: 30,
        WaitTimeSeconds: 0,
        MessageAttributeNames: ['All'],
      }),
    );
    if (!page.Messages?.length) break;
    messages.push(...page.Messages);
  }
  for (let i = 0; i < messages.length; i += 10) {
    const batch = messages.slice(i, i + 10);
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
  return classify(messages.map((m) => m.Body ?? ''));
}

/** Splits message bodies into invalid records (deduplicated), on-failure batches and the rest. */
export function classify(bodies: readonly string[]): DeadLetterSnapshot {
  const byRecordId = new Map<string, DeadLetterMessage>();
  const snapshot: DeadLetterSnapshot = {
    invalidRecords: [],
    duplicateCopies: 0,
    onFailure: [],
    unrecognised: 0,
  };
  for (const body of bodies) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      snapshot.unrecognised++;
      continue;
    }
    const message = parsed as Partial<DeadLetterMessage> & { KinesisBatchInfo?: unknown };
    if (message.kind === DLQ_MESSAGE_KIND && typeof message.recordId === 'string') {
      if (byRecordId.has(message.recordId)) snapshot.duplicateCopies++;
      else byRecordId.set(message.recordId, message as DeadLetterMessage);
    } else if (message.KinesisBatchInfo) {
      snapshot.onFailure.push(message as Record<string, unknown>);
    } else {
      snapshot.unrecognised++;
    }
  }
  snapshot.invalidRecords = [...byRecordId.values()];
  return snapshot;
}
