/**
 * lanecopy's version, as `lanecopy --version` prints it. It is the
 * `version` of `deno.json`, written here because the compiled executable
 * carries `src/` but not `deno.json`; `tests/cli_test.ts` fails when the two
 * differ.
 *
 * @module
 */

/**
 * The version of this lanecopy, the same as `deno.json`'s `version`.
 *
 * @example Usage
 * ```ts
 * import { VERSION } from "./version.ts";
 * import assert from "node:assert/strict";
 *
 * assert.match(VERSION, /^\d+\.\d+\.\d+/);
 * ```
 */
export const VERSION: string = "0.1.0";
