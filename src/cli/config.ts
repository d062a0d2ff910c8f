/**
 * The ingest configuration: `lanecopy ingest --config FILE` reads JSON or
 * JSONC (comments, trailing commas) and validates it against
 * `schemas/ingest.schema.json` (draft 2020-12), composed from the
 * `batchable`, `streamable`, `connection` and `csv` fragments (their
 * defaults are read in `../defaults.ts`).
 *
 * The validator (ajv) and the JSONC parser load with the first config file,
 * not with this module: few loads read a config file, and a load's memory
 * should not carry them.
 *
 * @module
 */

import type {
  ErrorObject,
  ValidateFunction,
} from "npm:ajv@8.20.0/dist/2020.js";
import type { Node, ParseError } from "npm:jsonc-parser@3.3.1";
import {
  CONFIG_SCHEMAS as SCHEMAS,
  propertyNames,
  schemaAt,
  segments,
} from "../defaults.ts";
import { ExitCode, UsageError } from "../errors.ts";

/** The options a config file may set, named as the library names them. */
export interface IngestConfig {
  /** Target table, `table` or `schema.table`. */
  table?: string;
  /** Create the table when it is missing. */
  create?: boolean;
  /** Rows per batch. */
  batchSize?: number;
  /** Milliseconds a partial batch may hold a record before it commits. */
  flushMs?: number;
  /** The lane column. */
  lane?: string;
  /** The column receiving each row's lane seq. */
  seqColumn?: string;
  /** The name progress is kept under. */
  sourceId?: string;
  /** Wait for another run of the same source instead of refusing. */
  wait?: boolean;
  /** Where rejected rows go. */
  rejectFile?: string;
  /** Stop once more than this many rows were rejected. */
  maxRejects?: number;
  /** The whole load in one transaction. */
  atomic?: boolean;
  /** Writers loading at once (`--parallel`). */
  parallel?: number;
  /** How lanes map to writers (`--routing`). */
  routing?: "hash" | "shards";
  /** Upsert (`--on-conflict`). */
  onConflict?: "nothing" | "update";
  /** The upsert's key columns (`--key`). */
  key?: string[];
  /** Replace the table's rows (`--replace`). */
  replace?: boolean;
  /** How batches go to the server (`--copy-format`). */
  copyFormat?: "auto" | "binary" | "text";
  /** PostgreSQL URL. */
  db?: string;
  /** The embedded database's directory. */
  dataDir?: string;
  /** Schema of the bookkeeping tables. */
  metaSchema?: string;
  /** Reconnect attempts after a lost connection. */
  retries?: number;
  /** The input's format; unset, from the extension or the first byte. */
  format?: "csv" | "ndjson";
  /** The decoder: WebAssembly or its TypeScript twin. */
  codec?: "wasm" | "ts";
  /** CSV field delimiter. */
  delimiter?: string;
  /** CSV quote character. */
  quote?: string;
  /** CSV escape character inside quoted fields. */
  escape?: string;
  /** The CSV NULL string. */
  nullString?: string;
  /** Whether the first record is a header. */
  header?: boolean;
  /**
   * Which column each field loads into: items as `--columns` writes them
   * (a column, `-`, `field:column`), or `{ field, column }` objects.
   */
  columns?: (string | { field: string; column: string | null })[];
  /** The input's encoding. */
  encoding?: string;
  /** What a field whose column the table lacks does. */
  extraColumns?: "error" | "ignore";
  /** What an NDJSON key that is no column does. */
  extraKeys?: "error" | "ignore";
}

/** Where each config key sits (a JSON pointer) and what it is called here. */
const KEYS: [pointer: string, option: keyof IngestConfig][] = [
  ["/table", "table"],
  ["/create", "create"],
  ["/batch_size", "batchSize"],
  ["/flush_ms", "flushMs"],
  ["/lane", "lane"],
  ["/seq_column", "seqColumn"],
  ["/source_id", "sourceId"],
  ["/wait", "wait"],
  ["/reject_file", "rejectFile"],
  ["/max_rejects", "maxRejects"],
  ["/atomic", "atomic"],
  ["/parallel", "parallel"],
  ["/routing", "routing"],
  ["/on_conflict", "onConflict"],
  ["/key", "key"],
  ["/replace", "replace"],
  ["/copy_format", "copyFormat"],
  ["/format", "format"],
  ["/codec", "codec"],
  ["/extra_keys", "extraKeys"],
  ["/connection/db", "db"],
  ["/connection/data_dir", "dataDir"],
  ["/connection/meta_schema", "metaSchema"],
  ["/connection/retries", "retries"],
  ["/csv/delimiter", "delimiter"],
  ["/csv/quote", "quote"],
  ["/csv/escape", "escape"],
  ["/csv/null", "nullString"],
  ["/csv/header", "header"],
  ["/csv/columns", "columns"],
  ["/csv/encoding", "encoding"],
  ["/csv/extra_columns", "extraColumns"],
];

