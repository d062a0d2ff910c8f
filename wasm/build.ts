/**
 * `deno task build:wasm`: compiles each AssemblyScript entry of
 * {@linkcode WASM_ENTRIES} and writes the generated TypeScript module that
 * carries its bytes inline (base64), so the codecs load wherever the
 * package is imported from: a local checkout, JSR, a URL or a compiled
 * binary. The module's header names its sources' hash
 * (`// source-hash: …`, see {@linkcode sourceHash}).
 *
 * `deno task build:wasm --check` builds into memory instead and fails
 * (exit 1) when a generated module differs from what its sources build to:
 * other bytes, or sources edited since (an AssemblyScript core, or the
 * constants file both cores import), so a source edited without
 * rebuilding fails `deno task check` (and CI). The build is deterministic:
 * the same sources and compiler version give the same module.
 *
 * ```sh
 * deno task build:wasm           # rebuild the generated modules
 * deno task build:wasm --check   # fail when one is stale
 * ```
 *
 * @module
 */

import asc from "assemblyscript/asc";

/** One module to build: AssemblyScript source in, a TypeScript module out. */
export interface WasmEntry {
  /** The AssemblyScript entry file, relative to the repository root. */
  source: string;
  /** The generated module, relative to the repository root. */
  output: string;
  /** The name the generated module exports the bytes under, as base64. */
  exportName: string;
  /** What the module is, for the generated module's docs. */
  title: string;
}

