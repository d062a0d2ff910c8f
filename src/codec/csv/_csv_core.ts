/**
 * The CSV frame core: the state machine that frames one chunk's records and
 * encodes them as COPY rows, with per-row metadata. This file holds the
 * contract ({@linkcode CsvCore}) and the TypeScript implementation,
 * {@linkcode TsCsvCore}; `wasm/csv_codec.ts` is the same algorithm in
 * AssemblyScript, function for function (it skips ASCII and copies plain
 * runs 16 bytes at a time with SIMD; nothing else differs).
 * `_csv_codec_base.ts` drives either.
 *
 * Per call the core reports through registers (`REG_*`) and, for each row
 * completed, six metadata entries (`META_*`, each an array of
 * {@linkcode ROW_CAPACITY} i32): positions are relative to the output (row
 * ends, lane key ranges) or to the chunk (source lines and offsets); the
 * caller keeps the totals, as Numbers. Those constants, and the framing
 * states and byte classes, are defined once for both languages, in
 * `_csv_constants.ts`.
 *
 * @module
 */

import * as constants from "./_csv_constants.ts";

// The constants as this module's own bindings: V8 folds a module's own
// constants into the code it optimises, not imported bindings (read as
// imports, the frame loop ran up to a fifth slower).
const {
  BACKSLASH,
  CARRIAGE_RETURN,
  CHARSET_EUC_JP,
  CHARSET_SINGLE_BYTE,
  CHARSET_UTF8,
  COMMA,
  CR,
  CR_SEEN,
  DELIMITER,
  DQUOTE,
  E_AFTER_CLOSING_QUOTE,
  E_INVALID_UTF8,
  E_NUL_BYTE,
  E_NULL_LANE,
  E_QUOTE_IN_UNQUOTED,
  E_TOO_FEW_FIELDS,
  E_TOO_MANY_FIELDS,
  E_UNCLOSED_QUOTE,
  ENCODE,
  ESCAPE,
  ESCAPE_SEEN,
  FIELD_START,
  LF,
  LINE_FEED,
  META_END,
  META_LANE_END,
  META_LANE_HASH,
  META_LANE_START,
  META_LINE,
  META_ROW_END,
  PLAIN,
  QUOTE,
  QUOTE_SEEN,
  QUOTED,
  REG_ERROR,
  REG_ERROR_ARG1,
  REG_ERROR_ARG2,
  REG_ERROR_COLUMN,
  REG_ERROR_LINE,
  REG_ERROR_OFFSET,
  REG_LINES,
  REG_POS,
  REG_RECORD_START,
  REG_REJECT,
  REG_REJECT_END,
  REG_REJECT_LINE,
  REG_REJECT_LINES,
  REG_REJECT_START,
  REG_ROWS,
  ROW_CAPACITY,
  SKIP,
  SKIP_CR,
  SKIP_ESCAPE,
  SKIP_FIELD_START,
  SKIP_QUOTE_SEEN,
  SKIP_QUOTED,
  SKIP_UNQUOTED,
  TAB,
  UNQUOTED,
} = constants;

/** The dialect a core frames, as bytes. */
export interface CsvDialect {
  /** Field delimiter byte. */
  delimiter: number;
  /** Quote byte. */
  quote: number;
  /** Escape byte inside quoted fields (the quote byte: doubled quotes). */
  escape: number;
  /** Write COPY csv (else COPY text). */
  csvOut: boolean;
  /** The null string as the core writes it, or none: the empty field. */
  nullEncoded: Uint8Array | undefined;
  /** The null string's length in code points (for error columns). */
  nullCodePoints: number;
  /** Fields per record, or 0: as many as the first record. */
  fieldCount: number;
  /** The lane field's index, or -1. */
  laneField: number;
  /**
   * The input's charset (`CHARSET_*`): UTF-8 is validated; every charset
   * counts columns in its own characters (each chunk must end at a
   * character's end). Default {@linkcode CHARSET_UTF8}.
   */
  charset?: number;
  /**
   * Reject mode: a malformed record does not stop the core; it reports the
   * record (`REG_REJECT`…), skips to its end and goes on. Default `false`.
   */
  rejects?: boolean;
}

