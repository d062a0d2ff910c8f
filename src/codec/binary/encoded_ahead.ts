/**
 * A batch's COPY binary made before it reaches the writer: the decode
 * thread encodes each batch as it hands it out, so the writer's thread
 * only sends. The encoding travels beside the batch, not in it (a batch
 * whose rows change, as when rejects drop some, has none, and is encoded
 * where it is sent). Seqs are known only when the batch is sent: a batch
 * for a table with the seq column is encoded with 0 in each row's last
 * field, which {@linkcode fillSeqs} fills in place.
 *
 * @module
 */

import type { RowBlock } from "../row_block.ts";
import { rowCount } from "../row_block.ts";
import { HEADER_BYTES } from "./_binary_constants.ts";
import type {
  BinaryMiss,
  BinaryRows,
  BinaryRowsOptions,
} from "./binary_rows.ts";

/**
 * How batches are encoded ahead: the encoder's options, and whether each
 * row ends in a seq field (an int8, filled in by {@linkcode fillSeqs}).
 *
 * @example Usage
 * ```ts
 * import type { AheadEncoding } from "./encoded_ahead.ts";
 * import { TYPE_INT8 } from "./_binary_constants.ts";
 * import assert from "node:assert/strict";
 *
 * const ahead: AheadEncoding = {
 *   types: Uint8Array.of(TYPE_INT8),
 *   naiveTimestamptzIsUtc: true,
 *   seqs: false,
 * };
 * assert.equal(ahead.seqs, false);
 * ```
 */
export interface AheadEncoding extends BinaryRowsOptions {
  /** Each row gets a seq field last (encoded as 0 until filled). */
  seqs: boolean;
}

/**
 * What a block was encoded into ahead, and how.
 *
 * @example Usage
 * ```ts
 * import type { EncodedAhead } from "./encoded_ahead.ts";
 * import { TYPE_INT8 } from "./_binary_constants.ts";
 * import assert from "node:assert/strict";
 *
 * const ahead: EncodedAhead = {
 *   encoded: { row: 0, field: 0 },
 *   encoding: { types: Uint8Array.of(TYPE_INT8), naiveTimestamptzIsUtc: true, seqs: false },
 * };
 * assert.ok(!(ahead.encoded instanceof Uint8Array));
 * ```
 */
export interface EncodedAhead {
  /** The binary (seqs still 0), or the first value with no binary form. */
  encoded: Uint8Array | BinaryMiss;
  /** The encoding it was made with. */
  encoding: AheadEncoding;
}

/** Blocks and what was made for them ahead. */
const encodings = new WeakMap<RowBlock, EncodedAhead>();

/**
 * Encodes `block` with `encoder` and keeps the result beside it, for
 * {@linkcode encodedAhead}.
 *
 * @param block The rows, as COPY text.
 * @param encoder An encoder made with `encoding`'s options.
 * @param encoding The encoding, `seqs` whether each row ends in a seq
 * field (encoded as 0).
 * @returns What the encoder made: the binary, or the first miss.
 *
 * @example Encode, then find it again
 * ```ts
 * import { encodeAhead, encodedAhead } from "./encoded_ahead.ts";
 * import { BinaryRows } from "./binary_rows.ts";
 * import { TYPE_INT4 } from "./_binary_constants.ts";
 * import assert from "node:assert/strict";
 *
 * const encoding = { types: Uint8Array.of(TYPE_INT4), naiveTimestamptzIsUtc: true, seqs: false };
 * const encoder = new BinaryRows(encoding);
 * const block = {
 *   data: new TextEncoder().encode("7\n"), rowEnds: Uint32Array.of(2),
 *   lines: Float64Array.of(1), endOffsets: Float64Array.of(2),
 * };
 * const binary = encodeAhead(block, encoder, encoding);
 * assert.equal(encodedAhead(block, encoding), binary);
 * assert.equal(encodedAhead(block, { ...encoding, seqs: true }), undefined);
 * ```
 */
export function encodeAhead(
  block: RowBlock,
  encoder: BinaryRows,
  encoding: AheadEncoding,
): Uint8Array | BinaryMiss {
  const encoded = encoder.encode(
    block,
    encoding.seqs ? new Float64Array(rowCount(block)) : undefined,
  );
  encodings.set(block, { encoded, encoding });
  return encoded;
}

/**
 * Keeps what was made for `block` ahead beside it (a batch that crossed
 * threads, its binary with it).
 *
 * @param block The rows.
 * @param ahead What was made for them, and how.
 *
 * @example Usage
 * ```ts
 * import { encodedAhead, keepEncodedAhead } from "./encoded_ahead.ts";
 * import { TYPE_UUID } from "./_binary_constants.ts";
 * import assert from "node:assert/strict";
 *
 * const encoding = { types: Uint8Array.of(TYPE_UUID), naiveTimestamptzIsUtc: true, seqs: false };
 * const block = {
 *   data: new Uint8Array(0), rowEnds: new Uint32Array(0),
 *   lines: new Float64Array(0), endOffsets: new Float64Array(0),
 * };
 * keepEncodedAhead(block, { encoded: { row: 0, field: 1 }, encoding });
 * assert.deepEqual(encodedAhead(block, encoding), { row: 0, field: 1 });
 * ```
 */
