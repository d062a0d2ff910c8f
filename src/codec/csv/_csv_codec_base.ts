/**
 * What both CSV codecs share around their frame core: options, the byte
 * order mark, the header, lane keys (decoded once per distinct key), errors
 * with their positions, and the totals (source offsets and lines as
 * Numbers, so inputs over 4 GiB work). {@linkcode CsvCopyCodec} runs it over
 * the TypeScript core, `WasmCsvCopyCodec` over the WASM module.
 *
 * @module
 */

import {
  CHARSET_EUC,
  CHARSET_EUC_JP,
  CHARSET_SINGLE_BYTE,
  CHARSET_UTF8,
  type CsvCore,
  type CsvDialect,
  E_AFTER_CLOSING_QUOTE,
  E_INVALID_UTF8,
  E_NUL_BYTE,
  E_NULL_LANE,
  E_QUOTE_IN_UNQUOTED,
  E_TOO_FEW_FIELDS,
  E_TOO_MANY_FIELDS,
  E_UNCLOSED_QUOTE,
  META_END,
  META_LANE_END,
  META_LANE_HASH,
  META_LANE_START,
  META_LINE,
  META_ROW_END,
  REG_ERROR,
  REG_ERROR_ARG1,
  REG_ERROR_ARG2,
  REG_ERROR_COLUMN,
  REG_ERROR_LINE,
  REG_ERROR_OFFSET,
  REG_LINES,
  REG_RECORD_START,
  REG_REJECT,
  REG_REJECT_END,
  REG_REJECT_LINE,
  REG_REJECT_LINES,
  REG_REJECT_START,
  REG_ROWS,
  ROW_CAPACITY,
} from "./_csv_core.ts";
import { type CopyFormat, decodeCopyRow, encodeCopyRow } from "../copy_row.ts";
import { ByteOrderMark } from "../_byte_order_mark.ts";
import { LaneKeyCache } from "../_lane_key_cache.ts";
import { type Charset, resolveEncoding } from "../encoding.ts";
import { ExitCode, InputSyntaxError, UsageError } from "../../errors.ts";
import type { MalformedRecord, RowBlock } from "../row_block.ts";

/** Options for `CsvCopyCodec` and `WasmCsvCopyCodec`. */
export interface CsvCopyCodecOptions {
  /** The source's name in error messages. Default `<input>`. */
  source?: string;
  /** Field delimiter, one ASCII character. Default `,`. */
  delimiter?: string;
  /** Quote character, one ASCII character. Default `"`. */
  quote?: string;
  /**
   * Inside a quoted field, this character before the quote (or before
   * itself) makes it data. Default: the quote, so a quote is doubled.
   */
  escape?: string;
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
  /**
   * What a malformed record does: `stop` the input (the codec throws
   * {@linkcode InputSyntaxError}), or `reject` it: the codec skips it to
   * its end (the first line break after the error that is not inside a
   * quoted field; the rest of the input for a quote never closed) and goes
   * on, listing it in the block's `rejects`. A bad header stops the input
   * either way. Default `stop`.
   */
  malformed?: "stop" | "reject";
  /**
   * The input's encoding (see `resolveEncoding`): UTF-8, a single-byte
   * ISO-8859, Windows or KOI8 encoding, or EUC-JP, EUC-KR or EUC-CN. Only
   * UTF-8 is validated (and has its byte order mark skipped); columns in
   * errors count characters in the encoding, and the header's names and
   * lane keys are decoded from it. The COPY rows keep the input's bytes.
   * Default `utf-8`.
   */
  encoding?: string;
}

/** The core's charset for each kind of encoding. */
const CHARSETS: Record<Charset, number> = {
  "utf-8": CHARSET_UTF8,
  "single-byte": CHARSET_SINGLE_BYTE,
  "euc-jp": CHARSET_EUC_JP,
  "euc": CHARSET_EUC,
};

const LF = 0x0a;
const CR = 0x0d;

/**
 * Encodes CSV bytes as COPY rows over a frame core. Push chunks in order,
 * then call {@linkcode CsvCodecBase.finish}; each call returns the rows
 * completed by it. Throws {@linkcode InputSyntaxError} for malformed input.
 *
 * @example Over the TypeScript core
 * ```ts
 * import { CsvCodecBase } from "./_csv_codec_base.ts";
 * import { TsCsvCore } from "./_csv_core.ts";
 * import assert from "node:assert/strict";
 *
 * const codec = new CsvCodecBase({}, (dialect) => new TsCsvCore(dialect));
 * const block = codec.push(new TextEncoder().encode("a,b\n1,2\n"));
 * assert.deepEqual(codec.header, ["a", "b"]);
 * assert.equal(new TextDecoder().decode(block.data), "1\t2\n");
 * ```
 */
