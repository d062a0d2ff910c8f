/**
 * The decode stage: CSV or NDJSON bytes in, encoded COPY row blocks out.
 *
 * @module
 */

import type { ExtraPolicy } from "./column_map.ts";
import { CsvCopyCodec, type CsvCopyCodecOptions } from "./csv/csv_codec.ts";
import { resolveEncoding } from "./encoding.ts";
import { InputSyntaxError, UsageError } from "../errors.ts";
import type { InputFormat } from "../source/input_format.ts";
import { NdjsonCopyCodec } from "./ndjson/ndjson_codec.ts";
import type { RowBlock } from "./row_block.ts";
import { WasmCsvCopyCodec } from "./csv/wasm_csv_codec.ts";
import { WasmNdjsonCopyCodec } from "./ndjson/wasm_ndjson_codec.ts";
import { instantiateWasm, withWasmFallback } from "./_wasm_module.ts";
import { CSV_CODEC_WASM } from "./csv/_csv_wasm.generated.ts";
import { NDJSON_CODEC_WASM } from "./ndjson/_ndjson_wasm.generated.ts";

/**
 * Options for {@linkcode CsvDecodeStream}: the format, and the codec options.
 *
 * @example NDJSON, its keys mapped to columns
 * ```ts
 * import { CsvDecodeStream, type DecodeOptions } from "@lanecopy/lanecopy";
 * import assert from "node:assert/strict";
 *
 * const options: DecodeOptions = { format: "ndjson", columns: ["id", "doc"] };
 * const input = ReadableStream.from([new TextEncoder().encode('{"doc": {"a": 1}, "id": 7}\n')]);
 * const [block] = await Array.fromAsync(input.pipeThrough(new CsvDecodeStream(options)));
 * assert.equal(new TextDecoder().decode(block.data), '7\t{"a": 1}\n');
 * ```
 */
export interface DecodeOptions extends CsvCopyCodecOptions {
  /**
   * The input format. Default `csv`. NDJSON needs `columns` (its rows'
   * fields in their order: keys, or `{ field: key, column }`) and ignores
   * the CSV-only options.
   */
  format?: InputFormat;
  /**
   * NDJSON: what a record's key that is no field does, `error` (malformed
   * input at its line and column) or `ignore` (its value is read and left
   * out). Default `error`.
   */
  extraKeys?: ExtraPolicy;
  /**
   * Which codec: the WebAssembly module (default) or its TypeScript twin.
   * Both give the same bytes and the same errors. Where WebAssembly cannot
   * be compiled or instantiated, the TypeScript codec takes over, with a
   * notice on stderr (once per thread).
   */
  codec?: "wasm" | "ts";
}

/**
 * The codec decoding runs with here: `ts` when asked for, and when the
 * WebAssembly modules cannot be compiled or instantiated in this thread
 * (saying so on stderr, once per thread, as the decode stage would);
 * otherwise `wasm`. A caller that decodes on other threads (the decode
 * worker) can resolve the codec once and hand them the answer, so that a
 * run prints the notice once however many threads decode.
 *
 * @param codec The codec asked for (default `wasm`).
 * @returns The codec that will run.
 *
 * @example Usage
 * ```ts
 * import { resolveCodec } from "./decode_stream.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(resolveCodec("ts"), "ts");
 * assert.equal(resolveCodec(undefined), "wasm"); // where WebAssembly runs
 * ```
 */
export function resolveCodec(codec: "wasm" | "ts" | undefined): "wasm" | "ts" {
  if (codec === "ts") return "ts";
  return withWasmFallback(() => {
    instantiateWasm(CSV_CODEC_WASM, "the CSV codec");
    instantiateWasm(NDJSON_CODEC_WASM, "the NDJSON codec");
    return "wasm" as const;
  }, () => "ts" as const);
}

