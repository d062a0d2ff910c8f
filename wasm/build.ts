/**
 * `deno task build:wasm`: compiles each AssemblyScript entry of
 * {@linkcode WASM_ENTRIES} to the WebAssembly module committed beside it.
 *
 * `deno task build:wasm --check` compiles into memory instead and fails
 * (exit 1) when a committed module differs from what its source builds to,
 * so a source edited without rebuilding fails `deno task check` (and CI).
 * The build is deterministic: the same source and compiler version give the
 * same bytes.
 *
 * ```sh
 * deno task build:wasm           # rebuild the committed modules
 * deno task build:wasm --check   # fail when one is stale
 * ```
 *
 * @module
 */

import asc from "assemblyscript/asc";

/** One module to build: AssemblyScript source in, WebAssembly out. */
export interface WasmEntry {
  /** The source, relative to the repository root. */
  source: string;
  /** The module, relative to the repository root. */
  output: string;
}

/** Every module the project builds. Add an entry to build another. */
export const WASM_ENTRIES: readonly WasmEntry[] = [
  { source: "wasm/csv_codec.ts", output: "wasm/csv_codec.wasm" },
  { source: "wasm/ndjson_codec.ts", output: "wasm/ndjson_codec.wasm" },
];

/**
 * Compiler flags for every entry: optimised for speed, the stub runtime
 * (no garbage collector: the codecs manage their memory by hand), no
 * assertions and no `abort` import, so a module needs no imports at all.
 */
export const ASC_FLAGS: readonly string[] = [
  "-O3",
  "--runtime",
  "stub",
  "--noAssert",
  "--use",
  "abort=",
  "--enable",
  "simd",
];

const root = new URL("..", import.meta.url);

/**
 * Compiles one entry in memory.
 *
 * @param entry The source and output paths.
 * @returns The module's bytes.
 * @throws {Error} If the compiler reports an error.
 *
 * @example Build the CSV codec and check it needs no imports
 * ```ts
 * import { buildEntry, WASM_ENTRIES } from "./build.ts";
 * import assert from "node:assert/strict";
 *
 * const bytes = await buildEntry(WASM_ENTRIES[0]);
 * const module = new WebAssembly.Module(bytes);
 * assert.deepEqual(WebAssembly.Module.imports(module), []);
 * ```
 */
export async function buildEntry(entry: WasmEntry): Promise<Uint8Array> {
  let binary: Uint8Array | undefined;
  let messages = "";
  const result = await asc.main(
    [entry.source, "--outFile", "module.wasm", "--noColors", ...ASC_FLAGS],
    {
      readFile: (name: string, baseDir: string) =>
        readText(new URL(join(baseDir, name), root)),
      writeFile: (_name: string, contents: Uint8Array | string) => {
        if (contents instanceof Uint8Array) binary = contents;
      },
      listFiles: () => [],
      stdout: asc.createMemoryStream(),
      stderr: asc.createMemoryStream((chunk) => {
        messages += typeof chunk === "string"
          ? chunk
          : new TextDecoder().decode(chunk);
      }),
    },
  );
  if (result.error !== null || binary === undefined) {
    throw new Error(
      `Cannot build ${entry.output} from ${entry.source}: ${
        result.error?.message ?? "the compiler wrote no module"
      }\n${messages}`,
    );
  }
  return binary;
}

function join(baseDir: string, name: string): string {
  return baseDir === "" || baseDir === "." ? name : `${baseDir}/${name}`;
}

function readText(url: URL): string | null {
  try {
    return Deno.readTextFileSync(url);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return null;
    throw error;
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}

async function main(args: string[]): Promise<number> {
  const check = args.includes("--check");
  let stale = 0;
  for (const entry of WASM_ENTRIES) {
    const bytes = await buildEntry(entry);
    const path = new URL(entry.output, root);
    if (!check) {
      await Deno.writeFile(path, bytes);
      console.error(
        `build:wasm: wrote ${entry.output} (${bytes.length} bytes)`,
      );
      continue;
    }
    const committed = await Deno.readFile(path).catch(() => new Uint8Array());
    if (sameBytes(committed, bytes)) {
      console.error(`build:wasm: ${entry.output} is up to date`);
    } else {
      stale++;
      console.error(
        `build:wasm: ${entry.output} is stale: ${entry.source} builds to other bytes (run deno task build:wasm and commit the module)`,
      );
    }
  }
  return stale === 0 ? 0 : 1;
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
