/**
 * The CSV-to-COPY codec: frames RFC 4180 records from raw bytes, a chunk at
 * a time, and encodes each record as one COPY row, remembering where every
 * row came from. State carries across chunks, so a record (or a multibyte
 * character, or a doubled quote) split between two chunks encodes exactly
 * as if it were whole.
 *
 * Rules:
 * - Fields are separated by the delimiter (`,` by default) and records end
 *   in LF, CRLF or a lone CR. Inside quotes, delimiters, quotes (doubled)
 *   and line breaks are data.
 * - NULL: an unquoted empty field is NULL and a quoted `""` is the empty
 *   string (PostgreSQL's CSV rule). With `nullString`, an unquoted field
 *   equal to it is NULL instead, and an unquoted empty field is an empty
 *   string.
 * - Lines that are entirely empty are not records.
 * - Every record must have as many fields as the first (or as
 *   `fieldCount`).
 *
 * @module
 */

import { type CopyFormat, decodeCopyRow, encodeCopyRow } from "./copy_row.ts";
import { ExitCode, InputSyntaxError, UsageError } from "./errors.ts";
import type { RowBlock } from "./row_block.ts";

/** Options for {@linkcode CsvCopyCodec}. */
export interface CsvCopyCodecOptions {
  /** The source's name in error messages. Default `<input>`. */
  source?: string;
  /** Field delimiter, one ASCII character. Default `,`. */
  delimiter?: string;
  /** Quote character, one ASCII character. Default `"`. */
  quote?: string;
  /** An unquoted field equal to this is NULL. Default: the unquoted empty field. */
  nullString?: string;
  /** The COPY format to produce. Default `text`. */
  copyFormat?: CopyFormat;
  /** The first record names the columns and is not a row. Default `true`. */
  header?: boolean;
  /** Fields every record must have. Default: as many as the first record. */
  fieldCount?: number;
  /** Source byte offset of the first byte pushed. Default 0. */
  startOffset?: number;
  /** Source line of the first byte pushed. Default 1. */
  startLine?: number;
  /** Column names in file order; replace the header's names. */
  columns?: readonly string[];
  /**
   * The column whose text is each row's lane key (by name, from `columns`
   * or the header). A NULL lane key is malformed input.
   */
  laneColumn?: string;
}

const FIELD_START = 0;
const UNQUOTED = 1;
const QUOTED = 2;
const QUOTE_SEEN = 3;
const CR_SEEN = 4;

const LF = 0x0a;
const CR = 0x0d;
const TAB = 0x09;
const BACKSLASH = 0x5c;
const DQUOTE = 0x22;
const BOM = [0xef, 0xbb, 0xbf];

/** Distinct lane keys remembered, decoded once each. */
const LANE_CACHE_SIZE = 4096;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Encodes CSV bytes as COPY rows. Push chunks in order, then call
 * {@linkcode CsvCopyCodec.finish}; each call returns the rows completed by
 * it. Throws {@linkcode InputSyntaxError} for malformed input.
 *
 * @example Usage
 * ```ts
 * import { CsvCopyCodec } from "./csv_codec.ts";
 * import assert from "node:assert/strict";
 *
 * const codec = new CsvCopyCodec({ source: "t.csv" });
 * const bytes = new TextEncoder().encode('id,note\n1,"a ""b"""\n2,\n3,""\n');
 * const block = codec.push(bytes);
 * assert.deepEqual(codec.header, ["id", "note"]);
 * assert.equal(
 *   new TextDecoder().decode(block.data),
 *   '1\ta "b"\n2\t\\N\n3\t\n',
 * );
 * assert.deepEqual([...block.lines], [2, 3, 4]);
 * ```
 */
export class CsvCopyCodec {
  readonly #source: string;
  readonly #delimiter: number;
  readonly #quote: number;
  readonly #csvOut: boolean;
  readonly #outDelimiter: number;
  readonly #nullEncoded: Uint8Array | undefined;
  #headerPending: boolean;
  #header: string[] | undefined;
  #expected: number;
  readonly #laneColumn: string | undefined;
  readonly #nullLength: number;
  #laneField = -1;
  #laneKeys: string[] = [];
  #laneKey = "";
  #laneNull: InputSyntaxError | undefined;
  readonly #laneCache = new Map<number, { bytes: Uint8Array; key: string }>();

