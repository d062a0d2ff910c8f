/**
 * Query results as text, the way psql prints them: `sql` and `status`
 * show their rows with it.
 *
 * @module
 */

/**
 * Rows as an aligned text table, the way psql prints them: a header, a
 * rule, one line per row and the row count. NULL shows as nothing, a date
 * in ISO 8601, an object or array as JSON.
 *
 * @param fields The column names, in order.
 * @param rows The rows, keyed by column name.
 * @returns The table, without a final line break.
 *
 * @example Usage
 * ```ts
 * import { formatTable } from "./format_table.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(
 *   formatTable(["id", "region"], [{ id: 1, region: "eu" }, { id: 20, region: null }]),
 *   "id | region\n---+-------\n1  | eu\n20 |\n(2 rows)",
 * );
 * ```
 */
export function formatTable(
  fields: string[],
  rows: readonly object[],
): string {
  const cells = rows.map((row) =>
    fields.map((field) => showValue((row as Record<string, unknown>)[field]))
  );
  const widths = fields.map((field, i) =>
    Math.max(field.length, ...cells.map((cell) => cell[i].length))
  );
  const line = (values: string[]) =>
    values.map((value, i) => value.padEnd(widths[i])).join(" | ").trimEnd();
  return [
    line(fields),
    widths.map((width) => "-".repeat(width)).join("-+-"),
    ...cells.map(line),
    `(${rows.length} row${rows.length === 1 ? "" : "s"})`,
  ].join("\n");
}

function showValue(value: unknown): string {
  if (value === null || value === undefined) return "";
  if (value instanceof Date) return value.toISOString();
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}
