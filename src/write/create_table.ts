/**
 * `--create`: the missing target table made from the input's columns
 * (their inferred types, the seq column with a lane, the upsert key as
 * primary key) and, on a Citus coordinator, distributed.
 *
 * @module
 */

import { UsageError } from "../errors.ts";
import {
  formatTableName,
  quoteIdentifier,
  quoteTableName,
  type TableName,
} from "../target/table_name.ts";
import type { Session, Target } from "../target/target.ts";

/** What {@linkcode createTable} needs of the load's options. */
export interface CreateTableOptions {
  /** The database. */
  target: Target;
  /** The table to create. */
  table: TableName;
  /** Whether creating was asked for (`--create`); else the missing table is refused. */
  create?: boolean;
  /** Each column's SQL type, by position (default `text`). */
  columnTypes?: readonly string[];
  /** The lane column: the seq column is added with it. */
  lane?: string;
  /** The upsert's key, which becomes the primary key. */
  onConflict?: { key?: readonly string[] };
  /** On Citus: the distribution column (default the lane column). */
  distributeBy?: string;
  /** Says what was created. */
  onNotice?: (message: string) => void;
}

/**
 * Creates the missing table (a column of its type for each name, and the
 * seq column with a lane) and its schema when that is missing, or refuses
 * without `create`. Under a transaction-scoped advisory lock, since
 * writers may create at once and concurrent `CREATE … IF NOT EXISTS` can
 * still fail on the catalog's unique index; only the one that creates
 * tells. On Citus the table is distributed by `distributeBy` or the lane
 * column, which must be a column and, with a key, one of the key's.
 *
 * @param options The database, the table, what to create.
 * @param names The input's column names.
 * @param seqColumn The seq column's name (added with a lane).
 *
 * @example Usage
 * ```ts
 * import { createTable } from "./create_table.ts";
 * import { openTarget } from "../target/open_target.ts";
 * import assert from "node:assert/strict";
 *
 * const dataDir = await Deno.makeTempDir();
 * const target = await openTarget({ dataDir });
 * const table = { schema: "shop", table: "orders" };
 * const notices: string[] = [];
 * await createTable(
 *   { target, table, create: true, columnTypes: ["bigint"], onNotice: (m) => notices.push(m) },
 *   ["id", "note"],
 *   "lane_seq",
 * );
 * assert.deepEqual(notices, ["created schema shop", "created shop.orders (id bigint, note text)"]);
 * await target.close();
 * await Deno.remove(dataDir, { recursive: true });
 * ```
 */
export async function createTable(
  options: CreateTableOptions,
  names: readonly string[],
  seqColumn: string,
): Promise<void> {
  const { table } = options;
  if (!options.create) {
    throw new UsageError(
      `Cannot load into ${
        formatTableName(table)
      }: the table does not exist (pass --create to create it with a column for each of: ${
        names.join(", ")
      })`,
    );
  }
  const columns: [string, string][] = names.map((
    column,
    i,
  ) => [column, options.columnTypes?.[i] ?? "text"]);
  if (options.lane !== undefined) columns.push([seqColumn, "bigint"]);
  const key = options.onConflict?.key;
  const primaryKey = key?.length
    ? `, PRIMARY KEY (${key.map(quoteIdentifier).join(", ")})`
    : "";
  const created = await options.target.transaction(async (session) => {
    await session.query(
      "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))",
      [`lanecopy create ${quoteTableName(table)}`],
    );
    if (await exists(session, "to_regclass", quoteTableName(table))) {
      return [];
    }
    const done: string[] = [];
    if (
      !await exists(session, "to_regnamespace", quoteIdentifier(table.schema))
    ) {
      await session.query(
        `CREATE SCHEMA IF NOT EXISTS ${quoteIdentifier(table.schema)}`,
      );
      done.push(`created schema ${table.schema}`);
    }
    await session.query(
      `CREATE TABLE ${quoteTableName(table)} (${
        columns.map(([name, type]) => `${quoteIdentifier(name)} ${type}`)
          .join(", ")
      }${primaryKey})`,
    );
    done.push(
      `created ${formatTableName(table)} (${
        columns.map(([name, type]) => `${name} ${type}`).join(", ")
      }${key?.length ? `, primary key (${key.join(", ")})` : ""})`,
    );
    const by = await distributionColumn(
      session,
      options,
      columns.map(([name]) => name),
    );
    if (by !== undefined) {
      await session.query("SELECT create_distributed_table($1, $2)", [
        quoteTableName(table),
        by,
      ]);
      done.push(`distributed ${formatTableName(table)} by ${by} (Citus)`);
    }
    return done;
  });
  for (const message of created) options.onNotice?.(message);
}

/**
 * The column a new table is distributed by: `distributeBy`, else the lane
 * column, on a Citus coordinator; none elsewhere (`distributeBy` is then
 * refused).
 */
async function distributionColumn(
  session: Session,
  options: CreateTableOptions,
  columns: readonly string[],
): Promise<string | undefined> {
  const { rows } = await session.query(
    "SELECT EXISTS (SELECT FROM pg_catalog.pg_extension WHERE extname = 'citus') AS citus",
  );
  if (rows[0].citus !== true) {
    if (options.distributeBy === undefined) return undefined;
    throw new UsageError(
      `Cannot use --distribute-by ${options.distributeBy}: the database has no Citus extension, so a table cannot be distributed (leave --distribute-by out)`,
    );
  }
  const by = options.distributeBy ?? options.lane;
  if (by === undefined) return undefined;
  const name = formatTableName(options.table);
  if (!columns.includes(by)) {
    throw new UsageError(
      `Cannot create ${name} distributed by "${by}" (--distribute-by): it would have no such column (its columns: ${
        columns.join(", ")
      })`,
    );
  }
  const key = options.onConflict?.key;
  if (key?.length && !key.includes(by)) {
    throw new UsageError(
      `Cannot create ${name} distributed by "${by}" with the primary key (${
        key.join(", ")
      }): Citus needs the distribution column in every unique key. Add it to the key (--key ${
        [...key, by].join(",")
      }) or distribute by a key column (--distribute-by ${key[0]})`,
    );
  }
  return by;
}

/** Whether `lookup` (`to_regclass`, `to_regnamespace`) finds `name`. */
async function exists(
  session: Session,
  lookup: "to_regclass" | "to_regnamespace",
  name: string,
): Promise<boolean> {
  const { rows } = await session.query(
    `SELECT ${lookup}($1) IS NOT NULL AS found`,
    [name],
  );
  return rows[0].found === true;
}
