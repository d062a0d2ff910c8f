/**
 * The command line's shared pieces: the option sets `node:util`'s
 * `parseArgs` reads, {@linkcode parseCommandLine} (which words its
 * refusals for a person: the nearest option for an unknown one), and the
 * checks that turn a flag's text into a value (or a {@linkcode UsageError}
 * naming the flag).
 *
 * @module
 */

import { parseArgs, type ParseArgsOptionsConfig } from "node:util";
import type { ColumnEntry } from "../codec/column_entry.ts";
import type { ExtraPolicy } from "../codec/column_map.ts";
import { decodeCopyRow } from "../codec/copy_row.ts";
import { UsageError } from "../errors.ts";
import { suggest } from "./suggest.ts";

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
 * `--columns` of `ingest`, which may skip and rename fields: one entry per
 * field in file order, each a column, `-` (the field is skipped), or
 * `field:column` (the field the header names `field` loads into `column`;
 * `field:-` skips it). A list of only `field:column` entries goes by name:
 * partial, in any order, the header's other fields loading into the
 * columns they name. Entries are separated by commas and quoted as in CSV
 * (see {@linkcode splitColumns}); an entry is split at its first `:`.
 *
 * @param value The flag's text, if given.
 * @returns The entries (see `ColumnEntry`).
 * @throws {UsageError} If an entry, a field or a column is empty.
 *
 * @example Usage
 * ```ts
 * import { parseColumns } from "./args.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(parseColumns("id,-,nickname:nick,age:-"), [
 *   "id",
 *   null,
 *   { field: "nickname", column: "nick" },
 *   { field: "age", column: null },
 * ]);
 * assert.equal(parseColumns(undefined), undefined);
 * assert.throws(() => parseColumns("id,:x"), /a field is empty/);
 * ```
 */
export function parseColumns(
  value: string | undefined,
): ColumnEntry[] | undefined {
  return splitColumns(value)?.map((entry) => columnEntry(entry, "--columns"));
}

/**
 * A config file's `columns` as entries: each item a string written as in
 * `--columns` (`-`, `field:column`, `field:-`, a column), or an object
 * `{ "field": …, "column": … }` (`column` `null` to skip), for names that
 * hold a `:`.
 *
 * @param items The config's items, if any.
 * @returns The entries.
 * @throws {UsageError} If a string's field or column is empty.
 *
 * @example Usage
 * ```ts
 * import { columnEntries } from "./args.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(
 *   columnEntries(["id", "-", { field: "a:b", column: "ab" }]),
 *   ["id", null, { field: "a:b", column: "ab" }],
 * );
 * ```
 */
export function columnEntries(
  items:
    | readonly (string | { field: string; column: string | null })[]
    | undefined,
): ColumnEntry[] | undefined {
  return items?.map((item) =>
    typeof item === "string"
      ? columnEntry(item, "columns")
      : { field: item.field, column: item.column }
  );
}

/** One `--columns` entry: `-`, `field:column`, `field:-`, or a column. */
function columnEntry(text: string, where: string): ColumnEntry {
  if (text === "-") return null;
  const colon = text.indexOf(":");
  if (colon < 0) return text;
  const field = text.slice(0, colon);
  const column = text.slice(colon + 1);
  if (field === "" || column === "") {
    throw new UsageError(
      `Cannot use ${where} entry "${text}": a ${
        field === "" ? "field" : "column"
      } is empty (write field:column, or field:- to skip it)`,
    );
  }
  return { field, column: column === "-" ? null : column };
}

/**
 * `--extra-columns` and `--extra-keys`: `error` or `ignore`.
 *
 * @param value The flag's text, if given.
 * @param flag The flag, for the error.
 * @returns The policy.
 * @throws {UsageError} If it is neither.
 *
 * @example Usage
 * ```ts
 * import { parseExtraPolicy } from "./args.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(parseExtraPolicy("ignore", "--extra-columns"), "ignore");
 * assert.throws(
 *   () => parseExtraPolicy("skip", "--extra-keys"),
 *   /Cannot use --extra-keys skip: expected error or ignore/,
 * );
 * ```
 */
