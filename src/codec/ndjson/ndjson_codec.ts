/**
 * The NDJSON-to-COPY codec: reads one JSON object per line from raw bytes, a
 * chunk at a time, and encodes each object as one COPY row, its fields in
 * the order of the target columns, remembering where every row came from.
 * State carries across chunks, so a record, an escape or a multibyte
 * character split between two chunks encodes exactly as if it were whole.
 *
 * Rules:
 * - Every non-blank line is one JSON object (RFC 8259); lines end in LF
 *   (a CR before it is whitespace). Blank lines are not records.
 * - Keys map to columns by name, exactly as written (after unescaping). A
 *   key that is not a column, or a key given twice, is bad input.
 * - A string is unescaped (`\uXXXX` surrogate pairs included) and written
 *   in COPY form. Numbers, `true`, `false` and nested objects and arrays
 *   pass through as their original JSON text, byte for byte (for numeric,
 *   boolean, json and jsonb columns): no value is parsed and printed again.
 * - JSON `null`, or a missing key, is NULL.
 * - The input must be UTF-8 (a byte order mark at the start is skipped).
 *
 * The scan is one flat byte state machine with no allocation per field or
 * record (`_ndjson_core.ts`), mirrored function for function in
 * AssemblyScript by `WasmNdjsonCopyCodec`; this codec runs the TypeScript
 * twin, the reference and fallback (`codec: "ts"`, `--codec ts`).
 *
 * @module
 */

import {
  NdjsonCodecBase,
  type NdjsonCopyCodecOptions,
} from "./_ndjson_codec_base.ts";
import { TsNdjsonCore } from "./_ndjson_core.ts";

export type { NdjsonCopyCodecOptions } from "./_ndjson_codec_base.ts";

/**
 * Encodes NDJSON bytes as COPY rows. Push chunks in order, then call
 * {@linkcode NdjsonCopyCodec.finish}; each call returns the rows completed
 * by it. Throws `InputSyntaxError` for malformed input; `rowsBeforeError()`
 * then gives the good rows before it.
 *
 * @example Usage
 * ```ts
 * import { NdjsonCopyCodec } from "./ndjson_codec.ts";
 * import assert from "node:assert/strict";
 *
 * const codec = new NdjsonCopyCodec({ columns: ["id", "note", "tags"] });
 * const bytes = new TextEncoder().encode(
 *   '{"note": "caf\\u00e9\\ttab", "id": 1e400}\n\n{"id": 2, "tags": [1, "x"], "note": null}\n',
 * );
 * const block = codec.push(bytes);
 * assert.equal(
 *   new TextDecoder().decode(block.data),
 *   '1e400\tcafé\\ttab\t\\N\n2\t\\N\t[1, "x"]\n',
 * );
 * assert.deepEqual([...block.lines], [1, 3]);
 * ```
 */
export class NdjsonCopyCodec extends NdjsonCodecBase {
  /** @param options The target columns, and which COPY format to write. */
  constructor(options: NdjsonCopyCodecOptions) {
    super(options, (layout) => new TsNdjsonCore(layout));
  }
}
