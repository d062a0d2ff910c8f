/**
 * What both CSV codecs share around their frame core: the byte order mark,
 * a character cut by a chunk boundary (`_cut_character.ts`), the header
 * and the lane column (`_csv_header.ts`), lane keys (decoded once per
 * distinct key), errors with their positions (worded by
 * `_csv_error_reason.ts`), and the totals (source offsets and lines as
 * Numbers, so inputs over 4 GiB work). Its options and the dialect they
 * describe are in `_csv_dialect.ts`. `CsvCopyCodec` runs it over the
 * TypeScript core, `WasmCsvCopyCodec` over the WASM module.
 *
 * @module
 */

import {
  CHARSET_UTF8,
  KEEP_CAPACITY,
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
} from "./_csv_constants.ts";
import type { CsvCore, CsvDialect } from "./_csv_core.ts";
import { type CsvCopyCodecOptions, csvDialect } from "./_csv_dialect.ts";
import { csvErrorReason } from "./_csv_error_reason.ts";
import { headerNames, laneFieldIndex } from "./_csv_header.ts";
import { cutCharacter } from "./_cut_character.ts";
import { ByteOrderMark } from "../_byte_order_mark.ts";
import {
  byName,
  type ColumnEntry,
  columnOf,
  keepMask,
} from "../column_entry.ts";
import { type ColumnMapOptions, resolveFields } from "../column_map.ts";
import { LaneKeyCache } from "../_lane_key_cache.ts";
import { ExitCode, InputSyntaxError, UsageError } from "../../errors.ts";
import type { MalformedRecord, RowBlock } from "../row_block.ts";

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
  /** How the fields map to columns, and the map once known. */
  readonly #map: ColumnMapOptions;
  #fields: ColumnEntry[] | undefined;
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
    const { dialect, decode } = csvDialect(options);
    this.#csvOut = dialect.csvOut;
    this.#charset = dialect.charset;
    this.#decode = decode;
    this.#headerPending = options.header ?? true;
    this.#laneColumn = options.laneColumn;
    this.#map = {
      columns: options.columns,
      into: options.into,
      extraColumns: options.extraColumns,
      source: this.#source,
    };
    // Entries by position map the fields before the header is read (which
    // then checks the names they give); by name, once it is.
    const known = options.columns !== undefined &&
        (!this.#headerPending || !byName(options.columns))
      ? resolveFields(undefined, this.#map)
      : undefined;
    if (known !== undefined) this.#findLane(known);
    else if (!this.#headerPending) this.#findLane([]);
    this.#chunkOffset = options.startOffset ?? 0;
    this.#bom = new ByteOrderMark(
      this.#chunkOffset === 0 && this.#charset === CHARSET_UTF8,
    );
    this.#laneKeyCache = new LaneKeyCache(this.#decode, this.#csvOut);
    this.#lineBase = options.startLine ?? 1;
    this.#core = makeCore({
      ...dialect,
      laneField: this.#headerPending ? -1 : this.#laneField,
    });
    if (!this.#headerPending) this.#useFields(known);
  }

  /** The header's column names, once the header record has been read. */
  get header(): string[] | undefined {
    return this.#header;
  }

  /**
   * Which column each field loads into, in file order (`null`: the rows
   * leave it out), once known: see `resolveFields`. `undefined` until the
   * header is read, and when nothing names the fields.
   */
  get fields(): ColumnEntry[] | undefined {
    return this.#fields;
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
    this.#header = headerNames(row, format, this.#decode, this.#source, line);
    const fields = resolveFields(this.#header, this.#map)!;
    this.#findLane(fields);
    this.#core.setLaneField(this.#laneField);
    this.#useFields(fields);
  }

  /** Resolves the lane column's index among the fields' columns. */
  #findLane(fields: readonly ColumnEntry[]): void {
    if (this.#laneColumn === undefined) return;
    this.#laneField = laneFieldIndex(this.#laneColumn, fields.map(columnOf));
  }

  /** The fields' map is known: the core leaves out the fields it skips. */
  #useFields(fields: ColumnEntry[] | undefined): void {
    this.#fields = fields;
    const keep = fields && keepMask(fields);
    if (keep === undefined) return;
    if (keep.length > KEEP_CAPACITY) {
      throw new UsageError(
        `Cannot skip fields of ${this.#source}: its records have ${keep.length} fields, and fields can be skipped in the first ${KEEP_CAPACITY}`,
        ExitCode.BadInput,
      );
    }
    this.#core.setKeep(keep);
  }

  /** The error the last core call reported. */
  #error(): InputSyntaxError {
    const registers = this.#core.registers();
    const reason = csvErrorReason(
      registers[REG_ERROR],
      registers[REG_ERROR_ARG1],
      registers[REG_ERROR_ARG2],
      this.#laneColumn,
    );
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

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b;
  if (b.length === 0) return a;
  const bytes = new Uint8Array(a.length + b.length);
  bytes.set(a);
  bytes.set(b, a.length);
  return bytes;
}