  // Output: completed rows of this call, then the record in progress.
  #out = new Uint8Array(1 << 16);
  #pos = 0;
  #recordStart = 0;
  #fieldStart = 0;

  // Per-row metadata of this call.
  #rowEnds = new Uint32Array(1024);
  #lines = new Float64Array(1024);
  #endOffsets = new Float64Array(1024);
  #rows = 0;

  // Framing state.
  #state = FIELD_START;
  #fieldQuoted = false;
  #fieldEmpty = false;
  #fields = 0;
  #line: number;
  #recordLine: number;
  #chunkOffset: number;
  #quoteLine = 0;
  #quoteColumn = 0;
  #quoteOffset = 0;

  // Column cursor: `#colCount` code points of the current line precede
  // `chunk[#colIndex]` of the chunk being pushed.
  #colIndex = 0;
  #colCount = 0;
  #chunk: Uint8Array = new Uint8Array(0);
  #bomHeld: Uint8Array | undefined;

  /** @param options How to read the CSV and which COPY format to write. */
  constructor(options: CsvCopyCodecOptions = {}) {
    this.#source = options.source ?? "<input>";
    this.#delimiter = asciiByte(options.delimiter ?? ",", "delimiter");
    this.#quote = asciiByte(options.quote ?? '"', "quote");
    if (this.#delimiter === this.#quote) {
      throw new RangeError(
        "Cannot use the same character as delimiter and quote",
      );
    }
    if ([LF, CR].includes(this.#delimiter)) {
      throw new RangeError("Cannot use a line break as the delimiter");
    }
    this.#csvOut = options.copyFormat === "csv";
    this.#outDelimiter = this.#csvOut ? 0x2c : TAB;
    if (options.nullString !== undefined) {
      // The null string as the codec writes it, opening quote excluded.
      const row = encodeCopyRow(
        [options.nullString],
        options.copyFormat ?? "text",
      );
      const bytes = encoder.encode(row.slice(0, -1));
      this.#nullEncoded = this.#csvOut ? bytes.subarray(1, -1) : bytes;
    }
    this.#headerPending = options.header ?? true;
    this.#expected = options.fieldCount ?? options.columns?.length ?? 0;
    this.#laneColumn = options.laneColumn;
    this.#nullLength = [...options.nullString ?? ""].length;
    if (options.columns !== undefined) this.#findLane(options.columns);
    else if (!this.#headerPending) this.#findLane([]);
    this.#chunkOffset = options.startOffset ?? 0;
    if (this.#chunkOffset === 0) this.#bomHeld = new Uint8Array(0);
    this.#line = options.startLine ?? 1;
    this.#recordLine = this.#line;
  }

  /** The header's column names, once the header record has been read. */
  get header(): string[] | undefined {
    return this.#header;
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
    if (bytes.length > 0) this.#frame(bytes);
    return this.#takeRows();
  }

  /**
   * Ends the input: the last record may lack its line break.
   *
   * @returns The rows of the last record, if one was pending.
   */
  finish(): RowBlock {
    const held = this.#skipBom(new Uint8Array(0), true);
    if (held.length > 0) this.#frame(held);
    this.#chunk = new Uint8Array(0);
    this.#colIndex = 0;
    switch (this.#state) {
      case QUOTED:
        throw new InputSyntaxError(
          "Cannot parse record: quoted field is not closed before the end of input",
          {
            source: this.#source,
            line: this.#quoteLine,
            column: this.#quoteColumn,
            offset: this.#quoteOffset,
          },
        );
      case FIELD_START:
        if (this.#fields === 0) break; // nothing pending
        // A trailing delimiter: the last field is empty and unquoted.
        this.#fieldStart = this.#pos;
        if (this.#csvOut) this.#out[this.#pos++] = DQUOTE;
        this.#fieldQuoted = false;
        this.#endField(0);
        this.#endRecord(this.#chunkOffset, 0);
        break;
      case CR_SEEN:
        this.#endRecord(this.#chunkOffset, 0);
        break;
      default:
        this.#endField(0);
        this.#endRecord(this.#chunkOffset, 0);
    }
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

  /**
   * After {@linkcode CsvCopyCodec.push} or {@linkcode CsvCopyCodec.finish}
   * threw an {@linkcode InputSyntaxError}: the rows completed before the
   * bad record, which are good and may still be loaded.
   *
   * @returns Those rows.
   */
  rowsBeforeError(): RowBlock {
    return this.#takeRows();
  }

  #frame(chunk: Uint8Array): void {
    const n = chunk.length;
    this.#reserve(this.#pos + 3 * n + 16);
    this.#chunk = chunk;
    this.#colIndex = 0;
    const delimiter = this.#delimiter;
    const quote = this.#quote;
    const csvOut = this.#csvOut;
    const out = this.#out;
    let state = this.#state;
    let i = 0;
    while (i < n) {
      const b = chunk[i];
      switch (state) {
        case FIELD_START: {
          this.#fieldStart = this.#pos;
          if (csvOut) out[this.#pos++] = DQUOTE;
          if (b === quote) {
            this.#fieldQuoted = true;
            this.#quoteLine = this.#line;
            this.#quoteColumn = this.#columnAt(i);
            this.#quoteOffset = this.#chunkOffset + i;
            state = QUOTED;
            i++;
          } else {
            this.#fieldQuoted = false;
            state = UNQUOTED;
          }
          continue;
        }
        case UNQUOTED: {
          // Copy the plain run in one tight loop.
          let pos = this.#pos;
          let c = b;
          while (
            c !== delimiter && c !== quote && c !== LF && c !== CR &&
            c !== BACKSLASH && c !== TAB
          ) {
            out[pos++] = c;
            if (++i === n) break;
            c = chunk[i];
          }
          this.#pos = pos;
          if (i === n) continue;
          if (c === delimiter) {
            this.#endField(i);
            this.#nextField(i);
            state = FIELD_START;
          } else if (c === LF) {
            this.#endField(i);
            this.#endRecord(this.#chunkOffset + i + 1, i);
            this.#nextRecord(i + 1);
            state = FIELD_START;
          } else if (c === CR) {
            this.#endField(i);
            state = CR_SEEN;
          } else if (c === quote) {
            throw this.#error(
              "Cannot parse field: a quote inside an unquoted field (quote the whole field and double the quote)",
              i,
            );
          } else {
            this.#putEscaped(c);
          }
          i++;
          continue;
        }
        case QUOTED: {
          let pos = this.#pos;
          let c = b;
          while (
            c !== quote && c !== LF && c !== CR && c !== BACKSLASH &&
            c !== TAB && c !== DQUOTE
          ) {
            out[pos++] = c;
            if (++i === n) break;
            c = chunk[i];
          }
          this.#pos = pos;
          if (i === n) continue;
          if (c === quote) {
            state = QUOTE_SEEN;
          } else {
            this.#putEscaped(c);
            if (c === LF) this.#newLine(i + 1);
          }
          i++;
          continue;
        }
        case QUOTE_SEEN: {
          if (b === quote) {
            this.#putEscaped(quote);
            state = QUOTED;
          } else if (b === delimiter) {
            this.#endField(i);
            this.#nextField(i);
            state = FIELD_START;
          } else if (b === LF) {
            this.#endField(i);
            this.#endRecord(this.#chunkOffset + i + 1, i);
            this.#nextRecord(i + 1);
            state = FIELD_START;
          } else if (b === CR) {
            this.#endField(i);
            state = CR_SEEN;
          } else {
            throw this.#error(
              "Cannot parse field: a character after a closing quote (expected a delimiter or the end of the line)",
              i,
            );
          }
          i++;
          continue;
        }
        case CR_SEEN: {
          if (b === LF) {
            this.#endRecord(this.#chunkOffset + i + 1, Math.max(0, i - 1));
            this.#nextRecord(i + 1);
            i++;
          } else {
            this.#endRecord(this.#chunkOffset + i, Math.max(0, i - 1));
            this.#nextRecord(i);
          }
          state = FIELD_START;
          continue;
        }
      }
    }
    this.#state = state;
    this.#advanceColumn(n);
    this.#chunkOffset += n;
  }

  #putEscaped(b: number): void {
    const out = this.#out;
    if (this.#csvOut) {
      if (b === DQUOTE) out[this.#pos++] = DQUOTE;
      out[this.#pos++] = b;
      return;
    }
    switch (b) {
      case BACKSLASH:
        out[this.#pos++] = BACKSLASH;
        out[this.#pos++] = BACKSLASH;
        return;
      case TAB:
        out[this.#pos++] = BACKSLASH;
        out[this.#pos++] = 0x74; // t
        return;
      case LF:
        out[this.#pos++] = BACKSLASH;
        out[this.#pos++] = 0x6e; // n
        return;
      case CR:
        out[this.#pos++] = BACKSLASH;
        out[this.#pos++] = 0x72; // r
        return;
      default:
        out[this.#pos++] = b;
    }
  }

  /**
   * Closes the current field, whose terminator is at chunk index `i`: NULL
   * rule, closing quote, lane key.
   */
  #endField(i: number): void {
    const out = this.#out;
    const contentStart = this.#fieldStart + (this.#csvOut ? 1 : 0);
    this.#fieldEmpty = this.#pos === contentStart;
    let isNull = false;
    if (!this.#fieldQuoted) {
      const nullEncoded = this.#nullEncoded;
      if (nullEncoded === undefined) {
        isNull = this.#pos === contentStart;
      } else if (this.#pos - contentStart === nullEncoded.length) {
        isNull = true;
        for (let k = 0; k < nullEncoded.length; k++) {
          if (out[contentStart + k] !== nullEncoded[k]) {
            isNull = false;
            break;
          }
        }
      }
    }
    if (this.#fields === this.#laneField && !this.#headerPending) {
      // A NULL lane key fails the record, unless the line turns out blank.
      this.#laneNull = isNull
        ? this.#error(
          `Cannot read lane key: column "${this.#laneColumn}" is NULL (every record needs a lane)`,
          i,
          this.#nullLength,
        )
        : undefined;
      if (!isNull) this.#laneKey = this.#readLaneKey(contentStart);
    }
    if (isNull) {
      this.#pos = this.#fieldStart;
      if (!this.#csvOut) {
        out[this.#pos++] = BACKSLASH;
        out[this.#pos++] = 0x4e; // N
      }
    } else if (this.#csvOut) {
      out[this.#pos++] = DQUOTE;
    }
  }

  /** After a delimiter at chunk index `i`: count the field, write ours. */
  #nextField(i: number): void {
    this.#fields++;
    if (this.#expected !== 0 && this.#fields >= this.#expected) {
      throw this.#error(
        `Cannot parse record: expected ${this.#expected} fields, found more (field ${
          this.#fields + 1
        } starts here)`,
        i + 1,
      );
    }
    this.#out[this.#pos++] = this.#outDelimiter;
  }

  /**
   * Ends the record whose terminator starts at chunk index `at`, and which
   * ends at source offset `endOffset`.
   */
  #endRecord(endOffset: number, at: number): void {
    const fields = this.#fields + 1;
    const isBlank = fields === 1 && !this.#fieldQuoted && this.#fieldEmpty;
    this.#fields = 0;
    if (isBlank) {
      this.#pos = this.#recordStart;
      this.#laneNull = undefined;
      return;
    }
    if (this.#expected === 0) this.#expected = fields;
    if (fields < this.#expected) {
      throw this.#error(
        `Cannot parse record: expected ${this.#expected} fields, found ${fields}`,
        at,
      );
    }
    this.#out[this.#pos++] = LF;
    if (this.#headerPending) {
      this.#headerPending = false;
      this.#header = this.#readHeader();
      if (this.#laneColumn !== undefined && this.#laneField < 0) {
        this.#findLane(this.#header);
      }
      this.#pos = this.#recordStart;
      return;
    }
    if (this.#laneNull !== undefined) throw this.#laneNull;
    if (this.#rows === this.#rowEnds.length) this.#growRows();
    if (this.#laneField >= 0) this.#laneKeys.push(this.#laneKey);
    this.#rowEnds[this.#rows] = this.#pos;
    this.#lines[this.#rows] = this.#recordLine;
    this.#endOffsets[this.#rows] = endOffset;
    this.#rows++;
    this.#recordStart = this.#pos;
  }

  /** Resolves the lane column's index among `names`. */
  #findLane(names: readonly string[]): void {
    if (this.#laneColumn === undefined) return;
    this.#laneField = names.indexOf(this.#laneColumn);
    if (this.#laneField < 0) {
      throw new UsageError(
        names.length === 0
          ? `Cannot use lane column "${this.#laneColumn}": the input has no header; pass --columns`
          : `Cannot use lane column "${this.#laneColumn}": no such column (columns: ${
            names.join(", ")
          })`,
        ExitCode.BadInput,
      );
    }
  }

  /**
   * The lane field's text, from its encoded bytes (closing quote not yet
   * written). Lane keys repeat, so each distinct key is decoded once and
   * found again by a hash of its bytes.
   */
  #readLaneKey(contentStart: number): string {
    const out = this.#out;
    const end = this.#pos;
    let hash = 0x811c9dc5;
    for (let k = contentStart; k < end; k++) {
      hash = Math.imul(hash ^ out[k], 0x01000193);
    }
    const hit = this.#laneCache.get(hash);
    if (hit !== undefined && hit.bytes.length === end - contentStart) {
      let same = true;
      for (let k = 0; k < hit.bytes.length; k++) {
        if (hit.bytes[k] !== out[contentStart + k]) {
          same = false;
          break;
        }
      }
      if (same) return hit.key;
    }
    const bytes = out.slice(contentStart, end);
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

  #readHeader(): string[] {
    const format = this.#csvOut ? "csv" : "text";
    const row = decoder.decode(
      this.#out.subarray(this.#recordStart, this.#pos - 1),
    );
    return decodeCopyRow(row, format).map((name, index) => {
      if (name === null || name === "") {
        throw new InputSyntaxError(
          `Cannot read header: column ${index + 1} has no name`,
          {
            source: this.#source,
            line: this.#recordLine,
            column: 1,
            offset: 0,
          },
        );
      }
      return name;
    });
  }

  /** A new physical line starts at chunk index `i`. */
  #newLine(i: number): void {
    this.#line++;
    this.#colIndex = i;
    this.#colCount = 0;
  }

  /** A new line, and a new record on it, start at chunk index `i`. */
  #nextRecord(i: number): void {
    this.#newLine(i);
    this.#recordLine = this.#line;
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

  #takeRows(): RowBlock {
    const end = this.#recordStart;
    const block: RowBlock = {
      data: this.#out.slice(0, end),
      rowEnds: this.#rowEnds.slice(0, this.#rows),
      lines: this.#lines.slice(0, this.#rows),
      endOffsets: this.#endOffsets.slice(0, this.#rows),
      laneKeys: this.#laneField >= 0 ? this.#laneKeys : undefined,
    };
    if (this.#laneField >= 0) this.#laneKeys = [];
    // Keep the record in progress at the start of the buffer.
    this.#out.copyWithin(0, end, this.#pos);
    this.#pos -= end;
    this.#fieldStart -= end;
    this.#recordStart = 0;
    this.#rows = 0;
    return block;
  }

  #reserve(capacity: number): void {
    if (capacity <= this.#out.length) return;
    const grown = new Uint8Array(Math.max(capacity, this.#out.length * 2));
    grown.set(this.#out.subarray(0, this.#pos));
    this.#out = grown;
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

function asciiByte(value: string, what: string): number {
  if (value.length !== 1 || value.charCodeAt(0) > 0x7f) {
    throw new RangeError(
      `Cannot use "${value}" as the ${what}: it must be one ASCII character`,
    );
  }
  return value.charCodeAt(0);
}
