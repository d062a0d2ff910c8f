/**
 * The date and time rules of the COPY text -> COPY binary core in
 * TypeScript (date, timestamp, timestamptz), function for function as in
 * `wasm/binary_copy.ts`; `_binary_core.ts` calls them. Microseconds since
 * 2000 pass 2^53, so they are written from whole seconds and the
 * fraction (an i64 there).
 *
 * Each value function takes the field's bytes `src[p, q)` and the output
 * offset `at` where its int32 length goes, and returns the offset after
 * its bytes, or 0 for a miss.
 *
 * @module
 */

import * as constants from "./_binary_constants.ts";
import { type BinaryOutput, isDigit } from "./_binary_numbers.ts";

const {
  CASE_BIT,
  CIVIL_1970_DAYS,
  COLON,
  DAY_SECONDS,
  DIGIT_0,
  DOT,
  EPOCH_2000_DAYS,
  MAX_OFFSET_HOURS,
  MINUS,
  PLUS,
  SPACE,
  UPPER_T,
  UPPER_Z,
} = constants;

/** What `dayAt` and `offsetAt` return for text that is not one. */
const INVALID = -2147483648;

/**
 * The `n` digits at `src[p]` as a number.
 *
 * @param src Bytes.
 * @param p Where the digits start.
 * @param n How many.
 * @returns Their value, or -1 if one is not a digit.
 *
 * @example Usage
 * ```ts
 * import { digitsAt } from "./_binary_time.ts";
 * import assert from "node:assert/strict";
 *
 * const src = new TextEncoder().encode("x0420");
 * assert.equal(digitsAt(src, 1, 4), 420);
 * assert.equal(digitsAt(src, 0, 2), -1);
 * ```
 */
export function digitsAt(src: Uint8Array, p: number, n: number): number {
  let v = 0;
  for (let k = 0; k < n; k++) {
    const c = src[p + k];
    if (!isDigit(c)) return -1;
    v = v * 10 + c - DIGIT_0;
  }
  return v;
}

/**
 * `YYYY-MM-DD` at `src[p]` (year 1 to 9999, a valid day).
 *
 * @param src Bytes, 10 of them from `p`.
 * @param p Where the date starts.
 * @returns Days since 2000-01-01, or -2^31 if it is no such date.
 *
 * @example Leap days
 * ```ts
 * import { dayAt } from "./_binary_time.ts";
 * import assert from "node:assert/strict";
 *
 * const day = (text: string) => dayAt(new TextEncoder().encode(text), 0);
 * assert.equal(day("2000-01-01"), 0);
 * assert.equal(day("2000-02-29"), 59);
 * assert.equal(day("1900-02-29"), -(2 ** 31));
 * ```
 */
export function dayAt(src: Uint8Array, p: number): number {
  const y = digitsAt(src, p, 4);
  const m = digitsAt(src, p + 5, 2);
  const d = digitsAt(src, p + 8, 2);
  if (src[p + 4] !== MINUS || src[p + 7] !== MINUS) return INVALID;
  if (y < 1 || m < 1 || m > 12 || d < 1) return INVALID;
  if (d > monthDays(y, m)) return INVALID;
  return civilDays(y, m, d) - EPOCH_2000_DAYS;
}

/**
 * Days in a month (Gregorian leap years).
 *
 * @param y The year.
 * @param m The month, 1 to 12.
 * @returns 28 to 31.
 *
 * @example Usage
 * ```ts
 * import { monthDays } from "./_binary_time.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual([monthDays(2024, 2), monthDays(2100, 2), monthDays(2000, 2)], [29, 28, 29]);
 * ```
 */
export function monthDays(y: number, m: number): number {
  if (m === 2) {
    const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
    return leap ? 29 : 28;
  }
  return m === 4 || m === 6 || m === 9 || m === 11 ? 30 : 31;
}

/**
 * Days from 1970-01-01 to a date of the proleptic Gregorian calendar.
 *
 * @param y The year, at least 1.
 * @param m The month.
 * @param d The day.
 * @returns The days (negative before 1970).
 *
 * @example Usage
 * ```ts
 * import { civilDays } from "./_binary_time.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(civilDays(1970, 1, 1), 0);
 * assert.equal(civilDays(1, 1, 1), Date.UTC(2001, 0, 1) / 864e5 - 730485);
 * ```
 */
export function civilDays(y: number, m: number, d: number): number {
  const year = m <= 2 ? y - 1 : y;
  const era = Math.trunc(year / 400);
  const yearOfEra = year - era * 400;
  const dayOfYear = Math.trunc((153 * (m > 2 ? m - 3 : m + 9) + 2) / 5) + d -
    1;
  const dayOfEra = yearOfEra * 365 + Math.trunc(yearOfEra / 4) -
    Math.trunc(yearOfEra / 100) + dayOfYear;
  return era * 146097 + dayOfEra - CIVIL_1970_DAYS;
}

/**
 * Date: exactly `YYYY-MM-DD`, as days since 2000-01-01.
 *
 * @param src The field's row bytes.
 * @param p The field's start.
 * @param q The field's end.
 * @param out The output.
 * @param at Where its length goes.
 * @returns The offset after it, or 0 for a miss.
 *
 * @example Usage
 * ```ts
 * import { date } from "./_binary_time.ts";
 * import assert from "node:assert/strict";
 *
 * const src = new TextEncoder().encode("1999-12-31");
 * const bytes = new Uint8Array(32);
 * const view = new DataView(bytes.buffer);
 * assert.equal(date(src, 0, 10, { bytes, view }, 20), 28);
 * assert.equal(view.getInt32(24), -1);
 * ```
 */
