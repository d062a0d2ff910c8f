/**
 * The NDJSON-to-COPY codec in WebAssembly (`wasm/ndjson_codec.ts`, built
 * into `_ndjson_wasm.generated.ts` by `deno task build:wasm`): the decode
 * stage's hot path for NDJSON. One call into the module per input chunk
 * reads, validates and encodes all of it; JS only reads back the rows'
 * metadata and decodes lane keys (each distinct key once).
 *
 * Same public surface, rules, bytes and errors as `NdjsonCopyCodec`, its
 * TypeScript twin.
 *
 * @module
 */

import {
  NdjsonCodecBase,
  type NdjsonCopyCodecOptions,
} from "./_ndjson_codec_base.ts";
import { WasmNdjsonCore } from "./_wasm_ndjson_core.ts";

/**
 * Encodes NDJSON bytes as COPY rows with the WebAssembly module. Push
 * chunks in order, then call `finish()`; each call returns the rows
 * completed by it. Throws `InputSyntaxError` for malformed input;
 * `rowsBeforeError()` then gives the good rows before it.
 *
 * @example Usage
 * ```ts
 * import { WasmNdjsonCopyCodec } from "./wasm_ndjson_codec.ts";
 * import assert from "node:assert/strict";
 *
 * const codec = new WasmNdjsonCopyCodec({
 *   columns: ["id", "region", "doc"],
 *   laneColumn: "region",
 * });
 * const bytes = new TextEncoder().encode(
 *   '{"id": 0.10000000000000000555, "region": "eu", "doc": {"a": [1]}}\n{"region": "us"}\n',
 * );
 * const block = codec.push(bytes);
 * assert.equal(
 *   new TextDecoder().decode(block.data),
 *   '0.10000000000000000555\teu\t{"a": [1]}\n\\N\tus\t\\N\n',
 * );
 * assert.deepEqual(block.laneKeys, ["eu", "us"]);
 * ```
 */
export class WasmNdjsonCopyCodec extends NdjsonCodecBase {
  /** @param options The target columns, and which COPY format to write. */
  constructor(options: NdjsonCopyCodecOptions) {
    super(options, (layout) => new WasmNdjsonCore(layout));
  }
}
