/**
 * The NDJSON-to-COPY codec: reads one JSON object per line from raw bytes, a
 * chunk at a time, and encodes each object as one COPY row, its fields in
 * the order of the target columns, remembering where every row came from.
 * State carries across chunks, so a record, an escape or a multibyte
 * character split between two chunks encodes exactly as if it were whole.
 *
 * Rules:
 * - Every non-blank line is one JSON object (RFC 8259); lines end in LF
 *   (a CR before it is whitespace). Blank lines are not records.
 * - Keys map to columns by name, exactly as written (after unescaping). A
 *   key that is not a column, or a key given twice, is bad input.
 * - A string is unescaped (`\uXXXX` surrogate pairs included) and written
 *   in COPY form. Numbers, `true`, `false` and nested objects and arrays
 *   pass through as their original JSON text, byte for byte (for numeric,
 *   boolean, json and jsonb columns): no value is parsed and printed again.
 * - JSON `null`, or a missing key, is NULL.
 * - The input must be UTF-8 (a byte order mark at the start is skipped).
 *
 * The scan is one flat byte state machine with no allocation per field or
 * record, written to be mirrored line for line in AssemblyScript.
 *
 * @module
 */

import { type CopyFormat, decodeCopyRow } from "./copy_row.ts";
import { ExitCode, InputSyntaxError, UsageError } from "./errors.ts";
import type { RowBlock } from "./row_block.ts";

/** Options for {@linkcode NdjsonCopyCodec}. */
export interface NdjsonCopyCodecOptions {
  /** The target columns, in the order each row writes its fields. */
  columns: readonly string[];
  /** The source's name in error messages. Default `<input>`. */
  source?: string;
  /** The COPY format to produce. Default `text`. */
  copyFormat?: CopyFormat;
  /** Source byte offset of the first byte pushed. Default 0. */
  startOffset?: number;
  /** Source line of the first byte pushed. Default 1. */
  startLine?: number;
  /**
   * The column whose value is each row's lane key: a string's unescaped
   * text, any other value's JSON text. A NULL or missing lane key is
   * malformed input.
   */
  laneColumn?: string;
}

// Between tokens (whitespace allowed).
const LINE_START = 0;
const KEY_OR_END = 1;
const KEY = 2;
const COLON = 3;
const VALUE = 4;
const VALUE_OR_END = 5;
const AFTER_VALUE = 6;
const AFTER_RECORD = 7;
// Inside a token.
const STRING = 8;
const ESCAPE = 9;
const HEX = 10;
const LOW_BACKSLASH = 11;
const LOW_U = 12;
const LITERAL = 13;
const NUM_MINUS = 14;
const NUM_ZERO = 15;
const NUM_INT = 16;
const NUM_DOT = 17;
const NUM_FRAC = 18;
const NUM_E = 19;
const NUM_E_SIGN = 20;
const NUM_E_DIGITS = 21;

// What a string is: a record key, a record value (both unescaped), or part
// of a nested value (copied as written).
const KEY_STRING = 0;
const VALUE_STRING = 1;
const RAW_KEY = 2;
const RAW_VALUE = 3;

const OBJECT = 0;
const ARRAY = 1;

const LF = 0x0a;
const CR = 0x0d;
const TAB = 0x09;
const SPACE = 0x20;
const BACKSLASH = 0x5c;
const DQUOTE = 0x22;
const BOM = [0xef, 0xbb, 0xbf];

/** Distinct lane keys remembered, decoded once each. */
const LANE_CACHE_SIZE = 4096;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** `true`, `false` and `null`, back to back: a literal is a range of it. */
const LITERALS = encoder.encode("truefalsenull");
const NULL_AT = 9;

/**
 * Encodes NDJSON bytes as COPY rows. Push chunks in order, then call
 * {@linkcode NdjsonCopyCodec.finish}; each call returns the rows completed
 * by it. Throws {@linkcode InputSyntaxError} for malformed input.
 *
 * @example Usage
 * ```ts
 * import { NdjsonCopyCodec } from "./ndjson_codec.ts";
 * import assert from "node:assert/strict";
 *
 * const codec = new NdjsonCopyCodec({ columns: ["id", "note", "tags"] });
 * const bytes = new TextEncoder().encode(
 *   '{"note": "caf\\u00e9\\ttab", "id": 1e400}\n\n{"id": 2, "tags": [1, "x"], "note": null}\n',
 * );
 * const block = codec.push(bytes);
 * assert.equal(
 *   new TextDecoder().decode(block.data),
 *   '1e400\tcafé\\ttab\t\\N\n2\t\\N\t[1, "x"]\n',
 * );
 * assert.deepEqual([...block.lines], [1, 3]);
 * ```
 */
