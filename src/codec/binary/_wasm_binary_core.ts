/**
 * The COPY text -> COPY binary core as WebAssembly (`wasm/binary_copy.ts`,
 * built into `_binary_wasm.generated.ts`), behind the
 * {@linkcode BinaryCore} interface. The module is compiled once per thread;
 * each core is an instance of it with its own memory.
 *
 * @module
 */

import { instantiateWasm } from "../_wasm_module.ts";
import { BINARY_COPY_WASM } from "./_binary_wasm.generated.ts";
import {
  NAIVE_UTC,
  REGION_INPUT,
  REGION_OUTPUT,
  REGION_REGISTERS,
  REGION_ROW_ENDS,
  REGION_SEQS,
  REGION_TYPES,
  REGISTER_COUNT,
  RESULT_NO_MEMORY,
} from "./_binary_constants.ts";
import { type BinaryCore, checkTypes } from "./_binary_core.ts";

/** The module's exports. */
interface BinaryCopyExports {
  memory: WebAssembly.Memory;
  layout(region: number): number;
  configure(fieldCount: number, flags: number): void;
  prepare(length: number, rows: number): number;
  encode(rows: number, withSeqs: number): number;
}

/**
 * The core backed by an instance of the WASM module. Each batch is copied
 * into its memory; the output and registers are views onto it, taken
 * again whenever memory has grown.
 *
 * @example A date and a NULL bool, with a seq
 * ```ts
 * import { WasmBinaryCore } from "./_wasm_binary_core.ts";
 * import { TYPE_BOOL, TYPE_DATE } from "./_binary_constants.ts";
 * import assert from "node:assert/strict";
 *
 * const core = new WasmBinaryCore(Uint8Array.of(TYPE_DATE, TYPE_BOOL), false);
 * const data = new TextEncoder().encode("2000-01-02\t\\N\n");
 * const length = core.encode(data, Uint32Array.of(data.length), Float64Array.of(5));
 * const row = [...core.output().subarray(19, length - 2)];
 * assert.deepEqual(row, [
 *   0, 3, 0, 0, 0, 4, 0, 0, 0, 1, 255, 255, 255, 255,
 *   0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 5,
 * ]);
 * ```
 */
export class WasmBinaryCore implements BinaryCore {
  readonly #exports: BinaryCopyExports;
  readonly #memory: WebAssembly.Memory;
  readonly #registersAt: number;
  #buffer: ArrayBufferLike | undefined;
  #registers: Int32Array = new Int32Array(0);

  /**
   * @param types A type code per field (`TYPE_*`).
   * @param naiveUtc A timestamptz without an offset is UTC.
   */
  constructor(types: Uint8Array, naiveUtc: boolean) {
    checkTypes(types);
    const instance = instantiateWasm(
      BINARY_COPY_WASM,
      "the COPY binary codec",
    );
    this.#exports = instance.exports as unknown as BinaryCopyExports;
    this.#memory = this.#exports.memory;
    this.#registersAt = this.#exports.layout(REGION_REGISTERS);
    new Uint8Array(
      this.#memory.buffer,
      this.#exports.layout(REGION_TYPES),
      types.length,
    ).set(types);
    this.#exports.configure(types.length, naiveUtc ? NAIVE_UTC : 0);
  }

  /** @returns The registers. */
  registers(): Int32Array {
    const buffer = this.#memory.buffer;
    if (buffer !== this.#buffer) {
      this.#buffer = buffer;
      this.#registers = new Int32Array(
        buffer,
        this.#registersAt,
        REGISTER_COUNT,
      );
    }
    return this.#registers;
  }

  /** @returns The output, a view onto the module's memory. */
  output(): Uint8Array {
    const at = this.#exports.layout(REGION_OUTPUT);
    return new Uint8Array(this.#memory.buffer, at);
  }

  /**
   * @param data The rows, copied into the module's memory.
   * @param rowEnds Each row's end.
   * @param seqs Each row's seq, an extra int8 field.
   * @returns The output's length, or `RESULT_MISS`.
   * @throws {RangeError} If the module's memory cannot hold the batch.
   */
  encode(data: Uint8Array, rowEnds: Uint32Array, seqs?: Float64Array): number {
    const exports = this.#exports;
    const rows = rowEnds.length;
    if (exports.prepare(data.length, rows) === 0) throw this.#tooLarge(data);
    const buffer = this.#memory.buffer;
    new Uint8Array(buffer, exports.layout(REGION_INPUT), data.length)
      .set(data);
    new Uint32Array(buffer, exports.layout(REGION_ROW_ENDS), rows)
      .set(rowEnds);
    if (seqs !== undefined) {
      new Float64Array(buffer, exports.layout(REGION_SEQS), rows).set(seqs);
    }
    const length = exports.encode(rows, seqs === undefined ? 0 : 1);
    if (length === RESULT_NO_MEMORY) throw this.#tooLarge(data);
    return length;
  }

  #tooLarge(data: Uint8Array): RangeError {
    return new RangeError(
      `Cannot encode ${data.length} bytes of rows as COPY binary: the WebAssembly memory cannot grow to hold them`,
    );
  }
}
