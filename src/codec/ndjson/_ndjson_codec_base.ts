/**
 * What both NDJSON codecs share around their scan core: options, the byte
 * order mark, lane keys (decoded once per distinct key), errors with their
 * positions (worded by `_ndjson_error_reason.ts`), and the totals (source
 * offsets and lines as Numbers, so inputs over 4 GiB work). `NdjsonCopyCodec` runs it over the
 * TypeScript core, `WasmNdjsonCopyCodec` over the WASM module.
 *
 * @module
 */

import {
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
  REG_KEY_LENGTH,
  REG_LINES,
  REG_POS,
  REG_REJECT,
  REG_REJECT_END,
  REG_REJECT_START,
  REG_ROWS,
  ROW_CAPACITY,
} from "./_ndjson_constants.ts";
import type { NdjsonCore, NdjsonLayout } from "./_ndjson_core.ts";
import {
  type ColumnEntry,
  columnOf,
  keepMask,
  keyOf,
  loadedColumns,
} from "../column_entry.ts";
import {
  type ExistingTable,
  type ExtraPolicy,
  resolveKeys,
} from "../column_map.ts";
import type { CopyFormat } from "../copy_row.ts";
import { ExitCode, InputSyntaxError, UsageError } from "../../errors.ts";
import type { MalformedRecord, RowBlock } from "../row_block.ts";
import { ByteOrderMark } from "../_byte_order_mark.ts";
import { LaneKeyCache } from "../_lane_key_cache.ts";
import { ndjsonErrorReason } from "./_ndjson_error_reason.ts";

/** Options for `NdjsonCopyCodec` and `WasmNdjsonCopyCodec`. */
export interface NdjsonCopyCodecOptions {
  /**
   * The fields, in the order each row writes them: a key, loaded into the
   * column of the same name, or `{ field: key, column }` (renamed, or
   * skipped with a `null` column: read, and left out of the rows).
   */
  columns: readonly ColumnEntry[];
  /**
   * The target table as the load found it: a field whose column it lacks
   * is refused before any record, naming them all; with
   * `extraColumns: "ignore"`, such fields are skipped.
   */
  into?: ExistingTable;
  /** What a field whose column `into` lacks does. Default `error`. */
  extraColumns?: ExtraPolicy;
  /**
   * What a record's key that is no field does: `error`, malformed input
   * at its line and column, or `ignore`: its value is read and left out.
   * Default `error`.
   */
  extraKeys?: ExtraPolicy;
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
  /**
   * What a malformed record does: `stop` the input (the codec throws
   * {@linkcode InputSyntaxError}), or `reject` it: the codec skips the rest
   * of its line (the whole input's rest when no line feed follows) and
   * goes on, listing it in the block's `rejects`. Default `stop`.
   */
  malformed?: "stop" | "reject";
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Encodes NDJSON bytes as COPY rows over a scan core. Push chunks in
 * order, then call {@linkcode NdjsonCodecBase.finish}; each call returns
 * the rows completed by it. Throws {@linkcode InputSyntaxError} for
 * malformed input.
 *
 * @example Over the TypeScript core
 * ```ts
 * import { NdjsonCodecBase } from "./_ndjson_codec_base.ts";
 * import { TsNdjsonCore } from "./_ndjson_core.ts";
 * import assert from "node:assert/strict";
 *
 * const codec = new NdjsonCodecBase(
 *   { columns: ["a", "b"] },
 *   (layout) => new TsNdjsonCore(layout),
 * );
 * const block = codec.push(new TextEncoder().encode('{"b": 2, "a": 1}\n'));
 * assert.equal(new TextDecoder().decode(block.data), "1\t2\n");
 * ```
 */
export class NdjsonCodecBase {
  readonly #core: NdjsonCore;
  readonly #source: string;
  /** The fields' keys, in row order. */
  readonly #keys: readonly string[];
  /** The keys of the fields the rows hold. */
  readonly #columns: readonly string[];
  readonly #csvOut: boolean;
  readonly #laneColumn: string | undefined;
  readonly #laneField: number;
  readonly #laneKeyCache: LaneKeyCache;
  readonly #fields: ColumnEntry[];

  // Rows of this call, in the core's output.
  #rowEnds = new Uint32Array(1024);
  #lines = new Float64Array(1024);
  #endOffsets = new Float64Array(1024);
  #laneKeys: string[] = [];
  #rows = 0;
  // Malformed records of this call, and the one still being skipped.
  #rejects: MalformedRecord[] = [];
  #rejecting: Omit<MalformedRecord, "endOffset" | "lines"> | undefined;

  // Totals: the chunk being scanned starts at this source offset and line.
  #chunkOffset: number;
  #lineBase: number;
  readonly #bom: ByteOrderMark;