export class NdjsonCopyCodec {
  readonly #source: string;
  readonly #columns: readonly string[];
  readonly #csvOut: boolean;
  readonly #outDelimiter: number;
  readonly #laneColumn: string | undefined;
  #laneField = -1;
  #laneKeys: string[] = [];
  readonly #laneCache = new Map<number, { bytes: Uint8Array; key: string }>();

  // Column names as UTF-8, back to back: name c is
  // `#names[#nameStarts[c], #nameStarts[c + 1])`.
  readonly #names: Uint8Array;
  readonly #nameStarts: Uint32Array;

  // Output: completed rows of this call.
  #out = new Uint8Array(1 << 16);
  #pos = 0;

  // Per-row metadata of this call.
  #rowEnds = new Uint32Array(1024);
  #lines = new Float64Array(1024);
  #endOffsets = new Float64Array(1024);
  #rows = 0;

  // The record in progress: each column's encoded value lies in
  // `#vals[#colStart[c], #colEnd[c])` (-1: NULL) when `#seen[c]` is the
  // record's stamp; otherwise the record has no such key.
  #vals = new Uint8Array(1 << 16);
  #valPos = 0;
  #valStart = 0;
  readonly #colStart: Int32Array;
  readonly #colEnd: Int32Array;
  readonly #seen: Uint32Array;
  #stamp = 0;
  #col = -1;

  // The key being read, unescaped.
  #key = new Uint8Array(256);
  #keyLen = 0;

  // Scanning state.
  #state = LINE_START;
  #depth = 0;
  #stack = new Uint8Array(64);
  #mode = KEY_STRING;
  #hex = 0;
  #hexDigits = 0;
  #high = 0;
  #literal = 0;
  #literalEnd = 0;
  #utf8Need = 0;
  #utf8Low = 0x80;
  #utf8High = 0xbf;
  #line: number;
  #chunkOffset: number;

  // The current key's start, for errors about it: its chunk index while the
  // chunk it is in is being scanned (-1 after), then its column.
  #markIndex = -1;
  #markColumn = 0;
  #markOffset = 0;

  // Column cursor: `#colCount` code points of the current line precede
  // `chunk[#colIndex]` of the chunk being pushed.
  #colIndex = 0;
  #colCount = 0;
  #chunk: Uint8Array = new Uint8Array(0);
  #bomHeld: Uint8Array | undefined;

