/**
 * The frame core as WebAssembly (`wasm/csv_codec.ts`, built into
 * `_csv_wasm.generated.ts`), behind the {@linkcode CsvCore} interface. The module
 * is compiled once per thread; each core is an instance of it with its own
 * memory, so its state (a quoted field, a character split between chunks)
 * carries from one chunk to the next.
 *
 * @module
 */

import { instantiateWasm } from "../_wasm_module.ts";
import { CSV_CODEC_WASM } from "./_csv_wasm.generated.ts";
import { CHARSET_UTF8, REG_POS, ROW_CAPACITY } from "./_csv_constants.ts";
import type { CsvCore, CsvDialect } from "./_csv_core.ts";

/** The module's exports. */
interface CsvCodecExports {
  memory: WebAssembly.Memory;
  layout(region: number): number;
  configure(
    delimiter: number,
    quote: number,
    escape: number,
    csv: number,
    nullBytes: number,
    nullChars: number,
    fieldCount: number,
    lane: number,
    charset: number,
    rejects: number,
  ): void;
  setLaneField(lane: number): void;
  setKeep(): void;
  begin(at: number, length: number, final: number): void;
  frame(from: number, maxRows: number): number;
  endChunk(): void;
  finish(): number;
  compact(end: number): void;
}

const PAGE = 65536;

/**
 * The frame core backed by an instance of the WASM module. Input chunks are
 * copied into its memory; output and metadata are views onto it, taken
 * again whenever memory grows.
 *
 * @example Frame one chunk
 * ```ts
 * import { WasmCsvCore } from "./_wasm_csv_core.ts";
 * import { REG_POS, REG_ROWS, ROW_CAPACITY } from "./_csv_constants.ts";
 * import assert from "node:assert/strict";
 *
 * const core = new WasmCsvCore({
 *   delimiter: 0x2c, quote: 0x22, escape: 0x22, csvOut: true,
 *   nullEncoded: undefined, nullCodePoints: 0, fieldCount: 0, laneField: -1,
 * });
 * const chunk = new TextEncoder().encode('a,""\n');
 * core.begin(chunk, true);
 * assert.equal(core.frame(0, ROW_CAPACITY), chunk.length);
 * assert.equal(core.registers()[REG_ROWS], 1);
 * const out = core.output().subarray(0, core.registers()[REG_POS]);
 * assert.equal(new TextDecoder().decode(out), '"a",""\n');
 * ```
 */
export class WasmCsvCore implements CsvCore {
  readonly #exports: CsvCodecExports;
  readonly #memory: WebAssembly.Memory;
  readonly #registersAt: number;
  readonly #metaAt: number;
  readonly #outAt: number;
  #outCapacity = 1 << 16;
  #buffer: ArrayBufferLike | undefined;
  #registers: Int32Array = new Int32Array(0);
  #meta: Int32Array = new Int32Array(0);
  #out: Uint8Array = new Uint8Array(0);

  /** @param dialect What to frame and how to encode it. */
  constructor(dialect: CsvDialect) {
    const instance = instantiateWasm(CSV_CODEC_WASM, "the CSV codec");
    this.#exports = instance.exports as unknown as CsvCodecExports;
    this.#memory = this.#exports.memory;
    this.#registersAt = this.#exports.layout(0);
    this.#metaAt = this.#exports.layout(1);
    const nullsAt = this.#exports.layout(2);
    const nulls = dialect.nullEncoded;
    this.#grow(nullsAt + (nulls?.length ?? 0));
    if (nulls !== undefined) {
      new Uint8Array(this.#memory.buffer, nullsAt, nulls.length).set(nulls);
    }
    this.#exports.configure(
      dialect.delimiter,
      dialect.quote,
      dialect.escape,
      dialect.csvOut ? 1 : 0,
      nulls?.length ?? -1,
      dialect.nullCodePoints,
      dialect.fieldCount,
      dialect.laneField,
      dialect.charset ?? CHARSET_UTF8,
      dialect.rejects ? 1 : 0,
    );
    this.#outAt = this.#exports.layout(3);
    this.#grow(this.#outAt + this.#outCapacity);
  }

  /** Grows memory to at least `bytes`. */
  #grow(bytes: number): void {
    const have = this.#memory.buffer.byteLength;
    if (bytes > have) this.#memory.grow(Math.ceil((bytes - have) / PAGE));
  }

  /** Takes the views again if memory has grown. */
  #views(): void {
    const buffer = this.#memory.buffer;
    if (buffer === this.#buffer) return;
    this.#buffer = buffer;
    this.#registers = new Int32Array(buffer, this.#registersAt, 16);
    this.#meta = new Int32Array(buffer, this.#metaAt, 6 * ROW_CAPACITY);
    this.#out = new Uint8Array(buffer, this.#outAt, this.#outCapacity);
  }

  /** @returns The registers. */
  registers(): Int32Array {
    this.#views();
    return this.#registers;
  }

  /** @returns The output, a view onto the module's memory. */
  output(): Uint8Array {
    this.#views();
    return this.#out;
  }

  /** @returns The metadata arrays, a view onto the module's memory. */
  metadata(): Int32Array {
    this.#views();
    return this.#meta;
  }

  /** @param field The lane field's index. */
  setLaneField(field: number): void {
    this.#exports.setLaneField(field);
  }

  /** @param keep A byte per field, 0 for a field the rows leave out. */
  setKeep(keep: Uint8Array): void {
    new Uint8Array(this.#memory.buffer, this.#exports.layout(4), keep.length)
      .set(keep);
    this.#exports.setKeep();
  }

  /**
   * @param chunk The next chunk, copied into the module's memory.
   * @param final Whether it is the last.
   */
  begin(chunk: Uint8Array, final: boolean): void {
    const length = chunk.length;
    const needed = this.registers()[REG_POS] + 3 * length + 32;
    if (needed > this.#outCapacity) {
      this.#outCapacity = Math.max(needed, 2 * this.#outCapacity);
      this.#buffer = undefined; // the output view's length changes
    }
    // The chunk goes after the output, 16-byte aligned.
    const at = this.#outAt + ((this.#outCapacity + 15) & ~15);
    this.#grow(at + length);
    new Uint8Array(this.#memory.buffer, at, length).set(chunk);
    this.#exports.begin(at, length, final ? 1 : 0);
  }

  /**
   * @param from The chunk byte to start at.
   * @param maxRows Stop after this many rows.
   * @returns Where it stopped, or -1 on an error.
   */
  frame(from: number, maxRows: number): number {
    return this.#exports.frame(from, maxRows);
  }

  /** Rebases positions that outlive the chunk onto the next one. */
  endChunk(): void {
    this.#exports.endChunk();
  }

  /** @returns 0, or -1 on an error. */
  finish(): number {
    return this.#exports.finish();
  }

  /** @param end The row boundary to drop the output before. */
  compact(end: number): void {
    this.#exports.compact(end);
  }
}
