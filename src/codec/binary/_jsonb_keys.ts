/**
 * jsonb's key order, given to the server ready-made: jsonb keeps an
 * object's keys sorted (shorter first, then bytewise; of equal keys the
 * last wins), so the server sorts every object it reads. Handing it the
 * top-level object's members in that order already (stable, so equal
 * keys keep their input order and the last still wins) spares it most of
 * that work: measured on the generated file's payload column, 1M rows
 * through COPY binary took the server 2.68-2.90 s of CPU instead of 3.03.
 * The value means the same either way; only whitespace between members
 * is dropped, which jsonb does not keep. Same algorithm, function for
 * function, as `orderJsonbKeys` in `wasm/binary_copy.ts` (which finds a
 * string's end 16 bytes at a time; the result is the same).
 *
 * @module
 */

import * as constants from "./_binary_constants.ts";

const {
  BACKSLASH,
  CLASS_DELIMITER,
  CLASS_NESTING,
  CLASS_SPACE,
  CLASS_STRING,
  COLON,
  COMMA,
  LEFT_BRACE,
  LEFT_BRACKET,
  QUOTE,
  RIGHT_BRACE,
  RIGHT_BRACKET,
  JSONB_MAX_MEMBERS,
} = constants;

/** Each member's key start, key length, start and end, 4 per member. */
const members = new Uint32Array(JSONB_MAX_MEMBERS * 4);
/** The members' order. */
const order = new Uint32Array(JSONB_MAX_MEMBERS);
/** Each byte's JSON class (`CLASS_*` bits). */
const CLASSES = Uint8Array.from({ length: 256 }, (_, c) => jsonClass(c));

/**
 * Writes the JSON object at `src[p, e)` to `dst` from `out` with its
 * members in the order jsonb keeps them (shorter keys first, then
 * bytewise; stable, so of equal keys the last still wins) and returns the
 * end of what it wrote: only whitespace between members is dropped.
 * Returns 0, writing nothing, when the value is to go as it is: not an
 * object, a key holds a backslash, more than `JSONB_MAX_MEMBERS` members,
 * it does not scan (the server then reports it), or its members are in
 * order already.
 *
 * @param src The JSON's bytes.
 * @param p The JSON's start.
 * @param e The JSON's end.
 * @param dst Where to write (`src` itself, past `e`, is fine).
 * @param out The offset there.
 * @returns The end of the ordered object in `dst`, or 0.
 *
 * @example Keys in jsonb's order; a value that is not an object stays
 * ```ts
 * import { orderJsonbKeys } from "./_jsonb_keys.ts";
 * import assert from "node:assert/strict";
 *
 * const src = new TextEncoder().encode('{"lane": "a", "v": 1, "n": [2, {"z": 0, "a": 1}]}');
 * const dst = new Uint8Array(src.length);
 * const end = orderJsonbKeys(src, 0, src.length, dst, 0);
 * assert.equal(
 *   new TextDecoder().decode(dst.subarray(0, end)),
 *   '{"n": [2, {"z": 0, "a": 1}],"v": 1,"lane": "a"}',
 * );
 * const array = new TextEncoder().encode("[1, 2]");
 * assert.equal(orderJsonbKeys(array, 0, array.length, dst, 0), 0);
 * ```
 */
