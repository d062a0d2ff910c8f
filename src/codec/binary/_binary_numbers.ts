/**
 * The number rules of the COPY text -> COPY binary core in TypeScript
 * (int2, int4, int8, numeric, float4, float8), function for function as in
 * `wasm/binary_copy.ts`; `_binary_core.ts` calls them. A 64-bit integer is
 * two 32-bit halves here (an i64 there).
 *
 * Each value function takes the field's bytes `src[p, q)` and the output
 * offset `at` where its int32 length goes, and returns the offset after
 * its bytes, or 0 for a miss (the output never starts at 0).
 *
 * @module
 */

import * as constants from "./_binary_constants.ts";

const {
  CASE_BIT,
  DIGIT_0,
  DOT,
  EXPONENT_CAP,
  FLOAT_MAX_DIGITS,
  FLOAT_MAX_POW10,
  LOWER_E,
  MINUS,
  NUMERIC_MAX_DIGITS,
  NUMERIC_NEGATIVE,
  PLUS,
} = constants;

/**
 * Where the core writes: the bytes and a big-endian view of them (both
 * replaced when the output grows).
 *
 * @example Usage
 * ```ts
 * import type { BinaryOutput } from "./_binary_numbers.ts";
 * import assert from "node:assert/strict";
 *
 * const bytes = new Uint8Array(8);
 * const out: BinaryOutput = { bytes, view: new DataView(bytes.buffer) };
 * out.view.setInt32(0, 1);
 * assert.equal(out.bytes[3], 1);
 * ```
 */
export interface BinaryOutput {
  /** The output bytes. */
  bytes: Uint8Array;
  /** The same bytes, as a view (its setters are big-endian by default). */
  view: DataView;
}

const TWO_32 = 4294967296;

/** 1e0 … 1e22, each exact in a double. */
const POW10 = Float64Array.of(
  1e0,
  1e1,
  1e2,
  1e3,
  1e4,
  1e5,
  1e6,
  1e7,
  1e8,
  1e9,
  1e10,
  1e11,
  1e12,
  1e13,
  1e14,
  1e15,
  1e16,
  1e17,
  1e18,
  1e19,
  1e20,
  1e21,
  1e22,
);

// The float4 of a double, and its bits.
const f32 = new Float32Array(1);
const f32Bits = new Uint32Array(f32.buffer);

/**
 * Writes the integer `v` (|v| < 2^53) as a big-endian int64.
 *
 * @param view Where.
 * @param at The offset.
 * @param v The integer.
 *
 * @example Usage
 * ```ts
 * import { setInt64 } from "./_binary_numbers.ts";
 * import assert from "node:assert/strict";
 *
 * const view = new DataView(new ArrayBuffer(8));
 * setInt64(view, 0, -(2 ** 40) - 3);
 * assert.equal(view.getBigInt64(0), -(2n ** 40n) - 3n);
 * ```
 */
export function setInt64(view: DataView, at: number, v: number): void {
  const high = Math.floor(v / TWO_32);
  view.setInt32(at, high);
  view.setUint32(at + 4, v - high * TWO_32);
}

/**
 * Whether `c` is an ASCII digit.
 *
 * @param c A byte.
 * @returns `0` to `9`.
 *
 * @example Usage
 * ```ts
 * import { isDigit } from "./_binary_numbers.ts";
 * import assert from "node:assert/strict";
 *
 * assert.ok(isDigit(0x37) && !isDigit(0x2f) && !isDigit(0x3a));
 * ```
 */
export function isDigit(c: number): boolean {
  return (c - DIGIT_0) >>> 0 < 10;
}

/**
 * Int2, int4, int8 (`width` bytes): `[+-]?[0-9]+` in range.
 *
 * @param src The field's row bytes.
 * @param p The field's start.
 * @param q The field's end.
 * @param out The output.
 * @param at Where its length goes.
 * @param width 2, 4 or 8.
 * @returns The offset after it, or 0 for a miss.
 *
 * @example The smallest int8
 * ```ts
 * import { integer } from "./_binary_numbers.ts";
 * import assert from "node:assert/strict";
 *
 * const src = new TextEncoder().encode("-9223372036854775808");
 * const bytes = new Uint8Array(32);
 * const view = new DataView(bytes.buffer);
 * assert.equal(integer(src, 0, src.length, { bytes, view }, 20, 8), 32);
 * assert.equal(view.getInt32(20), 8);
 * assert.equal(view.getBigInt64(24), -(2n ** 63n));
 * assert.equal(integer(src, 0, src.length, { bytes, view }, 20, 4), 0);
 * ```
 */
