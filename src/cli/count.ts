/**
 * Counts in messages, written one way everywhere: digits grouped with
 * commas, the noun singular for exactly one.
 *
 * @module
 */

/**
 * A count and its noun: `1 row`, `0 rows`, `1,000 rows`, `2 batches`.
 * Numbers are rounded to whole ones and grouped by thousands with commas.
 *
 * @param n The count.
 * @param noun The noun for one.
 * @param plural The noun for any other count. Default: `noun` plus `s`.
 * @returns The count and its noun.
 *
 * @example Usage
 * ```ts
 * import { count } from "./count.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(count(1, "row"), "1 row");
 * assert.equal(count(0, "row"), "0 rows");
 * assert.equal(count(1234567, "row"), "1,234,567 rows");
 * assert.equal(count(2, "batch", "batches"), "2 batches");
 * ```
 */
export function count(n: number, noun: string, plural?: string): string {
  const whole = Math.round(n);
  return `${formatNumber(whole)} ${whole === 1 ? noun : plural ?? `${noun}s`}`;
}

/**
 * A whole number with its digits grouped by thousands with commas.
 *
 * @param n The number (rounded to a whole one).
 * @returns For example `10,000`.
 *
 * @example Usage
 * ```ts
 * import { formatNumber } from "./count.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(formatNumber(10000), "10,000");
 * assert.equal(formatNumber(999.6), "1,000");
 * ```
 */
export function formatNumber(n: number): string {
  return Math.round(n).toLocaleString("en-US");
}