/** What reading a config file needs: the JSONC parser and the compiled schema. */
interface ConfigReader {
  jsonc: typeof import("npm:jsonc-parser@3.3.1");
  validate: ValidateFunction;
}

let reader: Promise<ConfigReader> | undefined;

/** Loads ajv and jsonc-parser, and compiles the schema, once. */
function configReader(): Promise<ConfigReader> {
  return reader ??= (async () => {
    const [{ Ajv2020 }, jsonc] = await Promise.all([
      import("npm:ajv@8.20.0/dist/2020.js"),
      import("npm:jsonc-parser@3.3.1"),
    ]);
    const ajv = new Ajv2020({
      allErrors: true,
      strict: true,
      schemas: Object.values(SCHEMAS),
    });
    return { jsonc, validate: ajv.getSchema("ingest.schema.json")! };
  })();
}

/**
 * Parses and validates a config file's text. Errors name the file, the
 * line and column, the option's JSON pointer and, for an unknown option,
 * the names allowed there.
 *
 * @param text The file's text (JSON, or JSONC with comments and trailing commas).
 * @param name The file's name, for messages.
 * @returns The options it sets.
 * @throws {UsageError} When the text is not JSON or breaks the schema (the
 * promise rejects).
 *
 * @example Usage
 * ```ts
 * import { parseConfig } from "./config.ts";
 * import assert from "node:assert/strict";
 *
 * const config = await parseConfig(
 *   `{ "table": "orders", // the target
 *      "csv": { "delimiter": ";" }, }`,
 *   "load.jsonc",
 * );
 * assert.deepEqual(config, { table: "orders", delimiter: ";" });
 * await assert.rejects(
 *   parseConfig(`{ "csv": { "delimeter": ";" } }`, "load.json"),
 *   /load.json:1:12: \/csv\/delimeter is not an option \(allowed there: delimiter, quote, escape, null, header, columns, extra_columns, encoding\)/,
 * );
 * ```
 */
export async function parseConfig(
  text: string,
  name: string,
): Promise<IngestConfig> {
  const { jsonc, validate } = await configReader();
  const errors: ParseError[] = [];
  const tree = jsonc.parseTree(text, errors, { allowTrailingComma: true });
  if (errors.length > 0 || tree === undefined) {
    const first = errors[0];
    throw configError(
      name,
      text,
      first?.offset ?? 0,
      `Cannot read the config: ${
        first ? describeParseError(jsonc, first) : "it is empty"
      }`,
    );
  }
  const value = treeValue(tree);
  if (!validate(value)) {
    const error = pickError(validate.errors ?? []);
    const [offset, reason] = explain(jsonc, error, tree);
    throw configError(name, text, offset, reason);
  }
  const config: IngestConfig = {};
  for (const [pointer, option] of KEYS) {
    const node = jsonc.findNodeAtLocation(tree, segments(pointer));
    if (node !== undefined) {
      (config as Record<string, unknown>)[option] = treeValue(node);
    }
  }
  return config;
}

/**
 * Reads and validates a config file; see {@linkcode parseConfig}.
 *
 * @param path The file's path.
 * @param name The file's name in messages. Default: `path`.
 * @returns The options it sets.
 *
 * @example Usage
 * ```ts
 * import { readConfig } from "./config.ts";
 * import assert from "node:assert/strict";
 *
 * const path = await Deno.makeTempFile({ suffix: ".json" });
 * await Deno.writeTextFile(path, '{ "batch_size": 500 }');
 * assert.deepEqual(await readConfig(path), { batchSize: 500 });
 * await Deno.remove(path);
 * ```
 */