export function integer(
  src: Uint8Array,
  p: number,
  q: number,
  out: BinaryOutput,
  at: number,
  width: number,
): number {
  let i = p;
  let negative = false;
  if (i < q) {
    const s = src[i];
    if (s === PLUS || s === MINUS) {
      negative = s === MINUS;
      i++;
    }
  }
  if (i === q) return 0;
  while (i < q && src[i] === DIGIT_0) i++;
  // 19 digits are below 2^64: the magnitude cannot wrap.
  if (q - i > 19) return 0;
  // The magnitude as two 32-bit halves.
  let high = 0;
  let low = 0;
  for (; i < q; i++) {
    const c = src[i];
    if (!isDigit(c)) return 0;
    low = low * 10 + c - DIGIT_0;
    const carry = Math.floor(low / TWO_32);
    low -= carry * TWO_32;
    high = high * 10 + carry;
  }
  const view = out.view;
  if (width === 8) {
    // At most 2^63 - 1, or 2^63 when negative.
    if (high > 0x7fffffff && !(negative && high === 0x80000000 && low === 0)) {
      return 0;
    }
    view.setInt32(at, 8);
    if (negative) {
      high = low === 0 ? -high : -high - 1;
      low = low === 0 ? 0 : TWO_32 - low;
    }
    view.setInt32(at + 4, high | 0);
    view.setUint32(at + 8, low);
    return at + 12;
  }
  const limit = (width === 2 ? 0x8000 : 0x80000000) - (negative ? 0 : 1);
  if (high !== 0 || low > limit) return 0;
  const v = negative ? -low : low;
  view.setInt32(at, width);
  if (width === 2) view.setInt16(at + 4, v);
  else view.setInt32(at + 4, v);
  return at + 4 + width;
}

/**
 * Numeric: `[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)`, at most
 * `NUMERIC_MAX_DIGITS` digits, as base-10000 digits aligned at the point.
 *
 * @param src The field's row bytes.
 * @param p The field's start.
 * @param q The field's end.
 * @param out The output.
 * @param at Where its length goes.
 * @returns The offset after it, or 0 for a miss.
 *
 * @example 12345.67: ndigits 3, weight 1, sign 0, dscale 2, 1 2345 6700
 * ```ts
 * import { numeric } from "./_binary_numbers.ts";
 * import assert from "node:assert/strict";
 *
 * const src = new TextEncoder().encode("12345.67");
 * const bytes = new Uint8Array(64);
 * const view = new DataView(bytes.buffer);
 * assert.equal(numeric(src, 0, src.length, { bytes, view }, 20, ), 38);
 * const words = [0, 1, 2, 3, 4, 5, 6].map((k) => view.getInt16(24 + 2 * k));
 * assert.equal(view.getInt32(20), 14);
 * assert.deepEqual(words, [3, 1, 0, 2, 1, 2345, 6700]);
 * ```
 */
export function numeric(
  src: Uint8Array,
  p: number,
  q: number,
  out: BinaryOutput,
  at: number,
): number {
  let i = p;
  let negative = false;
  if (i < q) {
    const s = src[i];
    if (s === PLUS || s === MINUS) {
      negative = s === MINUS;
      i++;
    }
  }
  const digitsStart = i;
  while (i < q && isDigit(src[i])) i++;
  const intDigits = i - digitsStart;
  let fracDigits = 0;
  if (i < q && src[i] === DOT) {
    i++;
    const fracStart = i;
    while (i < q && isDigit(src[i])) i++;
    fracDigits = i - fracStart;
  }
  if (i !== q || intDigits + fracDigits === 0) return 0;
  if (intDigits + fracDigits > NUMERIC_MAX_DIGITS) return 0;
  // Groups of four digits, the first padded on the left so that a group
  // ends at the point; leading zero groups are not written, trailing ones
  // are taken back.
  const view = out.view;
  const digits = at + 12;
  let w = digits;
  let last = digits;
  let first = -1;
  let index = 0;
  let group = 0;
  let count = (4 - intDigits % 4) % 4;
  for (let k = digitsStart; k < q; k++) {
    const c = src[k];
    if (c === DOT) continue;
    group = group * 10 + c - DIGIT_0;
    if (++count === 4) {
      if (group !== 0 || first >= 0) {
        if (first < 0) first = index;
        view.setUint16(w, group);
        w += 2;
        if (group !== 0) last = w;
      }
      index++;
      group = 0;
      count = 0;
    }
  }
  if (count > 0) {
    while (count < 4) {
      group *= 10;
      count++;
    }
    if (group !== 0) {
      if (first < 0) first = index;
      view.setUint16(w, group);
      w += 2;
      last = w;
    }
  }
  const ndigits = (last - digits) >> 1;
  const weight = ndigits === 0 ? 0 : ((intDigits + 3) >> 2) - 1 - first;
  const sign = ndigits !== 0 && negative ? NUMERIC_NEGATIVE : 0;
  view.setUint32(at, 8 + 2 * ndigits);
  view.setUint16(at + 4, ndigits);
  view.setInt16(at + 6, weight);
  view.setUint16(at + 8, sign);
  view.setUint16(at + 10, fracDigits);
  return last;
}

