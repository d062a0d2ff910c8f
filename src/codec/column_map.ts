/**
 * Which column each field of the input loads into: the header's names (or
 * NDJSON's keys) by name, `columns` entries that skip or rename a field,
 * and the fields whose column the target table lacks (an error listing
 * them all, or skipped with `extraColumns: "ignore"`). The codecs resolve
 * the map once the header is read and leave skipped fields out of the COPY
 * rows (a keep mask in the frame core); the writer resolves the same map
 * from the same names for the COPY's column list; the source's progress
 * stores it, so a resumed run (which reads no header) decodes the same way.
 *
 * @module
 */

import { ExitCode, UsageError } from "../errors.ts";
import {
  byName,
  type ColumnEntry,
  columnOf,
  type FieldColumn,
  keyOf,
  loadedColumns,
} from "./column_entry.ts";

/**
 * The target table as a load found it before reading its source.
 *
 * @example Usage
 * ```ts
 * import type { ExistingTable } from "./column_map.ts";
 *
 * const into: ExistingTable = { name: "public.people", columns: ["id", "nick"] };
 * ```
 */
export interface ExistingTable {
  /** Its name, `schema.table`, for messages. */
  name: string;
  /** Its columns. */
  columns: readonly string[];
}

/**
 * What a field whose column the table lacks does (or an NDJSON key that is
 * no field): fail the load, or be skipped.
 *
 * @example Usage
 * ```ts
 * import type { ExtraPolicy } from "./column_map.ts";
 *
 * const skipThem: ExtraPolicy = "ignore";
 * ```
 */
export type ExtraPolicy = "error" | "ignore";

/**
 * How fields map to columns.
 *
 * @example Usage
 * ```ts
 * import type { ColumnMapOptions } from "./column_map.ts";
 *
 * const options: ColumnMapOptions = {
 *   columns: [{ field: "nickname", column: "nick" }],
 *   into: { name: "public.people", columns: ["id", "nick"] },
 *   extraColumns: "ignore",
 *   source: "people.csv",
 * };
 * ```
 */
export interface ColumnMapOptions {
  /** The fields' columns (see {@linkcode ColumnEntry}). Default: the header's names. */
  columns?: readonly ColumnEntry[];
  /**
   * The target table as the load found it: a field whose column it lacks
   * is refused (all of them named at once), or skipped with
   * `extraColumns: "ignore"`. Unset: no check (the table is created).
   */
  into?: ExistingTable;
  /** What a field whose column `into` lacks does. Default `error`. */
  extraColumns?: ExtraPolicy;
  /** The source's name, for messages. Default `<input>`. */
  source?: string;
}

/**
 * The map of a CSV source's fields, in file order: for each field the
 * column it loads into, or `null` when it is skipped. A field whose header
 * name differs from its column (or that is skipped) is a
 * `{ field, column }` entry, so the map keeps the header's names. The
 * result resolves to itself: a resumed run, which reads no header, passes
 * it back as `columns`.
 *
 * @param header The header's names, when the source has a header and it
 * was read.
 * @param options The entries, the table, and what extra fields do.
 * @returns The map, or `undefined` when nothing names the fields (no
 * header and no `columns`).
 * @throws {UsageError} If the entries do not fit the header, every field
 * is skipped, or (without `extraColumns: "ignore"`) the table lacks a
 * field's column.
 *
 * @example Header names by name, one renamed, one the table lacks skipped
 * ```ts
 * import { resolveFields } from "./column_map.ts";
 * import assert from "node:assert/strict";
 *
 * const fields = resolveFields(["age", "id", "nickname"], {
 *   columns: [{ field: "nickname", column: "nick" }],
 *   into: { name: "public.people", columns: ["id", "nick", "joined"] },
 *   extraColumns: "ignore",
 * });
 * assert.deepEqual(fields, [
 *   { field: "age", column: null },
 *   "id",
 *   { field: "nickname", column: "nick" },
 * ]);
 * ```
 *
 * @example The table lacks columns: all are named
 * ```ts
 * import { resolveFields } from "./column_map.ts";
 * import assert from "node:assert/strict";
 *
 * assert.throws(
 *   () => resolveFields(["id", "nickname", "age"], {
 *     source: "people.csv",
 *     into: { name: "public.people", columns: ["id"] },
 *   }),
 *   /^UsageError: Cannot load people.csv into public.people: the table has no column "nickname", "age" \(add them, map them with --columns, or pass --extra-columns ignore\)$/,
 * );
 * ```
 */
