/**
 * What both NDJSON codecs share around their scan core: options, the byte
 * order mark, lane keys (decoded once per distinct key), errors in words
 * with their positions, and the totals (source offsets and lines as
 * Numbers, so inputs over 4 GiB work). `NdjsonCopyCodec` runs it over the
 * TypeScript core, `WasmNdjsonCopyCodec` over the WASM module.
 *
 * @module
 */

import {
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
  E_NUL_ESCAPE,
  E_NULL_LANE,
  E_UNKNOWN_KEY,
  E_UNPAIRED_SURROGATE,
  META_END,
  META_LANE_END,
  META_LANE_HASH,
  META_LANE_START,
  META_LINE,
  META_ROW_END,
  type NdjsonCore,
  type NdjsonLayout,
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
} from "./_ndjson_core.ts";
import type { CopyFormat } from "../copy_row.ts";
import { ExitCode, InputSyntaxError, UsageError } from "../../errors.ts";
import type { MalformedRecord, RowBlock } from "../row_block.ts";
import { ByteOrderMark } from "../_byte_order_mark.ts";
import { LaneKeyCache } from "../_lane_key_cache.ts";

/** Options for `NdjsonCopyCodec` and `WasmNdjsonCopyCodec`. */
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
  /**
   * What a malformed record does: `stop` the input (the codec throws
   * {@linkcode InputSyntaxError}), or `reject` it: the codec skips the rest
   * of its line (the whole input's rest when no line feed follows) and
   * goes on, listing it in the block's `rejects`. Default `stop`.
   */
  malformed?: "stop" | "reject";
}

const DQUOTE = 0x22;

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
  readonly #columns: readonly string[];
  readonly #csvOut: boolean;
  readonly #laneColumn: string | undefined;
  readonly #laneField: number;
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
    this.#columns = [...options.columns];
    const count = this.#columns.length;
    if (count === 0) {
      throw new UsageError(
        "Cannot read NDJSON without columns: name them with --columns",
      );
    }
    const names = this.#columns.map((name) => encoder.encode(name));
    const nameStarts = new Uint32Array(count + 1);
    for (let c = 0; c < count; c++) {
      if (this.#columns.indexOf(this.#columns[c]) !== c) {
        throw new UsageError(
          `Cannot read NDJSON into columns ${
            this.#columns.join(", ")
          }: column "${this.#columns[c]}" is named twice`,
          ExitCode.BadInput,
        );
      }
      nameStarts[c + 1] = nameStarts[c] + names[c].length;
    }
    const nameBytes = new Uint8Array(nameStarts[count]);
    for (let c = 0; c < count; c++) nameBytes.set(names[c], nameStarts[c]);
    this.#csvOut = options.copyFormat === "csv";
    this.#laneColumn = options.laneColumn;
    this.#laneField = -1;
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
    });
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
    return new InputSyntaxError(this.#reason(registers), {
      source: this.#source,
      line: this.#lineBase + registers[REG_ERROR_LINE],
      column: registers[REG_ERROR_COLUMN],
      offset: this.#chunkOffset + registers[REG_ERROR_OFFSET],
    });
  }

  /** The error the registers hold, in words. */
  #reason(registers: Int32Array): string {
    const b = registers[REG_ERROR_ARG1];
    const found = describe(b);
    const expected = (what: string) =>
      `Cannot parse record: expected ${what}, found ${found}`;
    const key = () =>
      decoder.decode(
        this.#core.key().subarray(0, registers[REG_KEY_LENGTH]),
      );
    switch (registers[REG_ERROR]) {
      case E_EXPECTED_OBJECT:
        return expected("a JSON object");
      case E_EXPECTED_KEY_OR_END:
        return expected("a key or }");
      case E_EXPECTED_KEY:
        return expected("a key");
      case E_EXPECTED_COLON:
        return expected(": after the key");
      case E_EXPECTED_VALUE:
        return expected("a value");
      case E_EXPECTED_VALUE_OR_END:
        return expected("a value or ]");
      case E_EXPECTED_COMMA_OR_BRACE:
        return expected(", or }");
      case E_EXPECTED_COMMA_OR_BRACKET:
        return expected(", or ]");
      case E_EXPECTED_LINE_END:
        return expected("the end of the line after the object");
      case E_EXPECTED_HEX:
        return expected("a hex digit (\\u needs four)");
      case E_EXPECTED_LITERAL:
        return expected(`"${literalText(registers[REG_ERROR_ARG2])}"`);
      case E_EXPECTED_DIGIT:
        return expected("a digit");
      case E_EXPECTED_EXPONENT:
        return expected("a digit or a sign");
      case E_LEADING_ZERO:
        return "Cannot parse record: a number starts with 0 and another digit";
      case E_LINE_ENDS:
        return "Cannot parse record: the line ends before the object is closed (each record is one line)";
      case E_INPUT_ENDS:
        return "Cannot parse record: the input ends before the object is closed";
      case E_CONTROL_CHARACTER:
        return `Cannot parse record: control character U+${
          hex4(b)
        } in a string (write it as an escape)`;
      case E_BAD_ESCAPE:
        return `Cannot parse record: invalid escape \\${
          b > 0x20 && b < 0x7f ? String.fromCharCode(b) : found
        } in a string (expected one of \\" \\\\ \\/ \\b \\f \\n \\r \\t \\u)`;
      case E_NUL_ESCAPE:
        return "Cannot parse record: \\u0000 in a string, a NUL character, which PostgreSQL text cannot hold";
      case E_UNPAIRED_SURROGATE:
        return `Cannot parse record: \\u${
          hex4(b)
        } is half of a surrogate pair, without its other half`;
      case E_INVALID_UTF8:
        return registers[REG_ERROR_ARG2] === 0
          ? `Cannot parse record: invalid UTF-8 (byte ${hexByte(b)})`
          : `Cannot parse record: invalid UTF-8 (byte ${
            hexByte(b)
          } cannot continue the character that starts with ${
            hexByte(registers[REG_ERROR_ARG2])
          })`;
      case E_UNKNOWN_KEY:
        return `Cannot parse record: key "${key()}" is not a column (columns: ${
          this.#columns.join(", ")
        })`;
      case E_DUPLICATE_KEY:
        return `Cannot parse record: key "${key()}" appears twice`;
      case E_NULL_LANE:
        return `Cannot read lane key: key "${this.#laneColumn}" is null (every record needs a lane)`;
      case E_MISSING_LANE:
        return `Cannot read lane key: key "${this.#laneColumn}" is missing (every record needs a lane)`;
      default:
        return `Cannot parse record: unknown codec error ${
          registers[REG_ERROR]
        }`;
    }
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

function hex4(unit: number): string {
  return unit.toString(16).toUpperCase().padStart(4, "0");
}

/** A byte as `0xAB`. */
function hexByte(b: number): string {
  return `0x${b.toString(16).toUpperCase().padStart(2, "0")}`;
}

/** The literal whose last byte ends at `end` in the core's literal table. */
function literalText(end: number): string {
  return end === 4 ? "true" : end === 9 ? "false" : "null";
}

/** A byte as an error message names it. */
function describe(b: number): string {
  if (b === 0x20) return "a space";
  if (b === DQUOTE) return "a quote";
  if (b > 0x20 && b < 0x7f) return `"${String.fromCharCode(b)}"`;
  if (b < 0x80) return `U+${hex4(b)}`;
  return `byte ${hexByte(b)}`;
}
