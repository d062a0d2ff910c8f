/**
 * The NDJSON scan core as WebAssembly (`wasm/ndjson_codec.ts`, built into
 * `_ndjson_wasm.generated.ts`), behind the {@linkcode NdjsonCore} interface. The
 * module is compiled once per thread; each core is an instance of it with
 * its own memory, so its state (a record, an escape or a character split
 * between chunks) carries from one chunk to the next.
 *
 * @module
 */

import { instantiateWasm } from "../_wasm_module.ts";
import { NDJSON_CODEC_WASM } from "./_ndjson_wasm.generated.ts";
import {
  REG_DEPTH,
  REG_KEY_LENGTH,
  REG_NEED,
  REG_POS,
  REG_VAL_POS,
  ROW_CAPACITY,
} from "./_ndjson_constants.ts";
import type { NdjsonCore, NdjsonLayout } from "./_ndjson_core.ts";

/** The module's exports. */
interface NdjsonCodecExports {
  memory: WebAssembly.Memory;
  layout(region: number): number;
  configure(
    columns: number,
    nameBytes: number,
    csv: number,
    lane: number,
    rejects: number,
    unknown: number,
  ): void;
  place(
    stackAt: number,
    keyAt: number,
    valsAt: number,
    outAt: number,
    capacity: number,
    inputAt: number,
  ): void;
  begin(length: number): void;
  scan(from: number, maxRows: number): number;
  endChunk(): void;
  finish(): number;
  clearOutput(): void;
}

/** The regions this side places in the module's memory, in order. */
interface Regions {
  stack: number;
  key: number;
  vals: number;
  out: number;
  input: number;
}

const PAGE = 65536;
const REGION_ORDER = ["stack", "key", "vals", "out", "input"] as const;

/**
 * The scan core backed by an instance of the WASM module. Input chunks are
 * copied into its memory; output, metadata and key are views onto it,
 * taken again whenever memory grows. The regions grow here: before a chunk
 * (the stack, key and values it may need), and when a row does not fit in
 * the output (the module stops and says how much it needs).
 *
 * @example Scan one chunk
 * ```ts
 * import { WasmNdjsonCore } from "./_wasm_ndjson_core.ts";
 * import { REG_POS, REG_ROWS, ROW_CAPACITY } from "./_ndjson_constants.ts";
 * import assert from "node:assert/strict";
 *
 * const encoder = new TextEncoder();
 * const core = new WasmNdjsonCore({
 *   names: encoder.encode("ab"), nameStarts: Uint32Array.of(0, 1, 2),
 *   csvOut: true, laneField: -1,
 * });
 * const chunk = encoder.encode('{"b": {"x": 1}, "a": null}\n');
 * core.begin(chunk);
 * assert.equal(core.scan(0, ROW_CAPACITY), chunk.length);
 * assert.equal(core.registers()[REG_ROWS], 1);
 * const out = core.output().subarray(0, core.registers()[REG_POS]);
 * assert.equal(new TextDecoder().decode(out), ',"{""x"": 1}"\n');
 * ```
 */
