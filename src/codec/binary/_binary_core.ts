/**
 * The COPY text -> COPY binary core: one call turns a batch of COPY text
 * rows into one COPY binary stream (header, rows, trailer) when every value
 * has a binary form, or names the first value that has none (its row and
 * field, in the registers). This file holds the contract
 * ({@linkcode BinaryCore}) and the TypeScript implementation,
 * {@linkcode TsBinaryCore}: framing and bool here, text, json, jsonb,
 * bytea and uuid in `_binary_bytes.ts`, numbers in `_binary_numbers.ts`,
 * dates and times in `_binary_time.ts`. `wasm/binary_copy.ts` is the same
 * algorithm in AssemblyScript, function for function; the constants both
 * use are defined once, in `_binary_constants.ts`.
 *
 * Each value function takes the field's bytes `src[p, q)` and the output
 * offset `at` where its int32 length goes, and returns the offset after
 * its bytes, or 0 for a miss (the output never starts at 0).
 *
 * @module
 */

import * as constants from "./_binary_constants.ts";
import {
  type BinaryOutput,
  float,
  integer,
  numeric,
  setInt64,
} from "./_binary_numbers.ts";
import { date, timestamp } from "./_binary_time.ts";
import { bytea, jsonb, text, uuid } from "./_binary_bytes.ts";

// The constants as this module's own bindings: V8 folds a module's own
// constants into the code it optimises, not imported bindings.
const {
  BACKSLASH,
  CASE_BIT,
  DIGIT_0,
  DIGIT_1,
  FIELD_CAPACITY,
  HEADER_BYTES,
  LF,
  LOWER_F,
  LOWER_N,
  LOWER_O,
  LOWER_T,
  LOWER_Y,
  REG_LENGTH,
  REG_MISS_FIELD,
  REG_MISS_ROW,
  REGISTER_COUNT,
  RESULT_MISS,
  SIGNATURE_1,
  SIGNATURE_2,
  SIGNATURE_3,
  SPACE,
  TAB,
  TYPE_BOOL,
  TYPE_BYTEA,
  TYPE_DATE,
  TYPE_FLOAT4,
  TYPE_FLOAT8,
  TYPE_INT2,
  TYPE_INT4,
  TYPE_INT8,
  TYPE_JSON,
  TYPE_JSONB,
  TYPE_NONE,
  TYPE_NUMERIC,
  TYPE_TEXT,
  TYPE_TIMESTAMP,
  TYPE_TIMESTAMPTZ,
  TYPE_UUID,
  UPPER_N,
  UPPER_Z,
} = constants;

/**
 * The core's interface: {@linkcode TsBinaryCore}, or the WASM module's.
 *
 * @example Either core, through the interface
 * ```ts
 * import { type BinaryCore, TsBinaryCore } from "./_binary_core.ts";
 * import { REG_LENGTH, TYPE_BOOL } from "./_binary_constants.ts";
 * import assert from "node:assert/strict";
 *
 * const core: BinaryCore = new TsBinaryCore(Uint8Array.of(TYPE_BOOL), false);
 * const data = new TextEncoder().encode(" yes\n");
 * assert.equal(core.encode(data, Uint32Array.of(data.length)), 19 + 2 + 5 + 2);
 * assert.equal(core.registers()[REG_LENGTH], 28);
 * assert.deepEqual([...core.output().subarray(21, 26)], [0, 0, 0, 1, 1]);
 * ```
 */
export interface BinaryCore {
  /**
   * Transcodes a batch: the COPY text rows in `data` (row `i` ends, after
   * its LF, at `rowEnds[i]`), each with `seqs[i]` as an extra int8 field
   * when given. Returns the output's length, or `RESULT_MISS`: the
   * registers `REG_MISS_ROW` and `REG_MISS_FIELD` then name the first value
   * with no binary form (a row with too few fields: its first missing
   * field; too many: its first extra one).
   */
  encode(data: Uint8Array, rowEnds: Uint32Array, seqs?: Float64Array): number;
  /** The registers after the last call (a view: take it again after each). */
  registers(): Int32Array;
  /** The output, `registers()[REG_LENGTH]` bytes of it valid (a view). */
  output(): Uint8Array;
}

/**
 * Checks the type codes a core is made with.
 *
 * @param types A type code per field.
 * @throws {RangeError} If there are more than `FIELD_CAPACITY`.
 *
 * @example Usage
 * ```ts
 * import { checkTypes } from "./_binary_core.ts";
 * import assert from "node:assert/strict";
 *
 * checkTypes(new Uint8Array(1600));
 * assert.throws(() => checkTypes(new Uint8Array(5000)), RangeError);
 * ```
 */
export function checkTypes(types: Uint8Array): void {
  if (types.length > FIELD_CAPACITY) {
    throw new RangeError(
      `Cannot encode rows of ${types.length} fields as COPY binary: at most ${FIELD_CAPACITY}`,
    );
  }
}