  /** @param options The target columns, and which COPY format to write. */
  constructor(options: NdjsonCopyCodecOptions) {
    this.#source = options.source ?? "<input>";
    this.#columns = [...options.columns];
    const count = this.#columns.length;
    if (count === 0) {
      throw new UsageError(
        "Cannot read NDJSON without columns: name them with --columns",
      );
    }
    const names = this.#columns.map((name) => encoder.encode(name));
    this.#nameStarts = new Uint32Array(count + 1);
    for (let c = 0; c < count; c++) {
      if (this.#columns.indexOf(this.#columns[c]) !== c) {
        throw new UsageError(
          `Cannot read NDJSON into columns ${
            this.#columns.join(", ")
          }: column "${this.#columns[c]}" is named twice`,
          ExitCode.BadInput,
        );
      }
      this.#nameStarts[c + 1] = this.#nameStarts[c] + names[c].length;
    }
    this.#names = new Uint8Array(this.#nameStarts[count]);
    for (let c = 0; c < count; c++) {
      this.#names.set(names[c], this.#nameStarts[c]);
    }
    this.#colStart = new Int32Array(count);
    this.#colEnd = new Int32Array(count);
    this.#seen = new Uint32Array(count);
    this.#csvOut = options.copyFormat === "csv";
    this.#outDelimiter = this.#csvOut ? 0x2c : TAB;
    this.#laneColumn = options.laneColumn;
    if (this.#laneColumn !== undefined) {
      this.#laneField = this.#columns.indexOf(this.#laneColumn);
      if (this.#laneField < 0) {
        throw new UsageError(
          `Cannot use lane column "${this.#laneColumn}": no such column (columns: ${
            this.#columns.join(", ")
          })`,
          ExitCode.BadInput,
        );
      }
    }
    this.#chunkOffset = options.startOffset ?? 0;
    if (this.#chunkOffset === 0) this.#bomHeld = new Uint8Array(0);
    this.#line = options.startLine ?? 1;
  }

  /** The column names each row's fields are in (NDJSON has no header line). */
  get header(): string[] | undefined {
    return [...this.#columns];
  }

  /** Source byte offset just after everything pushed so far. */
  get offset(): number {
    return this.#chunkOffset;
  }

  /**
   * Encodes a chunk.
   *
   * @param chunk The next bytes of the source.
   * @returns The rows whose records ended in this chunk.
   */
  push(chunk: Uint8Array): RowBlock {
    const bytes = this.#skipBom(chunk, false);
    if (bytes.length > 0) this.#scan(bytes);
    return this.#takeRows();
  }

  /**
   * Ends the input: the last record may lack its line feed.
   *
   * @returns The row of the last record, if one was pending.
   */
  finish(): RowBlock {
    const held = this.#skipBom(new Uint8Array(0), true);
    if (held.length > 0) this.#scan(held);
    this.#chunk = new Uint8Array(0);
    this.#colIndex = 0;
    if (this.#state === AFTER_RECORD) {
      this.#endRecord(this.#chunkOffset);
    } else if (this.#state !== LINE_START) {
      throw this.#error(
        "Cannot parse record: the input ends before the object is closed",
        0,
      );
    }
    return this.#takeRows();
  }

  /**
   * After {@linkcode NdjsonCopyCodec.push} or
   * {@linkcode NdjsonCopyCodec.finish} threw an
   * {@linkcode InputSyntaxError}: the rows completed before the bad record,
   * which are good and may still be loaded.
   *
   * @returns Those rows.
   */
  rowsBeforeError(): RowBlock {
    return this.#takeRows();
  }

  /**
   * Drops a UTF-8 byte order mark at the very start of the input, holding
   * back the first bytes until three have arrived (or the input ends).
   */
  #skipBom(chunk: Uint8Array, final: boolean): Uint8Array {
    if (this.#bomHeld === undefined) return chunk;
    const bytes = new Uint8Array(this.#bomHeld.length + chunk.length);
    bytes.set(this.#bomHeld);
    bytes.set(chunk, this.#bomHeld.length);
    if (bytes.length < BOM.length && !final) {
      this.#bomHeld = bytes;
      return new Uint8Array(0);
    }
    this.#bomHeld = undefined;
    if (BOM.every((b, k) => bytes[k] === b)) {
      this.#chunkOffset += BOM.length;
      return bytes.subarray(BOM.length);
    }
    return bytes;
  }

  #scan(chunk: Uint8Array): void {
    const n = chunk.length;
    this.#reserveVals(this.#valPos + 3 * n + 16);
    // A key or value grows by at most 2 bytes per source byte, plus a
    // character completed by this chunk and a field's quotes.
    if (this.#key.length < this.#keyLen + n + 16) {
      this.#growKey(this.#keyLen + n + 16);
    }
    this.#chunk = chunk;
    this.#colIndex = 0;
    this.#markIndex = -1;
    let state = this.#state;
    let i = 0;
    while (i < n) {
      const b = chunk[i];
      if (state <= AFTER_RECORD && (b === SPACE || b === TAB || b === CR)) {
        if (this.#depth >= 2) this.#putEscaped(b);
        i++;
        continue;
      }
      switch (state) {
        case LINE_START: {
          if (b === LF) {
            this.#newLine(i + 1);
          } else if (b === 0x7b) { // {
            this.#depth = 1;
            this.#stack[1] = OBJECT;
            this.#stamp++;
            if (this.#stamp === 0x100000000) {
              this.#seen.fill(0);
              this.#stamp = 1;
            }
            this.#col = -1;
            this.#valPos = 0;
            state = KEY_OR_END;
          } else {
            throw this.#unexpected("a JSON object", b, i);
          }
          i++;
          continue;
        }
        case KEY_OR_END:
        case KEY: {
          if (b === DQUOTE) {
            if (this.#depth === 1) {
              this.#mode = KEY_STRING;
              this.#keyLen = 0;
              this.#markIndex = i;
              this.#markOffset = this.#chunkOffset + i;
            } else {
              this.#mode = RAW_KEY;
              this.#putEscaped(DQUOTE);
            }
            state = STRING;
          } else if (b === 0x7d && state === KEY_OR_END) { // }
            state = this.#close(i);
          } else {
            throw this.#unexpected(
              state === KEY ? "a key" : "a key or }",
              b,
              i,
            );
          }
          i++;
          continue;
        }
        case COLON: {
          if (b !== 0x3a) throw this.#unexpected(": after the key", b, i);
          if (this.#depth >= 2) this.#vals[this.#valPos++] = b;
          state = VALUE;
          i++;
          continue;
        }
        case VALUE:
        case VALUE_OR_END: {
          if (b === 0x5d && state === VALUE_OR_END) { // ]
            state = this.#close(i);
            i++;
            continue;
          }
          if (this.#depth === 1) {
            this.#valStart = this.#valPos;
            if (this.#csvOut) this.#vals[this.#valPos++] = DQUOTE;
          }
          if (b === DQUOTE) {
            if (this.#depth === 1) {
              this.#mode = VALUE_STRING;
            } else {
              this.#mode = RAW_VALUE;
              this.#putEscaped(DQUOTE);
            }
            state = STRING;
          } else if (b === 0x7b || b === 0x5b) { // { [
            this.#vals[this.#valPos++] = b;
            this.#depth++;
            if (this.#depth === this.#stack.length) this.#growStack();
            this.#stack[this.#depth] = b === 0x7b ? OBJECT : ARRAY;
            state = b === 0x7b ? KEY_OR_END : VALUE_OR_END;
          } else if (b === 0x2d) { // -
            this.#vals[this.#valPos++] = b;
            state = NUM_MINUS;
          } else if (b === 0x30) { // 0
            this.#vals[this.#valPos++] = b;
            state = NUM_ZERO;
          } else if (b >= 0x31 && b <= 0x39) {
            this.#vals[this.#valPos++] = b;
            state = NUM_INT;
          } else if (b === 0x74 || b === 0x66 || b === 0x6e) { // t f n
            this.#vals[this.#valPos++] = b;
            this.#literal = b === 0x74 ? 1 : b === 0x66 ? 5 : NULL_AT + 1;
            this.#literalEnd = b === 0x74 ? 4 : b === 0x66 ? 9 : NULL_AT + 4;
            state = LITERAL;
          } else {
            throw this.#unexpected(
              state === VALUE ? "a value" : "a value or ]",
              b,
              i,
            );
          }
          i++;
          continue;
        }
        case AFTER_VALUE: {
          const inObject = this.#stack[this.#depth] === OBJECT;
          if (b === 0x2c) { // ,
            if (this.#depth >= 2) this.#vals[this.#valPos++] = b;
            state = inObject ? KEY : VALUE;
          } else if (b === (inObject ? 0x7d : 0x5d)) {
            state = this.#close(i);
          } else {
            throw this.#unexpected(inObject ? ", or }" : ", or ]", b, i);
          }
          i++;
          continue;
        }
        case AFTER_RECORD: {
          if (b !== LF) {
            throw this.#unexpected(
              "the end of the line after the object",
              b,
              i,
            );
          }
          this.#endRecord(this.#chunkOffset + i + 1);
          this.#newLine(i + 1);
          state = LINE_START;
          i++;
          continue;
        }
        case STRING: {
          if (this.#utf8Need > 0) {
            this.#utf8Continue(b, i);
            i++;
            continue;
          }
          // Copy the plain run in one tight loop.
          let c = b;
          if (this.#mode === KEY_STRING) {
            const key = this.#key;
            let k = this.#keyLen;
            while (c >= SPACE && c < 0x80 && c !== DQUOTE && c !== BACKSLASH) {
              key[k++] = c;
              if (++i === n) break;
              c = chunk[i];
            }
            this.#keyLen = k;
          } else {
            const vals = this.#vals;
            let p = this.#valPos;
            while (c >= SPACE && c < 0x80 && c !== DQUOTE && c !== BACKSLASH) {
              vals[p++] = c;
              if (++i === n) break;
              c = chunk[i];
            }
            this.#valPos = p;
          }
          if (i === n) continue;
          if (c === DQUOTE) {
            state = this.#endString(i);
          } else if (c === BACKSLASH) {
            if (this.#mode >= RAW_KEY) this.#putEscaped(c);
            state = ESCAPE;
          } else if (c < SPACE) {
            throw c === LF ? this.#lineEnds(i) : this.#error(
              `Cannot parse record: control character U+${
                hex4(c)
              } in a string (write it as an escape)`,
              i,
            );
          } else {
            this.#utf8Lead(c, i);
          }
          i++;
          continue;
        }
        case ESCAPE: {
          if (this.#mode >= RAW_KEY) {
            if (!isEscape(b)) throw this.#badEscape(b, i);
            this.#putEscaped(b);
            if (b === 0x75) { // u
              this.#hex = 0;
              this.#hexDigits = 0;
              state = HEX;
            } else {
              state = STRING;
            }
          } else if (b === 0x75) {
            this.#hex = 0;
            this.#hexDigits = 0;
            state = HEX;
          } else {
            const unescaped = unescape(b);
            if (unescaped < 0) throw this.#badEscape(b, i);
            this.#putString(unescaped);
            state = STRING;
          }
          i++;
          continue;
        }
        case HEX: {
          const digit = hexValue(b);
          if (digit < 0) {
            throw this.#unexpected("a hex digit (\\u needs four)", b, i);
          }
          this.#hex = this.#hex * 16 + digit;
          this.#hexDigits++;
          if (this.#mode >= RAW_KEY) this.#vals[this.#valPos++] = b;
          state = this.#hexDigits < 4 ? HEX : this.#endHex(i);
          i++;
          continue;
        }
        case LOW_BACKSLASH:
        case LOW_U: {
          if (b !== (state === LOW_BACKSLASH ? BACKSLASH : 0x75)) {
            throw this.#unpaired(this.#high, i);
          }
          if (state === LOW_U) {
            this.#hex = 0;
            this.#hexDigits = 0;
          }
          state = state === LOW_BACKSLASH ? LOW_U : HEX;
          i++;
          continue;
        }
        case LITERAL: {
          if (b !== LITERALS[this.#literal]) {
            throw this.#unexpected(
              `"${literalText(this.#literalEnd)}"`,
              b,
              i,
            );
          }
          this.#vals[this.#valPos++] = b;
          this.#literal++;
          if (this.#literal === this.#literalEnd) {
            if (this.#depth === 1) {
              this.#endValue(this.#literalEnd === NULL_AT + 4, i);
            }
            state = AFTER_VALUE;
          }
          i++;
          continue;
        }
        case NUM_MINUS:
        case NUM_DOT:
        case NUM_E_SIGN: {
          if (b < 0x30 || b > 0x39) throw this.#unexpected("a digit", b, i);
          this.#vals[this.#valPos++] = b;
          state = state === NUM_MINUS
            ? (b === 0x30 ? NUM_ZERO : NUM_INT)
            : state === NUM_DOT
            ? NUM_FRAC
            : NUM_E_DIGITS;
          i++;
          continue;
        }
        case NUM_E: {
          if (b === 0x2b || b === 0x2d) { // + -
            state = NUM_E_SIGN;
          } else if (b >= 0x30 && b <= 0x39) {
            state = NUM_E_DIGITS;
          } else {
            throw this.#unexpected("a digit or a sign", b, i);
          }
          this.#vals[this.#valPos++] = b;
          i++;
          continue;
        }
        case NUM_ZERO:
        case NUM_INT:
        case NUM_FRAC:
        case NUM_E_DIGITS: {
          // Copy the digit run in one tight loop.
          const vals = this.#vals;
          let p = this.#valPos;
          let c = b;
          if (state !== NUM_ZERO) {
            while (c >= 0x30 && c <= 0x39) {
              vals[p++] = c;
              if (++i === n) break;
              c = chunk[i];
            }
          }
          this.#valPos = p;
          if (i === n) continue;
          if (c === 0x2e && state <= NUM_INT) { // .
            vals[this.#valPos++] = c;
            state = NUM_DOT;
            i++;
          } else if ((c === 0x65 || c === 0x45) && state !== NUM_E_DIGITS) {
            vals[this.#valPos++] = c;
            state = NUM_E;
            i++;
          } else if (c >= 0x30 && c <= 0x39) {
            throw this.#error(
              "Cannot parse record: a number starts with 0 and another digit",
              i,
            );
          } else {
            // The number ended: `c` is read again after it.
            if (this.#depth === 1) this.#endValue(false, i);
            state = AFTER_VALUE;
          }
          continue;
        }
      }
    }
    this.#state = state;
    if (this.#markIndex >= 0) {
      this.#markColumn = this.#columnAt(this.#markIndex);
      this.#markIndex = -1;
    }
    this.#advanceColumn(n);
    this.#chunkOffset += n;
  }

  /**
   * Closes the innermost object or array (its closing byte is at chunk
   * index `i`) and returns the state after it.
   */
  #close(i: number): number {
    if (this.#depth === 1) {
      if (this.#laneField >= 0 && this.#seen[this.#laneField] !== this.#stamp) {
        throw this.#error(
          `Cannot read lane key: key "${this.#laneColumn}" is missing (every record needs a lane)`,
          i,
        );
      }
      this.#depth = 0;
      return AFTER_RECORD;
    }
    this.#vals[this.#valPos++] = this.#stack[this.#depth] === OBJECT
      ? 0x7d
      : 0x5d;
    this.#depth--;
    if (this.#depth === 1) this.#endValue(false, i);
    return AFTER_VALUE;
  }

  /** The string's closing quote is at chunk index `i`: the state after it. */
  #endString(i: number): number {
    const mode = this.#mode;
    if (mode === KEY_STRING) {
      this.#endKey();
      return COLON;
    }
    if (mode === VALUE_STRING) {
      this.#endValue(false, i);
      return AFTER_VALUE;
    }
    this.#putEscaped(DQUOTE);
    return mode === RAW_KEY ? COLON : AFTER_VALUE;
  }

  /** The record's key is read: find its column. */
  #endKey(): void {
    const key = this.#key;
    const length = this.#keyLen;
    const names = this.#names;
    const starts = this.#nameStarts;
    const count = this.#colStart.length;
    // Keys usually come in column order: try the next column first.
    let col = this.#col + 1 < count ? this.#col + 1 : 0;
    for (let tried = 0; tried < count; tried++) {
      const start = starts[col];
      if (starts[col + 1] - start === length) {
        let k = 0;
        while (k < length && names[start + k] === key[k]) k++;
        if (k === length) break;
      }
      col = col + 1 < count ? col + 1 : 0;
      if (tried === count - 1) col = -1;
    }
    if (col < 0) {
      throw this.#keyError(
        `Cannot parse record: key "${this.#keyText()}" is not a column (columns: ${
          this.#columns.join(", ")
        })`,
      );
    }
    if (this.#seen[col] === this.#stamp) {
      throw this.#keyError(
        `Cannot parse record: key "${this.#keyText()}" appears twice`,
      );
    }
    this.#seen[col] = this.#stamp;
    this.#col = col;
  }

  /**
   * The current record value ends (its last byte at chunk index `i`): NULL
   * rule, closing quote, lane check.
   */
  #endValue(isNull: boolean, i: number): void {
    const col = this.#col;
    if (isNull) {
      if (col === this.#laneField) {
        throw this.#error(
          `Cannot read lane key: key "${this.#laneColumn}" is null (every record needs a lane)`,
          i,
          3,
        );
      }
      this.#valPos = this.#valStart;
      this.#colStart[col] = -1;
      return;
    }
    if (this.#csvOut) this.#vals[this.#valPos++] = DQUOTE;
    this.#colStart[col] = this.#valStart;
    this.#colEnd[col] = this.#valPos;
  }

  /** Ends the record, which ends at source offset `endOffset`: one row. */
  #endRecord(endOffset: number): void {
    const count = this.#colStart.length;
    this.#reserve(this.#pos + this.#valPos + 3 * count + 1);
    const out = this.#out;
    const vals = this.#vals;
    const stamp = this.#stamp;
    let pos = this.#pos;
    for (let c = 0; c < count; c++) {
      if (c > 0) out[pos++] = this.#outDelimiter;
      const start = this.#seen[c] === stamp ? this.#colStart[c] : -1;
      if (start >= 0) {
        const end = this.#colEnd[c];
        if (end - start < 32) {
          for (let k = start; k < end; k++) out[pos++] = vals[k];
        } else {
          out.set(vals.subarray(start, end), pos);
          pos += end - start;
        }
      } else if (!this.#csvOut) {
        out[pos++] = BACKSLASH;
        out[pos++] = 0x4e; // N
      }
    }
    out[pos++] = LF;
    this.#pos = pos;
    this.#valPos = 0;
    if (this.#laneField >= 0) {
      const skip = this.#csvOut ? 1 : 0;
      this.#laneKeys.push(
        this.#readLaneKey(
          this.#colStart[this.#laneField] + skip,
          this.#colEnd[this.#laneField] - skip,
        ),
      );
    }
    if (this.#rows === this.#rowEnds.length) this.#growRows();
    this.#rowEnds[this.#rows] = pos;
    this.#lines[this.#rows] = this.#line;
    this.#endOffsets[this.#rows] = endOffset;
    this.#rows++;
  }