/** The frame core's interface: {@linkcode TsCsvCore}, or the WASM module's. */
export interface CsvCore {
  /** Registers after the last call (a view: take it again after each call). */
  registers(): Int32Array;
  /** The output bytes, `registers()[REG_POS]` of them valid. */
  output(): Uint8Array;
  /** The metadata arrays, `ROW_CAPACITY` entries each. */
  metadata(): Int32Array;
  /**
   * Takes the next chunk and validates it as UTF-8 (other charsets: finds
   * its first NUL). In the `final` chunk, a character cut off at the end
   * is invalid too.
   */
  begin(chunk: Uint8Array, final: boolean): void;
  /**
   * Frames the chunk from byte `from` until its end or `maxRows` rows.
   * Returns where it stopped, or -1 on an error.
   */
  frame(from: number, maxRows: number): number;
  /** The chunk is done: rebases positions onto the next one. */
  endChunk(): void;
  /** Ends the input. Returns 0, or -1 on an error. */
  finish(): number;
  /** Drops the output before `end`, a row boundary. */
  compact(end: number): void;
  /** Sets the lane field's index, once the header named it. */
  setLaneField(field: number): void;
  /**
   * Sets the keep mask, once the header is read: a byte per field (at
   * most `KEEP_CAPACITY`), 0 for a field the rows leave out. A core never
   * given one keeps every field.
   */
  setKeep(keep: Uint8Array): void;
}

/**
 * The frame core in TypeScript: the reference and fallback for the WASM
 * module, the same algorithm.
 *
 * @example Frame one chunk
 * ```ts
 * import { TsCsvCore } from "./_csv_core.ts";
 * import { META_LINE, REG_POS, REG_ROWS, ROW_CAPACITY } from "./_csv_constants.ts";
 * import assert from "node:assert/strict";
 *
 * const core = new TsCsvCore({
 *   delimiter: 0x2c, quote: 0x22, escape: 0x22, csvOut: false,
 *   nullEncoded: undefined, nullCodePoints: 0, fieldCount: 0, laneField: -1,
 * });
 * const chunk = new TextEncoder().encode('a,"b\nc"\nd,\n');
 * core.begin(chunk, true);
 * assert.equal(core.frame(0, ROW_CAPACITY), chunk.length);
 * assert.equal(core.registers()[REG_ROWS], 2);
 * assert.equal(core.metadata()[META_LINE * ROW_CAPACITY + 1], 2);
 * const out = core.output().subarray(0, core.registers()[REG_POS]);
 * assert.equal(new TextDecoder().decode(out), "a\tb\\nc\nd\t\\N\n");
 * ```
 */
export class TsCsvCore implements CsvCore {
  // Configuration.
  readonly #delimiter: number;
  readonly #quote: number;
  readonly #escape: number;
  readonly #csvOut: boolean;
  readonly #outDelimiter: number;
  readonly #nulls: Uint8Array;
  readonly #nullLength: number;
  readonly #nullCodePoints: number;
  #expected: number;
  #laneField: number;
  // The keep mask: with `#masked`, field k is written when `#keep[k]` is 1.
  #masked = false;
  #keep = new Uint8Array(0);
  readonly #charset: number;
  readonly #utf8: boolean;
  readonly #rejecting: boolean;
  // The quote as the output writes it: up to two bytes, little-endian.
  readonly #quoteCode: number;
  readonly #quoteLength: number;
  readonly #unquotedClass = new Uint8Array(256);
  readonly #quotedClass = new Uint8Array(256);

  readonly #registers = new Int32Array(16);
  readonly #meta = new Int32Array(6 * ROW_CAPACITY);
  #out = new Uint8Array(1 << 16);

  // The chunk.
  #input: Uint8Array = new Uint8Array(0);
  #size = 0;
  #limit = 0;
  #invalid = false;
  #last = false;

  // UTF-8 validation carried across chunks.
  #utf8Need = 0;
  #utf8Low = 0x80;
  #utf8High = 0xbf;
  #utf8Back = 0;

  // Output.
  #pos = 0;
  #recordStart = 0;
  #fieldStart = 0;
  #rows = 0;

  // Framing.
  #state = FIELD_START;
  #fieldQuoted = false;
  #fieldEmpty = false;
  #fields = 0;
  #line = 0;
  #recordLine = 0;
  /** The input byte where the record in progress starts. */
  #recordOffset = 0;
  #quoteLine = 0;
  #quoteColumn = 0;
  #quoteOffset = 0;
  #quoteColumnIndex = 0;
  #quoteColumnCount = 0;
  #laneStart = 0;
  #laneEnd = 0;
  #laneHash = 0;
  #laneNull = false;
  #laneNullLine = 0;
  #laneNullColumn = 0;
  #laneNullOffset = 0;

  // Column cursor: `#colCount` code points of the current line precede
  // input byte `#colIndex`.
  #colIndex = 0;
  #colCount = 0;