/**
 * The core in TypeScript: the reference and fallback for the WASM module,
 * the same algorithm.
 *
 * @example An int4 and a text field, then a miss
 * ```ts
 * import { TsBinaryCore } from "./_binary_core.ts";
 * import { REG_MISS_FIELD, REG_MISS_ROW, TYPE_INT4, TYPE_TEXT } from "./_binary_constants.ts";
 * import assert from "node:assert/strict";
 *
 * const core = new TsBinaryCore(Uint8Array.of(TYPE_INT4, TYPE_TEXT), false);
 * const data = new TextEncoder().encode("7\ta\\tb\n");
 * const length = core.encode(data, Uint32Array.of(data.length));
 * assert.deepEqual(
 *   [...core.output().subarray(19, length)],
 *   [0, 2, 0, 0, 0, 4, 0, 0, 0, 7, 0, 0, 0, 3, 0x61, 0x09, 0x62, 0xff, 0xff],
 * );
 * const bad = new TextEncoder().encode("7\tx\nseven\tx\n");
 * assert.equal(core.encode(bad, Uint32Array.of(4, 12)), -1);
 * assert.deepEqual([core.registers()[REG_MISS_ROW], core.registers()[REG_MISS_FIELD]], [1, 0]);
 * ```
 */
export class TsBinaryCore implements BinaryCore {
  readonly #types: Uint8Array;
  readonly #expected: number;
  readonly #naiveUtc: boolean;
  readonly #registers = new Int32Array(REGISTER_COUNT);
  #out: BinaryOutput;

  /**
   * @param types A type code per field (`TYPE_*`).
   * @param naiveUtc A timestamptz without an offset is UTC.
   */
  constructor(types: Uint8Array, naiveUtc: boolean) {
    checkTypes(types);
    this.#types = types.slice();
    this.#expected = types.length;
    this.#naiveUtc = naiveUtc;
    const bytes = new Uint8Array(1 << 16);
    this.#out = { bytes, view: new DataView(bytes.buffer) };
  }

  /** @returns The registers. */
  registers(): Int32Array {
    return this.#registers;
  }

  /** @returns The output buffer. */
  output(): Uint8Array {
    return this.#out.bytes;
  }

