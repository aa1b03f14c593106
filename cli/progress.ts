/**
 * Progress and live counters go to stderr, and only to a terminal: stdout carries results alone, so
 * `shardline … > file` or `| jq` gets clean output whatever is being shown meanwhile.
 */

type ProgressStream = Pick<NodeJS.WriteStream, 'isTTY' | 'write'>;

/**
 * Redraws the one-line live counter (or clears it with an empty text) on stderr, when stderr is a terminal.
 *
 * @example
 * ```ts
 * showProgress(`processed ${done}/${total} records`);
 * showProgress(''); // clears the line before the next message
 * ```
 */
export function showProgress(text: string, stream: ProgressStream = process.stderr): void {
  if (stream.isTTY) stream.write(`\r\x1b[2K${text}`);
}

/**
 * Prints one line of progress (a step that started or finished) on stderr.
 *
 * @example
 * ```ts
 * progressMessage('synthesizing the CDK app …');
 * ```
 */
export function progressMessage(text: string, stream: ProgressStream = process.stderr): void {
  stream.write(`${text}\n`);
}