  /** @param dialect What to frame and how to encode it. */
  constructor(dialect: CsvDialect) {
    this.#delimiter = dialect.delimiter;
    this.#quote = dialect.quote;
    this.#escape = dialect.escape;
    this.#csvOut = dialect.csvOut;
    this.#outDelimiter = dialect.csvOut ? COMMA : TAB;
    this.#nulls = dialect.nullEncoded ?? new Uint8Array(0);
    this.#nullLength = dialect.nullEncoded?.length ?? -1;
    this.#nullCodePoints = dialect.nullCodePoints;
    this.#expected = dialect.fieldCount;
    this.#laneField = dialect.laneField;
    this.#charset = dialect.charset ?? CHARSET_UTF8;
    this.#utf8 = this.#charset === CHARSET_UTF8;
    this.#rejecting = dialect.rejects ?? false;
    const q = dialect.quote;
    const csv = dialect.csvOut;
    this.#quoteCode = q;
    this.#quoteLength = 1;
    if (csv ? q === DQUOTE : q === BACKSLASH) {
      this.#quoteCode = q | (q << 8);
      this.#quoteLength = 2;
    } else if (!csv && q === TAB) {
      this.#quoteCode = BACKSLASH | (0x74 << 8); // \t
      this.#quoteLength = 2;
    }
    for (let b = 0; b < 256; b++) {
      this.#unquotedClass[b] = this.#unquotedClassOf(b);
      this.#quotedClass[b] = this.#quotedClassOf(b);
    }
  }

  #needsEncoding(b: number, quoted: boolean): boolean {
    if (this.#csvOut) return b === DQUOTE;
    return b === BACKSLASH || b === TAB || (quoted && b === CR);
  }

  #unquotedClassOf(b: number): number {
    if (b === this.#delimiter) return DELIMITER;
    if (b === this.#quote) return QUOTE;
    if (b === LF) return LINE_FEED;
    if (b === CR) return CARRIAGE_RETURN;
    return this.#needsEncoding(b, false) ? ENCODE : PLAIN;
  }

  #quotedClassOf(b: number): number {
    if (b === this.#quote) return QUOTE;
    if (b === this.#escape) return ESCAPE;
    if (b === LF) return LINE_FEED;
    return this.#needsEncoding(b, true) ? ENCODE : PLAIN;
  }

  /** @returns The registers. */
  registers(): Int32Array {
    return this.#registers;
  }

  /** @returns The output buffer. */
  output(): Uint8Array {
    return this.#out;
  }

  /** @returns The metadata arrays. */
  metadata(): Int32Array {
    return this.#meta;
  }

  /** @param field The lane field's index. */
  setLaneField(field: number): void {
    this.#laneField = field;
  }

  /** @param keep A byte per field, 0 for a field the rows leave out. */
  setKeep(keep: Uint8Array): void {
    this.#keep = keep.slice();
    this.#masked = true;
  }

  /**
   * @param chunk The next chunk.
   * @param final Whether it is the last.
   */
  begin(chunk: Uint8Array, final: boolean): void {
    const length = chunk.length;
    this.#last = final;
    this.#reserve(this.#pos + 3 * length + 32);
    this.#input = chunk;
    this.#size = length;
    this.#limit = length;
    this.#invalid = false;
    this.#colIndex = 0;
    if (!this.#utf8) {
      this.#findNul(0);
      return;
    }
    let i = 0;
    if (this.#utf8Need > 0) {
      i = this.#utf8Rest(
        0,
        -this.#utf8Back,
        this.#utf8Need,
        this.#utf8Low,
        this.#utf8High,
      );
      if (this.#invalid) return;
    }
    // The loop of #validate, kept here: the hot path, as one function.
    while (i < length) {
      // ASCII but NUL, which stops validation like an invalid character.
      if (chunk[i] < 0x80 && chunk[i] !== 0) {
        i++;
        continue;
      }
      i = this.#utf8Char(i);
      if (this.#invalid) return;
    }
  }

  /**
   * Validates the chunk as UTF-8 (other charsets: looks for a NUL) from
   * byte `i`, after a malformed record that held the invalid character:
   * framing stops at the next one.
   */
  #validate(i: number): void {
    if (!this.#utf8) {
      this.#findNul(i);
      return;
    }
    const chunk = this.#input;
    const length = this.#size;
    while (i < length) {
      // ASCII but NUL, which stops validation like an invalid character.
      if (chunk[i] < 0x80 && chunk[i] !== 0) {
        i++;
        continue;
      }
      i = this.#utf8Char(i);
      if (this.#invalid) return;
    }
  }

  /**
   * Outside UTF-8 (not validated) only a NUL is invalid, in every encoding
   * the codec reads: framing stops at the first from byte `from`.
   */
  #findNul(from: number): void {
    const at = this.#input.indexOf(0, from);
    if (at >= 0) this.#fail(at);
  }

  /**
   * Validates the character whose lead byte (not ASCII) is at `i`. Returns
   * the index after it; an invalid one sets `#invalid` and `#limit`.
   */
  #utf8Char(i: number): number {
    const b = this.#input[i];
    let need = 0;
    let low = 0x80;
    let high = 0xbf;
    if (b < 0xc2) {
      this.#fail(i);
      return i;
    } else if (b < 0xe0) {
      need = 1;
    } else if (b < 0xf0) {
      need = 2;
      if (b === 0xe0) low = 0xa0;
      if (b === 0xed) high = 0x9f;
    } else if (b < 0xf5) {
      need = 3;
      if (b === 0xf0) low = 0x90;
      if (b === 0xf4) high = 0x8f;
    } else {
      this.#fail(i);
      return i;
    }
    return this.#utf8Rest(i + 1, i, need, low, high);
  }

  /**
   * Checks the continuation bytes from `i` of the character whose lead
   * byte is at `lead`; keeps what is missing for the next chunk.
   */
  #utf8Rest(
    i: number,
    lead: number,
    need: number,
    low: number,
    high: number,
  ): number {
    const input = this.#input;
    while (need > 0) {
      if (i === this.#size) {
        if (this.#last) {
          this.#fail(lead);
          return i;
        }
        this.#utf8Need = need;
        this.#utf8Low = low;
        this.#utf8High = high;
        this.#utf8Back = i - lead;
        return i;
      }
      const c = input[i];
      if (c < low || c > high) {
        this.#fail(lead);
        return i;
      }
      i++;
      need--;
      low = 0x80;
      high = 0xbf;
    }
    this.#utf8Need = 0;
    return i;
  }

