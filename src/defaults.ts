/**
 * Every default, read from the config schemas (`schemas/*.schema.json`),
 * which state each one once. The library and the CLI both read
 * {@linkcode DEFAULTS}; the CLI's config reader walks the same schemas.
 * Importing this module loads the schemas' JSON, not the validator.
 *
 * @module
 */

import batchableSchema from "../schemas/batchable.schema.json" with {
  type: "json",
};
import connectionSchema from "../schemas/connection.schema.json" with {
  type: "json",
};
import csvSchema from "../schemas/csv.schema.json" with { type: "json" };
import ingestSchema from "../schemas/ingest.schema.json" with { type: "json" };
import streamableSchema from "../schemas/streamable.schema.json" with {
  type: "json",
};

/** Every config schema by its `$id`, for `$ref`s and for naming allowed keys. */
export const CONFIG_SCHEMAS: Record<string, JsonSchema> = Object.fromEntries(
  [
    batchableSchema,
    streamableSchema,
    connectionSchema,
    csvSchema,
    ingestSchema,
  ].map((schema) => [schema.$id, schema as JsonSchema]),
);

/** The parts of a JSON Schema this module walks. */
export interface JsonSchema {
  $id?: string;
  $ref?: string;
  allOf?: JsonSchema[];
  properties?: Record<string, JsonSchema>;
  default?: unknown;
}

/**
 * The default of the option at a JSON pointer, read from the schemas.
 *
 * @param pointer The option's JSON pointer in a config file.
 * @returns Its default.
 */
function schemaDefault<T>(pointer: string): T {
  const schema = schemaAt(
    CONFIG_SCHEMAS["ingest.schema.json"],
    segments(pointer),
  );
  if (schema?.default === undefined) {
    throw new Error(`The schema gives ${pointer} no default`);
  }
  return schema.default as T;
}

/**
 * The defaults of every option that has one, as the schemas state them.
 *
 * @example Usage
 * ```ts
 * import { DEFAULTS } from "./defaults.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(DEFAULTS.batchSize, 10_000);
 * assert.equal(DEFAULTS.metaSchema, "lanecopy");
 * ```
 */
export const DEFAULTS = {
  /** Rows per batch. */
  batchSize: schemaDefault<number>("/batch_size"),
  /** Milliseconds a partial batch may hold a record. */
  flushMs: schemaDefault<number>("/flush_ms"),
  /** The seq column. */
  seqColumn: schemaDefault<string>("/seq_column"),
  /** The bookkeeping schema. */
  metaSchema: schemaDefault<string>("/connection/meta_schema"),
  /** The embedded database's directory. */
  dataDir: schemaDefault<string>("/connection/data_dir"),
  /** The CSV delimiter. */
  delimiter: schemaDefault<string>("/csv/delimiter"),
  /** The input's encoding. */
  encoding: schemaDefault<string>("/csv/encoding"),
  /** Writers loading at once. */
  parallel: schemaDefault<number>("/parallel"),
  /** Reconnect attempts after a lost connection. */
  retries: schemaDefault<number>("/connection/retries"),
} as const;

/** The schema of the value at `path`, through `allOf` and `$ref`. */
export function schemaAt(
  schema: JsonSchema,
  path: string[],
): JsonSchema | undefined {
  if (path.length === 0) return resolve(schema);
  const [key, ...rest] = path;
  const resolved = resolve(schema);
  const own = resolved.properties?.[key];
  if (own) return schemaAt(own, rest);
  for (const part of resolved.allOf ?? []) {
    const found = schemaAt(part, path);
    if (found) return found;
  }
  return undefined;
}

/** A schema's property names, through `allOf` and `$ref`. */
export function propertyNames(schema: JsonSchema): string[] {
  const resolved = resolve(schema);
  return [
    ...(resolved.allOf ?? []).flatMap(propertyNames),
    ...Object.keys(resolved.properties ?? {}),
  ];
}

function resolve(schema: JsonSchema): JsonSchema {
  return schema.$ref === undefined
    ? schema
    : resolve(CONFIG_SCHEMAS[schema.$ref]);
}

/** A JSON pointer's segments, unescaped. */
export function segments(pointer: string): string[] {
  return pointer === ""
    ? []
    : pointer.slice(1).split("/").map((part) =>
      part.replaceAll("~1", "/").replaceAll("~0", "~")
    );
}