  /**
   * @param options The target columns, and which COPY format to write.
   * @param makeCore Makes the scan core for the columns.
   */
  constructor(
    options: NdjsonCopyCodecOptions,
    makeCore: (layout: NdjsonLayout) => NdjsonCore,
  ) {
    this.#source = options.source ?? "<input>";
    if (options.columns.length === 0) {
      throw new UsageError(
        "Cannot read NDJSON without columns: name them with --columns",
      );
    }
    const fields = resolveKeys({ ...options, source: this.#source });
    this.#keys = fields.map((entry) => keyOf(entry as string));
    this.#columns = this.#keys.filter((_, c) => columnOf(fields[c]) !== null);
    const loaded = loadedColumns(fields);
    const twice = loaded.find((column, c) => loaded.indexOf(column) !== c);
    if (twice !== undefined) {
      throw new UsageError(
        `Cannot read NDJSON into columns ${
          loaded.join(", ")
        }: column "${twice}" is named twice`,
        ExitCode.BadInput,
      );
    }
    const count = this.#keys.length;
    const names = this.#keys.map((name) => encoder.encode(name));
    const nameStarts = new Uint32Array(count + 1);
    for (let c = 0; c < count; c++) {
      nameStarts[c + 1] = nameStarts[c] + names[c].length;
    }
    const nameBytes = new Uint8Array(nameStarts[count]);
    for (let c = 0; c < count; c++) nameBytes.set(names[c], nameStarts[c]);
    this.#csvOut = options.copyFormat === "csv";
    this.#laneColumn = options.laneColumn;
    this.#laneField = -1;
    if (this.#laneColumn !== undefined) {
      this.#laneField = fields.map(columnOf).indexOf(this.#laneColumn);
      if (this.#laneField < 0) {
        throw new UsageError(
          `Cannot use lane column "${this.#laneColumn}": no such column (columns: ${
            loaded.join(", ")
          })`,
          ExitCode.BadInput,
        );
      }
    }
    this.#chunkOffset = options.startOffset ?? 0;
    this.#bom = new ByteOrderMark(this.#chunkOffset === 0);
    this.#laneKeyCache = new LaneKeyCache(
      (bytes) => decoder.decode(bytes),
      this.#csvOut,
    );
    this.#lineBase = options.startLine ?? 1;
    this.#core = makeCore({
      names: nameBytes,
      nameStarts,
      csvOut: this.#csvOut,
      laneField: this.#laneField,
      rejects: options.malformed === "reject",
      keep: keepMask(fields),
      skipUnknown: options.extraKeys === "ignore",
    });
    this.#fields = fields;
  }

  /**
   * The fields' keys, in row order (NDJSON has no header line; these name
   * its fields as a header would).
   */
  get header(): string[] | undefined {
    return [...this.#keys];
  }

  /** Which column each field loads into (see `resolveKeys`). */
  get fields(): ColumnEntry[] | undefined {
    return [...this.#fields];
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
    const result = this.#core.finish();
    this.#collect();
    this.#collectReject(true);
    if (result < 0) throw this.#error();
    return this.#takeRows();
  }

  /**
   * After {@linkcode NdjsonCodecBase.push} or
   * {@linkcode NdjsonCodecBase.finish} threw an
   * {@linkcode InputSyntaxError}: the rows completed before the bad record,
   * which are good and may still be loaded.
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

  /** Scans a whole chunk: one core call, more only past ROW_CAPACITY rows. */
  #scan(chunk: Uint8Array): void {
    const core = this.#core;
    core.begin(chunk);
    let from = 0;
    for (;;) {
      const stop = core.scan(from, ROW_CAPACITY);
      this.#collect();
      this.#collectReject(false);
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
      const out = core.output();
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
   * completed come before it), and its end once the core has skipped its
   * line (`atEnd`: the input's end, with no line feed to count).
   */
  #collectReject(atEnd: boolean): void {
    const registers = this.#core.registers();
    if (registers[REG_REJECT] !== 0) {
      const error = this.#error();
      this.#rejecting = {
        startOffset: this.#chunkOffset + registers[REG_REJECT_START],
        line: error.line,
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
        lines: this.#rejecting.line - (atEnd ? 1 : 0),
      });
      this.#rejecting = undefined;
    }
  }

  /** The error the last core call reported. */
  #error(): InputSyntaxError {
    const registers = this.#core.registers();
    const reason = ndjsonErrorReason(
      registers[REG_ERROR],
      registers[REG_ERROR_ARG1],
      registers[REG_ERROR_ARG2],
      {
        key: () =>
          decoder.decode(
            this.#core.key().subarray(0, registers[REG_KEY_LENGTH]),
          ),
        columns: this.#columns,
        laneColumn: this.#laneColumn,
      },
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
    const rows = this.#rows;
    const block: RowBlock = {
      data: core.output().slice(0, core.registers()[REG_POS]),
      rowEnds: this.#rowEnds.slice(0, rows),
      lines: this.#lines.slice(0, rows),
      endOffsets: this.#endOffsets.slice(0, rows),
      laneKeys: this.#laneField >= 0 ? this.#laneKeys : undefined,
      ...(this.#rejects.length > 0 && { rejects: this.#rejects }),
    };
    if (this.#laneField >= 0) this.#laneKeys = [];
    if (this.#rejects.length > 0) this.#rejects = [];
    this.#rows = 0;
    core.clearOutput();
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