/** The codec for the input's format. */
function openCodec(
  options: DecodeOptions,
):
  | CsvCopyCodec
  | WasmCsvCopyCodec
  | NdjsonCopyCodec
  | WasmNdjsonCopyCodec {
  if (options.format !== "ndjson") {
    return options.codec === "ts"
      ? new CsvCopyCodec(options)
      : withWasmFallback(
        () => new WasmCsvCopyCodec(options),
        () => new CsvCopyCodec(options),
      );
  }
  if (options.columns === undefined) {
    throw new UsageError(
      "Cannot read NDJSON without column names: pass --columns (ingest reads them from the target table)",
    );
  }
  if (
    options.encoding !== undefined &&
    resolveEncoding(options.encoding).charset !== "utf-8"
  ) {
    throw new UsageError(
      `Cannot read NDJSON as ${options.encoding}: JSON text is UTF-8 (RFC 8259); convert it first, for example with iconv`,
    );
  }
  const ndjson = { ...options, columns: options.columns };
  return options.codec === "ts"
    ? new NdjsonCopyCodec(ndjson)
    : withWasmFallback(
      () => new WasmNdjsonCopyCodec(ndjson),
      () => new NdjsonCopyCodec(ndjson),
    );
}

/**
 * A `TransformStream` from CSV or NDJSON bytes to {@linkcode RowBlock}s,
 * one block per input chunk that completes at least one record. It holds at
 * most one block ahead (readable highWaterMark 1).
 *
 * Malformed input does not error the stream: the rows before the bad record
 * come out in a last block whose `error` says what is wrong and where, the
 * readable side closes and the input is cancelled. So every batch before
 * the bad record can still commit downstream. With `malformed: "reject"`,
 * bad records do not end the input: blocks list them in `rejects` (a block
 * may hold rejects and no rows), and decoding goes on after each.
 *
 * @example Usage
 * ```ts
 * import { CsvDecodeStream } from "@lanecopy/lanecopy";
 * import assert from "node:assert/strict";
 *
 * const decode = new CsvDecodeStream({ source: "t.csv" });
 * const input = ReadableStream.from([new TextEncoder().encode("a,b\n1,\n")]);
 * const blocks = await Array.fromAsync(input.pipeThrough(decode));
 * assert.deepEqual(await decode.header, ["a", "b"]);
 * assert.equal(new TextDecoder().decode(blocks[0].data), "1\t\\N\n");
 * ```
 */
export class CsvDecodeStream extends TransformStream<Uint8Array, RowBlock> {
  /**
   * The header's names once read; `undefined` when the input had no header
   * (`header: false`, or empty input). Rejects if the input fails first.
   */
  readonly header: Promise<string[] | undefined>;

  /**
   * Opens the codec for the input's format (see {@linkcode resolveCodec}
   * for which one runs).
   *
   * @param options How to read the input; see {@linkcode DecodeOptions}.
   */
  constructor(options: DecodeOptions = {}) {
    const codec = openCodec(options);
    const wantsHeader = options.header ?? true;
    const { promise, resolve, reject } = Promise.withResolvers<
      string[] | undefined
    >();
    promise.catch(() => {}); // observed by whoever awaits it, if anyone
    const settle = (
      block: RowBlock,
      controller: TransformStreamDefaultController<RowBlock>,
    ) => {
      if (!wantsHeader || codec.header !== undefined) resolve(codec.header);
      if (block.rowEnds.length > 0 || block.rejects !== undefined) {
        controller.enqueue(block);
      }
    };
    const fail = (
      error: unknown,
      controller: TransformStreamDefaultController<RowBlock>,
    ) => {
      if (!(error instanceof InputSyntaxError)) {
        reject(error);
        throw error;
      }
      if (codec.header === undefined && wantsHeader) reject(error);
      else resolve(codec.header);
      controller.enqueue({ ...codec.rowsBeforeError(), error });
      controller.terminate();
    };
    super(
      {
        transform(chunk, controller) {
          try {
            settle(codec.push(chunk), controller);
          } catch (error) {
            fail(error, controller);
          }
        },
        flush(controller) {
          try {
            const block = codec.finish();
            resolve(codec.header);
            settle(block, controller);
          } catch (error) {
            fail(error, controller);
          }
        },
        cancel(reason) {
          reject(reason);
        },
      },
      { highWaterMark: 1 },
      { highWaterMark: 1 },
    );
    this.header = promise;
  }
}
