/**
 * The target table's columns as the catalog lists them.
 *
 * @module
 */

import { quoteTableName, type TableName } from "./table_name.ts";
import type { Target } from "./target.ts";

/**
 * The table's column names in order, or `undefined` when it does not exist.
 *
 * @param target An open database.
 * @param table The table.
 * @returns Its columns, or `undefined`.
 *
 * @example Usage
 * ```ts
 * import { tableColumns } from "./table_columns.ts";
 * import { openTarget } from "./open_target.ts";
 * import assert from "node:assert/strict";
 *
 * const dataDir = await Deno.makeTempDir();
 * const target = await openTarget({ dataDir });
 * await target.query('create table t (id int, "Name" text)');
 * assert.deepEqual(await tableColumns(target, { schema: "public", table: "t" }), ["id", "Name"]);
 * assert.equal(await tableColumns(target, { schema: "public", table: "u" }), undefined);
 * await target.close();
 * await Deno.remove(dataDir, { recursive: true });
 * ```
 */
export async function tableColumns(
  target: Target,
  table: TableName,
): Promise<string[] | undefined> {
  const { rows } = await target.query(
    `SELECT to_regclass($1)::oid AS oid,
            array(SELECT attname::text FROM pg_catalog.pg_attribute
                   WHERE attrelid = to_regclass($1) AND attnum > 0 AND NOT attisdropped
                   ORDER BY attnum) AS columns`,
    [quoteTableName(table)],
  );
  if (rows[0].oid === null) return undefined;
  return rows[0].columns as string[];
}