  /** Grows the output so that it holds `end` bytes, keeping `used`. */
  #reserve(end: number, used: number): void {
    const old = this.#out.bytes;
    if (end <= old.length) return;
    const bytes = new Uint8Array(Math.max(end, 2 * old.length));
    bytes.set(old.subarray(0, used));
    this.#out = { bytes, view: new DataView(bytes.buffer) };
  }

  /**
   * @param data The rows.
   * @param rowEnds Each row's end.
   * @param seqs Each row's seq, an extra int8 field.
   * @returns The output's length, or `RESULT_MISS`.
   */
  encode(data: Uint8Array, rowEnds: Uint32Array, seqs?: Float64Array): number {
    const registers = this.#registers;
    registers[REG_LENGTH] = 0;
    const rows = rowEnds.length;
    let at = header(this.#out, 0);
    const fields = this.#expected + (seqs === undefined ? 0 : 1);
    let start = 0;
    for (let r = 0; r < rows; r++) {
      const end = rowEnds[r];
      if (end <= start || end > data.length) return this.#miss(r, 0);
      // A value's bytes are at most 8 per input byte (numeric "1": 14 for
      // 2), its length included; 16 more for the count, seq and trailer.
      this.#reserve(at + 16 + 8 * (end - start), at);
      this.#out.view.setUint16(at, fields);
      at = this.#row(r, data, start, end, at + 2);
      if (at === 0) return RESULT_MISS;
      if (seqs !== undefined) at = seq(this.#out, at, seqs[r]);
      start = end;
    }
    this.#out.view.setInt16(at, -1);
    registers[REG_LENGTH] = at + 2;
    return at + 2;
  }

  /** Records a miss at row `r`, field `f`. */
  #miss(r: number, f: number): number {
    this.#registers[REG_MISS_ROW] = r;
    this.#registers[REG_MISS_FIELD] = f;
    return RESULT_MISS;
  }

  /**
   * Row `r`, `src[start, end)` (ending in LF), as its fields from `at`:
   * the offset after them, or 0 for a miss (recorded).
   */
  #row(r: number, src: Uint8Array, start: number, end: number, at: number) {
    const expected = this.#expected;
    const stop = end - 1;
    if (src[stop] !== LF) return this.#missAt(r, 0);
    if (expected === 0) return start === stop ? at : this.#missAt(r, 0);
    const types = this.#types;
    const out = this.#out;
    let p = start;
    for (let f = 0; f < expected; f++) {
      let q = p;
      let escaped = false;
      while (q < stop) {
        const b = src[q];
        if (b === TAB) break;
        if (b === BACKSLASH) escaped = true;
        q++;
      }
      at = this.#value(types[f], src, p, q, escaped, out, at);
      if (at === 0) return this.#missAt(r, f);
      if (q === stop) {
        // Too few fields: the first one missing.
        if (f + 1 < expected) return this.#missAt(r, f + 1);
      } else if (f + 1 === expected) {
        // Too many: the first one extra.
        return this.#missAt(r, expected);
      }
      p = q + 1;
    }
    return at;
  }

  #missAt(r: number, f: number): number {
    this.#miss(r, f);
    return 0;
  }

  /** One field, `src[p, q)`; `escaped` when it holds a backslash. */
  #value(
    type: number,
    src: Uint8Array,
    p: number,
    q: number,
    escaped: boolean,
    out: BinaryOutput,
    at: number,
  ): number {
    if (type === TYPE_NONE || type > TYPE_UUID) return 0;
    if (escaped) {
      if (q - p === 2 && src[p] === BACKSLASH && src[p + 1] === UPPER_N) {
        out.view.setInt32(at, -1);
        return at + 4;
      }
      if (type === TYPE_TEXT || type === TYPE_JSON) {
        return text(src, p, q, true, out, at, 0);
      }
      if (type === TYPE_JSONB) return jsonb(src, p, q, true, out, at);
      if (type === TYPE_BYTEA) return bytea(src, p, q, out, at);
      return 0;
    }
    switch (type) {
      case TYPE_INT2:
        return integer(src, p, q, out, at, 2);
      case TYPE_INT4:
        return integer(src, p, q, out, at, 4);
      case TYPE_INT8:
        return integer(src, p, q, out, at, 8);
      case TYPE_NUMERIC:
        return numeric(src, p, q, out, at);
      case TYPE_FLOAT4:
        return float(src, p, q, out, at, 4);
      case TYPE_FLOAT8:
        return float(src, p, q, out, at, 8);
      case TYPE_BOOL:
        return boolean(src, p, q, out, at);
      case TYPE_TEXT:
      case TYPE_JSON:
        return text(src, p, q, false, out, at, 0);
      case TYPE_JSONB:
        return jsonb(src, p, q, false, out, at);
      case TYPE_BYTEA:
        return 0; // hex format starts with a backslash
      case TYPE_DATE:
        return date(src, p, q, out, at);
      case TYPE_TIMESTAMP:
        return timestamp(src, p, q, out, at, false, this.#naiveUtc);
      case TYPE_TIMESTAMPTZ:
        return timestamp(src, p, q, out, at, true, this.#naiveUtc);
      default:
        return uuid(src, p, q, out, at);
    }
  }
}

/** The 19-byte header: signature, flags 0, header extension length 0. */
function header(out: BinaryOutput, at: number): number {
  const view = out.view;
  view.setUint32(at, SIGNATURE_1);
  view.setUint32(at + 4, SIGNATURE_2);
  view.setUint32(at + 8, SIGNATURE_3);
  view.setUint32(at + 11, 0);
  view.setUint32(at + 15, 0);
  return at + HEADER_BYTES;
}

/** The lane seq: an int8 field. */
function seq(out: BinaryOutput, at: number, value: number): number {
  out.view.setInt32(at, 8);
  setInt64(out.view, at + 4, Math.trunc(value));
  return at + 12;
}

/** ASCII whitespace as C's isspace: space, \t, \n, \v, \f, \r. */
function isSpace(b: number): boolean {
  return b === SPACE || (b >= TAB && b <= 0x0d);
}

/** `b` in lower case, if an ASCII letter. */
function lower(b: number): number {
  return b >= 0x41 && b <= UPPER_Z ? b | CASE_BIT : b;
}

/** Whether the `length` bytes at `src[p]` are, in any case, a prefix of `word`. */
function prefixOf(
  src: Uint8Array,
  p: number,
  length: number,
  word: string,
): boolean {
  if (length > word.length) return false;
  for (let k = 0; k < length; k++) {
    if (lower(src[p + k]) !== word.charCodeAt(k)) return false;
  }
  return true;
}

/** Bool, as PostgreSQL's `parse_bool_with_len` after trimming spaces. */
function boolean(
  src: Uint8Array,
  p: number,
  q: number,
  out: BinaryOutput,
  at: number,
): number {
  while (p < q && isSpace(src[p])) p++;
  while (q > p && isSpace(src[q - 1])) q--;
  const length = q - p;
  if (length === 0) return 0;
  const c = lower(src[p]);
  let v = -1;
  if (c === LOWER_T) {
    if (prefixOf(src, p, length, "true")) v = 1;
  } else if (c === LOWER_F) {
    if (prefixOf(src, p, length, "false")) v = 0;
  } else if (c === LOWER_Y) {
    if (prefixOf(src, p, length, "yes")) v = 1;
  } else if (c === LOWER_N) {
    if (prefixOf(src, p, length, "no")) v = 0;
  } else if (c === LOWER_O) {
    if (length >= 2 && prefixOf(src, p, length, "on")) v = 1;
    else if (length >= 2 && prefixOf(src, p, length, "off")) v = 0;
  } else if (length === 1 && (c === DIGIT_0 || c === DIGIT_1)) {
    v = c - DIGIT_0;
  }
  if (v < 0) return 0;
  out.view.setUint32(at, 1);
  out.bytes[at + 4] = v;
  return at + 5;
}
