/**
 * A one-line progress bar on a terminal's standard error, redrawn at most every 100 ms: records sent,
 * a bar and a percentage when the input's size is known. Silent when standard error is not a terminal.
 */
export interface ProgressBar {
  update(progress: { records: number; failed: number; bytesRead: number }): void;
  done(): void;
}

const WIDTH = 30;

/**
 * The text of one progress line.
 *
 * @example
 * ```ts
 * progressLine({ records: 500, failed: 0, bytesRead: 50 }, 100); // '[###############               ]  50% 500 records sent'
 * ```
 */
export function progressLine(
  progress: { records: number; failed: number; bytesRead: number },
  totalBytes: number | null,
): string {
  const failed = progress.failed > 0 ? `, ${progress.failed} failed` : '';
  const counts = `${progress.records} records sent${failed}`;
  if (!totalBytes) return counts;
  const share = Math.min(1, progress.bytesRead / totalBytes);
  const filled = Math.round(share * WIDTH);
  return `[${'#'.repeat(filled)}${' '.repeat(WIDTH - filled)}] ${String(Math.floor(share * 100)).padStart(3)}% ${counts}`;
}

/**
 * A progress bar for an input of `totalBytes` (null: unknown, as for standard input).
 *
 * @example
 * ```ts
 * const bar = progressBar(source.totalBytes);
 * bar.update({ records, failed, bytesRead: source.bytesRead() });
 * bar.done();
 * ```
 */
export function progressBar(
  totalBytes: number | null,
  stream: NodeJS.WriteStream = process.stderr,
  now: () => number = Date.now,
): ProgressBar {
  if (!stream.isTTY) return { update() {}, done() {} };
  let last = 0;
  let drawn = false;
  return {
    update(progress) {
      if (now() - last < 100) return;
      last = now();
      drawn = true;
      stream.write(`\r${progressLine(progress, totalBytes)}\u001b[K`);
    },
    done() {
      if (drawn) stream.write('\r\u001b[K');
    },
  };
}
