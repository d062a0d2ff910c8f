/**
 * The votes of the `--create` pre-pass (`infer_source_columns.ts`), one
 * kind per format: CSV's records through the load's codec, their values
 * read back from the COPY rows; NDJSON's lines as the codec would load
 * them, and their keys.
 *
 * @module
 */

import { decodeCopyRow } from "../codec/copy_row.ts";
import { CsvCopyCodec } from "../codec/csv/csv_codec.ts";
import type { CsvCopyCodecOptions } from "../codec/csv/_csv_dialect.ts";
import { WasmCsvCopyCodec } from "../codec/csv/wasm_csv_codec.ts";
import { resolveCodec } from "../codec/decode_stream.ts";
import { resolveEncoding } from "../codec/encoding.ts";
import { ndjsonRecordFields } from "../codec/ndjson/ndjson_record_fields.ts";
import type { RowBlock } from "../codec/row_block.ts";
import { InputSyntaxError } from "../errors.ts";
import { type ColumnType, ColumnTypeVotes } from "./infer_column_types.ts";

/** How the load reads its source, as the votes read it. */
export interface ReadOptions extends
  Pick<
    CsvCopyCodecOptions,
    | "delimiter"
    | "quote"
    | "escape"
    | "nullString"
    | "encoding"
    | "header"
    | "columns"
  > {
  /** The CSV codec, as the load runs it. Default `wasm`. */
  codec?: "wasm" | "ts";
  /** Vote on types. Default `true`; `false` only learns NDJSON's keys. */
  infer?: boolean;
}

/** What both formats' votes do with the bytes they are given. */
export interface Votes {
  /** Records read so far. */
  readonly records: number;
  /** Whether no further byte can change the outcome. */
  readonly over: boolean;
  /** Whether the input ended (`finish()` was called). */
  readonly ended: boolean;
  /** Votes with the records a chunk completes. */
  push(chunk: Uint8Array): void;
  /** Votes with the last record, the input having ended. */
  finish(): void;
  /** The types (and keys) so far, and the records they come from. */
  result(): { types: ColumnType[]; keys?: string[]; records: number };
}

/**
 * CSV's votes: the records through the load's codec (malformed ones
 * skipped), their values read back from the COPY rows; over once every
 * column is text. Only the first `limit` records vote.
 *
 * @example Usage
 * ```ts
 * import { CsvVotes } from "./_source_votes.ts";
 * import assert from "node:assert/strict";
 *
 * const votes = new CsvVotes("t.csv", { nullString: "NA" }, Infinity);
 * votes.push(new TextEncoder().encode("id,at\n1,NA\n2,2024-05-01"));
 * votes.finish();
 * assert.deepEqual(votes.result(), { types: ["integer", "date"], records: 2 });
 * ```
 */
export class CsvVotes implements Votes {
  readonly #codec: CsvCopyCodec | WasmCsvCopyCodec;
  readonly #votes = new ColumnTypeVotes();
  readonly #decode: (bytes: Uint8Array) => string;
  readonly #infer: boolean;
  readonly #limit: number;
  #records = 0;
  #stopped = false;
  #ended = false;

  constructor(name: string, options: ReadOptions, limit: number) {
    const read: CsvCopyCodecOptions = {
      delimiter: options.delimiter,
      quote: options.quote,
      escape: options.escape,
      nullString: options.nullString,
      encoding: options.encoding,
      header: options.header,
      columns: options.columns,
      source: name,
      copyFormat: "text",
      malformed: "reject",
    };
    this.#codec = resolveCodec(options.codec) === "ts"
      ? new CsvCopyCodec(read)
      : new WasmCsvCopyCodec(read);
    this.#decode = resolveEncoding(read.encoding ?? "utf-8").decode;
    this.#infer = options.infer ?? true;
    this.#limit = limit;
  }

  get records(): number {
    return this.#records;
  }

  get over(): boolean {
    return this.#stopped || !this.#infer || this.#votes.settled();
  }

  get ended(): boolean {
    return this.#ended;
  }

  push(chunk: Uint8Array): void {
    this.#count(() => this.#codec.push(chunk));
  }

  finish(): void {
    this.#ended = true;
    this.#count(() => this.#codec.finish());
  }

