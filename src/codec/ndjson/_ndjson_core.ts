/**
 * The NDJSON scan core: the byte state machine that reads one chunk's JSON
 * objects and encodes each as a COPY row, its fields in column order, with
 * per-row metadata. This file holds the contract ({@linkcode NdjsonCore})
 * and the TypeScript implementation, {@linkcode TsNdjsonCore};
 * `wasm/ndjson_codec.ts` is the same algorithm in AssemblyScript, function
 * for function (only memory differs: there the caller lays out and grows
 * the regions). `_ndjson_codec_base.ts` drives either.
 *
 * Per call the core reports through registers (`REG_*`) and, for each row
 * completed, six metadata entries (`META_*`, each an array of
 * {@linkcode ROW_CAPACITY} i32): positions are relative to the output (row
 * ends, lane key ranges) or to the chunk (source lines and offsets); the
 * caller keeps the totals, as Numbers. Errors are a code and its details
 * (`E_*`, `REG_ERROR_*`); the caller words them. Those constants, and the
 * scanning states, are defined once for both languages, in
 * `_ndjson_constants.ts`.
 *
 * @module
 */

import * as constants from "./_ndjson_constants.ts";

// The constants as this module's own bindings: V8 folds a module's own
// constants into the code it optimises, not imported bindings.
const {
  AFTER_RECORD,
  AFTER_VALUE,
  ARRAY,
  BACKSLASH,
  COLON,
  CR,
  DQUOTE,
  ESCAPE,
  E_BAD_ESCAPE,
  E_CONTROL_CHARACTER,
  E_DUPLICATE_KEY,
  E_EXPECTED_COLON,
  E_EXPECTED_COMMA_OR_BRACE,
  E_EXPECTED_COMMA_OR_BRACKET,
  E_EXPECTED_DIGIT,
  E_EXPECTED_EXPONENT,
  E_EXPECTED_HEX,
  E_EXPECTED_KEY,
  E_EXPECTED_KEY_OR_END,
  E_EXPECTED_LINE_END,
  E_EXPECTED_LITERAL,
  E_EXPECTED_OBJECT,
  E_EXPECTED_VALUE,
  E_EXPECTED_VALUE_OR_END,
  E_INPUT_ENDS,
  E_INVALID_UTF8,
  E_LEADING_ZERO,
  E_LINE_ENDS,
  E_MISSING_LANE,
  E_NULL_LANE,
  E_NUL_ESCAPE,
  E_UNKNOWN_KEY,
  E_UNPAIRED_SURROGATE,
  HEX,
  KEY,
  KEY_OR_END,
  KEY_STRING,
  LF,
  LINE_START,
  LITERAL,
  LOW_BACKSLASH,
  LOW_U,
  META_END,
  META_LANE_END,
  META_LANE_HASH,
  META_LANE_START,
  META_LINE,
  META_ROW_END,
  NULL_AT,
  NUM_DOT,
  NUM_E,
  NUM_E_DIGITS,
  NUM_E_SIGN,
  NUM_FRAC,
  NUM_INT,
  NUM_MINUS,
  NUM_ZERO,
  OBJECT,
  RAW_KEY,
  RAW_VALUE,
  REG_DEPTH,
  REG_ERROR,
  REG_ERROR_ARG1,
  REG_ERROR_ARG2,
  REG_ERROR_COLUMN,
  REG_ERROR_LINE,
  REG_ERROR_OFFSET,
  REG_KEY_LENGTH,
  REG_LINES,
  REG_POS,
  REG_REJECT,
  REG_REJECT_END,
  REG_REJECT_START,
  REG_ROWS,
  REG_VAL_POS,
  ROW_CAPACITY,
  SKIP_LINE,
  SPACE,
  STRING,
  TAB,
  VALUE,
  VALUE_OR_END,
  VALUE_STRING,
} = constants;

/**
 * `true`, `false` and `null`, back to back: a literal is a range of it
 * (`null` from `NULL_AT`).
 */
const LITERALS: Uint8Array = new TextEncoder().encode("truefalsenull");

