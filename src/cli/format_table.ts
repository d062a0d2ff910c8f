/**
 * Query results as text, the way psql prints them: `sql` and `status`
 * show their rows with it.
 *
 * @module
 */

import stringWidth from "npm:string-width@9.0.0";
import { printable } from "../errors.ts";
import { count } from "./count.ts";

/**
 * Rows as an aligned text table, the way psql prints them: a header, a
 * rule, one line per row and the row count. Columns line up on the
 * terminal however wide their characters are (East Asian wide characters
 * and emoji take two columns). NULL shows as `NULL` and the empty string as
 * nothing; line breaks, tabs and other control characters in a value show
 * escaped (`\n`, `\r`, `\t`, `\u0007`), so a row stays on one line. A date
 * shows in ISO 8601, bytes as `\x` and hex digits, an object or array as
 * JSON.
 *
 * @param fields The column names, in order.
 * @param rows The rows, each keyed by column name or an array in column order.
 * @returns The table, without a final line break.
 *
 * @example Usage
 * ```ts
 * import { formatTable } from "./format_table.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(
 *   formatTable(["id", "region"], [{ id: 1, region: "eu" }, { id: 20, region: null }, { id: 3, region: "" }]),
 *   "id | region\n---+-------\n1  | eu\n20 | NULL\n3  |\n(3 rows)",
 * );
 * assert.equal(
 *   formatTable(["city", "n"], [["東京", "1"], ["a\nb", "2"]]),
 *   "city | n\n-----+--\n東京 | 1\na\\nb | 2\n(2 rows)",
 * );
 * ```
 */
export function formatTable(
  fields: readonly string[],
  rows: readonly (Readonly<Record<string, unknown>> | readonly unknown[])[],
): string {
  const cells = rows.map((row) =>
    fields.map((field, i) =>
      showValue(
        Array.isArray(row) ? row[i] : (row as Record<string, unknown>)[field],
      )
    )
  );
  const header = fields.map(printable);
  const widths = header.map((name, i) =>
    Math.max(stringWidth(name), ...cells.map((cell) => stringWidth(cell[i])))
  );
  const line = (values: string[]) =>
    values.map((value, i) =>
      i === values.length - 1
        ? value
        : value + " ".repeat(widths[i] - stringWidth(value))
    ).join(" | ").replace(/ +$/, (spaces) =>
      // Only the padding after an empty last cell is trimmed.
      values[values.length - 1] === "" ? "" : spaces);
  return [
    line(header),
    widths.map((width) => "-".repeat(width)).join("-+-"),
    ...cells.map(line),
    `(${count(rows.length, "row")})`,
  ].join("\n");
}

/** A value as a table cell. */
function showValue(value: unknown): string {
  if (value === null || value === undefined) return "NULL";
  if (value instanceof Date) return value.toISOString();
  if (value instanceof Uint8Array) {
    return `\\x${
      Array.from(value, (byte) => byte.toString(16).padStart(2, "0")).join("")
    }`;
  }
  if (typeof value === "object") {
    return printable(
      JSON.stringify(
        value,
        (_key, v) => typeof v === "bigint" ? v.toString() : v,
      ),
    );
  }
  return printable(String(value));
}