  /** A lead byte of a multibyte character, inside a string. */
  #utf8Lead(b: number, i: number): void {
    if (b >= 0xc2 && b <= 0xdf) {
      this.#utf8Need = 1;
    } else if (b >= 0xe0 && b <= 0xef) {
      this.#utf8Need = 2;
      if (b === 0xe0) this.#utf8Low = 0xa0;
      if (b === 0xed) this.#utf8High = 0x9f;
    } else if (b >= 0xf0 && b <= 0xf4) {
      this.#utf8Need = 3;
      if (b === 0xf0) this.#utf8Low = 0x90;
      if (b === 0xf4) this.#utf8High = 0x8f;
    } else {
      throw this.#invalidUtf8(b, i);
    }
    this.#putString(b);
  }

  /** A byte that must continue a multibyte character. */
  #utf8Continue(b: number, i: number): void {
    if (b < this.#utf8Low || b > this.#utf8High) {
      throw this.#invalidUtf8(b, i);
    }
    this.#utf8Need--;
    this.#utf8Low = 0x80;
    this.#utf8High = 0xbf;
    this.#putString(b);
  }

  /** The fourth hex digit of `\uXXXX` is at chunk index `i`. */
  #endHex(i: number): number {
    const unit = this.#hex;
    if (this.#mode >= RAW_KEY) return STRING;
    if (this.#high !== 0) {
      const high = this.#high;
      this.#high = 0;
      if (unit < 0xdc00 || unit > 0xdfff) throw this.#unpaired(high, i);
      this.#putCodePoint(0x10000 + ((high - 0xd800) << 10) + (unit - 0xdc00));
      return STRING;
    }
    if (unit >= 0xd800 && unit <= 0xdbff) {
      this.#high = unit;
      return LOW_BACKSLASH;
    }
    if (unit >= 0xdc00 && unit <= 0xdfff) throw this.#unpaired(unit, i);
    this.#putCodePoint(unit);
    return STRING;
  }

  #putCodePoint(cp: number): void {
    if (cp < 0x80) {
      this.#putString(cp);
    } else if (cp < 0x800) {
      this.#putString(0xc0 | (cp >> 6));
      this.#putString(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
      this.#putString(0xe0 | (cp >> 12));
      this.#putString(0x80 | ((cp >> 6) & 0x3f));
      this.#putString(0x80 | (cp & 0x3f));
    } else {
      this.#putString(0xf0 | (cp >> 18));
      this.#putString(0x80 | ((cp >> 12) & 0x3f));
      this.#putString(0x80 | ((cp >> 6) & 0x3f));
      this.#putString(0x80 | (cp & 0x3f));
    }
  }

  /** A string's byte: a key's as is, a value's in COPY form. */
  #putString(b: number): void {
    if (this.#mode === KEY_STRING) {
      this.#key[this.#keyLen++] = b;
    } else {
      this.#putEscaped(b);
    }
  }

  #putEscaped(b: number): void {
    const vals = this.#vals;
    if (this.#csvOut) {
      if (b === DQUOTE) vals[this.#valPos++] = DQUOTE;
      vals[this.#valPos++] = b;
      return;
    }
    switch (b) {
      case BACKSLASH:
        vals[this.#valPos++] = BACKSLASH;
        vals[this.#valPos++] = BACKSLASH;
        return;
      case TAB:
        vals[this.#valPos++] = BACKSLASH;
        vals[this.#valPos++] = 0x74; // t
        return;
      case LF:
        vals[this.#valPos++] = BACKSLASH;
        vals[this.#valPos++] = 0x6e; // n
        return;
      case CR:
        vals[this.#valPos++] = BACKSLASH;
        vals[this.#valPos++] = 0x72; // r
        return;
      default:
        vals[this.#valPos++] = b;
    }
  }

  /**
   * The lane value's text, from its encoded bytes. Lane keys repeat, so
   * each distinct key is decoded once and found again by a hash of its
   * bytes.
   */
  #readLaneKey(start: number, end: number): string {
    const vals = this.#vals;
    let hash = 0x811c9dc5;
    for (let k = start; k < end; k++) {
      hash = Math.imul(hash ^ vals[k], 0x01000193);
    }
    const hit = this.#laneCache.get(hash);
    if (hit !== undefined && hit.bytes.length === end - start) {
      let same = true;
      for (let k = 0; k < hit.bytes.length; k++) {
        if (hit.bytes[k] !== vals[start + k]) {
          same = false;
          break;
        }
      }
      if (same) return hit.key;
    }
    const bytes = vals.slice(start, end);
    const special = this.#csvOut ? DQUOTE : BACKSLASH;
    const key = !bytes.includes(special)
      ? decoder.decode(bytes)
      : this.#csvOut
      ? decoder.decode(bytes).replaceAll('""', '"')
      : decodeCopyRow(decoder.decode(bytes), "text")[0] ?? "";
    if (this.#laneCache.size < LANE_CACHE_SIZE) {
      this.#laneCache.set(hash, { bytes, key });
    }
    return key;
  }

  #keyText(): string {
    return decoder.decode(this.#key.subarray(0, this.#keyLen));
  }

  /** A new line starts at chunk index `i`. */
  #newLine(i: number): void {
    this.#line++;
    this.#colIndex = i;
    this.#colCount = 0;
  }

  #advanceColumn(to: number): void {
    const chunk = this.#chunk;
    let count = this.#colCount;
    for (let k = this.#colIndex; k < to; k++) {
      if ((chunk[k] & 0xc0) !== 0x80) count++;
    }
    this.#colCount = count;
    this.#colIndex = Math.max(this.#colIndex, to);
  }

  /** 1-based column of chunk index `i` on the current line. */
  #columnAt(i: number): number {
    this.#advanceColumn(i);
    return this.#colCount + 1;
  }

  /** An error at chunk index `i`, or `back` code points before it. */
  #error(reason: string, i: number, back = 0): InputSyntaxError {
    return new InputSyntaxError(reason, {
      source: this.#source,
      line: this.#line,
      column: Math.max(1, this.#columnAt(i) - back),
      offset: this.#chunkOffset + i,
    });
  }

  /** An error at the current key's opening quote. */
  #keyError(reason: string): InputSyntaxError {
    return new InputSyntaxError(reason, {
      source: this.#source,
      line: this.#line,
      column: this.#markIndex >= 0
        ? this.#columnAt(this.#markIndex)
        : this.#markColumn,
      offset: this.#markOffset,
    });
  }

  /** Byte `b` at chunk index `i` is not what the grammar allows there. */
  #unexpected(expected: string, b: number, i: number): InputSyntaxError {
    if (b === LF) return this.#lineEnds(i);
    return this.#error(
      `Cannot parse record: expected ${expected}, found ${describe(b)}`,
      i,
    );
  }

  #lineEnds(i: number): InputSyntaxError {
    return this.#error(
      "Cannot parse record: the line ends before the object is closed (each record is one line)",
      i,
    );
  }

  #badEscape(b: number, i: number): InputSyntaxError {
    if (b === LF) return this.#lineEnds(i);
    return this.#error(
      `Cannot parse record: invalid escape \\${
        b >= 0x21 && b < 0x7f ? String.fromCharCode(b) : describe(b)
      } in a string (expected one of \\" \\\\ \\/ \\b \\f \\n \\r \\t \\u)`,
      i,
    );
  }

  #unpaired(unit: number, i: number): InputSyntaxError {
    return this.#error(
      `Cannot parse record: \\u${
        hex4(unit)
      } is half of a surrogate pair, without its other half`,
      i,
    );
  }

  #invalidUtf8(b: number, i: number): InputSyntaxError {
    return this.#error(
      `Cannot parse record: invalid UTF-8 (byte 0x${
        b.toString(16).toUpperCase().padStart(2, "0")
      })`,
      i,
    );
  }

  #takeRows(): RowBlock {
    const block: RowBlock = {
      data: this.#out.slice(0, this.#pos),
      rowEnds: this.#rowEnds.slice(0, this.#rows),
      lines: this.#lines.slice(0, this.#rows),
      endOffsets: this.#endOffsets.slice(0, this.#rows),
      laneKeys: this.#laneField >= 0 ? this.#laneKeys : undefined,
    };
    if (this.#laneField >= 0) this.#laneKeys = [];
    this.#pos = 0;
    this.#rows = 0;
    return block;
  }

  #reserve(capacity: number): void {
    if (capacity <= this.#out.length) return;
    const grown = new Uint8Array(Math.max(capacity, this.#out.length * 2));
    grown.set(this.#out.subarray(0, this.#pos));
    this.#out = grown;
  }

  #reserveVals(capacity: number): void {
    if (capacity <= this.#vals.length) return;
    const grown = new Uint8Array(Math.max(capacity, this.#vals.length * 2));
    grown.set(this.#vals.subarray(0, this.#valPos));
    this.#vals = grown;
  }

  #growKey(capacity: number): void {
    const grown = new Uint8Array(Math.max(capacity, this.#key.length * 2));
    grown.set(this.#key.subarray(0, this.#keyLen));
    this.#key = grown;
  }

  #growStack(): void {
    const grown = new Uint8Array(this.#stack.length * 2);
    grown.set(this.#stack);
    this.#stack = grown;
  }

  #growRows(): void {
    const size = this.#rowEnds.length * 2;
    const rowEnds = new Uint32Array(size);
    rowEnds.set(this.#rowEnds);
    this.#rowEnds = rowEnds;
    const lines = new Float64Array(size);
    lines.set(this.#lines);
    this.#lines = lines;
    const endOffsets = new Float64Array(size);
    endOffsets.set(this.#endOffsets);
    this.#endOffsets = endOffsets;
  }
}

/** Whether `b` may follow a backslash in a JSON string. */
function isEscape(b: number): boolean {
  return unescape(b) >= 0 || b === 0x75;
}

/** The byte a one-character JSON escape stands for, or -1. */
function unescape(b: number): number {
  switch (b) {
    case DQUOTE:
    case BACKSLASH:
    case 0x2f: // /
      return b;
    case 0x62: // b
      return 0x08;
    case 0x66: // f
      return 0x0c;
    case 0x6e: // n
      return LF;
    case 0x72: // r
      return CR;
    case 0x74: // t
      return TAB;
    default:
      return -1;
  }
}

function hexValue(b: number): number {
  if (b >= 0x30 && b <= 0x39) return b - 0x30;
  if (b >= 0x61 && b <= 0x66) return b - 0x57;
  if (b >= 0x41 && b <= 0x46) return b - 0x37;
  return -1;
}

function hex4(unit: number): string {
  return unit.toString(16).toUpperCase().padStart(4, "0");
}

/** The literal whose last byte ends at `end` in {@linkcode LITERALS}. */
function literalText(end: number): string {
  return end === 4 ? "true" : end === 9 ? "false" : "null";
}

/** A byte as an error message names it. */
function describe(b: number): string {
  if (b === SPACE) return "a space";
  if (b === DQUOTE) return "a quote";
  if (b > SPACE && b < 0x7f) return `"${String.fromCharCode(b)}"`;
  if (b < 0x80) return `U+${hex4(b)}`;
  return `byte 0x${b.toString(16).toUpperCase()}`;
}
