import { ShardlineError } from '../../shared/errors';
/** Errors of the analytics state and engine, each saying what to do next. */

/** One bucket of analytics state stays too large even at the maximum bucket count. */
export class AnalyticsStateTooLargeError extends ShardlineError {
  constructor(part: string, bytes: number, limit: number) {
    super(
      `analytics state part "${part}" needs ${bytes} bytes in one item, over the ${limit}-byte budget even with the most buckets: ` +
        'lower SHARDLINE_ALERT_* caps or the distinct-user exact limit, or shorten the windows',
    );
    this.name = 'AnalyticsStateTooLargeError';
  }
}

/** A stored analytics item is not in a format this code can read. */
export class CorruptAnalyticsStateError extends ShardlineError {
  constructor(sk: string, reason: string) {
    super(
      `analytics state ${sk} cannot be read (${reason}); inspect the snapshot under state/ in the lake bucket before retrying`,
    );
    this.name = 'CorruptAnalyticsStateError';
  }
}
