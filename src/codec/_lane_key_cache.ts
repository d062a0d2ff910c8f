/**
 * Lane keys as text, from their encoded COPY bytes. Lane keys repeat, so
 * each distinct key is decoded once and found again by the hash the codec
 * core computed over its bytes (a direct-mapped cache of 4096 slots).
 *
 * @module
 */

import { decodeCopyRow } from "./copy_row.ts";

const SLOTS = 4096;
const DQUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * Decodes lane keys, once per distinct key.
 *
 * @example Usage
 * ```ts
 * import { LaneKeyCache } from "./_lane_key_cache.ts";
 * import assert from "node:assert/strict";
 *
 * const keys = new LaneKeyCache((bytes) => new TextDecoder().decode(bytes), false);
 * const out = new TextEncoder().encode("eu\\\\west");
 * assert.equal(keys.read(out, 0, out.length, 7), "eu\\west");
 * assert.equal(keys.read(out, 0, 2, 8), "eu");
 * ```
 */
export class LaneKeyCache {
  readonly #slots: ({ hash: number; bytes: Uint8Array; key: string })[] =
    new Array(SLOTS);
  readonly #decode: (bytes: Uint8Array) => string;
  readonly #csvOut: boolean;

  /**
   * @param decode Bytes to text, in the input's encoding.
   * @param csvOut The bytes are COPY csv (doubled quotes), else COPY text
   * (backslash escapes).
   */
  constructor(decode: (bytes: Uint8Array) => string, csvOut: boolean) {
    this.#decode = decode;
    this.#csvOut = csvOut;
  }

  /**
   * The key whose encoded bytes are `out[start, end)`.
   *
   * @param out The codec's output.
   * @param start The key's first byte (its opening quote excluded).
   * @param end Just after its last byte (its closing quote excluded).
   * @param hash The core's hash of those bytes.
   * @returns The key's text.
   */
  read(out: Uint8Array, start: number, end: number, hash: number): string {
    const slot = (hash ^ (hash >>> 12)) & (SLOTS - 1);
    const hit = this.#slots[slot];
    if (
      hit !== undefined && hit.hash === hash &&
      hit.bytes.length === end - start
    ) {
      const bytes = hit.bytes;
      let k = 0;
      while (k < bytes.length && bytes[k] === out[start + k]) k++;
      if (k === bytes.length) return hit.key;
    }
    const bytes = out.slice(start, end);
    const special = this.#csvOut ? DQUOTE : BACKSLASH;
    const key = !bytes.includes(special)
      ? this.#decode(bytes)
      : this.#csvOut
      ? this.#decode(bytes).replaceAll('""', '"')
      : decodeCopyRow(this.#decode(bytes), "text")[0] ?? "";
    this.#slots[slot] = { hash, bytes, key };
    return key;
  }
}
