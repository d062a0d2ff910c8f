/**
 * The CSV-to-COPY codec in WebAssembly (`wasm/csv_codec.ts`, built into
 * `_csv_wasm.generated.ts` by `deno task build:wasm`): the decode stage's hot
 * path. One call into the module per input chunk frames, validates and
 * encodes all of it; JS only reads back the rows' metadata and decodes
 * lane keys (each distinct key once).
 *
 * Same public surface, rules, bytes and errors as `CsvCopyCodec`, its
 * TypeScript twin.
 *
 * @module
 */

import { CsvCodecBase } from "./_csv_codec_base.ts";
import type { CsvCopyCodecOptions } from "./_csv_dialect.ts";
import { WasmCsvCore } from "./_wasm_csv_core.ts";

/**
 * Encodes CSV bytes as COPY rows with the WebAssembly module. Push chunks
 * in order, then call `finish()`; each call returns the rows completed by
 * it. Throws `InputSyntaxError` for malformed input; `rowsBeforeError()`
 * then gives the good rows before it.
 *
 * @example Usage
 * ```ts
 * import { WasmCsvCopyCodec } from "./wasm_csv_codec.ts";
 * import assert from "node:assert/strict";
 *
 * const codec = new WasmCsvCopyCodec({ copyFormat: "csv", laneColumn: "region" });
 * const bytes = new TextEncoder().encode('id,region,note\n1,eu,"a\nb"\n2,us,\n');
 * const block = codec.push(bytes);
 * assert.deepEqual(codec.header, ["id", "region", "note"]);
 * assert.equal(
 *   new TextDecoder().decode(block.data),
 *   '"1","eu","a\nb"\n"2","us",\n',
 * );
 * assert.deepEqual([...block.lines], [2, 4]);
 * assert.deepEqual(block.laneKeys, ["eu", "us"]);
 * ```
 */
export class WasmCsvCopyCodec extends CsvCodecBase {
  /** @param options How to read the CSV and which COPY format to write. */
  constructor(options: CsvCopyCodecOptions = {}) {
    super(options, (dialect) => new WasmCsvCore(dialect));
  }
}