/** The columns a core maps keys to, and what it writes. */
export interface NdjsonLayout {
  /** Column names as UTF-8, back to back. */
  names: Uint8Array;
  /** Name `c` is `names[nameStarts[c], nameStarts[c + 1])`. */
  nameStarts: Uint32Array;
  /** Write COPY csv (else COPY text). */
  csvOut: boolean;
  /** The lane column's index, or -1. */
  laneField: number;
  /**
   * Reject mode: a malformed record does not stop the core; it reports the
   * record (`REG_REJECT`…), skips the rest of its line and goes on.
   * Default `false`.
   */
  rejects?: boolean;
  /**
   * The keep mask: a byte per name, 0 for a key whose value the rows leave
   * out (its value is still read, and its key may not appear twice).
   * Default: every name is written.
   */
  keep?: Uint8Array;
  /**
   * A key that is no name is read and left out, like a name the mask
   * leaves out (but it may appear twice), instead of an error. Default
   * `false`.
   */
  skipUnknown?: boolean;
}

/** The scan core's interface: {@linkcode TsNdjsonCore}, or the WASM module's. */
export interface NdjsonCore {
  /** Registers after the last call (a view: take it again after each call). */
  registers(): Int32Array;
  /** The output bytes, `registers()[REG_POS]` of them valid. */
  output(): Uint8Array;
  /** The metadata arrays, `ROW_CAPACITY` entries each. */
  metadata(): Int32Array;
  /** The key buffer, `registers()[REG_KEY_LENGTH]` bytes valid. */
  key(): Uint8Array;
  /** Takes the next chunk. */
  begin(chunk: Uint8Array): void;
  /**
   * Scans the chunk from byte `from` until its end or `maxRows` rows.
   * Returns where it stopped, or -1 on an error.
   */
  scan(from: number, maxRows: number): number;
  /** The chunk is done: rebases positions onto the next one. */
  endChunk(): void;
  /** Ends the input. Returns 0, or -1 on an error. */
  finish(): number;
  /** The rows were taken: empties the output. */
  clearOutput(): void;
}

/**
 * The scan core in TypeScript: the reference and fallback for the WASM
 * module, and its twin in every state and transition.
 *
 * @example Scan one chunk
 * ```ts
 * import { TsNdjsonCore } from "./_ndjson_core.ts";
 * import { REG_POS, REG_ROWS, ROW_CAPACITY } from "./_ndjson_constants.ts";
 * import assert from "node:assert/strict";
 *
 * const encoder = new TextEncoder();
 * const core = new TsNdjsonCore({
 *   names: encoder.encode("ab"), nameStarts: Uint32Array.of(0, 1, 2),
 *   csvOut: false, laneField: -1,
 * });
 * const chunk = encoder.encode('{"b": [1, 2], "a": "x\\ty"}\n');
 * core.begin(chunk);
 * assert.equal(core.scan(0, ROW_CAPACITY), chunk.length);
 * assert.equal(core.registers()[REG_ROWS], 1);
 * const out = core.output().subarray(0, core.registers()[REG_POS]);
 * assert.equal(new TextDecoder().decode(out), "x\\ty\t[1, 2]\n");
 * ```
 */
export class TsNdjsonCore implements NdjsonCore {
  readonly #names: Uint8Array;
  readonly #nameStarts: Uint32Array;
  readonly #count: number;
  readonly #csvOut: boolean;
  readonly #outDelimiter: number;
  readonly #laneField: number;
  readonly #rejecting: boolean;
  /** Per name, 1 when written; one more entry, 0: where unknown keys go. */
  readonly #keep: Uint8Array;
  readonly #skipUnknown: boolean;

  readonly #regs = new Int32Array(16);
  readonly #meta = new Int32Array(6 * ROW_CAPACITY);

  // Output: whole rows. Per call: `#rows` rows.
  #out = new Uint8Array(1 << 16);
  #pos = 0;
  #rows = 0;

  // The record in progress: each column's encoded value lies in
  // `#vals[#colStart[c], #colEnd[c])` (-1: NULL) when `#seen[c]` is the
  // record's stamp; otherwise the record has no such key. Column `#count`
  // takes the values of keys that are no column, when they are skipped.
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
  /** The lead byte of the multibyte character being read. */
  #utf8LeadByte = 0;
  /** Bytes of that character read so far (it may start in an earlier chunk). */
  #utf8Read = 0;
  /** Lines begun in this chunk. */
  #line = 0;
  /** Where the current line starts, relative to the chunk. */
  #lineStart = 0;