  #fail(lead: number): void {
    this.#invalid = true;
    this.#limit = lead;
    this.#utf8Need = 0;
  }

  /**
   * @param from The chunk byte to start at.
   * @param maxRows Stop after this many rows.
   * @returns Where it stopped, or -1 on an error.
   */
  frame(from: number, maxRows: number): number {
    this.#rows = 0;
    const registers = this.#registers;
    registers[REG_ERROR] = 0;
    registers[REG_REJECT] = 0;
    registers[REG_REJECT_END] = -1;
    if (this.#state >= SKIP) {
      // A malformed record goes on from the chunk before: skip to its end.
      const next = this.#skip(from);
      this.#sync();
      return next < 0 ? this.#size : next;
    }
    const input = this.#input;
    const out = this.#out;
    const unquotedClass = this.#unquotedClass;
    const quotedClass = this.#quotedClass;
    const end = this.#limit;
    const csv = this.#csvOut;
    const q = this.#quote;
    const escape = this.#escape;
    const qCode = this.#quoteCode;
    const qLength = this.#quoteLength;
    const masked = this.#masked;
    const keep = this.#keep;
    // The per-field state lives in locals, written back when the call ends.
    let i = from;
    let st = this.#state;
    let p = this.#pos;
    let start = this.#fieldStart;
    let quoted = this.#fieldQuoted;
    let count = this.#fields;
    let result = -2; // still running
    while (i < end) {
      let b = input[i];
      if (st === FIELD_START) {
        start = p;
        if (csv) {
          out[p] = DQUOTE;
          p++;
        }
        if (b === q) {
          quoted = true;
          this.#openQuote(i);
          st = QUOTED;
          i++;
        } else {
          quoted = false;
          st = UNQUOTED;
        }
      }
      // The class of the byte that ends the field at `i`, if one does.
      let term = 0;
      if (st === QUOTED) {
        // Copy up to the closing quote; doubled quotes and escapes in place.
        for (;;) {
          while (i < end) {
            const c = input[i];
            if (quotedClass[c] !== PLAIN) break;
            out[p] = c;
            p++;
            i++;
          }
          if (i === end) break;
          b = input[i];
          const kind = quotedClass[b];
          i++;
          if (kind === QUOTE) {
            if (i < end && escape === q && input[i] === q) {
              out[p] = qCode & 0xff; // a doubled quote
              out[p + 1] = qCode >> 8;
              p += qLength;
              i++;
              continue;
            }
            st = QUOTE_SEEN;
            break;
          }
          if (kind === ESCAPE) {
            if (i === end) {
              st = ESCAPE_SEEN;
              break;
            }
            const c = input[i];
            if (c === q || c === escape) {
              p = this.#putEncoded(c, p);
              i++;
            } else {
              p = this.#putEncoded(escape, p);
            }
            continue;
          }
          p = this.#putEncoded(b, p);
          if (kind === LINE_FEED) this.#newLine(i);
        }
        if (i === end) continue;
      }
      if (st === QUOTE_SEEN) {
        b = input[i];
        if (b === q && escape === q) {
          p = this.#putEncoded(b, p); // a doubled quote split between chunks
          st = QUOTED;
          i++;
          continue;
        }
        if (b === this.#delimiter) {
          term = DELIMITER;
        } else if (b === LF) {
          term = LINE_FEED;
        } else if (b === CR) {
          term = CARRIAGE_RETURN;
        } else {
          this.#error(
            E_AFTER_CLOSING_QUOTE,
            this.#line,
            this.#columnAt(i),
            i,
          );
          result = this.#rejectFrom(i, SKIP_UNQUOTED);
          break;
        }
      } else if (st === ESCAPE_SEEN) {
        b = input[i];
        st = QUOTED;
        if (b === q || b === escape) {
          p = this.#putEncoded(b, p);
          i++;
        } else {
          p = this.#putEncoded(escape, p);
        }
        continue;
      } else if (st === UNQUOTED) {
        // Copy up to the delimiter or line break; encode in place.
        let kind = 0;
        for (;;) {
          while (i < end) {
            const c = input[i];
            if (unquotedClass[c] !== PLAIN) break;
            out[p] = c;
            p++;
            i++;
          }
          if (i === end) break;
          b = input[i];
          kind = unquotedClass[b];
          if (kind !== ENCODE && kind !== PLAIN) break;
          p = this.#putEncoded(b, p);
          i++;
        }
        if (i === end) continue;
        if (kind === QUOTE) {
          this.#error(E_QUOTE_IN_UNQUOTED, this.#line, this.#columnAt(i), i);
          result = this.#rejectFrom(i, SKIP_UNQUOTED);
          break;
        }
        term = kind;
      }
      // A field or a record ends here. A record ends at a line feed, or at
      // the byte after a carriage return (CR_SEEN).
      let next = i + 1;
      let at = i;
      if (st === CR_SEEN) {
        at = i - 1; // the carriage return, perhaps in the chunk before
        if (b !== LF) next = i;
      } else {
        p = this.#endField(i, p, start, quoted, count);
        if (term === DELIMITER) {
          // A field left out takes no delimiter after it.
          const kept = !masked || keep[count] !== 0;
          count++;
          const expected = this.#expected;
          if (expected !== 0 && count >= expected) {
            this.#error(
              E_TOO_MANY_FIELDS,
              this.#line,
              this.#columnAt(i + 1),
              i + 1,
              expected,
              count + 1,
            );
            result = this.#rejectFrom(i + 1, SKIP_FIELD_START);
            break;
          }
          if (kept) {
            out[p] = this.#outDelimiter;
            p++;
          }
          st = FIELD_START;
          i++;
          continue;
        }
        if (term === CARRIAGE_RETURN) {
          st = CR_SEEN;
          i++;
          continue;
        }
      }
      this.#pos = p;
      const ok = this.#endRecord(next, at, quoted, count);
      p = this.#pos;
      count = 0;
      if (!ok) {
        result = this.#rejectRecord(next);
        break;
      }
      this.#nextRecord(next);
      st = FIELD_START;
      i = next;
      if (this.#rows === maxRows) {
        result = i;
        break;
      }
    }
    if (result === -2) {
      result = i;
      const limit = this.#limit;
      if (this.#invalid && i >= limit && st === CR_SEEN) {
        // The carriage return before the invalid character ended a record.
        this.#pos = p;
        const ok = this.#endRecord(i, i - 1, quoted, count);
        p = this.#pos;
        count = 0;
        st = FIELD_START;
        if (!ok) {
          result = this.#rejectRecord(i);
          if (result >= 0) result = -3; // one malformed record per call
        } else {
          this.#nextRecord(i);
          // At the last row asked for, the next call reports the character.
          if (this.#rows === maxRows) result = -3;
        }
      }
      if (this.#invalid && i >= limit && result === i) {
        this.#error(
          limit >= 0 && this.#input[limit] === 0 ? E_NUL_BYTE : E_INVALID_UTF8,
          this.#line,
          this.#columnOf(limit),
          limit,
        );
        result = this.#rejectFrom(Math.max(limit, 0), st + SKIP);
      }
      if (result === -3) result = i;
    }
    if (registers[REG_REJECT] !== 0) {
      // The malformed record's output is dropped; framing goes on after it.
      st = this.#state;
      p = this.#pos;
      count = 0;
    }
    this.#state = st;
    this.#pos = p;
    this.#fieldStart = start;
    this.#fieldQuoted = quoted;
    this.#fields = count;
    this.#sync();
    return result;
  }

  /**
   * The error registers hold a malformed record's error, found at byte `i`
   * in framing state `skip - SKIP`. In reject mode: reports the record,
   * drops its output and skips it from `i`; returns where framing goes on
   * (the chunk's end while the record goes on). Otherwise returns -1.
   */
  #rejectFrom(i: number, skip: number): number {
    if (!this.#rejecting) return -1;
    this.#reject();
    this.#state = skip;
    const next = this.#skip(i);
    return next < 0 ? this.#size : next;
  }

  /**
   * The record that ended at byte `next` has the wrong field count or a
   * NULL lane key. In reject mode: reports exactly that record and goes on
   * after it (returns `next`). Otherwise returns -1.
   */
  #rejectRecord(next: number): number {
    if (!this.#rejecting) return -1;
    this.#reject();
    return this.#resync(next);
  }

  /** Reports the record in progress as malformed and drops its output. */
  #reject(): void {
    const registers = this.#registers;
    registers[REG_REJECT] = 1;
    registers[REG_REJECT_START] = this.#recordOffset;
    registers[REG_REJECT_LINE] = this.#recordLine;
    this.#pos = this.#recordStart;
    this.#fields = 0;
    this.#laneNull = false;
  }

  /**
   * Skips a malformed record from byte `i` to its end: the first line break
   * not inside a quoted field, as the framing reads quotes (a quote opens a
   * quoted field only at a field's start; a doubled quote or an escape
   * stays inside it). Returns where the next record starts, or -1 when the
   * chunk ends first (the state carries to the next one).
   */
  #skip(i: number): number {
    const input = this.#input;
    const size = this.#size;
    const q = this.#quote;
    const escape = this.#escape;
    let st = this.#state;
    while (i < size) {
      const b = input[i];
      if (st === SKIP_UNQUOTED) {
        if (b === LF) return this.#resync(i + 1);
        if (b === CR) st = SKIP_CR;
        else if (b === this.#delimiter) st = SKIP_FIELD_START;
        i++;
      } else if (st === SKIP_FIELD_START) {
        if (b === q) {
          st = SKIP_QUOTED;
          i++;
        } else {
          st = SKIP_UNQUOTED;
        }
      } else if (st === SKIP_QUOTED) {
        if (b === q) st = SKIP_QUOTE_SEEN;
        else if (b === escape) st = SKIP_ESCAPE;
        else if (b === LF) this.#newLine(i + 1);
        i++;
      } else if (st === SKIP_QUOTE_SEEN) {
        if (b === q && escape === q) {
          st = SKIP_QUOTED; // a doubled quote
          i++;
        } else {
          st = SKIP_UNQUOTED;
        }
      } else if (st === SKIP_ESCAPE) {
        st = SKIP_QUOTED;
        if (b === q || b === escape) i++;
      } else {
        // SKIP_CR: the record ended at the carriage return.
        return this.#resync(b === LF ? i + 1 : i);
      }
    }
    this.#state = st;
    return -1;
  }

  /**
   * The malformed record ended just before byte `next`: reports its end,
   * and framing starts a new record there (validating what follows, when
   * the record held the invalid character that stopped validation).
   */
  #resync(next: number): number {
    this.#nextRecord(next);
    this.#state = FIELD_START;
    const registers = this.#registers;
    registers[REG_REJECT_END] = next;
    registers[REG_REJECT_LINES] = this.#line;
    if (this.#invalid && this.#limit < next) {
      this.#invalid = false;
      this.#limit = this.#size;
      this.#validate(next);
    }
    return next;
  }

  /**
   * At the end of input: the malformed record being skipped ends there (a
   * carriage return before it ended its last line).
   */
  #endAtFinish(crEnded: boolean): void {
    if (crEnded) this.#newLine(0);
    this.#registers[REG_REJECT_END] = 0;
    this.#registers[REG_REJECT_LINES] = this.#line;
  }

  /**
   * At the end of input, the record in progress is malformed. In reject
   * mode: reports it, running to the end of input, and returns 0.
   * Otherwise returns -1.
   */
  #rejectAtEnd(crEnded: boolean): number {
    if (!this.#rejecting) return -1;
    this.#reject();
    this.#endAtFinish(crEnded);
    return 0;
  }

  /** A quoted field opens at byte `i`: remember where, for an error. */
  #openQuote(i: number): void {
    this.#quoteLine = this.#line;
    this.#quoteOffset = i;
    this.#quoteColumn = 0; // worked out when the chunk ends with the quote open
    this.#quoteColumnIndex = this.#colIndex;
    this.#quoteColumnCount = this.#colCount;
  }

  /** Appends byte `b` at `p` as the COPY format needs; returns the new end. */
  #putEncoded(b: number, p: number): number {
    const out = this.#out;
    if (this.#csvOut) {
      if (b === DQUOTE) {
        out[p] = DQUOTE;
        p++;
      }
      out[p] = b;
      return p + 1;
    }
    let escaped = 0;
    if (b === BACKSLASH) escaped = BACKSLASH;
    else if (b === TAB) escaped = 0x74; // t
    else if (b === LF) escaped = 0x6e; // n
    else if (b === CR) escaped = 0x72; // r
    if (escaped === 0) {
      out[p] = b;
      return p + 1;
    }
    out[p] = BACKSLASH;
    out[p + 1] = escaped;
    return p + 2;
  }

  /**
   * Closes field number `field` (0-based), written from `start` to `p` and
   * ended by the byte at `i`: NULL rule, closing quote, lane key. Returns
   * the new end of the output.
   */
  #endField(
    i: number,
    p: number,
    start: number,
    quoted: boolean,
    field: number,
  ): number {
    const out = this.#out;
    const contentStart = start + (this.#csvOut ? 1 : 0);
    this.#fieldEmpty = p === contentStart;
    // A field left out: its bytes go (the lane field is never one).
    if (this.#masked && this.#keep[field] === 0) return start;
    let isNull = false;
    if (!quoted) {
      const nullLength = this.#nullLength;
      if (nullLength < 0) {
        isNull = p === contentStart;
      } else if (p - contentStart === nullLength) {
        isNull = true;
        for (let k = 0; k < nullLength; k++) {
          if (out[contentStart + k] !== this.#nulls[k]) {
            isNull = false;
            break;
          }
        }
      }
    }
    if (field === this.#laneField) this.#laneKey(i, contentStart, p, isNull);
    if (isNull) {
      if (this.#csvOut) return start;
      out[start] = BACKSLASH;
      out[start + 1] = 0x4e; // N
      return start + 2;
    }
    if (this.#csvOut) {
      out[p] = DQUOTE;
      return p + 1;
    }
    return p;
  }

  /**
   * The lane field, ended at byte `i`, is `[start, end)` of the output:
   * keep its range and hash. A NULL lane key fails the record, unless the
   * line turns out blank.
   */
  #laneKey(i: number, start: number, end: number, isNull: boolean): void {
    this.#laneNull = isNull;
    if (isNull) {
      this.#laneNullLine = this.#line;
      this.#laneNullColumn = Math.max(
        1,
        this.#columnAt(i) - this.#nullCodePoints,
      );
      this.#laneNullOffset = i;
      return;
    }
    const out = this.#out;
    this.#laneStart = start;
    this.#laneEnd = end;
    let hash = 0x811c9dc5 | 0;
    for (let k = start; k < end; k++) {
      hash = Math.imul(hash ^ out[k], 0x01000193);
    }
    this.#laneHash = hash;
  }

  /**
   * Ends the record (its last field closed, `fieldsBefore` fields before
   * it) whose terminator starts at byte `at` and which ends at chunk offset
   * `endOffset`. Returns false on an error.
   */
  #endRecord(
    endOffset: number,
    at: number,
    lastQuoted: boolean,
    fieldsBefore: number,
  ): boolean {
    const count = fieldsBefore + 1;
    if (count === 1 && !lastQuoted && this.#fieldEmpty) {
      // A blank line: not a record.
      this.#pos = this.#recordStart;
      this.#laneNull = false;
      return true;
    }
    if (this.#expected === 0) this.#expected = count;
    if (count < this.#expected) {
      this.#error(
        E_TOO_FEW_FIELDS,
        this.#line,
        this.#columnOf(at),
        at,
        this.#expected,
        count,
      );
      return false;
    }
    // The last field left out: drop the delimiter after the last kept one.
    if (this.#masked && this.#keep[fieldsBefore] === 0) this.#pos--;
    this.#out[this.#pos] = LF;
    this.#pos++;
    if (this.#laneNull) {
      this.#error(
        E_NULL_LANE,
        this.#laneNullLine,
        this.#laneNullColumn,
        this.#laneNullOffset,
      );
      return false;
    }
    const meta = this.#meta;
    const row = this.#rows;
    meta[META_ROW_END * ROW_CAPACITY + row] = this.#pos;
    meta[META_LINE * ROW_CAPACITY + row] = this.#recordLine;
    meta[META_END * ROW_CAPACITY + row] = endOffset;
    meta[META_LANE_START * ROW_CAPACITY + row] = this.#laneStart;
    meta[META_LANE_END * ROW_CAPACITY + row] = this.#laneEnd;
    meta[META_LANE_HASH * ROW_CAPACITY + row] = this.#laneHash;
    this.#rows++;
    this.#recordStart = this.#pos;
    return true;
  }

  /** A new physical line starts at byte `i`. */
  #newLine(i: number): void {
    this.#line++;
    this.#colIndex = i;
    this.#colCount = 0;
  }

  /** A new line, and a new record on it, start at byte `i`. */
  #nextRecord(i: number): void {
    this.#newLine(i);
    this.#recordLine = this.#line;
    this.#recordOffset = i;
  }

  /** Characters in `[from, to)`, `from` the first byte of one. */
  #countCodePoints(from: number, to: number): number {
    const charset = this.#charset;
    if (charset === CHARSET_SINGLE_BYTE) return to > from ? to - from : 0;
    const input = this.#input;
    let count = 0;
    if (charset !== CHARSET_UTF8) {
      // EUC: walk from character to character; a byte from 0x80 takes the
      // bytes from 0x80 its character needs (no ASCII byte is part of one).
      for (let k = from; k < to; count++) {
        const b = input[k++];
        if (b < 0x80) continue;
        let trail = b === 0x8f && charset === CHARSET_EUC_JP ? 2 : 1;
        while (trail > 0 && k < to && input[k] >= 0x80) {
          k++;
          trail--;
        }
      }
      return count;
    }
    for (let k = from; k < to; k++) {
      if ((input[k] & 0xc0) !== 0x80) count++;
    }
    return count;
  }

  #advanceColumn(to: number): void {
    this.#colCount += this.#countCodePoints(this.#colIndex, to);
    this.#colIndex = Math.max(this.#colIndex, to);
  }

  /** 1-based column of byte `i` on the current line. */
  #columnAt(i: number): number {
    this.#advanceColumn(i);
    return this.#colCount + 1;
  }

  /**
   * The column of byte `i`, which may be before the chunk (`i < 0`: the
   * lead byte of the character the chunk continues, or a carriage return).
   */
  #columnOf(i: number): number {
    return i >= 0 ? this.#columnAt(i) : this.#columnAt(0) - 1;
  }

  #error(
    code: number,
    line: number,
    column: number,
    offset: number,
    arg1 = 0,
    arg2 = 0,
  ): void {
    const registers = this.#registers;
    registers[REG_ERROR] = code;
    registers[REG_ERROR_LINE] = line;
    registers[REG_ERROR_COLUMN] = column;
    registers[REG_ERROR_OFFSET] = offset;
    registers[REG_ERROR_ARG1] = arg1;
    registers[REG_ERROR_ARG2] = arg2;
  }

  #sync(): void {
    this.#registers[REG_POS] = this.#pos;
    this.#registers[REG_RECORD_START] = this.#recordStart;
    this.#registers[REG_ROWS] = this.#rows;
  }

  /** Rebases positions that outlive the chunk onto the next one. */
  endChunk(): void {
    const st = this.#state;
    if (
      (st === QUOTED || st === QUOTE_SEEN || st === ESCAPE_SEEN) &&
      this.#quoteOffset >= 0 && this.#quoteColumn === 0
    ) {
      this.#quoteColumn = this.#quoteColumnCount +
        this.#countCodePoints(this.#quoteColumnIndex, this.#quoteOffset) + 1;
    }
    this.#advanceColumn(this.#size);
    this.#colIndex = 0;
    const line = this.#line;
    this.#registers[REG_LINES] = line;
    this.#recordLine -= line;
    this.#quoteLine -= line;
    this.#laneNullLine -= line;
    this.#line = 0;
    this.#recordOffset -= this.#size;
    this.#quoteOffset -= this.#size;
    this.#laneNullOffset -= this.#size;
    this.#size = 0;
    this.#limit = 0;
  }

  /** @returns 0, or -1 on an error. */
  finish(): number {
    this.#rows = 0;
    const registers = this.#registers;
    registers[REG_ERROR] = 0;
    registers[REG_REJECT] = 0;
    registers[REG_REJECT_END] = -1;
    this.#colIndex = 0;
    const st = this.#state;
    this.#state = FIELD_START;
    if (st >= SKIP) {
      // The malformed record being skipped is the rest of the input.
      this.#endAtFinish(st === SKIP_CR);
      return this.#finished(0);
    }
    if (this.#utf8Need > 0) {
      this.#error(
        E_INVALID_UTF8,
        this.#line,
        this.#columnAt(0) - 1,
        -this.#utf8Back,
      );
      return this.#finished(this.#rejectAtEnd(false));
    }
    if (st === QUOTED || st === ESCAPE_SEEN) {
      this.#error(
        E_UNCLOSED_QUOTE,
        this.#quoteLine,
        this.#quoteColumn,
        this.#quoteOffset,
      );
      return this.#finished(this.#rejectAtEnd(false));
    }
    if (st === FIELD_START) {
      if (this.#fields === 0) return this.#finished(0); // nothing pending
      // A trailing delimiter: the last field is empty and unquoted.
      this.#fieldStart = this.#pos;
      if (this.#csvOut) {
        this.#out[this.#pos] = DQUOTE;
        this.#pos++;
      }
      this.#fieldQuoted = false;
    }
    if (st !== CR_SEEN) {
      this.#pos = this.#endField(
        0,
        this.#pos,
        this.#fieldStart,
        this.#fieldQuoted,
        this.#fields,
      );
    }
    const ok = this.#endRecord(
      0,
      st === CR_SEEN ? -1 : 0,
      this.#fieldQuoted,
      this.#fields,
    );
    this.#fields = 0;
    return this.#finished(ok ? 0 : this.#rejectAtEnd(st === CR_SEEN));
  }

  #finished(result: number): number {
    this.#sync();
    return result;
  }

  /** @param end The row boundary to drop the output before. */
  compact(end: number): void {
    this.#out.copyWithin(0, end, this.#pos);
    this.#pos -= end;
    this.#fieldStart -= end;
    this.#recordStart -= end;
    this.#laneStart -= end;
    this.#laneEnd -= end;
    this.#sync();
  }

  #reserve(capacity: number): void {
    if (capacity <= this.#out.length) return;
    const grown = new Uint8Array(Math.max(capacity, this.#out.length * 2));
    grown.set(this.#out.subarray(0, this.#pos));
    this.#out = grown;
  }
}
