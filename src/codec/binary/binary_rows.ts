/**
 * COPY binary batches from COPY text rows: {@linkcode BinaryRows} turns a
 * {@linkcode RowBlock} (what the CSV and NDJSON codecs make) into one COPY
 * binary stream when every value follows the binary rules of its column's
 * type, and otherwise names the first value that does not
 * ({@linkcode BinaryMiss}), so that the caller sends the batch as text.
 *
 * The rules, by type code (`TYPE_*` of `_binary_constants.ts`; a value
 * outside them is a miss, never a guess). A field that is exactly `\N` is
 * NULL (any type but `TYPE_NONE`); other than that, a backslash anywhere
 * is a miss except in text, json, jsonb and bytea, whose COPY escapes
 * `\\ \b \f \n \r \t \v` are undone (any other, a miss).
 * - int2, int4, int8: `[+-]?[0-9]+` in range;
 * - numeric: `[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)`, up to 1000 digits;
 * - float4, float8: decimal with an optional exponent, by Clinger's fast
 *   path only (up to 15 significant digits, 1e±22); a float4 that a
 *   double-then-float rounding could get wrong (a tie), or out of the
 *   normal range, is a miss;
 * - bool: as PostgreSQL's `parse_bool_with_len`, spaces trimmed;
 * - text, json: the bytes; jsonb: version 1 and the bytes, the top-level
 *   object's members put in jsonb's key order (`_jsonb_keys.ts`); bytea: `\x`
 *   and pairs of hex digits;
 * - date `YYYY-MM-DD`; timestamp `YYYY-MM-DD[ T]HH:MM:SS[.ffffff]`;
 *   timestamptz the same with `Z` or an offset `±HH[[:]MM]` (up to 15:59),
 *   or none when the session TimeZone is UTC;
 * - uuid: 32 hex digits, with 8-4-4-4-12 hyphens or none.
 *
 * @module
 */

import { withWasmFallback } from "../_wasm_module.ts";
import { type RowBlock, rowCount } from "../row_block.ts";
import { REG_MISS_FIELD, REG_MISS_ROW } from "./_binary_constants.ts";
import { type BinaryCore, TsBinaryCore } from "./_binary_core.ts";
import { WasmBinaryCore } from "./_wasm_binary_core.ts";

/**
 * The first value of a block with no COPY binary form: its row in the
 * block and its field, both 0-based. (A row with too few fields names its
 * first missing field; too many, its first extra one.)
 *
 * @example Usage
 * ```ts
 * import type { BinaryMiss } from "./binary_rows.ts";
 * import assert from "node:assert/strict";
 *
 * const miss: BinaryMiss = { row: 0, field: 2 };
 * assert.equal(miss.field, 2);
 * ```
 */
export interface BinaryMiss {
  /** The row, 0-based, in the block. */
  row: number;
  /** The field, 0-based. */
  field: number;
}

/**
 * Options for {@linkcode BinaryRows}.
 *
 * @example Usage
 * ```ts
 * import type { BinaryRowsOptions } from "./binary_rows.ts";
 * import { TYPE_INT8, TYPE_TEXT } from "./_binary_constants.ts";
 * import assert from "node:assert/strict";
 *
 * const options: BinaryRowsOptions = {
 *   types: Uint8Array.of(TYPE_INT8, TYPE_TEXT),
 *   naiveTimestamptzIsUtc: false,
 * };
 * assert.equal(options.types.length, 2);
 * ```
 */
export interface BinaryRowsOptions {
  /** A type code per field (`TYPE_*`), at most `FIELD_CAPACITY`. */
  types: Uint8Array;
  /**
   * Whether the session TimeZone is UTC, so that a timestamptz without an
   * offset is UTC (else such a value is a miss).
   */
  naiveTimestamptzIsUtc: boolean;
  /**
   * Which core: the WebAssembly module (default) or its TypeScript twin.
   * Both give the same bytes and the same misses. Where WebAssembly cannot
   * be compiled or instantiated, the TypeScript core takes over, with a
   * notice on stderr (once per thread).
   */
  codec?: "wasm" | "ts";
}

