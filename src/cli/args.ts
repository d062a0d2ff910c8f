/**
 * The command line's shared pieces: the option sets `node:util`'s
 * `parseArgs` reads, and the checks that turn a flag's text into a value
 * (or a {@linkcode UsageError} naming the flag).
 *
 * @module
 */

import { decodeCopyRow } from "../codec/copy_row.ts";
import { UsageError } from "../errors.ts";

/**
 * The input options `ingest` and `encode` share: the CSV dialect, the
 * format and the codec.
 *
 * @example Usage
 * ```ts
 * import { CSV_OPTIONS } from "./args.ts";
 * import { parseArgs } from "node:util";
 * import assert from "node:assert/strict";
 *
 * const { values } = parseArgs({
 *   args: ["--delimiter", ";", "--no-header"],
 *   options: CSV_OPTIONS,
 * });
 * assert.equal(values.delimiter, ";");
 * assert.equal(values["no-header"], true);
 * ```
 */
export const CSV_OPTIONS = {
  columns: { type: "string" },
  "no-header": { type: "boolean" },
  delimiter: { type: "string" },
  null: { type: "string" },
  quote: { type: "string" },
  escape: { type: "string" },
  encoding: { type: "string" },
  format: { type: "string" },
  codec: { type: "string" },
} as const;

/**
 * The options of every command that opens the database: which one, and
 * JSON output.
 *
 * @example Usage
 * ```ts
 * import { DATABASE_OPTIONS } from "./args.ts";
 * import { parseArgs } from "node:util";
 * import assert from "node:assert/strict";
 *
 * const { values } = parseArgs({
 *   args: ["--data-dir", "db", "--json"],
 *   options: DATABASE_OPTIONS,
 * });
 * assert.deepEqual({ ...values }, { "data-dir": "db", json: true });
 * ```
 */
export const DATABASE_OPTIONS = {
  db: { type: "string" },
  "data-dir": { type: "string" },
  json: { type: "boolean" },
} as const;

/**
 * The one positional argument a command takes.
 *
 * @param positionals The positional arguments given.
 * @param what What the argument is, for the error.
 * @param usage The command's help, shown with the error.
 * @returns The argument.
 * @throws {UsageError} If there is not exactly one.
 *
 * @example Usage
 * ```ts
 * import { onePositional } from "./args.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(onePositional(["orders.csv"], "FILE", "Usage: …"), "orders.csv");
 * assert.throws(
 *   () => onePositional([], "a statement", "Usage: …"),
 *   /Cannot run: expected a statement, got none/,
 * );
 * ```
 */
export function onePositional(
  positionals: string[],
  what: string,
  usage: string,
): string {
  if (positionals.length !== 1) {
    throw new UsageError(
      `Cannot run: expected ${what}, got ${
        positionals.length === 0 ? "none" : positionals.join(" ")
      }\n\n${usage}`,
    );
  }
  return positionals[0];
}

/**
 * `--columns`: names separated by commas, quoted as in CSV when a name
 * holds a comma or a quote.
 *
 * @param value The flag's text, if given.
 * @returns The names.
 * @throws {UsageError} If a name is empty.
 *
 * @example Usage
 * ```ts
 * import { splitColumns } from "./args.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(splitColumns('id,"a,b"'), ["id", "a,b"]);
 * assert.equal(splitColumns(undefined), undefined);
 * assert.throws(() => splitColumns("id,,x"), /a name is empty/);
 * ```
 */
export function splitColumns(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  const columns = decodeCopyRow(value, "csv").map((name) => name ?? "");
  if (columns.some((name) => name === "")) {
    throw new UsageError(`Cannot use --columns "${value}": a name is empty`);
  }
  return columns;
}

/**
 * `--codec`: `wasm` or `ts`.
 *
 * @param value The flag's text, if given.
 * @returns The codec.
 * @throws {UsageError} If it is neither.
 *
 * @example Usage
 * ```ts
 * import { parseCodec } from "./args.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(parseCodec("ts"), "ts");
 * assert.throws(() => parseCodec("c"), /expected wasm or ts/);
 * ```
 */
export function parseCodec(
  value: string | undefined,
): "wasm" | "ts" | undefined {
  if (value === undefined || value === "wasm" || value === "ts") return value;
  throw new UsageError(`Cannot use --codec ${value}: expected wasm or ts`);
}

/**
 * `--delimiter`: the character itself, or `tab` (or `\t`) for a tab.
 *
 * @param value The flag's text, if given.
 * @returns The delimiter (checked later, with the other CSV options).
 *
 * @example Usage
 * ```ts
 * import { parseDelimiter } from "./args.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(parseDelimiter("tab"), "\t");
 * assert.equal(parseDelimiter(";"), ";");
 * ```
 */
export function parseDelimiter(value: string | undefined): string | undefined {
  return value === "tab" || value === "\\t" ? "\t" : value;
}

/**
 * A flag's positive whole number (`_` may group digits).
 *
 * @param value The flag's text, if given.
 * @param flag The flag, for the error.
 * @returns The number.
 * @throws {UsageError} If it is not a whole number of 1 or more.
 *
 * @example Usage
 * ```ts
 * import { positiveInteger } from "./args.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(positiveInteger("10_000", "--batch-size"), 10000);
 * assert.throws(
 *   () => positiveInteger("0", "--batch-size"),
 *   /Cannot use --batch-size 0: expected a positive whole number/,
 * );
 * ```
 */
export function positiveInteger(
  value: string | undefined,
  flag: string,
): number | undefined {
  if (value === undefined) return undefined;
  const number = Number(value.replaceAll("_", ""));
  if (!Number.isInteger(number) || number < 1) {
    throw new UsageError(
      `Cannot use ${flag} ${value}: expected a positive whole number`,
    );
  }
  return number;
}

/**
 * A flag's whole number, 0 or more (`_` may group digits).
 *
 * @param value The flag's text, if given.
 * @param flag The flag, for the error.
 * @returns The number.
 * @throws {UsageError} If it is not a whole number of 0 or more.
 *
 * @example Usage
 * ```ts
 * import { wholeNumber } from "./args.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(wholeNumber("0", "--retries"), 0);
 * assert.throws(() => wholeNumber("-1", "--retries"), /0 or more/);
 * ```
 */
export function wholeNumber(
  value: string | undefined,
  flag: string,
): number | undefined {
  if (value === undefined) return undefined;
  const number = Number(value.replaceAll("_", ""));
  if (!Number.isInteger(number) || number < 0) {
    throw new UsageError(
      `Cannot use ${flag} ${value}: expected a whole number, 0 or more`,
    );
  }
  return number;
}
