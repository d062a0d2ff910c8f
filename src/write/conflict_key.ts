/**
 * The key an upsert or a replace matches rows by: a primary key or a
 * unique index of the target, as the catalog has it.
 *
 * @module
 */

import { ExitCode, UsageError } from "../errors.ts";
import { formatTableName, quoteTableName } from "../target/table_name.ts";
import type { TableName } from "../target/table_name.ts";
import type { Session } from "../target/target.ts";

/** A unique index (or the primary key) of a table, as ON CONFLICT can use it. */
export interface UniqueKey {
  /** Its key columns, in index order. */
  columns: string[];
  /** Whether it is the primary key. */
  primary: boolean;
  /** Whether a row whose key holds a NULL can never conflict (NULLs distinct). */
  nullsDistinct: boolean;
  /** Whether one of its columns may hold NULL. */
  nullable: boolean;
}

/**
 * The unique keys ON CONFLICT can name on `table`: its primary key and
 * unique indexes that are immediate (not deferrable), not partial and on
 * plain columns; the primary key first.
 *
 * @param session An open database.
 * @param table The table.
 * @returns Its keys (none when the table is missing).
 *
 * @example Usage
 * ```ts
 * import { uniqueKeys } from "./conflict_key.ts";
 * import { openTarget } from "../target/open_target.ts";
 * import assert from "node:assert/strict";
 *
 * const dataDir = await Deno.makeTempDir();
 * const target = await openTarget({ dataDir });
 * await target.query("create table t (id int primary key, email text unique)");
 * const keys = await uniqueKeys(target, { schema: "public", table: "t" });
 * assert.deepEqual(keys.map((key) => key.columns), [["id"], ["email"]]);
 * await target.close();
 * await Deno.remove(dataDir, { recursive: true });
 * ```
 */
export async function uniqueKeys(
  session: Session,
  table: TableName,
): Promise<UniqueKey[]> {
  const { rows } = await session.query(
    `SELECT i.indisprimary AS primary,
            array_agg(a.attname::text ORDER BY k.ord) AS columns,
            bool_or(NOT a.attnotnull) AS nullable,
            bool_or(coalesce((to_jsonb(i) ->> 'indnullsnotdistinct')::bool, false))
              AS nulls_not_distinct
       FROM pg_catalog.pg_index i
      CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
       JOIN pg_catalog.pg_attribute a
         ON a.attrelid = i.indrelid AND a.attnum = k.attnum
      WHERE i.indrelid = to_regclass($1) AND i.indisunique AND i.indimmediate
        AND i.indpred IS NULL AND i.indexprs IS NULL AND i.indisvalid
        AND k.ord <= i.indnkeyatts
      GROUP BY i.indexrelid, i.indisprimary
      ORDER BY i.indisprimary DESC, i.indexrelid`,
    [quoteTableName(table)],
  );
  return rows.map((row) => ({
    columns: row.columns as string[],
    primary: row.primary === true,
    nullable: row.nullable === true,
    nullsDistinct: row.nulls_not_distinct !== true,
  }));
}

/** What {@linkcode conflictKey} chooses among. */
export interface ConflictKeyRequest {
  /** The table. */
  table: TableName;
  /** The key the user named (`--key`), if any. */
  key?: readonly string[];
  /** The columns the load fills (a key must be among them). */
  loaded: readonly string[];
  /** The option the key serves, for messages (`--on-conflict update`). */
  option: string;
}

/**
 * The key ON CONFLICT matches by: the unique key whose columns are those
 * named (`--key`, in any order), else the primary key. Refuses (exit 4)
 * with the keys to choose from when there is none, or when a key column is
 * not among the loaded ones.
 *
 * @param session An open database.
 * @param request The table, the named key, the loaded columns.
 * @returns The key.
 *
 * @example Usage
 * ```ts
 * import { conflictKey } from "./conflict_key.ts";
 * import { openTarget } from "../target/open_target.ts";
 * import assert from "node:assert/strict";
 *
 * const dataDir = await Deno.makeTempDir();
 * const target = await openTarget({ dataDir });
 * await target.query("create table t (a int, b int, c text, unique (b, a))");
 * const table = { schema: "public", table: "t" };
 * const option = "--on-conflict update";
 * const key = await conflictKey(target, { table, key: ["a", "b"], loaded: ["a", "b", "c"], option });
 * assert.deepEqual(key.columns, ["b", "a"]);
 * await assert.rejects(
 *   conflictKey(target, { table, loaded: ["a", "b", "c"], option }),
 *   /no primary key; pass --key/,
 * );
 * await target.close();
 * await Deno.remove(dataDir, { recursive: true });
 * ```
 */
export async function conflictKey(
  session: Session,
  request: ConflictKeyRequest,
): Promise<UniqueKey> {
  const keys = await uniqueKeys(session, request.table);
  const name = formatTableName(request.table);
  const listed = keys.map((key) =>
    `(${key.columns.join(", ")})${key.primary ? " [primary key]" : ""}`
  ).join(", ");
  let chosen: UniqueKey | undefined;
  if (request.key !== undefined) {
    const wanted = new Set(request.key);
    chosen = keys.find((key) =>
      key.columns.length === wanted.size &&
      key.columns.every((column) => wanted.has(column))
    );
    if (chosen === undefined) {
      throw new UsageError(
        `Cannot load into ${name} with ${request.option} --key ${
          request.key.join(",")
        }: no primary key or unique index is on exactly (${
          request.key.join(", ")
        }); ${
          keys.length > 0
            ? `the table's are ${listed}: pass one of them with --key`
            : "the table has none"
        }, or create one: CREATE UNIQUE INDEX ON ${name} (${
          request.key.join(", ")
        })`,
        ExitCode.Refused,
      );
    }
  } else {
    chosen = keys.find((key) => key.primary);
    if (chosen === undefined) {
      throw new UsageError(
        `Cannot load into ${name} with ${request.option}: the table has no primary key; ${
          keys.length > 0
            ? `pass --key with the columns of one of its unique indexes: ${listed}`
            : "it has no unique index either, which ON CONFLICT needs: create one, then pass its columns with --key"
        }`,
        ExitCode.Refused,
      );
    }
  }
  const missing = chosen.columns.filter((column) =>
    !request.loaded.includes(column)
  );
  if (missing.length > 0) {
    throw new UsageError(
      `Cannot load into ${name} with ${request.option}: key column${
        missing.length === 1 ? "" : "s"
      } ${missing.map((column) => `"${column}"`).join(", ")} of (${
        chosen.columns.join(", ")
      }) ${
        missing.length === 1 ? "is" : "are"
      } not loaded from the input, so no record could match a row by it (load ${
        missing.length === 1 ? "it" : "them"
      }, or choose another key with --key)`,
      ExitCode.Refused,
    );
  }
  return chosen;
}