/**
 * Float4 and float8 (`width` bytes):
 * `[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?`, by Clinger's fast
 * path only: at most `FLOAT_MAX_DIGITS` significant digits (trailing zeros
 * go to the exponent) and a power of ten within 1e±22.
 *
 * @param src The field's row bytes.
 * @param p The field's start.
 * @param q The field's end.
 * @param out The output.
 * @param at Where its length goes.
 * @param width 4 or 8.
 * @returns The offset after it, or 0 for a miss.
 *
 * @example 0.1 as float4 and float8; 1e23 is past the fast path
 * ```ts
 * import { float } from "./_binary_numbers.ts";
 * import assert from "node:assert/strict";
 *
 * const bytes = new Uint8Array(64);
 * const view = new DataView(bytes.buffer);
 * const src = new TextEncoder().encode("0.1");
 * assert.equal(float(src, 0, 3, { bytes, view }, 20, 8), 32);
 * assert.equal(view.getFloat64(24), 0.1);
 * assert.equal(float(src, 0, 3, { bytes, view }, 20, 4), 28);
 * assert.equal(view.getFloat32(24), Math.fround(0.1));
 * const big = new TextEncoder().encode("1e23");
 * assert.equal(float(big, 0, 4, { bytes, view }, 20, 8), 0);
 * ```
 */
export function float(
  src: Uint8Array,
  p: number,
  q: number,
  out: BinaryOutput,
  at: number,
  width: number,
): number {
  let i = p;
  let negative = false;
  if (i < q) {
    const s = src[i];
    if (s === PLUS || s === MINUS) {
      negative = s === MINUS;
      i++;
    }
  }
  const digitsStart = i;
  while (i < q && isDigit(src[i])) i++;
  const intDigits = i - digitsStart;
  let mantissaEnd = i;
  let fracDigits = 0;
  if (i < q && src[i] === DOT) {
    i++;
    const fracStart = i;
    while (i < q && isDigit(src[i])) i++;
    fracDigits = i - fracStart;
    mantissaEnd = i;
  }
  if (intDigits + fracDigits === 0) return 0;
  let exponent = 0;
  if (i < q && (src[i] | CASE_BIT) === LOWER_E) {
    i++;
    let exponentNegative = false;
    if (i < q) {
      const s = src[i];
      if (s === PLUS || s === MINUS) {
        exponentNegative = s === MINUS;
        i++;
      }
    }
    const exponentStart = i;
    while (i < q && isDigit(src[i])) {
      if (exponent < EXPONENT_CAP) exponent = exponent * 10 + src[i] - DIGIT_0;
      i++;
    }
    if (i === exponentStart) return 0;
    if (exponentNegative) exponent = -exponent;
  }
  if (i !== q) return 0;
  // The significand from the first nonzero digit to the last; `position`
  // is each digit's power of ten.
  let m = 0;
  let significant = 0;
  let zeros = 0;
  let lastPosition = 0;
  let position = intDigits - 1;
  for (let k = digitsStart; k < mantissaEnd; k++) {
    const c = src[k];
    if (c === DOT) continue;
    const d = c - DIGIT_0;
    if (d === 0) {
      if (significant > 0) zeros++;
    } else {
      significant += zeros + 1;
      if (significant > FLOAT_MAX_DIGITS) return 0;
      for (; zeros > 0; zeros--) m *= 10;
      m = m * 10 + d;
      lastPosition = position;
    }
    position--;
  }
  let result = 0;
  if (significant > 0) {
    const e10 = lastPosition + exponent;
    if (e10 > FLOAT_MAX_POW10 || e10 < -FLOAT_MAX_POW10) return 0;
    result = e10 >= 0 ? m * POW10[e10] : m / POW10[-e10];
  }
  if (negative) result = -result;
  const view = out.view;
  if (width === 8) {
    view.setInt32(at, 8);
    view.setFloat64(at + 4, result);
    return at + 12;
  }
  f32[0] = result;
  const f = f32[0];
  if (!Number.isFinite(f)) return 0;
  if (significant > 0 && Math.abs(f) < 2 ** -126) return 0;
  if (halfway(result, f)) return 0;
  view.setInt32(at, 4);
  view.setFloat32(at + 4, f);
  return at + 8;
}

/**
 * Whether `d` lies exactly halfway between `f` (its nearest float4) and
 * the float4 next to `f` on `d`'s side: the server's strtof may round it
 * the other way.
 *
 * @param d A double.
 * @param f `Math.fround(d)`.
 * @returns Whether `d` is such a tie.
 *
 * @example 2^24 + 1 lies between 2^24 and 2^24 + 2
 * ```ts
 * import { halfway } from "./_binary_numbers.ts";
 * import assert from "node:assert/strict";
 *
 * assert.ok(halfway(16777217, Math.fround(16777217)));
 * assert.ok(!halfway(16777218, Math.fround(16777218)));
 * assert.ok(!halfway(0.1, Math.fround(0.1)));
 * ```
 */
export function halfway(d: number, f: number): boolean {
  if (f === d) return false;
  f32[0] = f;
  // The neighbour away from zero when |d| > |f|, else towards it.
  f32Bits[0] += Math.abs(d) > Math.abs(f) ? 1 : -1;
  return (f + f32[0]) * 0.5 === d;
}