export function resolveFields(
  header: readonly string[] | undefined,
  options: ColumnMapOptions,
): ColumnEntry[] | undefined {
  const { columns } = options;
  if (columns === undefined && header === undefined) return undefined;
  const fields = columns === undefined
    ? [...header!]
    : header !== undefined && byName(columns)
    ? namedFields(header, columns as FieldColumn[], options)
    : positionalFields(header, columns, options);
  return checkInto(fields, options);
}

/**
 * The map of an NDJSON source's keys: each entry a key (the column of the
 * same name) or `{ field: key, column }` (renamed, or skipped with
 * `null`). A record's other keys are not fields (`extraKeys` says what
 * they do).
 *
 * @param options The entries (one per key), the table, and what keys whose
 * column the table lacks do.
 * @returns The map.
 * @throws {UsageError} If an entry is a bare `null` (NDJSON's fields have
 * no positions), a key or column is named twice, every key is skipped, or
 * (without `extraColumns: "ignore"`) the table lacks a column.
 *
 * @example Usage
 * ```ts
 * import { resolveKeys } from "./column_map.ts";
 * import assert from "node:assert/strict";
 *
 * const keys = resolveKeys({
 *   columns: ["id", { field: "nickname", column: "nick" }, "age"],
 *   into: { name: "public.people", columns: ["id", "nick"] },
 *   extraColumns: "ignore",
 * });
 * assert.deepEqual(keys, ["id", { field: "nickname", column: "nick" }, { field: "age", column: null }]);
 * ```
 */
export function resolveKeys(
  options: ColumnMapOptions & { columns: readonly ColumnEntry[] },
): ColumnEntry[] {
  const fields = options.columns.map((entry) => {
    if (entry === null) {
      throw new UsageError(
        'Cannot skip an NDJSON field by its position ("-"): its fields have none; skip a key by name with key:-',
        ExitCode.BadInput,
      );
    }
    return named(keyOf(entry), columnOf(entry));
  });
  const keys = fields.map(keyOf);
  const twice = keys.find((key, i) => keys.indexOf(key) !== i);
  if (twice !== undefined) {
    throw new UsageError(
      `Cannot read NDJSON into columns ${
        loadedColumns(fields).join(", ")
      }: key "${twice}" is named twice`,
      ExitCode.BadInput,
    );
  }
  return checkInto(fields, options);
}

/**
 * The header's names a CSV map was resolved from: each entry's field, or
 * its column when it has none (the name and the column agree).
 */
function headerOf(fields: readonly ColumnEntry[]): string[] {
  return fields.map((entry) => entry === null ? "" : keyOf(entry));
}

/**
 * How `options.columns` map the fields of a source an earlier run loaded
 * (its stored `header` flag and map), to compare with that map: against
 * the header's names the stored map keeps. A map that does not fit is
 * `options.columns` as given (so it differs).
 *
 * @param stored Whether the source has a header, and the map it stored.
 * @param format The source's format.
 * @param options This run's entries, table and policy.
 * @returns This run's map of those fields.
 *
 * @example Usage
 * ```ts
 * import { remapColumns } from "./column_map.ts";
 * import assert from "node:assert/strict";
 *
 * const stored = { header: true, columns: [{ field: "age", column: null }, "id"] };
 * assert.deepEqual(remapColumns(stored, "csv", { columns: [null, "id"] }), stored.columns);
 * assert.deepEqual(remapColumns(stored, "csv", { columns: ["x"] }), ["x"]);
 * ```
 */