  // The current key's start, for errors about it: its chunk index while
  // its chunk is being scanned (-1 after), then its column; its offset is
  // relative to the current chunk.
  #markIndex = -1;
  #markColumn = 0;
  #markOffset = 0;

  // Column cursor: `#colCount` code points of the current line precede
  // `chunk[#colIndex]` of the chunk being scanned.
  #colIndex = 0;
  #colCount = 0;
  #chunk: Uint8Array = new Uint8Array(0);

  /** @param layout The columns, and which COPY format to write. */
  constructor(layout: NdjsonLayout) {
    this.#names = layout.names;
    this.#nameStarts = layout.nameStarts;
    this.#count = layout.nameStarts.length - 1;
    this.#csvOut = layout.csvOut;
    this.#outDelimiter = layout.csvOut ? 0x2c : TAB;
    this.#laneField = layout.laneField;
    this.#rejecting = layout.rejects ?? false;
    this.#keep = new Uint8Array(this.#count + 1);
    if (layout.keep === undefined) this.#keep.fill(1, 0, this.#count);
    else this.#keep.set(layout.keep);
    this.#skipUnknown = layout.skipUnknown ?? false;
    this.#colStart = new Int32Array(this.#count + 1);
    this.#colEnd = new Int32Array(this.#count + 1);
    this.#seen = new Uint32Array(this.#count + 1);
  }

  /** @returns The registers. */
  registers(): Int32Array {
    const regs = this.#regs;
    regs[REG_POS] = this.#pos;
    regs[REG_ROWS] = this.#rows;
    regs[REG_KEY_LENGTH] = this.#keyLen;
    regs[REG_VAL_POS] = this.#valPos;
    regs[REG_DEPTH] = this.#depth;
    return regs;
  }

  /** @returns The output. */
  output(): Uint8Array {
    return this.#out;
  }

  /** @returns The metadata arrays. */
  metadata(): Int32Array {
    return this.#meta;
  }

  /** @returns The key buffer. */
  key(): Uint8Array {
    return this.#key;
  }

  /** @param chunk The next chunk. */
  begin(chunk: Uint8Array): void {
    const n = chunk.length;
    // A value grows by at most 2 bytes per source byte, plus a character
    // completed by this chunk and a field's quotes.
    if (this.#vals.length < this.#valPos + 3 * n + 16) {
      this.#vals = grown(this.#vals, this.#valPos + 3 * n + 16, this.#valPos);
    }
    if (this.#key.length < this.#keyLen + n + 16) {
      this.#key = grown(this.#key, this.#keyLen + n + 16, this.#keyLen);
    }
    if (this.#stack.length < this.#depth + n + 2) {
      this.#stack = grown(this.#stack, this.#depth + n + 2, this.#depth + 1);
    }
    this.#chunk = chunk;
    this.#colIndex = 0;
    this.#line = 0;
    this.#regs[REG_ERROR] = 0;
  }

  /**
   * @param from The chunk byte to start at.
   * @param maxRows Stop after this many rows.
   * @returns Where it stopped, or -1 on an error.
   */
  scan(from: number, maxRows: number): number {
    const regs = this.#regs;
    regs[REG_REJECT] = 0;
    regs[REG_REJECT_END] = -1;
    if (this.#state === SKIP_LINE) {
      // A malformed record's line goes on from the chunk before.
      this.#rows = 0;
      const next = this.#skipLine(from);
      return next < 0 ? this.#chunk.length : next;
    }
    const stop = this.#scanRecords(from, maxRows);
    if (stop >= 0 || !this.#rejecting) return stop;
    // A malformed record: skip the rest of its line, which holds no line
    // feed before the error (a record is one line).
    this.#reject();
    const next = this.#skipLine(Math.max(regs[REG_ERROR_OFFSET], 0));
    return next < 0 ? this.#chunk.length : next;
  }

  /**
   * Reports the record in progress as malformed (the error registers say
   * why), drops it, and starts skipping its line.
   */
  #reject(): void {
    this.#regs[REG_REJECT] = 1;
    this.#regs[REG_REJECT_START] = this.#lineStart;
    this.#depth = 0;
    this.#valPos = 0;
    this.#utf8Need = 0;
    this.#utf8Low = 0x80;
    this.#utf8High = 0xbf;
    this.#high = 0;
    this.#state = SKIP_LINE;
  }

