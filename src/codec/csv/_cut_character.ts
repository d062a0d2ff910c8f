/**
 * A character cut by a chunk boundary: the CSV shell holds its first bytes
 * back and prepends them to the next chunk, so the frame core always sees
 * whole characters, however the input is split.
 *
 * @module
 */

import {
  CHARSET_EUC_JP,
  CHARSET_SINGLE_BYTE,
  CHARSET_UTF8,
} from "./_csv_constants.ts";

/**
 * The bytes of a character cut off at the end of `bytes`, in the charset:
 * 0 to 3 (none in a single-byte charset).
 *
 * @param bytes A chunk.
 * @param charset Its charset (`CHARSET_*`).
 * @returns How many bytes at its end to hold back.
 *
 * @example Usage
 * ```ts
 * import { cutCharacter } from "./_cut_character.ts";
 * import { CHARSET_EUC_JP, CHARSET_UTF8 } from "./_csv_constants.ts";
 * import assert from "node:assert/strict";
 *
 * const euro = new TextEncoder().encode("a€"); // 0x61 0xe2 0x82 0xac
 * assert.equal(cutCharacter(euro, CHARSET_UTF8), 0);
 * assert.equal(cutCharacter(euro.subarray(0, 3), CHARSET_UTF8), 2);
 * assert.equal(cutCharacter(Uint8Array.of(0x61, 0x8f, 0xa1), CHARSET_EUC_JP), 2);
 * ```
 */
export function cutCharacter(bytes: Uint8Array, charset: number): number {
  if (charset === CHARSET_SINGLE_BYTE) return 0;
  const n = bytes.length;
  if (charset !== CHARSET_UTF8) {
    // EUC: walk the characters after the last ASCII byte (its own), or
    // from the start, which begins a character.
    let last = n;
    while (last > 0 && bytes[last - 1] >= 0x80) last--;
    let at = last;
    let start = at;
    while (at < n) {
      start = at;
      at += bytes[at] === 0x8f && charset === CHARSET_EUC_JP ? 3 : 2;
    }
    return at > n ? n - start : 0;
  }
  // Held back: every sequence at the end that its bytes do not complete
  // (an invalid one before it too, so that the core sees it whole).
  let cut = 0;
  for (;;) {
    const more = cutUtf8(bytes, n - cut);
    if (more === 0) return cut;
    cut += more;
  }
}

/** Bytes of an unfinished UTF-8 sequence at the end of `bytes[0, end)`. */
function cutUtf8(bytes: Uint8Array, end: number): number {
  for (let k = 1; k <= Math.min(3, end); k++) {
    const b = bytes[end - k];
    if ((b & 0xc0) === 0x80) continue; // a continuation byte
    if (b < 0xc0) return 0;
    const length = b < 0xe0 ? 2 : b < 0xf0 ? 3 : 4;
    return length > k ? k : 0;
  }
  return 0;
}
