import { type EventRecord, kinesisStreamEvent } from './eventShape';
import type { InvocationResult } from './failurePolicy';
import type { ResponseContext } from './onFailureDestination';
import { interpretBatchResponse } from './partialBatchResponse';
import {
  readWindowState,
  tumblingWindowEvent,
  type WindowInvocation,
  type WindowState,
} from './tumblingWindow';
import type { EventSourceMappingOptions, InvokeOutcome } from './types';

/** One invocation of a batch, reduced to what the failure policy and the on-failure record need. */
export interface BatchInvocation {
  result: InvocationResult;
  /** Absent when the function was never reached. */
  response?: ResponseContext;
  requestId?: string;
  /** A human-readable reason for a failure, for the log. */
  failure?: string;
  outcome?: InvokeOutcome;
  /** With a tumbling window: the state the function returned (on success or a partial batch response). */
  state?: WindowState;
}

/**
 * Invokes the function synchronously with a batch (as the event source mapping does) and classifies the
 * outcome: a function error, timeout or crash is a function error (`FunctionError: Unhandled`); a
 * response is read as a partial batch response when ReportBatchItemFailures is on; an `invoke` that
 * rejects means the function was never reached. With a tumbling window the event carries the window and
 * its state, and a response without a `state` property fails the whole batch.
 *
 * @example
 * ```ts
 * const invocation = await invokeBatch(host.invoke, batch, true);
 * if (invocation.result.kind === 'partial') retryFrom(invocation.result.firstFailedIndex);
 * ```
 */
export async function invokeBatch(
  invoke: EventSourceMappingOptions['invoke'],
  batch: readonly EventRecord[],
  reportBatchItemFailures: boolean,
  window?: WindowInvocation,
): Promise<BatchInvocation> {
  let outcome: InvokeOutcome;
  try {
    outcome = await invoke(window ? tumblingWindowEvent(batch, window) : kinesisStreamEvent(batch));
  } catch (error) {
    return { result: { kind: 'not-invoked' }, failure: `invoke failed: ${(error as Error).message}` };
  }
  const { requestId } = outcome;
  if (!outcome.ok) {
    return {
      result: { kind: 'function-error' },
      response: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
      requestId,
      failure: `${outcome.reason}: ${outcome.errorType}: ${outcome.errorMessage}`,
      outcome,
    };
  }
  const response: ResponseContext = { statusCode: 200, executedVersion: '$LATEST', functionError: null };
  let state: WindowState | undefined;
  if (window) {
    const read = readWindowState(outcome.result);
    if (!read.ok) {
      return {
        result: { kind: 'function-error' },
        response,
        requestId,
        failure: `invalid tumbling window response, the whole batch failed: ${read.reason}`,
        outcome,
      };
    }
    state = read.state;
  }
  const verdict = interpretBatchResponse(
    outcome.result,
    batch.map((record) => record.source.sequenceNumber),
    reportBatchItemFailures,
  );
  switch (verdict.kind) {
    case 'success':
      return { result: { kind: 'success' }, response, requestId, outcome, ...(state ? { state } : {}) };
    case 'partial':
      return {
        result: { kind: 'partial', firstFailedIndex: verdict.firstFailedIndex },
        response,
        requestId,
        failure: `partial batch response: first failed sequence number ${verdict.firstFailedSequenceNumber}`,
        outcome,
        ...(state ? { state } : {}),
      };
    case 'invalid':
      return {
        result: { kind: 'function-error' },
        response,
        requestId,
        failure: `invalid partial batch response, the whole batch failed: ${verdict.reason}`,
        outcome,
      };
  }
}
