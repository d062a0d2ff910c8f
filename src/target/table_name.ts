/**
 * Target table names: `schema.table` as given on the command line, each
 * part quoted when it reaches SQL.
 *
 * @module
 */

/** A schema-qualified table name, each part exactly as written. */
export interface TableName {
  /** The schema; `public` when the name had none. */
  readonly schema: string;
  /** The table. */
  readonly table: string;
}

/**
 * Parses `table`, `schema.table`, or either part double-quoted (`"a.b"."C"`,
 * with `""` for a quote inside).
 *
 * @param name The name as given.
 * @returns Its parts.
 *
 * @example Usage
 * ```ts
 * import { parseTableName } from "./table_name.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(parseTableName("orders"), { schema: "public", table: "orders" });
 * assert.deepEqual(parseTableName('"My.Schema".Orders'), { schema: "My.Schema", table: "Orders" });
 * ```
 */
export function parseTableName(name: string): TableName {
  const parts: string[] = [];
  let i = 0;
  while (i <= name.length) {
    let part = "";
    if (name[i] === '"') {
      i++;
      while (i < name.length && !(name[i] === '"' && name[i + 1] !== '"')) {
        part += name[i];
        i += name[i] === '"' ? 2 : 1;
      }
      if (name[i] !== '"') throw invalid(name, "a quote is not closed");
      i++;
    } else {
      const dot = name.indexOf(".", i);
      part = name.slice(i, dot === -1 ? name.length : dot);
      i += part.length;
    }
    if (part === "") throw invalid(name, "a part is empty");
    parts.push(part);
    if (i === name.length) break;
    if (name[i] !== ".") throw invalid(name, `unexpected "${name[i]}"`);
    i++;
  }
  if (parts.length === 1) return { schema: "public", table: parts[0] };
  if (parts.length === 2) return { schema: parts[0], table: parts[1] };
  throw invalid(name, "expected table or schema.table");
}

function invalid(name: string, why: string): RangeError {
  return new RangeError(`Cannot use "${name}" as a table name: ${why}`);
}

/**
 * Quotes an identifier for SQL.
 *
 * @param identifier A name, exactly as it should match.
 * @returns It in double quotes, inner quotes doubled.
 *
 * @example Usage
 * ```ts
 * import { quoteIdentifier } from "./table_name.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(quoteIdentifier('we"ird'), '"we""ird"');
 * ```
 */
export function quoteIdentifier(identifier: string): string {
  return `"${identifier.replaceAll('"', '""')}"`;
}

/**
 * The table as SQL: `"schema"."table"`.
 *
 * @param name A parsed table name.
 * @returns The quoted, qualified name.
 *
 * @example Usage
 * ```ts
 * import { quoteTableName } from "./table_name.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(quoteTableName({ schema: "public", table: "T" }), '"public"."T"');
 * ```
 */
export function quoteTableName(name: TableName): string {
  return `${quoteIdentifier(name.schema)}.${quoteIdentifier(name.table)}`;
}

/**
 * The table as people and bookkeeping spell it: `schema.table`.
 *
 * @param name A parsed table name.
 * @returns The qualified name, unquoted.
 *
 * @example Usage
 * ```ts
 * import { formatTableName } from "./table_name.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(formatTableName({ schema: "public", table: "t" }), "public.t");
 * ```
 */
export function formatTableName(name: TableName): string {
  return `${name.schema}.${name.table}`;
}