export class WasmNdjsonCore implements NdjsonCore {
  readonly #exports: NdjsonCodecExports;
  readonly #memory: WebAssembly.Memory;
  readonly #registersAt: number;
  readonly #metaAt: number;
  #at: Regions = { stack: 0, key: 0, vals: 0, out: 0, input: 0 };
  #capacity: Regions = {
    stack: 64,
    key: 256,
    vals: 1 << 16,
    out: 1 << 16,
    input: 1 << 16,
  };
  #top: number;
  #inputLength = 0;
  #buffer: ArrayBufferLike | undefined;
  #registers: Int32Array = new Int32Array(0);
  #meta: Int32Array = new Int32Array(0);
  #out: Uint8Array = new Uint8Array(0);
  #key: Uint8Array = new Uint8Array(0);

  /** @param layout The columns, and which COPY format to write. */
  constructor(layout: NdjsonLayout) {
    const instance = instantiateWasm(NDJSON_CODEC_WASM, "the NDJSON codec");
    this.#exports = instance.exports as unknown as NdjsonCodecExports;
    this.#memory = this.#exports.memory;
    this.#registersAt = this.#exports.layout(0);
    this.#metaAt = this.#exports.layout(1);
    const count = layout.nameStarts.length - 1;
    const namesAt = this.#exports.layout(2);
    this.#grow(namesAt + layout.names.length + 17 * (count + 1) + 64);
    this.#exports.configure(
      count,
      layout.names.length,
      layout.csvOut ? 1 : 0,
      layout.laneField,
      layout.rejects ? 1 : 0,
      layout.skipUnknown ? 1 : 0,
    );
    const buffer = this.#memory.buffer;
    new Uint8Array(buffer, namesAt, layout.names.length).set(layout.names);
    new Uint32Array(buffer, this.#exports.layout(3), count + 1).set(
      layout.nameStarts,
    );
    // The keep mask: every column written unless told; the slot after the
    // last (unknown keys' values) never.
    const keep = new Uint8Array(buffer, this.#exports.layout(5), count + 1);
    if (layout.keep === undefined) keep.fill(1, 0, count);
    else keep.set(layout.keep);
    keep[count] = 0;
    this.#top = this.#exports.layout(4);
    this.#place(this.#capacity);
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

  /** @returns The key buffer, a view onto the module's memory. */
  key(): Uint8Array {
    this.#views();
    return this.#key;
  }

  /** @param chunk The next chunk, copied into the module's memory. */
  begin(chunk: Uint8Array): void {
    const n = chunk.length;
    const registers = this.registers();
    // A value grows by at most 2 bytes per source byte, plus a character
    // completed by this chunk, a field's quotes and a 16-byte SIMD store.
    const need: Regions = {
      stack: registers[REG_DEPTH] + n + 2,
      key: registers[REG_KEY_LENGTH] + n + 32,
      vals: registers[REG_VAL_POS] + 3 * n + 32,
      out: 0,
      input: n,
    };
    this.#inputLength = 0;
    this.#reserve(need);
    new Uint8Array(this.#memory.buffer, this.#at.input, n).set(chunk);
    this.#inputLength = n;
    this.#exports.begin(n);
  }

  /**
   * @param from The chunk byte to start at.
   * @param maxRows Stop after this many rows.
   * @returns Where it stopped, or -1 on an error.
   */
  scan(from: number, maxRows: number): number {
    this.#makeRoom();
    return this.#exports.scan(from, maxRows);
  }

  /** Rebases positions that outlive the chunk onto the next one. */
  endChunk(): void {
    this.#exports.endChunk();
  }

  /** @returns 0, or -1 on an error. */
  finish(): number {
    for (;;) {
      const result = this.#exports.finish();
      if (result !== -2) return result;
      this.#makeRoom();
    }
  }

  /** Empties the output. */
  clearOutput(): void {
    this.#exports.clearOutput();
  }

  /** Grows the output when the last call stopped for want of room. */
  #makeRoom(): void {
    const need = this.registers()[REG_NEED];
    if (need > this.#capacity.out) {
      this.#reserve({ stack: 0, key: 0, vals: 0, out: need, input: 0 });
    }
  }

  /**
   * Moves every region to fresh memory when one is smaller than `need`,
   * each at least doubled, its live bytes copied.
   */
  #reserve(need: Regions): void {
    if (REGION_ORDER.every((name) => need[name] <= this.#capacity[name])) {
      return;
    }
    const registers = this.registers();
    const live: Regions = {
      stack: registers[REG_DEPTH] + 1,
      key: registers[REG_KEY_LENGTH],
      vals: registers[REG_VAL_POS],
      out: registers[REG_POS],
      input: this.#inputLength,
    };
    const from = { ...this.#at };
    const capacity = { ...this.#capacity };
    for (const name of REGION_ORDER) {
      if (need[name] > capacity[name]) {
        capacity[name] = Math.max(need[name], 2 * capacity[name]);
      }
    }
    this.#place(capacity);
    const memory = new Uint8Array(this.#memory.buffer);
    for (const name of REGION_ORDER) {
      memory.copyWithin(this.#at[name], from[name], from[name] + live[name]);
    }
  }

  /** Lays the regions out above everything placed before, and tells the module. */
  #place(capacity: Regions): void {
    let at = this.#top;
    for (const name of REGION_ORDER) {
      this.#at[name] = at;
      at = (at + capacity[name] + 15) & ~15;
    }
    this.#grow(at);
    this.#top = at;
    this.#capacity = capacity;
    this.#exports.place(
      this.#at.stack,
      this.#at.key,
      this.#at.vals,
      this.#at.out,
      capacity.out,
      this.#at.input,
    );
    this.#buffer = undefined;
  }

  /** Grows memory to at least `bytes`. */
  #grow(bytes: number): void {
    const have = this.#memory.buffer.byteLength;
    if (bytes > have) this.#memory.grow(Math.ceil((bytes - have) / PAGE));
  }

  /** Takes the views again if memory has grown or the regions moved. */
  #views(): void {
    const buffer = this.#memory.buffer;
    if (buffer === this.#buffer) return;
    this.#buffer = buffer;
    this.#registers = new Int32Array(buffer, this.#registersAt, 16);
    this.#meta = new Int32Array(buffer, this.#metaAt, 6 * ROW_CAPACITY);
    this.#out = new Uint8Array(buffer, this.#at.out, this.#capacity.out);
    this.#key = new Uint8Array(buffer, this.#at.key, this.#capacity.key);
  }
}
