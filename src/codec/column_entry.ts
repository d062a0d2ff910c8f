/**
 * How a load says where each field of its input goes (`ColumnEntry`: a
 * column, a skip, a field renamed), and what a list of entries says: the
 * column of each, its key, whether it goes by name, how many fields it
 * gives, the columns it loads and the keep mask the frame cores take.
 * `column_map.ts` resolves entries against a header and a table.
 *
 * @module
 */

/**
 * Where one field of the input goes, as `columns` gives it:
 * - a column name: the field loads into that column;
 * - `null`: the field is skipped (by position: CSV only);
 * - `{ field, column }`: the field the header (or NDJSON's key) names
 *   `field` loads into `column`, or is skipped when `column` is `null`.
 *
 * A list of only `{ field, column }` entries names fields by name: it may
 * be partial and in any order, and a field it leaves out loads into the
 * column its header names. Any other list goes by position, one entry per
 * field in file order (a `{ field, column }` entry then checks that the
 * header names that field there).
 *
 * @example Usage
 * ```ts
 * import type { ColumnEntry } from "./column_entry.ts";
 *
 * const byPosition: ColumnEntry[] = ["id", null, "nick"]; // the second field skipped
 * const byName: ColumnEntry[] = [{ field: "nickname", column: "nick" }, { field: "age", column: null }];
 * ```
 */
export type ColumnEntry = string | null | FieldColumn;

/**
 * A field named by its header name (or NDJSON key), and its column.
 *
 * @example Usage
 * ```ts
 * import type { FieldColumn } from "./column_entry.ts";
 *
 * const renamed: FieldColumn = { field: "nickname", column: "nick" };
 * ```
 */
export interface FieldColumn {
  /** The field's name in the header, or the NDJSON key. */
  field: string;
  /** The column it loads into, or `null` when the load skips it. */
  column: string | null;
}

/**
 * The column an entry loads into (`null`: skipped).
 *
 * @param entry A resolved or given entry.
 * @returns Its column, or `null`.
 *
 * @example Usage
 * ```ts
 * import { columnOf } from "./column_entry.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(columnOf("id"), "id");
 * assert.equal(columnOf({ field: "nickname", column: "nick" }), "nick");
 * assert.equal(columnOf(null), null);
 * ```
 */
export function columnOf(entry: ColumnEntry): string | null {
  return entry === null || typeof entry === "string" ? entry : entry.column;
}

/**
 * Whether `columns` names its fields by name (every entry a
 * `{ field, column }`), which needs the header's names to resolve.
 *
 * @param columns The entries, if given.
 * @returns Whether they go by name.
 *
 * @example Usage
 * ```ts
 * import { byName } from "./column_entry.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(byName([{ field: "a", column: "b" }]), true);
 * assert.equal(byName(["a", { field: "b", column: null }]), false);
 * assert.equal(byName(undefined), false);
 * ```
 */
export function byName(columns: readonly ColumnEntry[] | undefined): boolean {
  return columns !== undefined && columns.length > 0 &&
    columns.every((entry) => entry !== null && typeof entry === "object");
}

/**
 * How many fields each record has, as `columns` says: its length when it
 * goes by position, else unknown (the header says).
 *
 * @param columns The entries, if given.
 * @returns The field count, or `undefined`.
 *
 * @example Usage
 * ```ts
 * import { fieldCountOf } from "./column_entry.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(fieldCountOf(["a", null, "c"]), 3);
 * assert.equal(fieldCountOf([{ field: "a", column: "b" }]), undefined);
 * ```
 */
export function fieldCountOf(
  columns: readonly ColumnEntry[] | undefined,
): number | undefined {
  return columns === undefined || byName(columns) ? undefined : columns.length;
}

/**
 * The NDJSON key (or header name) an entry reads: its field, else its
 * column.
 *
 * @param entry An entry that is not `null`.
 * @returns Its key.
 *
 * @example Usage
 * ```ts
 * import { keyOf } from "./column_entry.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(keyOf("id"), "id");
 * assert.equal(keyOf({ field: "nickname", column: "nick" }), "nickname");
 * ```
 */
export function keyOf(entry: string | FieldColumn): string {
  return typeof entry === "string" ? entry : entry.field;
}

/**
 * The columns a map loads, in file order: the COPY's column list.
 *
 * @param fields A map (see {@linkcode resolveFields}).
 * @returns The columns of the fields it keeps.
 *
 * @example Usage
 * ```ts
 * import { loadedColumns } from "./column_entry.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(loadedColumns(["id", null, { field: "nickname", column: "nick" }]), ["id", "nick"]);
 * ```
 */
export function loadedColumns(fields: readonly ColumnEntry[]): string[] {
  return fields.map(columnOf).filter((column) => column !== null);
}

/**
 * The keep mask of a map: a byte per field, 1 when the COPY row holds it;
 * `undefined` when every field is kept.
 *
 * @param fields A map.
 * @returns The mask, or `undefined`.
 *
 * @example Usage
 * ```ts
 * import { keepMask } from "./column_entry.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(keepMask(["a", null, "c"]), Uint8Array.of(1, 0, 1));
 * assert.equal(keepMask(["a", "b"]), undefined);
 * ```
 */
export function keepMask(
  fields: readonly ColumnEntry[],
): Uint8Array | undefined {
  if (fields.every((entry) => columnOf(entry) !== null)) return undefined;
  return Uint8Array.from(fields, (entry) => columnOf(entry) === null ? 0 : 1);
}
