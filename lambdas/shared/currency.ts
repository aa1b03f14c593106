/**
 * Static USD conversion rates for enrichment. A real deployment would refresh these from a rates
 * service; a static table keeps the transform pure and the output reproducible.
 */
export const USD_PER_UNIT = {
  USD: 1,
  EUR: 1.08,
  GBP: 1.27,
  JPY: 0.0067,
  CAD: 0.73,
  AUD: 0.66,
  CHF: 1.13,
  SEK: 0.095,
  INR: 0.012,
  BRL: 0.2,
} as const;

export type Currency = keyof typeof USD_PER_UNIT;
export const CURRENCIES = Object.keys(USD_PER_UNIT) as Currency[];

/** Converts an amount to USD, rounded to cents. */
export function toUsd(amount: number, currency: Currency): number {
  return Math.round(amount * USD_PER_UNIT[currency] * 100) / 100;
}