export function date(
  src: Uint8Array,
  p: number,
  q: number,
  out: BinaryOutput,
  at: number,
): number {
  if (q - p !== 10) return 0;
  const days = dayAt(src, p);
  if (days === INVALID) return 0;
  out.view.setInt32(at, 4);
  out.view.setInt32(at + 4, days);
  return at + 8;
}

/**
 * Timestamp: `YYYY-MM-DD` `[ T]` `HH:MM:SS` (`.` and 1 to 6 digits
 * optional), microseconds since 2000-01-01; with `zoned` (timestamptz),
 * then an offset (`Z`, or `+`/`-` and `HH`, `HH:MM` or `HHMM`) or, with
 * `naiveUtc`, none: microseconds of the UTC instant.
 *
 * @param src The field's row bytes.
 * @param p The field's start.
 * @param q The field's end.
 * @param out The output.
 * @param at Where its length goes.
 * @param zoned Timestamptz (else timestamp).
 * @param naiveUtc A timestamptz without an offset is UTC.
 * @returns The offset after it, or 0 for a miss.
 *
 * @example Half past midnight in India is 19:00 UTC the day before
 * ```ts
 * import { timestamp } from "./_binary_time.ts";
 * import assert from "node:assert/strict";
 *
 * const src = new TextEncoder().encode("2000-01-01 00:30:00.5+05:30");
 * const bytes = new Uint8Array(64);
 * const view = new DataView(bytes.buffer);
 * assert.equal(timestamp(src, 0, src.length, { bytes, view }, 20, true, false), 32);
 * assert.equal(view.getBigInt64(24), -5n * 3600n * 1000000n + 500000n);
 * assert.equal(timestamp(src, 0, src.length, { bytes, view }, 20, false, false), 0);
 * ```
 */
export function timestamp(
  src: Uint8Array,
  p: number,
  q: number,
  out: BinaryOutput,
  at: number,
  zoned: boolean,
  naiveUtc: boolean,
): number {
  if (q - p < 19) return 0;
  const days = dayAt(src, p);
  if (days === INVALID) return 0;
  const t = src[p + 10];
  if (t !== SPACE && t !== UPPER_T) return 0;
  const hours = digitsAt(src, p + 11, 2);
  const minutes = digitsAt(src, p + 14, 2);
  const seconds = digitsAt(src, p + 17, 2);
  if (src[p + 13] !== COLON || src[p + 16] !== COLON) return 0;
  if (hours < 0 || hours > 23 || minutes < 0 || minutes > 59) return 0;
  if (seconds < 0 || seconds > 59) return 0;
  let i = p + 19;
  let micros = 0;
  if (i < q && src[i] === DOT) {
    i++;
    let n = 0;
    while (i < q && isDigit(src[i])) {
      if (++n > 6) return 0;
      micros = micros * 10 + src[i] - DIGIT_0;
      i++;
    }
    if (n === 0) return 0;
    for (; n < 6; n++) micros *= 10;
  }
  let offset = 0;
  if (zoned) {
    offset = offsetAt(src, i, q, naiveUtc);
    if (offset === INVALID) return 0;
  } else if (i !== q) {
    return 0;
  }
  const total = days * DAY_SECONDS + hours * 3600 + minutes * 60 + seconds -
    offset;
  // total * 1e6 + micros, exactly: total * 15625 is below 2^53, and
  // times 64 it splits into halves at bit 26.
  const scaled = total * 15625;
  let high = Math.floor(scaled / 67108864);
  let low = (scaled - high * 67108864) * 64 + micros;
  if (low >= 4294967296) {
    low -= 4294967296;
    high++;
  }
  out.view.setInt32(at, 8);
  out.view.setInt32(at + 4, high);
  out.view.setUint32(at + 8, low);
  return at + 12;
}

/**
 * A timestamptz's offset, `src[i, q)`.
 *
 * @param src Bytes.
 * @param i Where the offset starts.
 * @param q Where the field ends.
 * @param naiveUtc None is UTC.
 * @returns Seconds east of UTC, or -2^31 if it is none of the forms.
 *
 * @example Usage
 * ```ts
 * import { offsetAt } from "./_binary_time.ts";
 * import assert from "node:assert/strict";
 *
 * const at = (text: string) =>
 *   offsetAt(new TextEncoder().encode(text), 0, text.length, false);
 * assert.deepEqual([at("-0130"), at("+05:30"), at("z"), at("+15")], [-5400, 19800, 0, 54000]);
 * assert.equal(at("+16"), -(2 ** 31));
 * assert.equal(at(""), -(2 ** 31));
 * ```
 */
export function offsetAt(
  src: Uint8Array,
  i: number,
  q: number,
  naiveUtc: boolean,
): number {
  if (i === q) return naiveUtc ? 0 : INVALID;
  const s = src[i];
  if ((s | CASE_BIT) === (UPPER_Z | CASE_BIT)) {
    return i + 1 === q ? 0 : INVALID;
  }
  if (s !== PLUS && s !== MINUS) return INVALID;
  const length = q - i;
  if (length !== 3 && length !== 5 && length !== 6) return INVALID;
  const hours = digitsAt(src, i + 1, 2);
  let minutes = 0;
  if (length === 5) {
    minutes = digitsAt(src, i + 3, 2);
  } else if (length === 6) {
    if (src[i + 3] !== COLON) return INVALID;
    minutes = digitsAt(src, i + 4, 2);
  }
  if (hours < 0 || hours > MAX_OFFSET_HOURS) return INVALID;
  if (minutes < 0 || minutes > 59) return INVALID;
  const seconds = hours * 3600 + minutes * 60;
  return s === MINUS ? -seconds : seconds;
}
