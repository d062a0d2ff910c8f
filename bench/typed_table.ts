/**
 * The typed target table the benchmarks load `generate.ts` output into.
 *
 * @module
 */

/** The typed table's columns in file order, as `[name, SQL type]`. */
export const TYPED_COLUMNS: readonly (readonly [string, string])[] = [
  ["id", "bigint"],
  ["body", "text"],
  ["qty", "int"],
  ["price", "numeric(12,2)"],
  ["active", "bool"],
  ["created_at", "timestamptz"],
  ["lane", "text"],
  ["payload", "jsonb"],
  ["note", "text"],
  ["ref", "uuid"],
];

/**
 * Returns the `CREATE TABLE` statement for the typed table that matches the
 * header and values of {@linkcode generateCsv}.
 *
 * @param qualifiedQuotedName The table's name, already quoted and qualified
 * as it should appear in SQL (e.g. `"public"."bench"`).
 * @returns One `CREATE TABLE` statement, without a trailing semicolon.
 *
 * @example The statement names every column with its type
 * ```ts
 * import { typedTableDdl } from "./typed_table.ts";
 * import assert from "node:assert/strict";
 *
 * const ddl = typedTableDdl('"public"."bench"');
 * assert.ok(ddl.startsWith('CREATE TABLE "public"."bench" (id bigint, body text'));
 * assert.ok(ddl.endsWith("note text, ref uuid)"));
 * ```
 */
export function typedTableDdl(qualifiedQuotedName: string): string {
  const columns = TYPED_COLUMNS.map(([name, type]) => `${name} ${type}`);
  return `CREATE TABLE ${qualifiedQuotedName} (${columns.join(", ")})`;
}
