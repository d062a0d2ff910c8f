/**
 * The codecs' WebAssembly modules, read and compiled once per thread, on
 * first use (synchronously: the decode worker builds its codec in a
 * synchronous constructor).
 *
 * @module
 */

const compiled = new Map<string, WebAssembly.Module>();

/**
 * The compiled module at `url`, compiled on first use.
 *
 * @param url The `.wasm` file.
 * @param what What it is, for the error when it cannot be read.
 * @returns The module.
 * @throws {Error} If the file cannot be read.
 *
 * @example Usage
 * ```ts
 * import { wasmModule } from "./_wasm_module.ts";
 * import assert from "node:assert/strict";
 *
 * const url = new URL("../../wasm/csv_codec.wasm", import.meta.url);
 * assert.equal(wasmModule(url, "the CSV codec"), wasmModule(url, "the CSV codec"));
 * assert.throws(() => wasmModule(new URL("file:///nope.wasm"), "nothing"), /Cannot load nothing/);
 * ```
 */
export function wasmModule(url: URL, what: string): WebAssembly.Module {
  let module = compiled.get(url.href);
  if (module === undefined) {
    let bytes: Uint8Array<ArrayBuffer>;
    try {
      bytes = Deno.readFileSync(url);
    } catch (error) {
      throw new Error(
        `Cannot load ${what} from ${url.href}: ${
          (error as Error).message
        } (use the TypeScript codec: codec "ts", --codec ts)`,
      );
    }
    module = new WebAssembly.Module(bytes);
    compiled.set(url.href, module);
  }
  return module;
}
