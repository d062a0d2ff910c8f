/**
 * The CSV-to-COPY codec in TypeScript: frames RFC 4180 records from raw
 * bytes, a chunk at a time, and encodes each record as one COPY row,
 * remembering where every row came from. State carries across chunks, so a
 * record (or a multibyte character, or a doubled quote) split between two
 * chunks encodes exactly as if it were whole.
 *
 * It is the reference and fallback for the WebAssembly codec
 * (`WasmCsvCopyCodec`): the same algorithm (`_csv_core.ts` and
 * `wasm/csv_codec.ts`, line for line), the same bytes out, the same errors.
 *
 * Rules:
 * - Fields are separated by the delimiter (`,` by default) and records end
 *   in LF, CRLF or a lone CR. Inside quotes, delimiters, quotes (doubled,
 *   or preceded by the `escape` character) and line breaks are data.
 * - NULL: an unquoted empty field is NULL and a quoted `""` is the empty
 *   string (PostgreSQL's CSV rule). With `nullString`, an unquoted field
 *   equal to it is NULL instead, and an unquoted empty field is an empty
 *   string.
 * - Lines that are entirely empty are not records; a UTF-8 byte order mark
 *   is skipped.
 * - Every record must have as many fields as the first (or as
 *   `fieldCount`).
 * - The input must be UTF-8: invalid bytes are an error at their line and
 *   column.
 *
 * @module
 */

import { CsvCodecBase } from "./_csv_codec_base.ts";
import type { CsvCopyCodecOptions } from "./_csv_dialect.ts";
import { TsCsvCore } from "./_csv_core.ts";

export type { CsvCopyCodecOptions } from "./_csv_dialect.ts";

/**
 * Encodes CSV bytes as COPY rows, in TypeScript. Push chunks in order, then
 * call `finish()`; each call returns the rows completed by it. Throws
 * `InputSyntaxError` for malformed input; `rowsBeforeError()` then gives
 * the good rows before it.
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
 *
 * @example A backslash escape and invalid UTF-8
 * ```ts
 * import { CsvCopyCodec } from "./csv_codec.ts";
 * import { InputSyntaxError } from "../../errors.ts";
 * import assert from "node:assert/strict";
 *
 * const codec = new CsvCopyCodec({ escape: "\\", header: false });
 * const block = codec.push(new TextEncoder().encode('"say \\"hi\\""\n'));
 * assert.equal(new TextDecoder().decode(block.data), 'say "hi"\n');
 * assert.throws(
 *   () => codec.push(Uint8Array.of(0x61, 0xff, 0x0a)),
 *   (error) => error instanceof InputSyntaxError && error.line === 2 && error.column === 2,
 * );
 * ```
 */
export class CsvCopyCodec extends CsvCodecBase {
  /** @param options How to read the CSV and which COPY format to write. */
  constructor(options: CsvCopyCodecOptions = {}) {
    super(options, (dialect) => new TsCsvCore(dialect));
  }
}