/**
 * Transcodes COPY text row blocks of one shape (a type per field) into
 * COPY binary streams.
 *
 * @example A batch in binary, and one that must stay text
 * ```ts
 * import { BinaryRows } from "./binary_rows.ts";
 * import { TYPE_INT4, TYPE_UUID } from "./_binary_constants.ts";
 * import assert from "node:assert/strict";
 *
 * const rows = new BinaryRows({
 *   types: Uint8Array.of(TYPE_INT4, TYPE_UUID),
 *   naiveTimestamptzIsUtc: false,
 * });
 * const text = "1\tA0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11\n2\t\\N\n";
 * const data = new TextEncoder().encode(text);
 * const block = {
 *   data,
 *   rowEnds: Uint32Array.of(text.indexOf("\n") + 1, data.length),
 *   lines: Float64Array.of(2, 3),
 *   endOffsets: Float64Array.of(0, 0),
 * };
 * const binary = rows.encode(block);
 * assert.ok(binary instanceof Uint8Array);
 * assert.equal(new TextDecoder().decode(binary.subarray(0, 6)), "PGCOPY");
 * assert.equal(binary.length, 19 + (2 + 8 + 20) + (2 + 8 + 4) + 2);
 * assert.deepEqual([...binary.subarray(-2)], [0xff, 0xff]);
 *
 * const bad = { ...block, data: new TextEncoder().encode("1\t{a0eebc99}\n2\t\\N\n") };
 * bad.rowEnds = Uint32Array.of(13, bad.data.length);
 * assert.deepEqual(rows.encode(bad), { row: 0, field: 1 });
 * ```
 */
export class BinaryRows {
  /** The core that runs: `wasm`, or `ts` (asked for, or the fallback). */
  readonly codec: "wasm" | "ts";
  /** The options it was made with, `codec` the core that runs. */
  readonly options: Readonly<BinaryRowsOptions>;
  readonly #core: BinaryCore;

  /**
   * Makes the core (see {@linkcode BinaryRowsOptions.codec}).
   *
   * @param options The fields' types, the session's zone, the core.
   * @throws {RangeError} If there are more than `FIELD_CAPACITY` fields.
   */
  constructor(options: BinaryRowsOptions) {
    const { types, naiveTimestamptzIsUtc: utc } = options;
    let codec: "wasm" | "ts" = "ts";
    this.#core = options.codec === "ts"
      ? new TsBinaryCore(types, utc)
      : withWasmFallback<BinaryCore>(() => {
        const core = new WasmBinaryCore(types, utc);
        codec = "wasm";
        return core;
      }, () => new TsBinaryCore(types, utc));
    this.codec = codec;
    this.options = { types, naiveTimestamptzIsUtc: utc, codec };
  }

  /**
   * Transcodes a block: its rows (each with `types.length` fields, then,
   * with `seqs`, its seq as an int8 field) as one COPY binary stream,
   * header to trailer.
   *
   * @param block The rows, as COPY text.
   * @param seqs A seq per row (integers below 2^53), appended to each.
   * @returns The stream (a copy, the caller's to keep), or the first value
   * with no binary form.
   * @throws {RangeError} If `seqs` is not one per row.
   */
  encode(block: RowBlock, seqs?: Float64Array): Uint8Array | BinaryMiss {
    const rows = rowCount(block);
    if (seqs !== undefined && seqs.length !== rows) {
      throw new RangeError(
        `Cannot encode ${rows} rows with ${seqs.length} seqs: one per row`,
      );
    }
    const core = this.#core;
    const length = core.encode(block.data, block.rowEnds, seqs);
    if (length < 0) {
      const registers = core.registers();
      return { row: registers[REG_MISS_ROW], field: registers[REG_MISS_FIELD] };
    }
    return core.output().slice(0, length);
  }
}