export class CsvCodecBase {
  readonly #core: CsvCore;
  readonly #source: string;
  readonly #csvOut: boolean;
  readonly #laneColumn: string | undefined;
  readonly #charset: number;
  readonly #decode: (bytes: Uint8Array) => string;
  #headerPending: boolean;
  #header: string[] | undefined;
  #laneField = -1;
  readonly #laneKeyCache: LaneKeyCache;

  // Rows of this call, in the core's output.
  #rowEnds = new Uint32Array(1024);
  #lines = new Float64Array(1024);
  #endOffsets = new Float64Array(1024);
  #laneKeys: string[] = [];
  #rows = 0;
  // Malformed records of this call, and the one still being skipped.
  #rejects: MalformedRecord[] = [];
  #rejecting: Omit<MalformedRecord, "endOffset" | "lines"> | undefined;

  // Totals: the chunk being framed starts at this source offset and line.
  #chunkOffset: number;
  #lineBase: number;
  readonly #bom: ByteOrderMark;
  /** The start of a character the last chunk cut off, for the next one. */
  #cut: Uint8Array = new Uint8Array(0);

  /**
   * @param options How to read the CSV and which COPY format to write.
   * @param makeCore Makes the frame core for the options' dialect.
   */
  constructor(
    options: CsvCopyCodecOptions,
    makeCore: (dialect: CsvDialect) => CsvCore,
  ) {
    this.#source = options.source ?? "<input>";
    const delimiter = asciiByte(options.delimiter ?? ",", "delimiter");
    const quote = asciiByte(options.quote ?? '"', "quote");
    const escape = asciiByte(options.escape ?? options.quote ?? '"', "escape");
    if (delimiter === quote) {
      throw new RangeError(
        "Cannot use the same character as delimiter and quote",
      );
    }
    if (delimiter === escape) {
      throw new RangeError(
        "Cannot use the same character as delimiter and escape",
      );
    }
    if ([LF, CR].includes(delimiter)) {
      throw new RangeError("Cannot use a line break as the delimiter");
    }
    if ([LF, CR].includes(quote) || [LF, CR].includes(escape)) {
      throw new RangeError("Cannot use a line break as the quote or escape");
    }
    this.#csvOut = options.copyFormat === "csv";
    const encoding = resolveEncoding(options.encoding ?? "utf-8");
    this.#charset = CHARSETS[encoding.charset];
    this.#decode = encoding.decode;
    let nullEncoded: Uint8Array | undefined;
    if (options.nullString !== undefined) {
      // The null string as the core writes it, opening quote excluded.
      const row = encodeCopyRow(
        [options.nullString],
        options.copyFormat ?? "text",
      );
      const bytes = encoding.encode(row.slice(0, -1));
      nullEncoded = this.#csvOut ? bytes.subarray(1, -1) : bytes;
    }
    this.#headerPending = options.header ?? true;
    this.#laneColumn = options.laneColumn;
    if (options.columns !== undefined) this.#findLane(options.columns);
    else if (!this.#headerPending) this.#findLane([]);
    this.#chunkOffset = options.startOffset ?? 0;
    this.#bom = new ByteOrderMark(
      this.#chunkOffset === 0 && this.#charset === CHARSET_UTF8,
    );
    this.#laneKeyCache = new LaneKeyCache(this.#decode, this.#csvOut);
    this.#lineBase = options.startLine ?? 1;
    this.#core = makeCore({
      delimiter,
      quote,
      escape,
      csvOut: this.#csvOut,
      nullEncoded,
      nullCodePoints: [...options.nullString ?? ""].length,
      fieldCount: options.fieldCount ?? options.columns?.length ?? 0,
      laneField: this.#headerPending ? -1 : this.#laneField,
      charset: this.#charset,
      rejects: options.malformed === "reject",
    });
  }

  /** The header's column names, once the header record has been read. */
  get header(): string[] | undefined {
    return this.#header;
  }

  /** Source byte offset just after everything pushed so far. */
  get offset(): number {
    return this.#chunkOffset + this.#cut.length;
  }

  /**
   * Encodes a chunk.
   *
   * @param chunk The next bytes of the source.
   * @returns The rows whose records ended in this chunk.
   */
  push(chunk: Uint8Array): RowBlock {
    let bytes = this.#skipBom(chunk, false);
    if (this.#cut.length > 0 && bytes.length > 0) {
      bytes = concat(this.#cut, bytes);
      this.#cut = new Uint8Array(0);
    }
    // A character cut off at the end waits for the rest of its bytes, so
    // that the core sees every character whole, however the input is split.
    const cut = cutCharacter(bytes, this.#charset);
    if (cut > 0) {
      this.#cut = bytes.slice(bytes.length - cut);
      bytes = bytes.subarray(0, bytes.length - cut);
    }
    if (bytes.length > 0) this.#frame(bytes, false);
    return this.#takeRows();
  }

  /**
   * Ends the input: the last record may lack its line break.
   *
   * @returns The rows of the last record, if one was pending.
   */
  finish(): RowBlock {
    const held = concat(this.#skipBom(new Uint8Array(0), true), this.#cut);
    this.#cut = new Uint8Array(0);
    if (held.length > 0) this.#frame(held, true);
    const result = this.#core.finish();
    this.#collect();
    this.#collectReject();
    if (result < 0) throw this.#error();
    return this.#takeRows();
  }

  /**
   * After {@linkcode CsvCodecBase.push} or {@linkcode CsvCodecBase.finish}
   * threw an {@linkcode InputSyntaxError}: the rows completed before the
   * bad record, which are good and may still be loaded.
   *
   * @returns Those rows.
   */
  rowsBeforeError(): RowBlock {
    return this.#takeRows();
  }

  /** Drops a byte order mark at the input's start, counting its bytes. */
  #skipBom(chunk: Uint8Array, final: boolean): Uint8Array {
    const { bytes, skipped } = this.#bom.skip(chunk, final);
    this.#chunkOffset += skipped;
    return bytes;
  }

  /** Frames a whole chunk: one core call, more only past ROW_CAPACITY rows. */
  #frame(chunk: Uint8Array, final: boolean): void {
    const core = this.#core;
    core.begin(chunk, final);
    let from = 0;
    for (;;) {
      const stop = core.frame(from, this.#headerPending ? 1 : ROW_CAPACITY);
      this.#collect();
      this.#collectReject();
      if (stop < 0) throw this.#error();
      if (stop >= chunk.length) break;
      from = stop;
    }
    core.endChunk();
    this.#lineBase += core.registers()[REG_LINES];
    this.#chunkOffset += chunk.length;
  }

  /** Moves the rows the last core call completed into this call's arrays. */
  #collect(): void {
    const core = this.#core;
    const count = core.registers()[REG_ROWS];
    if (count === 0) return;
    const meta = core.metadata();
    const out = core.output();
    if (this.#headerPending) {
      // The header is not a row: drop it before reading it, so that a bad
      // one leaves no bytes behind.
      const end = meta[META_ROW_END * ROW_CAPACITY];
      const row = out.slice(0, end - 1);
      const line = this.#lineBase + meta[META_LINE * ROW_CAPACITY];
      core.compact(end);
      this.#readHeader(row, line);
      return;
    }
    this.#reserveRows(this.#rows + count);
    const rowEnds = this.#rowEnds;
    const lines = this.#lines;
    const endOffsets = this.#endOffsets;
    const lineBase = this.#lineBase;
    const chunkOffset = this.#chunkOffset;
    let row = this.#rows;
    for (let k = 0; k < count; k++, row++) {
      rowEnds[row] = meta[META_ROW_END * ROW_CAPACITY + k];
      lines[row] = lineBase + meta[META_LINE * ROW_CAPACITY + k];
      endOffsets[row] = chunkOffset + meta[META_END * ROW_CAPACITY + k];
    }
    if (this.#laneField >= 0) {
      for (let k = 0; k < count; k++) {
        this.#laneKeys.push(this.#laneKeyCache.read(
          out,
          meta[META_LANE_START * ROW_CAPACITY + k],
          meta[META_LANE_END * ROW_CAPACITY + k],
          meta[META_LANE_HASH * ROW_CAPACITY + k],
        ));
      }
    }
    this.#rows = row;
  }

  /**
   * Notes the malformed record the last core call met (the rows it
   * completed come before it), and its end once the core has skipped it.
   */
  #collectReject(): void {
    const registers = this.#core.registers();
    if (registers[REG_REJECT] !== 0) {
      // Without a header there are no columns to load into.
      if (this.#headerPending) throw this.#error();
      const error = this.#error();
      this.#rejecting = {
        startOffset: this.#chunkOffset + registers[REG_REJECT_START],
        line: this.#lineBase + registers[REG_REJECT_LINE],
        errorLine: error.line,
        column: error.column,
        reason: error.reason,
      };
    }
    const end = registers[REG_REJECT_END];
    if (end >= 0 && this.#rejecting !== undefined) {
      this.#rejects.push({
        ...this.#rejecting,
        endOffset: this.#chunkOffset + end,
        lines: this.#lineBase + registers[REG_REJECT_LINES] - 1,
      });
      this.#rejecting = undefined;
    }
  }

  #readHeader(row: Uint8Array, line: number): void {
    this.#headerPending = false;
    const format = this.#csvOut ? "csv" : "text";
    this.#header = decodeCopyRow(this.#decode(row), format).map(
      (name, index) => {
        if (name === null || name === "") {
          throw new InputSyntaxError(
            `Cannot read header: column ${index + 1} has no name`,
            { source: this.#source, line, column: 1, offset: 0 },
          );
        }
        return name;
      },
    );
    if (this.#laneColumn !== undefined && this.#laneField < 0) {
      this.#findLane(this.#header);
    }
    this.#core.setLaneField(this.#laneField);
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

  /** The error the last core call reported. */
  #error(): InputSyntaxError {
    const registers = this.#core.registers();
    const expected = registers[REG_ERROR_ARG1];
    const found = registers[REG_ERROR_ARG2];
    let reason: string;
    switch (registers[REG_ERROR]) {
      case E_QUOTE_IN_UNQUOTED:
        reason =
          "Cannot parse field: a quote inside an unquoted field (quote the whole field and double the quote)";
        break;
      case E_AFTER_CLOSING_QUOTE:
        reason =
          "Cannot parse field: a character after a closing quote (expected a delimiter or the end of the line)";
        break;
      case E_TOO_MANY_FIELDS:
        reason =
          `Cannot parse record: expected ${expected} fields, found more (field ${found} starts here)`;
        break;
      case E_TOO_FEW_FIELDS:
        reason =
          `Cannot parse record: expected ${expected} fields, found ${found}`;
        break;
      case E_NULL_LANE:
        reason =
          `Cannot read lane key: column "${this.#laneColumn}" is NULL (every record needs a lane)`;
        break;
      case E_INVALID_UTF8:
        reason =
          "Cannot decode input: invalid UTF-8 (the input must be UTF-8 text: name its encoding with --encoding, or convert it first, for example with iconv)";
        break;
      case E_NUL_BYTE:
        reason =
          "Cannot decode input: a NUL byte (0x00), which PostgreSQL text cannot hold (remove it, or load the data as bytea)";
        break;
      case E_UNCLOSED_QUOTE:
        reason =
          "Cannot parse record: quoted field is not closed before the end of input";
        break;
      default:
        reason = `Cannot parse input: unknown codec error ${
          registers[REG_ERROR]
        }`;
    }
    return new InputSyntaxError(reason, {
      source: this.#source,
      line: this.#lineBase + registers[REG_ERROR_LINE],
      column: registers[REG_ERROR_COLUMN],
      offset: this.#chunkOffset + registers[REG_ERROR_OFFSET],
    });
  }

  #takeRows(): RowBlock {
    const core = this.#core;
    const end = core.registers()[REG_RECORD_START];
    const rows = this.#rows;
    const block: RowBlock = {
      data: core.output().slice(0, end),
      rowEnds: this.#rowEnds.slice(0, rows),
      lines: this.#lines.slice(0, rows),
      endOffsets: this.#endOffsets.slice(0, rows),
      laneKeys: this.#laneField >= 0 ? this.#laneKeys : undefined,
      ...(this.#rejects.length > 0 && { rejects: this.#rejects }),
    };
    if (this.#laneField >= 0) this.#laneKeys = [];
    if (this.#rejects.length > 0) this.#rejects = [];
    this.#rows = 0;
    // Keep the record in progress at the start of the output.
    if (end > 0) core.compact(end);
    return block;
  }

  #reserveRows(size: number): void {
    if (size <= this.#rowEnds.length) return;
    const grown = Math.max(size, this.#rowEnds.length * 2);
    const rowEnds = new Uint32Array(grown);
    rowEnds.set(this.#rowEnds);
    this.#rowEnds = rowEnds;
    const lines = new Float64Array(grown);
    lines.set(this.#lines);
    this.#lines = lines;
    const endOffsets = new Float64Array(grown);
    endOffsets.set(this.#endOffsets);
    this.#endOffsets = endOffsets;
  }
}

/**
 * The bytes of a character cut off at the end of `bytes`, in the charset:
 * 0 to 3 (none in a single-byte charset).
 */
function cutCharacter(bytes: Uint8Array, charset: number): number {
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

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b;
  if (b.length === 0) return a;
  const bytes = new Uint8Array(a.length + b.length);
  bytes.set(a);
  bytes.set(b, a.length);
  return bytes;
}

function asciiByte(value: string, what: string): number {
  if (value.length !== 1 || value.charCodeAt(0) > 0x7f) {
    throw new RangeError(
      `Cannot use "${value}" as the ${what}: it must be one ASCII character`,
    );
  }
  return value.charCodeAt(0);
}