export function orderJsonbKeys(
  src: Uint8Array,
  p: number,
  e: number,
  dst: Uint8Array,
  out: number,
): number {
  let i = skipSpace(src, p, e);
  if (i >= e || src[i] !== LEFT_BRACE) return 0;
  i = skipSpace(src, i + 1, e);
  if (i < e && src[i] === RIGHT_BRACE) return 0;
  let n = 0;
  let sorted = true;
  for (;;) {
    if (i >= e || src[i] !== QUOTE || n === JSONB_MAX_MEMBERS) return 0;
    const key = i + 1;
    let k = key;
    while (k < e && (CLASSES[src[k]] & CLASS_STRING) === 0) k++;
    if (k >= e || src[k] !== QUOTE) return 0;
    i = skipSpace(src, k + 1, e);
    if (i >= e || src[i] !== COLON) return 0;
    i = skipSpace(src, i + 1, e);
    const end = skipValue(src, i, e);
    if (end === 0) return 0;
    const m = n << 2;
    members[m] = key;
    members[m + 1] = k - key;
    members[m + 2] = key - 1;
    members[m + 3] = end;
    if (n > 0 && compareKeys(src, n - 1, n) > 0) sorted = false;
    order[n] = n;
    n++;
    i = skipSpace(src, end, e);
    if (i >= e) return 0;
    if (src[i] === COMMA) {
      i = skipSpace(src, i + 1, e);
    } else if (src[i] === RIGHT_BRACE) {
      break;
    } else {
      return 0;
    }
  }
  if (skipSpace(src, i + 1, e) !== e || sorted) return 0;
  // Insertion sort: stable, and objects are small.
  for (let a = 1; a < n; a++) {
    const member = order[a];
    let b = a;
    while (b > 0 && compareKeys(src, order[b - 1], member) > 0) {
      order[b] = order[b - 1];
      b--;
    }
    order[b] = member;
  }
  let w = out;
  dst[w++] = LEFT_BRACE;
  for (let a = 0; a < n; a++) {
    if (a > 0) dst[w++] = COMMA;
    const m = order[a] << 2;
    dst.set(src.subarray(members[m + 2], members[m + 3]), w);
    w += members[m + 3] - members[m + 2];
  }
  dst[w++] = RIGHT_BRACE;
  return w;
}

/** jsonb's order of members `a` and `b`: by key length, then bytes. */
function compareKeys(bytes: Uint8Array, a: number, b: number): number {
  const ka = members[a << 2];
  const la = members[(a << 2) + 1];
  const kb = members[b << 2];
  const lb = members[(b << 2) + 1];
  if (la !== lb) return la - lb;
  for (let j = 0; j < la; j++) {
    const d = bytes[ka + j] - bytes[kb + j];
    if (d !== 0) return d;
  }
  return 0;
}

/** The first byte at or after `i` that is not JSON whitespace, or `e`. */
function skipSpace(bytes: Uint8Array, i: number, e: number): number {
  while (i < e && (CLASSES[bytes[i]] & CLASS_SPACE) !== 0) i++;
  return i;
}

/**
 * The end of the JSON value starting at `i` (a string, an object or
 * array by its brackets, or a bare run of bytes other than whitespace and
 * `,:{}[]"`), or 0 when it does not end before `e`. Its content is the
 * server's to check.
 */
function skipValue(bytes: Uint8Array, i: number, e: number): number {
  if (i >= e) return 0;
  const c = bytes[i];
  if (c === QUOTE) return skipString(bytes, i, e);
  if (c === LEFT_BRACE || c === LEFT_BRACKET) {
    let depth = 0;
    while (i < e) {
      const b = bytes[i];
      if ((CLASSES[b] & CLASS_NESTING) === 0) {
        i++;
        continue;
      }
      if (b === QUOTE) {
        i = skipString(bytes, i, e);
        if (i === 0) return 0;
        continue;
      }
      if (b === LEFT_BRACE || b === LEFT_BRACKET) depth++;
      if (b === RIGHT_BRACE || b === RIGHT_BRACKET) {
        depth--;
        if (depth === 0) return i + 1;
      }
      i++;
    }
    return 0;
  }
  const start = i;
  while (i < e && (CLASSES[bytes[i]] & (CLASS_SPACE | CLASS_DELIMITER)) === 0) {
    i++;
  }
  return i > start ? i : 0;
}

/** The end of the JSON string whose quote is at `i`, or 0. */
function skipString(bytes: Uint8Array, i: number, e: number): number {
  i++;
  while (i < e) {
    const b = bytes[i];
    if (b === QUOTE) return i + 1;
    i += b === BACKSLASH ? 2 : 1;
  }
  return 0;
}

/** A byte's `CLASS_*` bits. */
function jsonClass(c: number): number {
  if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) return CLASS_SPACE;
  if (c === QUOTE) return CLASS_DELIMITER | CLASS_NESTING | CLASS_STRING;
  if (c === BACKSLASH) return CLASS_STRING;
  if (
    c === LEFT_BRACE || c === RIGHT_BRACE || c === LEFT_BRACKET ||
    c === RIGHT_BRACKET
  ) return CLASS_DELIMITER | CLASS_NESTING;
  if (c === COMMA || c === COLON) return CLASS_DELIMITER;
  return 0;
}