/** Every module the project builds. Add an entry to build another. */
export const WASM_ENTRIES: readonly WasmEntry[] = [
  {
    source: "wasm/csv_codec.ts",
    output: "src/codec/csv/_csv_wasm.generated.ts",
    exportName: "CSV_CODEC_WASM",
    title: "The CSV frame core",
  },
  {
    source: "wasm/ndjson_codec.ts",
    output: "src/codec/ndjson/_ndjson_wasm.generated.ts",
    exportName: "NDJSON_CODEC_WASM",
    title: "The NDJSON scan core",
  },
  {
    source: "wasm/binary_copy.ts",
    output: "src/codec/binary/_binary_wasm.generated.ts",
    exportName: "BINARY_COPY_WASM",
    title: "The COPY text to COPY binary transcoder",
  },
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

/** A compiled module and what it was compiled from. */
export interface Compiled {
  /** The WebAssembly module. */
  bytes: Uint8Array;
  /**
   * Every file the compiler read (the entry, and what it imports), by its
   * path relative to the repository root.
   */
  sources: Map<string, string>;
}

const root = new URL("..", import.meta.url);

/**
 * Compiles one AssemblyScript entry in memory.
 *
 * @param source The entry file, relative to the repository root.
 * @returns The module's bytes and the files it was built from.
 * @throws {Error} If the compiler reports an error.
 *
 * @example Build the CSV codec and check it needs no imports
 * ```ts
 * import { compile } from "./build.ts";
 * import assert from "node:assert/strict";
 *
 * const { bytes, sources } = await compile("wasm/csv_codec.ts");
 * const module = new WebAssembly.Module(bytes.slice());
 * assert.deepEqual(WebAssembly.Module.imports(module), []);
 * assert.ok(sources.has("src/codec/csv/_csv_constants.ts"));
 * ```
 */
export async function compile(source: string): Promise<Compiled> {
  let bytes: Uint8Array | undefined;
  const sources = new Map<string, string>();
  let messages = "";
  const result = await asc.main(
    [source, "--outFile", "module.wasm", "--noColors", ...ASC_FLAGS],
    {
      readFile: (name: string, baseDir: string) => {
        const path = join(baseDir, name);
        const text = readText(new URL(path, root));
        if (text !== null) sources.set(path, text);
        return text;
      },
      writeFile: (_name: string, contents: Uint8Array | string) => {
        if (contents instanceof Uint8Array) bytes = contents;
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
  if (result.error !== null || bytes === undefined) {
    throw new Error(
      `Cannot build ${source}: ${
        result.error?.message ?? "the compiler wrote no module"
      }\n${messages}`,
    );
  }
  return { bytes, sources };
}

/**
 * The hash a generated module's header names: SHA-256, in hex, of the
 * compiler's version, its flags ({@linkcode ASC_FLAGS}) and every source
 * file (path and text, in path order).
 *
 * @param sources The files the compiler read, by path.
 * @returns The hash, 64 hex digits.
 *
 * @example Any edit changes it
 * ```ts
 * import { sourceHash } from "./build.ts";
 * import assert from "node:assert/strict";
 *
 * const a = await sourceHash(new Map([["wasm/a.ts", "const A = 1;"]]));
 * const b = await sourceHash(new Map([["wasm/a.ts", "const A = 2;"]]));
 * assert.match(a, /^[0-9a-f]{64}$/);
 * assert.notEqual(a, b);
 * ```
 */
export async function sourceHash(
  sources: ReadonlyMap<string, string>,
): Promise<string> {
  const parts = [`assemblyscript ${asc.version}`, ASC_FLAGS.join(" ")];
  for (const path of [...sources.keys()].sort()) {
    const text = sources.get(path)!;
    parts.push(`${path} ${text.length}\n${text}`);
  }
  const digest = await crypto.subtle.digest(
    "SHA-256",
    new TextEncoder().encode(parts.join("\0")),
  );
  return [...new Uint8Array(digest)]
    .map((byte) => byte.toString(16).padStart(2, "0"))
    .join("");
}

/**
 * The generated module for an entry: a `@generated` header with the source
 * hash, module docs, and the bytes as one base64 string constant.
 *
 * @param entry The entry.
 * @param compiled What {@linkcode compile} made of it.
 * @returns The module's text, formatted as `deno fmt` leaves it.
 *
 * @example Render the NDJSON codec's module
 * ```ts
 * import { compile, generatedModule, WASM_ENTRIES } from "./build.ts";
 * import assert from "node:assert/strict";
 *
 * const entry = WASM_ENTRIES[1];
 * const text = await generatedModule(entry, await compile(entry.source));
 * assert.match(text, /^\/\/ @generated .*\n\/\/ source-hash: [0-9a-f]{64}\n/);
 * assert.match(text, /export const NDJSON_CODEC_WASM =\n  "AGFzbQ/);
 * ```
 */
export async function generatedModule(
  entry: WasmEntry,
  compiled: Compiled,
): Promise<string> {
  const hash = await sourceHash(compiled.sources);
  const files = [...compiled.sources.keys()].sort()
    .map((path) => ` * - \`${path}\``);
  const from = entry.output.slice(entry.output.lastIndexOf("/") + 1);
  return `// @generated by \`deno task build:wasm\` from ${entry.source}: do not edit
// source-hash: ${hash}
/**
 * ${entry.title} as WebAssembly (${compiled.bytes.length} bytes), built from:
 *
${files.join("\n")}
 *
 * by AssemblyScript ${asc.version}, with \`${ASC_FLAGS.join(" ")}\`.
 * The bytes travel inside this module, so they load wherever the package is
 * imported from (a checkout, JSR, a URL, a compiled binary). Rebuild with
 * \`deno task build:wasm\`; \`deno task build:wasm --check\` fails when this
 * module is stale.
 *
 * @module
 */

/**
 * The module's bytes, base64 (decoded and compiled once per thread by
 * \`_wasm_module.ts\`).
 *
 * @example Compile it
 * \`\`\`ts
 * import { ${entry.exportName} } from "./${from}";
 * import assert from "node:assert/strict";
 *
 * const bytes = Uint8Array.from(atob(${entry.exportName}), (c) => c.charCodeAt(0));
 * const module = new WebAssembly.Module(bytes);
 * assert.deepEqual(WebAssembly.Module.imports(module), []);
 * \`\`\`
 */
export const ${entry.exportName} =
  "${toBase64(compiled.bytes)}";
`;
}

function toBase64(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
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

async function main(args: string[]): Promise<number> {
  const check = args.includes("--check");
  let stale = 0;
  for (const entry of WASM_ENTRIES) {
    const compiled = await compile(entry.source);
    const text = await generatedModule(entry, compiled);
    const path = new URL(entry.output, root);
    if (!check) {
      await Deno.writeTextFile(path, text);
      console.error(
        `build:wasm: wrote ${entry.output} (${compiled.bytes.length} bytes of WebAssembly)`,
      );
      continue;
    }
    const committed = await Deno.readTextFile(path).catch(() => "");
    if (committed === text) {
      console.error(`build:wasm: ${entry.output} is up to date`);
    } else {
      stale++;
      console.error(
        `build:wasm: ${entry.output} is stale: ${
          [...compiled.sources.keys()].sort().join(", ")
        } build to another module (run deno task build:wasm and commit it)`,
      );
    }
  }
  return stale === 0 ? 0 : 1;
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