export function keepEncodedAhead(block: RowBlock, ahead: EncodedAhead): void {
  encodings.set(block, ahead);
}

/**
 * The binary made for `block` ahead with `encoding` (seqs, if any, still
 * 0), or the first miss if it could not be; `undefined` if it was not
 * tried with that encoding.
 *
 * @param block The rows.
 * @param encoding The encoding the caller would use.
 * @returns The binary, the miss, or `undefined`.
 *
 * @example Not encoded ahead
 * ```ts
 * import { encodedAhead } from "./encoded_ahead.ts";
 * import { TYPE_TEXT } from "./_binary_constants.ts";
 * import assert from "node:assert/strict";
 *
 * const block = {
 *   data: new Uint8Array(0), rowEnds: new Uint32Array(0),
 *   lines: new Float64Array(0), endOffsets: new Float64Array(0),
 * };
 * const encoding = { types: Uint8Array.of(TYPE_TEXT), naiveTimestamptzIsUtc: true, seqs: false };
 * assert.equal(encodedAhead(block, encoding), undefined);
 * ```
 */
export function encodedAhead(
  block: RowBlock,
  encoding: AheadEncoding,
): Uint8Array | BinaryMiss | undefined {
  const ahead = encodings.get(block);
  if (ahead === undefined || !sameEncoding(ahead.encoding, encoding)) {
    return undefined;
  }
  return ahead.encoded;
}

/**
 * What was made for `block` ahead, however it was encoded (to hand it to
 * another thread with the block).
 *
 * @param block The rows.
 * @returns What was made, and how; `undefined` if nothing was.
 *
 * @example Usage
 * ```ts
 * import { aheadOf } from "./encoded_ahead.ts";
 * import assert from "node:assert/strict";
 *
 * const block = {
 *   data: new Uint8Array(0), rowEnds: new Uint32Array(0),
 *   lines: new Float64Array(0), endOffsets: new Float64Array(0),
 * };
 * assert.equal(aheadOf(block), undefined);
 * ```
 */
export function aheadOf(block: RowBlock): EncodedAhead | undefined {
  return encodings.get(block);
}

function sameEncoding(a: AheadEncoding, b: AheadEncoding): boolean {
  return a.seqs === b.seqs &&
    a.naiveTimestamptzIsUtc === b.naiveTimestamptzIsUtc &&
    a.types.length === b.types.length &&
    a.types.every((type, i) => type === b.types[i]);
}

/**
 * Writes each row's seq into its last field, an int8, in place: `binary`
 * is a COPY binary stream, header to trailer, with one row per seq.
 *
 * @param binary The stream (changed in place).
 * @param seqs A seq per row (integers from 0 to 2^53).
 * @returns `binary`.
 * @throws {RangeError} If the stream's rows are not one per seq, each
 * ending in an 8-byte field.
 *
 * @example The seqs of two rows
 * ```ts
 * import { encodeAhead, fillSeqs } from "./encoded_ahead.ts";
 * import { BinaryRows } from "./binary_rows.ts";
 * import { TYPE_TEXT } from "./_binary_constants.ts";
 * import assert from "node:assert/strict";
 *
 * const encoding = { types: Uint8Array.of(TYPE_TEXT), naiveTimestamptzIsUtc: true, seqs: true };
 * const encoder = new BinaryRows(encoding);
 * const block = {
 *   data: new TextEncoder().encode("a\nb\n"), rowEnds: Uint32Array.of(2, 4),
 *   lines: Float64Array.of(1, 2), endOffsets: Float64Array.of(2, 4),
 * };
 * const ahead = encodeAhead(block, encoder, encoding) as Uint8Array;
 * const seqs = Float64Array.of(41, 42);
 * assert.deepEqual(fillSeqs(ahead, seqs), encoder.encode(block, seqs));
 * ```
 */
export function fillSeqs(binary: Uint8Array, seqs: Float64Array): Uint8Array {
  const view = new DataView(binary.buffer, binary.byteOffset, binary.length);
  const end = binary.length - 2; // the trailer, -1 as int16
  let at = HEADER_BYTES;
  for (let row = 0; row < seqs.length; row++) {
    if (at + 2 > end) throw rowsNotSeqs(seqs.length);
    const fields = view.getInt16(at);
    at += 2;
    for (let field = 1; field < fields; field++) {
      if (at + 4 > end) throw rowsNotSeqs(seqs.length);
      at += 4 + Math.max(view.getInt32(at), 0);
    }
    if (fields < 1 || at + 12 > end || view.getInt32(at) !== 8) {
      throw new RangeError(
        `Cannot fill the seq of row ${row}: its last field is not 8 bytes`,
      );
    }
    const seq = seqs[row];
    view.setUint32(at + 4, Math.floor(seq / 2 ** 32));
    view.setUint32(at + 8, seq >>> 0);
    at += 12;
  }
  if (at !== end || view.getInt16(end) !== -1) {
    throw rowsNotSeqs(seqs.length);
  }
  return binary;
}

function rowsNotSeqs(seqs: number): RangeError {
  return new RangeError(
    `Cannot fill ${seqs} seqs: the stream does not hold one row per seq`,
  );
}
