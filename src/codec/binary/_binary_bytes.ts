/**
 * The byte-string rules of the COPY text -> COPY binary core in
 * TypeScript (text, json, jsonb, bytea, uuid), function for function as
 * in `wasm/binary_copy.ts`; `_binary_core.ts` calls them.
 *
 * Each value function takes the field's bytes `src[p, q)` and the output
 * offset `at` where its int32 length goes, and returns the offset after
 * its bytes, or 0 for a miss.
 *
 * @module
 */

import * as constants from "./_binary_constants.ts";
import type { BinaryOutput } from "./_binary_numbers.ts";
import { orderJsonbKeys } from "./_jsonb_keys.ts";

const {
  BACKSLASH,
  CASE_BIT,
  DIGIT_0,
  LF,
  LOWER_B,
  LOWER_F,
  LOWER_N,
  LOWER_R,
  LOWER_T,
  LOWER_V,
  LOWER_X,
  MINUS,
  NOT_HEX,
  TAB,
} = constants;

/** Each byte's hex digit value, or `NOT_HEX`. */
const HEX_VALUES = Uint8Array.from({ length: 256 }, (_, c) => hexValue(c));
/** Uuid: the hyphens in 8-4-4-4-12 before the digits of byte k. */
const UUID_DASHES = Uint8Array.of(
  0,
  0,
  0,
  0,
  1,
  1,
  2,
  2,
  3,
  3,
  4,
  4,
  4,
  4,
  4,
  4,
);

/**
 * Text, json (`version` 0) and jsonb (`version` 1: its version byte
 * first): the unescaped bytes.
 *
 * @param src The field's row bytes.
 * @param p The field's start.
 * @param q The field's end.
 * @param escaped Whether the field holds a backslash.
 * @param out The output.
 * @param at Where its length goes.
 * @param version 0, or jsonb's version byte.
 * @returns The offset after it, or 0 for a miss.
 *
 * @example A jsonb value with an escaped line feed; octal escapes are a miss
 * ```ts
 * import { text } from "./_binary_bytes.ts";
 * import assert from "node:assert/strict";
 *
 * const bytes = new Uint8Array(32);
 * const out = { bytes, view: new DataView(bytes.buffer) };
 * const src = new TextEncoder().encode('["a\\nb"]');
 * assert.equal(text(src, 0, src.length, true, out, 20, 1), 32);
 * assert.deepEqual([...bytes.subarray(20, 32)], [0, 0, 0, 8, 1, ...new TextEncoder().encode('["a\nb"]')]);
 * const octal = new TextEncoder().encode("\\101");
 * assert.equal(text(octal, 0, 4, true, out, 20, 0), 0);
 * ```
 */
export function text(
  src: Uint8Array,
  p: number,
  q: number,
  escaped: boolean,
  out: BinaryOutput,
  at: number,
  version: number,
): number {
  const bytes = out.bytes;
  let w = at + 4;
  if (version !== 0) bytes[w++] = version;
  if (escaped) {
    w = unescape(src, p, q, bytes, w);
    if (w === 0) return 0;
  } else {
    bytes.set(src.subarray(p, q), w);
    w += q - p;
  }
  out.view.setUint32(at, w - at - 4);
  return w;
}

/**
 * jsonb: version 1, then the unescaped bytes with the top-level object's
 * members in jsonb's order (see `_jsonb_keys.ts`).
 *
 * @param src The field's row bytes.
 * @param p The field's start.
 * @param q The field's end.
 * @param escaped Whether the field holds a backslash.
 * @param out The output (with room for the value twice: scratch).
 * @param at Where its length goes.
 * @returns The offset after it, or 0 for a miss.
 *
 * @example Keys in order, shorter first
 * ```ts
 * import { jsonb } from "./_binary_bytes.ts";
 * import assert from "node:assert/strict";
 *
 * const bytes = new Uint8Array(64);
 * const out = { bytes, view: new DataView(bytes.buffer) };
 * const src = new TextEncoder().encode('{"bb": 1, "a": 2}');
 * const end = jsonb(src, 0, src.length, false, out, 0);
 * assert.equal(new TextDecoder().decode(bytes.subarray(5, end)), '{"a": 2,"bb": 1}');
 * assert.equal(out.view.getUint32(0), end - 4);
 * ```
 */
export function jsonb(
  src: Uint8Array,
  p: number,
  q: number,
  escaped: boolean,
  out: BinaryOutput,
  at: number,
): number {
  if (!escaped) {
    // Ordered straight from the input into the output.
    const end = orderJsonbKeys(src, p, q, out.bytes, at + 5);
    if (end === 0) return text(src, p, q, false, out, at, 1);
    out.bytes[at + 4] = 1;
    out.view.setUint32(at, end - at - 4);
    return end;
  }
  const w = text(src, p, q, true, out, at, 1);
  if (w === 0) return 0;
  // Unescaped into the output, ordered into the scratch after it, moved back.
  const end = orderJsonbKeys(out.bytes, at + 5, w, out.bytes, w);
  if (end === 0) return w;
  out.bytes.copyWithin(at + 5, w, end);
  const moved = at + 5 + (end - w);
  out.view.setUint32(at, moved - at - 4);
  return moved;
}