export function remapColumns(
  stored: { header: boolean; columns: readonly ColumnEntry[] },
  format: "csv" | "ndjson",
  options: ColumnMapOptions & { columns: readonly ColumnEntry[] },
): ColumnEntry[] {
  try {
    if (format === "ndjson") return resolveKeys(options);
    const header = stored.header ? headerOf(stored.columns) : undefined;
    return resolveFields(header, options)!;
  } catch {
    return [...options.columns];
  }
}

/** The entry for a field named `name` (if known) loading into `column`. */
function canonical(
  name: string | undefined,
  column: string | null,
): ColumnEntry {
  return name === undefined ? column : named(name, column);
}

/** The entry for the field named `name` loading into `column`. */
function named(name: string, column: string | null): string | FieldColumn {
  return name === column ? name : { field: name, column };
}

/** By position: one entry per field, in file order. */
function positionalFields(
  header: readonly string[] | undefined,
  columns: readonly ColumnEntry[],
  options: ColumnMapOptions,
): ColumnEntry[] {
  if (header !== undefined && header.length !== columns.length) {
    throw mapError(
      options,
      `it names ${columns.length} fields and the header has ${header.length} (skip a field with -, or name fields as field:column)`,
    );
  }
  return columns.map((entry, i) => {
    if (entry !== null && typeof entry === "object") {
      if (header !== undefined && header[i] !== entry.field) {
        throw mapError(
          options,
          `field ${i + 1} is "${
            header[i]
          }" in the header, not "${entry.field}"`,
        );
      }
      return canonical(entry.field, entry.column);
    }
    return canonical(header?.[i], entry);
  });
}

/** By name: the header's fields, those the entries name mapped as they say. */
function namedFields(
  header: readonly string[],
  columns: readonly FieldColumn[],
  options: ColumnMapOptions,
): ColumnEntry[] {
  const named = new Map<string, string | null>();
  for (const { field, column } of columns) {
    if (named.has(field)) {
      throw mapError(options, `field "${field}" is named twice`);
    }
    const at = header.indexOf(field);
    if (at < 0) {
      throw mapError(
        options,
        `the header has no field "${field}" (its fields: ${header.join(", ")})`,
      );
    }
    if (header.indexOf(field, at + 1) >= 0) {
      throw mapError(options, `the header names field "${field}" twice`);
    }
    named.set(field, column);
  }
  return header.map((name) =>
    canonical(name, named.has(name) ? named.get(name)! : name)
  );
}

/**
 * Refuses the fields whose column the table lacks, all at once, or skips
 * them (`extraColumns: "ignore"`); refuses a map that keeps no field.
 */
function checkInto(
  fields: ColumnEntry[],
  options: ColumnMapOptions,
): ColumnEntry[] {
  const { into } = options;
  const source = options.source ?? "<input>";
  let checked = fields;
  if (into !== undefined) {
    const missing = [
      ...new Set(
        loadedColumns(fields).filter((column) =>
          !into.columns.includes(column)
        ),
      ),
    ];
    if (missing.length > 0 && options.extraColumns !== "ignore") {
      throw new UsageError(
        `Cannot load ${source} into ${into.name}: the table has no column ${
          missing.map((column) => `"${column}"`).join(", ")
        } (add them, map them with --columns, or pass --extra-columns ignore)`,
        ExitCode.BadInput,
      );
    }
    checked = fields.map((entry) => {
      const column = columnOf(entry);
      if (column === null || !missing.includes(column)) return entry;
      return canonical(typeof entry === "string" ? entry : entry!.field, null);
    });
  }
  if (checked.length > 0 && loadedColumns(checked).length === 0) {
    throw new UsageError(
      `Cannot load ${source}${
        into ? ` into ${into.name}` : ""
      }: every field is skipped, so there is no column to load`,
      ExitCode.BadInput,
    );
  }
  return checked;
}

/** A map that does not fit the source. */
function mapError(options: ColumnMapOptions, reason: string): UsageError {
  return new UsageError(
    `Cannot map --columns onto ${options.source ?? "<input>"}: ${reason}`,
    ExitCode.BadInput,
  );
}
