/**
 * CSV formula injection (CWE-1236): a spreadsheet runs a cell that starts with `=`, `+`, `-` or `@` as a
 * formula, and tab and CR lead some of them there too. A guarded value starts with a single quote, so it
 * shows as text. One rule for every CSV Shardline writes: the lake's CSV copy and `query --format csv`.
 */

/** '=', '+', '-', '@', tab, CR. */
const FORMULA_TRIGGERS = new Set([61, 43, 45, 64, 9, 13]);

/**
 * Whether a spreadsheet would treat this text as a formula.
 *
 * @example
 * ```ts
 * startsLikeFormula('=SUM(A1)'); // true
 * startsLikeFormula('acme'); // false
 * ```
 */
export function startsLikeFormula(text: string): boolean {
  return FORMULA_TRIGGERS.has(text.charCodeAt(0));
}

/**
 * The text with a leading single quote when it starts like a formula, unchanged otherwise.
 *
 * @example
 * ```ts
 * guardFormula('=HYPERLINK("http://x")'); // `'=HYPERLINK("http://x")`
 * ```
 */
export function guardFormula(text: string): string {
  return startsLikeFormula(text) ? `'${text}` : text;
}