  /**
   * Skips the malformed record's line from byte `i` to its line feed.
   * Returns where the next line starts, or -1 when the chunk ends first.
   */
  #skipLine(i: number): number {
    const chunk = this.#chunk;
    const n = chunk.length;
    while (i < n) {
      if (chunk[i] === LF) {
        this.#newLine(i + 1);
        this.#state = LINE_START;
        this.#regs[REG_REJECT_END] = i + 1;
        return i + 1;
      }
      i++;
    }
    return -1;
  }

  /** {@linkcode TsNdjsonCore.scan}, without reject mode. */
  #scanRecords(from: number, maxRows: number): number {
    const chunk = this.#chunk;
    const n = chunk.length;
    let state = this.#state;
    let i = from;
    this.#rows = 0;
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
            return this.#unexpected(E_EXPECTED_OBJECT, b, i);
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
              this.#markOffset = i;
            } else {
              this.#mode = RAW_KEY;
              this.#putEscaped(DQUOTE);
            }
            state = STRING;
          } else if (b === 0x7d && state === KEY_OR_END) { // }
            state = this.#close(i);
            if (state < 0) return -1;
          } else {
            return this.#unexpected(
              state === KEY ? E_EXPECTED_KEY : E_EXPECTED_KEY_OR_END,
              b,
              i,
            );
          }
          i++;
          continue;
        }
        case COLON: {
          if (b !== 0x3a) return this.#unexpected(E_EXPECTED_COLON, b, i);
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
            return this.#unexpected(
              state === VALUE ? E_EXPECTED_VALUE : E_EXPECTED_VALUE_OR_END,
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
            if (state < 0) return -1;
          } else {
            return this.#unexpected(
              inObject
                ? E_EXPECTED_COMMA_OR_BRACE
                : E_EXPECTED_COMMA_OR_BRACKET,
              b,
              i,
            );
          }
          i++;
          continue;
        }
        case AFTER_RECORD: {
          if (b !== LF) return this.#unexpected(E_EXPECTED_LINE_END, b, i);
          if (this.#rows === maxRows) {
            this.#state = state;
            return i;
          }
          this.#endRecord(i + 1);
          this.#newLine(i + 1);
          state = LINE_START;
          i++;
          continue;
        }
        case STRING: {
          if (this.#utf8Need > 0) {
            if (!this.#utf8Continue(b, i)) return -1;
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
            if (state < 0) return -1;
          } else if (c === BACKSLASH) {
            if (this.#mode >= RAW_KEY) this.#putEscaped(c);
            state = ESCAPE;
          } else if (c < SPACE) {
            return this.#fail(
              c === LF ? E_LINE_ENDS : E_CONTROL_CHARACTER,
              i,
              c,
              0,
            );
          } else if (!this.#utf8Lead(c, i)) {
            return -1;
          }
          i++;
          continue;
        }
        case ESCAPE: {
          if (b === 0x75) { // u
            if (this.#mode >= RAW_KEY) this.#vals[this.#valPos++] = b;
            this.#hex = 0;
            this.#hexDigits = 0;
            state = HEX;
          } else {
            const unescaped = unescape(b);
            if (unescaped < 0) {
              return this.#fail(b === LF ? E_LINE_ENDS : E_BAD_ESCAPE, i, b, 0);
            }
            if (this.#mode >= RAW_KEY) this.#putEscaped(b);
            else this.#putString(unescaped);
            state = STRING;
          }
          i++;
          continue;
        }
        case HEX: {
          const digit = hexValue(b);
          if (digit < 0) return this.#unexpected(E_EXPECTED_HEX, b, i);
          this.#hex = this.#hex * 16 + digit;
          this.#hexDigits++;
          if (this.#mode >= RAW_KEY) this.#vals[this.#valPos++] = b;
          state = this.#hexDigits < 4 ? HEX : this.#endHex(i);
          if (state < 0) return -1;
          i++;
          continue;
        }
        case LOW_BACKSLASH:
        case LOW_U: {
          if (b !== (state === LOW_BACKSLASH ? BACKSLASH : 0x75)) {
            return this.#fail(E_UNPAIRED_SURROGATE, i, this.#high, 0);
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
            return b === LF
              ? this.#fail(E_LINE_ENDS, i, b, 0)
              : this.#fail(E_EXPECTED_LITERAL, i, b, this.#literalEnd);
          }
          this.#vals[this.#valPos++] = b;
          this.#literal++;
          if (this.#literal === this.#literalEnd) {
            if (
              this.#depth === 1 &&
              !this.#endValue(this.#literalEnd === NULL_AT + 4, i)
            ) {
              return -1;
            }
            state = AFTER_VALUE;
          }
          i++;
          continue;
        }
        case NUM_MINUS:
        case NUM_DOT:
        case NUM_E_SIGN: {
          if (b < 0x30 || b > 0x39) {
            return this.#unexpected(E_EXPECTED_DIGIT, b, i);
          }
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
            return this.#unexpected(E_EXPECTED_EXPONENT, b, i);
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
            return this.#fail(E_LEADING_ZERO, i, c, 0);
          } else {
            // The number ended: `c` is read again after it.
            if (this.#depth === 1 && !this.#endValue(false, i)) return -1;
            state = AFTER_VALUE;
          }
          continue;
        }
      }
    }
    this.#state = state;
    return i;
  }

  /** Rebases positions that outlive the chunk onto the next one. */
  endChunk(): void {
    const n = this.#chunk.length;
    if (this.#markIndex >= 0) {
      this.#markColumn = this.#columnAt(this.#markIndex);
      this.#markIndex = -1;
    }
    this.#markOffset -= n;
    this.#lineStart -= n;
    this.#advanceColumn(n);
    this.#regs[REG_LINES] = this.#line;
    this.#chunk = new Uint8Array(0);
    this.#colIndex = 0;
    this.#line = 0;
  }

  /** @returns 0, or -1 on an error. */
  finish(): number {
    this.#rows = 0;
    const regs = this.#regs;
    regs[REG_ERROR] = 0;
    regs[REG_REJECT] = 0;
    regs[REG_REJECT_END] = -1;
    if (this.#state === AFTER_RECORD) {
      this.#endRecord(0);
      this.#state = LINE_START;
    } else if (this.#state === SKIP_LINE) {
      // The malformed record's line is the rest of the input.
      this.#state = LINE_START;
      regs[REG_REJECT_END] = 0;
    } else if (this.#state !== LINE_START) {
      const result = this.#fail(E_INPUT_ENDS, 0, 0, 0);
      if (!this.#rejecting) return result;
      this.#reject();
      this.#state = LINE_START;
      regs[REG_REJECT_END] = 0;
    }
    return 0;
  }

  /** Empties the output. */
  clearOutput(): void {
    this.#pos = 0;
  }

  /**
   * Closes the innermost object or array (its closing byte is at chunk
   * index `i`). Returns the state after it, or -1 on an error.
   */
  #close(i: number): number {
    if (this.#depth === 1) {
      if (this.#laneField >= 0 && this.#seen[this.#laneField] !== this.#stamp) {
        return this.#fail(E_MISSING_LANE, i, 0, 0);
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

  /**
   * The string's closing quote is at chunk index `i`. Returns the state
   * after it, or -1 on an error.
   */
  #endString(i: number): number {
    const mode = this.#mode;
    if (mode === KEY_STRING) return this.#endKey() ? COLON : -1;
    if (mode === VALUE_STRING) {
      this.#endValue(false, i);
      return AFTER_VALUE;
    }
    this.#putEscaped(DQUOTE);
    return mode === RAW_KEY ? COLON : AFTER_VALUE;
  }

  /** The record's key is read: finds its column. False on an error. */
  #endKey(): boolean {
    const key = this.#key;
    const length = this.#keyLen;
    const names = this.#names;
    const starts = this.#nameStarts;
    const count = this.#count;
    // Keys usually come in column order: try the next column first.
    let col = this.#col + 1 < count ? this.#col + 1 : 0;
    let tried = 0;
    for (; tried < count; tried++) {
      const start = starts[col];
      if (starts[col + 1] - start === length) {
        let k = 0;
        while (k < length && names[start + k] === key[k]) k++;
        if (k === length) break;
      }
      col = col + 1 < count ? col + 1 : 0;
    }
    if (tried === count) {
      if (!this.#skipUnknown) return this.#failAtKey(E_UNKNOWN_KEY);
      this.#col = count; // its value is read, and left out
      return true;
    }
    if (this.#seen[col] === this.#stamp) {
      return this.#failAtKey(E_DUPLICATE_KEY);
    }
    this.#seen[col] = this.#stamp;
    this.#col = col;
    return true;
  }

  /**
   * The current record value ends (its last byte at chunk index `i`): NULL
   * rule, closing quote, lane check. False on an error.
   */
  #endValue(isNull: boolean, i: number): boolean {
    const col = this.#col;
    if (isNull) {
      if (col === this.#laneField) {
        this.#fail(E_NULL_LANE, i, 0, 0);
        this.#regs[REG_ERROR_COLUMN] -= 3; // at the n of null
        return false;
      }
      this.#valPos = this.#valStart;
      this.#colStart[col] = -1;
      return true;
    }
    if (this.#csvOut) this.#vals[this.#valPos++] = DQUOTE;
    this.#colStart[col] = this.#valStart;
    this.#colEnd[col] = this.#valPos;
    return true;
  }

  /**
   * Ends the record, which ends at chunk offset `end`: its row goes to the
   * output in column order, its metadata to the arrays.
   */
  #endRecord(end: number): void {
    const count = this.#count;
    if (this.#out.length < this.#pos + this.#valPos + 3 * count + 1) {
      this.#out = grown(
        this.#out,
        this.#pos + this.#valPos + 3 * count + 1,
        this.#pos,
      );
    }
    const out = this.#out;
    const vals = this.#vals;
    const stamp = this.#stamp;
    const meta = this.#meta;
    const row = this.#rows;
    const laneField = this.#laneField;
    const keep = this.#keep;
    let pos = this.#pos;
    let first = true;
    for (let c = 0; c < count; c++) {
      if (keep[c] === 0) continue; // a column the rows leave out
      if (!first) out[pos++] = this.#outDelimiter;
      first = false;
      const start = this.#seen[c] === stamp ? this.#colStart[c] : -1;
      if (start >= 0) {
        const stop = this.#colEnd[c];
        if (c === laneField) {
          const skip = this.#csvOut ? 1 : 0;
          meta[META_LANE_START * ROW_CAPACITY + row] = pos + skip;
          meta[META_LANE_END * ROW_CAPACITY + row] = pos + stop - start - skip;
          meta[META_LANE_HASH * ROW_CAPACITY + row] = fnv1a(
            vals,
            start + skip,
            stop - skip,
          );
        }
        for (let k = start; k < stop; k++) out[pos++] = vals[k];
      } else if (!this.#csvOut) {
        out[pos++] = BACKSLASH;
        out[pos++] = 0x4e; // N
      }
    }
    out[pos++] = LF;
    this.#pos = pos;
    this.#valPos = 0;
    meta[META_ROW_END * ROW_CAPACITY + row] = pos;
    meta[META_LINE * ROW_CAPACITY + row] = this.#line;
    meta[META_END * ROW_CAPACITY + row] = end;
    this.#rows = row + 1;
  }

  /** A lead byte of a multibyte character, inside a string. */
  #utf8Lead(b: number, i: number): boolean {
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
      this.#fail(E_INVALID_UTF8, i, b, 0);
      return false;
    }
    this.#utf8LeadByte = b;
    this.#utf8Read = 1;
    this.#putString(b);
    return true;
  }

  /**
   * A byte that must continue a multibyte character. One that does not is
   * reported where the character starts (arg2: its lead byte).
   */
  #utf8Continue(b: number, i: number): boolean {
    if (b < this.#utf8Low || b > this.#utf8High) {
      // The lead byte is the last one before `i` that starts a character.
      this.#failAt(
        E_INVALID_UTF8,
        this.#columnAt(i) - 1,
        i - this.#utf8Read,
        b,
        this.#utf8LeadByte,
      );
      return false;
    }
    this.#utf8Read++;
    this.#utf8Need--;
    this.#utf8Low = 0x80;
    this.#utf8High = 0xbf;
    this.#putString(b);
    return true;
  }

  /**
   * The fourth hex digit of `\uXXXX` is at chunk index `i`. Returns the
   * state after it, or -1 on an error.
   */
  #endHex(i: number): number {
    const unit = this.#hex;
    if (this.#mode >= RAW_KEY) return STRING;
    if (this.#high !== 0) {
      const high = this.#high;
      this.#high = 0;
      if (unit < 0xdc00 || unit > 0xdfff) {
        return this.#fail(E_UNPAIRED_SURROGATE, i, high, 0);
      }
      this.#putCodePoint(0x10000 + ((high - 0xd800) << 10) + (unit - 0xdc00));
      return STRING;
    }
    if (unit >= 0xd800 && unit <= 0xdbff) {
      this.#high = unit;
      return LOW_BACKSLASH;
    }
    if (unit >= 0xdc00 && unit <= 0xdfff) {
      return this.#fail(E_UNPAIRED_SURROGATE, i, unit, 0);
    }
    // A value's NUL reaches no column (a key's names none: it is unknown);
    // a value left out holds what it likes.
    if (
      unit === 0 && this.#mode === VALUE_STRING &&
      this.#keep[this.#col] !== 0
    ) {
      return this.#fail(E_NUL_ESCAPE, i, 0, 0);
    }
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

  /** A new line starts at chunk index `i`. */
  #newLine(i: number): void {
    this.#line++;
    this.#lineStart = i;
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
    if (to > this.#colIndex) this.#colIndex = to;
  }

  /** 1-based column of chunk index `i` on the current line. */
  #columnAt(i: number): number {
    this.#advanceColumn(i);
    return this.#colCount + 1;
  }

  /** Byte `b` at chunk index `i` is not what the grammar allows there. */
  #unexpected(code: number, b: number, i: number): number {
    return this.#fail(b === LF ? E_LINE_ENDS : code, i, b, 0);
  }

  /** Reports error `code` at chunk index `i`. Returns -1. */
  #fail(code: number, i: number, arg1: number, arg2: number): number {
    return this.#failAt(code, this.#columnAt(i), i, arg1, arg2);
  }

  /** Reports error `code` at the current key's opening quote. */
  #failAtKey(code: number): boolean {
    const column = this.#markIndex >= 0
      ? this.#columnAt(this.#markIndex)
      : this.#markColumn;
    this.#failAt(code, column, this.#markOffset, 0, 0);
    return false;
  }

  /** Reports error `code` at `column` and chunk index `offset`. Returns -1. */
  #failAt(
    code: number,
    column: number,
    offset: number,
    arg1: number,
    arg2: number,
  ): number {
    const regs = this.#regs;
    regs[REG_ERROR] = code;
    regs[REG_ERROR_LINE] = this.#line;
    regs[REG_ERROR_COLUMN] = column;
    regs[REG_ERROR_OFFSET] = offset;
    regs[REG_ERROR_ARG1] = arg1;
    regs[REG_ERROR_ARG2] = arg2;
    return -1;
  }
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

/** FNV-1a over `bytes[start, end)`, as a signed 32-bit integer. */
function fnv1a(bytes: Uint8Array, start: number, end: number): number {
  let hash = 0x811c9dc5 | 0;
  for (let k = start; k < end; k++) {
    hash = Math.imul(hash ^ bytes[k], 0x01000193);
  }
  return hash;
}

/** `bytes` in a buffer of at least `size` bytes, its first `keep` kept. */
function grown(
  bytes: Uint8Array,
  size: number,
  keep: number,
): Uint8Array<ArrayBuffer> {
  const next = new Uint8Array(Math.max(size, bytes.length * 2));
  next.set(bytes.subarray(0, keep));
  return next;
}