  result(): { types: ColumnType[]; records: number } {
    return {
      types: this.#votes.types(),
      records: Math.min(this.#records, this.#limit),
    };
  }

  /** Votes with the rows of one block (malformed input ends the votes: the load reports it). */
  #count(block: () => RowBlock): void {
    if (this.#stopped) return;
    let rows: RowBlock;
    try {
      rows = block();
    } catch (error) {
      if (!(error instanceof InputSyntaxError)) throw error;
      this.#stopped = true;
      rows = this.#codec.rowsBeforeError();
    }
    const text = this.#decode(rows.data);
    let start = 0;
    for (let i = 0; i < rows.rowEnds.length; i++) {
      const end = text.indexOf("\n", start);
      if (this.#records < this.#limit && this.#infer) {
        const row = text.slice(start, end);
        // Without a backslash there is no escape and no NULL to read.
        this.#votes.add(
          row.includes("\\") ? decodeCopyRow(row, "text") : row.split("\t"),
        );
      }
      this.#records++;
      start = end + 1;
    }
  }
}

/**
 * NDJSON's votes: each line's fields as the codec loads them (lines it
 * would refuse skipped), and the keys in the order first seen (or the
 * positions of `columns`). Only the first `limit` records vote.
 *
 * @example Usage
 * ```ts
 * import { NdjsonVotes } from "./_source_votes.ts";
 * import assert from "node:assert/strict";
 *
 * const votes = new NdjsonVotes({}, Infinity);
 * votes.push(new TextEncoder().encode('{"id": 1}\n{"ok": true, "id": 2}'));
 * votes.finish();
 * assert.deepEqual(votes.result(), {
 *   types: ["integer", "boolean"],
 *   keys: ["id", "ok"],
 *   records: 2,
 * });
 * ```
 */
export class NdjsonVotes implements Votes {
  readonly #votes = new ColumnTypeVotes();
  readonly #decoder = new TextDecoder();
  readonly #infer: boolean;
  readonly #limit: number;
  /** Each column's position: `columns`, else the keys as first seen. */
  readonly #columns = new Map<string, number>();
  readonly #fixed: boolean;
  #tail = "";
  #records = 0;
  #ended = false;

  constructor(options: ReadOptions, limit: number) {
    this.#infer = options.infer ?? true;
    this.#limit = limit;
    const columns = options.columns;
    this.#fixed = columns !== undefined;
    // The kept keys, in order, are the row's fields (see `resolveKeys`).
    for (const entry of columns ?? []) {
      if (typeof entry === "string") {
        this.#columns.set(entry, this.#columns.size);
      } else if (entry !== null && entry.column !== null) {
        this.#columns.set(entry.field, this.#columns.size);
      }
    }
  }

  get records(): number {
    return this.#records;
  }

  get over(): boolean {
    return false; // a later record may bring a new key
  }

  get ended(): boolean {
    return this.#ended;
  }

  push(chunk: Uint8Array): void {
    const lines = (this.#tail + this.#decoder.decode(chunk, { stream: true }))
      .split("\n");
    this.#tail = lines.pop()!;
    for (const line of lines) this.#line(line);
  }

  finish(): void {
    this.#ended = true;
    this.#line(this.#tail + this.#decoder.decode());
    this.#tail = "";
  }

  result(): { types: ColumnType[]; keys?: string[]; records: number } {
    const width = this.#columns.size;
    return {
      types: this.#votes.types(width),
      keys: this.#fixed ? undefined : [...this.#columns.keys()],
      records: Math.min(this.#records, this.#limit),
    };
  }

  #line(line: string): void {
    if (/^[ \t\r]*$/.test(line)) return;
    this.#records++;
    const fields = ndjsonRecordFields(line);
    if (fields === undefined) return; // the load reports it
    if (this.#records > this.#limit) return;
    const row: (string | null)[] = new Array(this.#columns.size).fill(null);
    for (const [key, value] of fields) {
      let at = this.#columns.get(key);
      if (at === undefined) {
        if (this.#fixed) continue; // the load reports it
        at = this.#columns.size;
        this.#columns.set(key, at);
      }
      row[at] = value;
    }
    if (this.#infer) this.#votes.add(row);
  }
}