export async function readConfig(
  path: string,
  name: string = path,
): Promise<IngestConfig> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    const why = error instanceof Deno.errors.NotFound
      ? "no such file"
      : (error as Error).message;
    throw new UsageError(`Cannot read config ${name}: ${why}`);
  }
  return await parseConfig(text, name);
}

/** The JSON value of a parse tree node (jsonc-parser keeps it on leaves). */
function treeValue(node: Node): unknown {
  switch (node.type) {
    case "object":
      return Object.fromEntries(
        (node.children ?? []).map((property) => {
          const [key, value] = property.children!;
          return [key.value as string, treeValue(value)];
        }),
      );
    case "array":
      return (node.children ?? []).map(treeValue);
    default:
      return node.value;
  }
}

/** The most useful of ajv's errors: an unknown key first, else the deepest. */
function pickError(errors: ErrorObject[]): ErrorObject {
  const unknown = errors.find((error) =>
    error.keyword === "unevaluatedProperties"
  );
  if (unknown) return unknown;
  return errors.reduce((deepest, error) =>
    error.instancePath.length > deepest.instancePath.length ? error : deepest
  );
}

/** Where an ajv error points in the file, and what to say about it. */
function explain(
  jsonc: ConfigReader["jsonc"],
  error: ErrorObject,
  tree: Node,
): [number, string] {
  const path = segments(error.instancePath);
  if (error.keyword === "unevaluatedProperties") {
    const key = (error.params as { unevaluatedProperty: string })
      .unevaluatedProperty;
    const node = jsonc.findNodeAtLocation(tree, [...path, key]);
    const allowed = namesAt(path);
    return [
      node?.parent?.offset ?? 0,
      `${pointerOf([...path, key])} is not an option (allowed there: ${
        allowed.join(", ")
      })`,
    ];
  }
  const node = path.length === 0 ? tree : jsonc.findNodeAtLocation(tree, path);
  const where = path.length === 0 ? "The config" : pointerOf(path);
  let message = error.message ?? "is not valid";
  if (error.keyword === "type") {
    message = `must be ${
      /^[aeiou]/.test(String(error.params.type)) ? "an" : "a"
    } ${error.params.type}`;
  }
  return [node?.offset ?? 0, `${where} ${message}`];
}

/** The option names allowed in the object at `path`. */
function namesAt(path: string[]): string[] {
  const schema = schemaAt(SCHEMAS["ingest.schema.json"], path);
  return schema
    ? propertyNames(schema).filter((name) => name !== "$schema")
    : [];
}

function pointerOf(path: string[]): string {
  return path.map((part) =>
    "/" + part.replaceAll("~", "~0").replaceAll("/", "~1")
  ).join("");
}

function describeParseError(
  jsonc: ConfigReader["jsonc"],
  error: ParseError,
): string {
  const words = jsonc.printParseErrorCode(error.error)
    .replace(/([a-z])([A-Z])/g, "$1 $2").toLowerCase();
  return words;
}

/**
 * A config file that cannot be read or breaks the schema, with where: its
 * message starts `file:line:column:`, and the three are fields too.
 *
 * @example Usage
 * ```ts
 * import { ConfigError, parseConfig } from "./config.ts";
 * import assert from "node:assert/strict";
 *
 * const error = await parseConfig('{ "batch_size": 0 }', "load.json").catch((e) => e);
 * assert.ok(error instanceof ConfigError);
 * assert.deepEqual([error.source, error.line, error.column], ["load.json", 1, 17]);
 * ```
 */
export class ConfigError extends UsageError {
  /** The config file's name. */
  readonly source: string;
  /** 1-based line. */
  readonly line: number;
  /** 1-based column, in characters. */
  readonly column: number;

  /**
   * @param reason What is wrong.
   * @param position The file, line and column.
   */
  constructor(
    reason: string,
    position: { source: string; line: number; column: number },
  ) {
    super(
      `${position.source}:${position.line}:${position.column}: ${reason}`,
      ExitCode.Failure,
    );
    this.name = "ConfigError";
    this.source = position.source;
    this.line = position.line;
    this.column = position.column;
  }
}

/** A config error at a byte offset of the text, as `file:line:column`. */
function configError(
  name: string,
  text: string,
  offset: number,
  reason: string,
): ConfigError {
  const before = text.slice(0, offset);
  const line = before.split("\n").length;
  const column = [...before.slice(before.lastIndexOf("\n") + 1)].length + 1;
  return new ConfigError(reason, { source: name, line, column });
}
