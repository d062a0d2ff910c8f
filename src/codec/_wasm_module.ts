/**
 * The codecs' WebAssembly modules: decoded from the base64 their generated
 * modules carry (`csv/_csv_wasm.generated.ts`,
 * `ndjson/_ndjson_wasm.generated.ts`) and compiled once per thread, on
 * first use (synchronously: the decode worker builds its codec in a
 * synchronous constructor), then instantiated once per codec. When that
 * cannot be done (a runtime without WebAssembly, or one that refuses to
 * compile it) the error says so, as a {@linkcode WasmUnavailableError}, and
 * {@linkcode withWasmFallback} runs the TypeScript codec instead.
 *
 * @module
 */

/**
 * The WebAssembly codec cannot run here: its module could not be compiled
 * or instantiated. The TypeScript codec does the same work.
 *
 * @example Usage
 * ```ts
 * import { instantiateWasm, WasmUnavailableError } from "./_wasm_module.ts";
 * import assert from "node:assert/strict";
 *
 * assert.throws(() => instantiateWasm("AAAA", "a broken module"), WasmUnavailableError);
 * ```
 */
export class WasmUnavailableError extends Error {
  /**
   * Makes the error.
   *
   * @param message What could not be done, and why.
   * @param options The underlying error, as `cause`.
   */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "WasmUnavailableError";
  }
}

/** Per thread: each module's compilation, or why it failed. */
const compiled = new Map<string, WebAssembly.Module | WasmUnavailableError>();

/**
 * A new instance of the module whose bytes `base64` holds, compiled on
 * first use (a failure is remembered too: the next call throws at once).
 * The module must need no imports.
 *
 * @param base64 The module's bytes, base64.
 * @param what What it is, for the error.
 * @returns The instance.
 * @throws {WasmUnavailableError} If the module cannot be compiled or
 * instantiated.
 *
 * @example Instantiate the CSV frame core
 * ```ts
 * import { instantiateWasm } from "./_wasm_module.ts";
 * import { CSV_CODEC_WASM } from "./csv/_csv_wasm.generated.ts";
 * import assert from "node:assert/strict";
 *
 * const a = instantiateWasm(CSV_CODEC_WASM, "the CSV codec");
 * const b = instantiateWasm(CSV_CODEC_WASM, "the CSV codec");
 * assert.ok(a.exports.memory instanceof WebAssembly.Memory);
 * assert.notEqual(a.exports.memory, b.exports.memory);
 * ```
 */
export function instantiateWasm(
  base64: string,
  what: string,
): WebAssembly.Instance {
  let module = compiled.get(base64);
  if (module === undefined) {
    try {
      module = new WebAssembly.Module(decodeBase64(base64));
    } catch (error) {
      module = new WasmUnavailableError(
        `Cannot compile ${what}: ${reasonOf(error)}`,
        { cause: error },
      );
    }
    compiled.set(base64, module);
  }
  if (module instanceof WasmUnavailableError) throw module;
  try {
    return new WebAssembly.Instance(module, {});
  } catch (error) {
    throw new WasmUnavailableError(
      `Cannot instantiate ${what}: ${reasonOf(error)}`,
      { cause: error },
    );
  }
}

/** Whether this thread has said that the TypeScript codec took over. */
let noticed = false;

/**
 * Makes the WebAssembly codec, or, when it cannot run here, the TypeScript
 * one, saying so once per thread on stderr (`lanecopy: WebAssembly codec
 * unavailable (reason); using the TypeScript codec`). Any other error
 * from `wasm` (bad options, say) is thrown as it is.
 *
 * @param wasm Makes the WebAssembly codec.
 * @param ts Makes the TypeScript codec.
 * @returns The codec made.
 *
 * @example Usage
 * ```ts
 * import { withWasmFallback, WasmUnavailableError } from "./_wasm_module.ts";
 * import assert from "node:assert/strict";
 *
 * const made = withWasmFallback(() => "wasm", () => "ts");
 * assert.equal(made, "wasm");
 * assert.throws(
 *   () => withWasmFallback(() => { throw new RangeError("bad option"); }, () => "ts"),
 *   RangeError,
 * );
 * const fallback = withWasmFallback(() => {
 *   throw new WasmUnavailableError("Cannot compile the codec: no WebAssembly");
 * }, () => "ts");
 * assert.equal(fallback, "ts");
 * ```
 */
export function withWasmFallback<T>(wasm: () => T, ts: () => T): T {
  try {
    return wasm();
  } catch (error) {
    if (!(error instanceof WasmUnavailableError)) throw error;
    if (!noticed) {
      noticed = true;
      const reason = error.message[0].toLowerCase() + error.message.slice(1);
      console.error(
        `lanecopy: WebAssembly codec unavailable (${reason}); using the TypeScript codec`,
      );
    }
    return ts();
  }
}

function decodeBase64(base64: string): Uint8Array<ArrayBuffer> {
  const binary = atob(base64);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
