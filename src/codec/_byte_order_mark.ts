/**
 * The UTF-8 byte order mark at the very start of an input, dropped by both
 * codecs' shells: it may arrive split over chunks, so its first bytes are
 * held back until three have come (or the input ends).
 *
 * @module
 */

const BOM = [0xef, 0xbb, 0xbf];

/**
 * Drops a byte order mark at the start of the input.
 *
 * @example Usage
 * ```ts
 * import { ByteOrderMark } from "./_byte_order_mark.ts";
 * import assert from "node:assert/strict";
 *
 * const bom = new ByteOrderMark(true);
 * assert.deepEqual(bom.skip(Uint8Array.of(0xef, 0xbb), false), { bytes: new Uint8Array(0), skipped: 0 });
 * assert.deepEqual(bom.skip(Uint8Array.of(0xbf, 0x61), false), { bytes: Uint8Array.of(0x61), skipped: 3 });
 * assert.deepEqual(bom.skip(Uint8Array.of(0xef), false), { bytes: Uint8Array.of(0xef), skipped: 0 });
 * ```
 */
export class ByteOrderMark {
  #held: Uint8Array | undefined;

  /** @param atStart The input starts here (a resumed input does not). */
  constructor(atStart: boolean) {
    this.#held = atStart ? new Uint8Array(0) : undefined;
  }

  /**
   * The bytes to decode from `chunk` and how many mark bytes were dropped.
   *
   * @param chunk The next bytes of the input.
   * @param final No more bytes follow.
   * @returns The bytes to decode, and the mark's length when it was there.
   */
  skip(
    chunk: Uint8Array,
    final: boolean,
  ): { bytes: Uint8Array; skipped: number } {
    if (this.#held === undefined) return { bytes: chunk, skipped: 0 };
    const bytes = new Uint8Array(this.#held.length + chunk.length);
    bytes.set(this.#held);
    bytes.set(chunk, this.#held.length);
    if (bytes.length < BOM.length && !final) {
      this.#held = bytes;
      return { bytes: new Uint8Array(0), skipped: 0 };
    }
    this.#held = undefined;
    if (BOM.every((b, k) => bytes[k] === b)) {
      return { bytes: bytes.subarray(BOM.length), skipped: BOM.length };
    }
    return { bytes, skipped: 0 };
  }
}