/**
 * Copies `src[p, q)` to `bytes[w]` undoing COPY text's escapes (`\\`,
 * `\b`, `\f`, `\n`, `\r`, `\t`, `\v`).
 *
 * @param src Bytes.
 * @param p Where to start.
 * @param q Where to stop.
 * @param bytes Where to copy to.
 * @param w The offset there.
 * @returns The offset after the copy, or 0 for any other backslash
 * sequence (a lone backslash at the end too).
 *
 * @example Usage
 * ```ts
 * import { unescape } from "./_binary_bytes.ts";
 * import assert from "node:assert/strict";
 *
 * const src = new TextEncoder().encode("a\\\\b\\tc");
 * const bytes = new Uint8Array(8);
 * assert.equal(unescape(src, 0, src.length, bytes, 1), 6);
 * assert.deepEqual([...bytes.subarray(1, 6)], [0x61, 0x5c, 0x62, 0x09, 0x63]);
 * assert.equal(unescape(src, 0, 2, bytes, 1), 0);
 * ```
 */
export function unescape(
  src: Uint8Array,
  p: number,
  q: number,
  bytes: Uint8Array,
  w: number,
): number {
  while (p < q) {
    let b = src[p++];
    if (b === BACKSLASH) {
      if (p === q) return 0;
      b = escapedByte(src[p++]);
      if (b < 0) return 0;
    }
    bytes[w++] = b;
  }
  return w;
}

/** The byte `\c` stands for, or -1. */
function escapedByte(c: number): number {
  if (c === BACKSLASH) return BACKSLASH;
  if (c === LOWER_N) return LF;
  if (c === LOWER_T) return TAB;
  if (c === LOWER_R) return 0x0d;
  if (c === LOWER_B) return 0x08;
  if (c === LOWER_F) return 0x0c;
  if (c === LOWER_V) return 0x0b;
  return -1;
}

/**
 * Bytea: the unescaped field is `\x` and pairs of hex digits, decoded in
 * place.
 *
 * @param src The field's row bytes.
 * @param p The field's start.
 * @param q The field's end.
 * @param out The output.
 * @param at Where its length goes.
 * @returns The offset after it, or 0 for a miss.
 *
 * @example `\\x0aFF` in COPY text
 * ```ts
 * import { bytea } from "./_binary_bytes.ts";
 * import assert from "node:assert/strict";
 *
 * const bytes = new Uint8Array(32);
 * const out = { bytes, view: new DataView(bytes.buffer) };
 * const src = new TextEncoder().encode("\\\\x0aFF");
 * assert.equal(bytea(src, 0, src.length, out, 20), 26);
 * assert.deepEqual([...bytes.subarray(20, 26)], [0, 0, 0, 2, 0x0a, 0xff]);
 * ```
 */
export function bytea(
  src: Uint8Array,
  p: number,
  q: number,
  out: BinaryOutput,
  at: number,
): number {
  const bytes = out.bytes;
  const w = at + 4;
  const e = unescape(src, p, q, bytes, w);
  if (e === 0 || e - w < 2 || ((e - w) & 1) !== 0) return 0;
  if (bytes[w] !== BACKSLASH || bytes[w + 1] !== LOWER_X) return 0;
  // Decoded in place: each pair becomes the byte it names.
  let o = w;
  for (let r = w + 2; r < e; r += 2) {
    const high = HEX_VALUES[bytes[r]];
    const low = HEX_VALUES[bytes[r + 1]];
    if (((high | low) & NOT_HEX) !== 0) return 0;
    bytes[o++] = (high << 4) | low;
  }
  out.view.setUint32(at, o - w);
  return o;
}

/** A hex digit's value, or `NOT_HEX`. */
function hexValue(c: number): number {
  if (c - DIGIT_0 < 10 && c >= DIGIT_0) return c - DIGIT_0;
  const l = c | CASE_BIT;
  if (l >= 0x61 && l <= 0x66) return l - 0x61 + 10;
  return NOT_HEX;
}

/**
 * Uuid: 32 hex digits, with hyphens as 8-4-4-4-12 or none.
 *
 * @param src The field's row bytes.
 * @param p The field's start.
 * @param q The field's end.
 * @param out The output.
 * @param at Where its length goes.
 * @returns The offset after it, or 0 for a miss.
 *
 * @example Upper case, hyphens; braces are a miss
 * ```ts
 * import { uuid } from "./_binary_bytes.ts";
 * import assert from "node:assert/strict";
 *
 * const bytes = new Uint8Array(48);
 * const out = { bytes, view: new DataView(bytes.buffer) };
 * const src = new TextEncoder().encode("A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11");
 * assert.equal(uuid(src, 0, 36, out, 20), 40);
 * assert.deepEqual([...bytes.subarray(20, 26)], [0, 0, 0, 16, 0xa0, 0xee]);
 * const braced = new TextEncoder().encode("{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}");
 * assert.equal(uuid(braced, 0, 38, out, 20), 0);
 * ```
 */
export function uuid(
  src: Uint8Array,
  p: number,
  q: number,
  out: BinaryOutput,
  at: number,
): number {
  let dashed = 0;
  if (q - p === 36) {
    if (
      src[p + 8] !== MINUS || src[p + 13] !== MINUS ||
      src[p + 18] !== MINUS || src[p + 23] !== MINUS
    ) return 0;
    dashed = 0xff;
  } else if (q - p !== 32) {
    return 0;
  }
  // Every digit is looked up, none branched on; a miss shows in `bad`.
  const bytes = out.bytes;
  let bad = 0;
  for (let k = 0; k < 16; k++) {
    const r = p + (k << 1) + (UUID_DASHES[k] & dashed);
    const high = HEX_VALUES[src[r]];
    const low = HEX_VALUES[src[r + 1]];
    bad |= high | low;
    bytes[at + 4 + k] = (high << 4) | low;
  }
  if ((bad & NOT_HEX) !== 0) return 0;
  out.view.setUint32(at, 16);
  return at + 20;
}