export function parseExtraPolicy(
  value: string | undefined,
  flag: string,
): ExtraPolicy | undefined {
  if (value === undefined || value === "error" || value === "ignore") {
    return value;
  }
  throw new UsageError(`Cannot use ${flag} ${value}: expected error or ignore`);
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

/**
 * What {@linkcode parseCommandLine} returns: the options' values and the
 * positionals.
 *
 * @example Usage
 * ```ts
 * import { type CommandLine, parseCommandLine } from "./args.ts";
 * import assert from "node:assert/strict";
 *
 * const options = { json: { type: "boolean" } } as const;
 * const line: CommandLine<typeof options> = parseCommandLine("sql", ["select 1", "--json"], options);
 * assert.deepEqual([line.values.json, line.positionals], [true, ["select 1"]]);
 * ```
 */
export type CommandLine<T extends ParseArgsOptionsConfig> = ReturnType<
  typeof parseArgs<{ args: string[]; options: T; allowPositionals: true }>
>;

/**
 * Reads a command's arguments with `node:util`'s `parseArgs` (positionals
 * allowed, unknown options refused), and words each refusal for a person:
 * an unknown option names the nearest known one (`Unknown option --tabel;
 * did you mean --table?`), and a long option written with one dash (which
 * `parseArgs` would read as short options: `-table` as `-t able`) is
 * refused the same way. Each refusal ends with where to find the options.
 *
 * @param command The command's name, for the pointer to its help.
 * @param args The arguments after the command's name.
 * @param options The options it takes.
 * @returns The values and positionals.
 * @throws {UsageError} If an option is unknown, lacks its value, or has
 * one it does not take.
 *
 * @example Usage
 * ```ts
 * import { parseCommandLine } from "./args.ts";
 * import assert from "node:assert/strict";
 *
 * const options = { table: { type: "string", short: "t" }, quiet: { type: "boolean", short: "q" } } as const;
 * const { values, positionals } = parseCommandLine("ingest", ["a.csv", "-t", "people", "-q"], options);
 * assert.deepEqual([values.table, values.quiet, positionals], ["people", true, ["a.csv"]]);
 * assert.throws(
 *   () => parseCommandLine("ingest", ["--tabel", "people"], options),
 *   /^UsageError: Unknown option --tabel; did you mean --table\?\nRun "lanecopy ingest --help" for the options\.$/,
 * );
 * assert.throws(
 *   () => parseCommandLine("ingest", ["-table", "people"], options),
 *   /Unknown option -table; did you mean --table\?/,
 * );
 * ```
 */
export function parseCommandLine<T extends ParseArgsOptionsConfig>(
  command: string,
  args: string[],
  options: T,
): CommandLine<T> {
  const pointer = `Run "lanecopy ${command} --help" for the options.`;
  const refuse = (message: string) => new UsageError(`${message}\n${pointer}`);
  const single = singleDashLongOption(args, options);
  if (single) {
    throw refuse(
      `Unknown option ${single.arg}; did you mean --${single.name}?`,
    );
  }
  try {
    return parseArgs({ args, options, allowPositionals: true });
  } catch (error) {
    const code = (error as { code?: string }).code ?? "";
    if (!code.startsWith("ERR_PARSE_ARGS")) throw error;
    throw refuse(parseArgsMessage((error as Error).message, options));
  }
}

/** `parseArgs`'s message for a bad option, worded the way lanecopy words them. */
function parseArgsMessage(
  message: string,
  options: ParseArgsOptionsConfig,
): string {
  const unknown = /^Unknown option '([^']+)'/.exec(message);
  if (unknown) {
    const option = unknown[1];
    const near = option.startsWith("--")
      ? suggest(option.slice(2), Object.keys(options))
      : undefined;
    return `Unknown option ${option}${near ? `; did you mean --${near}?` : ""}`;
  }
  const flag = /^Option '(?:-\w, )?(-[^ ']+)/.exec(message)?.[1];
  if (flag === undefined) return message.split("\n")[0];
  if (message.includes("argument missing")) {
    return `Cannot use ${flag} without a value: write ${flag} VALUE`;
  }
  if (message.includes("does not take an argument")) {
    return `Cannot give ${flag} a value: it is a switch, on when given`;
  }
  if (message.includes("is ambiguous")) {
    const written = flag.startsWith("--") ? `${flag}=-VALUE` : `${flag}-VALUE`;
    return `Cannot tell whether the word after ${flag} is its value: a value that starts with "-" is written ${written}`;
  }
  return message.split("\n")[0];
}

/**
 * The first argument that is a long option written with one dash (`-table`,
 * `-tabel`, `-db=x`), with the option meant; `undefined` when none is.
 * Values of options that take one, everything after `--`, negative numbers,
 * groups of switches (`-qv`) and a short option with a value that does not
 * start with a letter (`-t-db`) are left alone.
 */
function singleDashLongOption(
  args: string[],
  options: ParseArgsOptionsConfig,
): { arg: string; name: string } | undefined {
  const names = Object.keys(options);
  const short = new Map(
    Object.entries(options)
      .filter(([, option]) => option.short !== undefined)
      .map(([, option]) => [option.short!, option.type]),
  );
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--") return undefined;
    if (!arg.startsWith("-") || arg === "-" || /^-[\d.]/.test(arg)) continue;
    if (arg.startsWith("--")) {
      const name = arg.slice(2);
      if (options[name]?.type === "string") i++; // its value follows
      continue;
    }
    const word = arg.slice(1).split("=")[0];
    const chars = [...word];
    if (chars.length === 1) {
      if (short.get(word) === "string" && !arg.includes("=")) i++;
      continue;
    }
    if (chars.every((char) => short.get(char) === "boolean")) continue;
    // `-t/tmp/x`, `-t-db`: a short option and its value, not a word.
    if (short.get(chars[0]) === "string" && !/^\p{L}/u.test(chars[1])) continue;
    const name = names.includes(word) ? word : suggest(word, names);
    if (name !== undefined) return { arg, name };
  }
  return undefined;
}
