/**
 * Upserts at COPY speed: a batch's rows are COPYed into a temporary
 * staging table, then one `INSERT … SELECT … ON CONFLICT` moves them into
 * the target, in the batch's transaction. Within a batch the last record
 * of a key wins (`update`) or the first does (`nothing`), so no row is
 * touched twice; rows go in key order, so writers never deadlock.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { quoteIdentifier, quoteTableName } from "../target/table_name.ts";
import type { TableName } from "../target/table_name.ts";
import type { CopySpec, Session } from "../target/target.ts";
import type { UniqueKey } from "./conflict_key.ts";

/** What an upsert does with a record whose key the table holds. */
export type ConflictAction = "nothing" | "update";

/** What a batch's records did to the table. */
export interface RowsApplied {
  /** Records that inserted a row. */
  inserted: number;
  /** Records that updated a row (`update`; in input order, the last one's values stay). */
  updated: number;
  /** Records that changed nothing: their key was there already (`nothing`). */
  skipped: number;
}

/** Options for {@linkcode UpsertStaging.open}. */
export interface UpsertStagingOptions {
  /** The target table. */
  table: TableName;
  /** The loaded columns, in COPY order (the seq column included). */
  columns: readonly string[];
  /** The key ON CONFLICT matches by. */
  key: UniqueKey;
  /** What a record whose key is there does. */
  action: ConflictAction;
  /** The rows' COPY format. */
  format: CopySpec["format"];
  /** The rows' encoding when not UTF-8 (COPY's `ENCODING`). */
  encoding?: string;
}

/** The staging table's column that keeps the input order of a batch's rows. */
const ORDER_COLUMN = "lanecopy_input_order";

/**
 * A temporary staging table on each connection, and the statement that
 * moves a batch from it into the target. The staging table has the loaded
 * columns' types (typmods and domains kept), NOT NULL and CHECK
 * constraints, so a record the table would refuse is refused at its COPY
 * line, even one that a later record of its key replaces in the batch.
 *
 * @example Upsert two batches
 * ```ts
 * import { UpsertStaging } from "./upsert_staging.ts";
 * import { conflictKey } from "./conflict_key.ts";
 * import { openTarget } from "../target/open_target.ts";
 * import assert from "node:assert/strict";
 *
 * const dataDir = await Deno.makeTempDir();
 * const target = await openTarget({ dataDir });
 * await target.query("create table t (id int primary key, v text)");
 * const table = { schema: "public", table: "t" };
 * const key = await conflictKey(target, {
 *   table, loaded: ["id", "v"], option: "--on-conflict update",
 * });
 * const staging = await UpsertStaging.open(target, {
 *   table, columns: ["id", "v"], key, action: "update", format: "text",
 * });
 * const load = (rows: string) =>
 *   target.transaction(async (session) => {
 *     await staging.create(session);
 *     await session.copyFrom(staging.spec, new TextEncoder().encode(rows));
 *     return await staging.apply(session, rows.split("\n").length - 1);
 *   });
 * assert.deepEqual(await load("1\ta\n2\tb\n1\tc\n"), { inserted: 2, updated: 1, skipped: 0 });
 * assert.deepEqual(await load("2\td\n3\te\n"), { inserted: 1, updated: 1, skipped: 0 });
 * const { rows } = await target.query("select id, v from t order by id");
 * assert.deepEqual(rows.map((row) => `${row.id}${row.v}`), ["1c", "2d", "3e"]);
 * await target.close();
 * await Deno.remove(dataDir, { recursive: true });
 * ```
 */
export class UpsertStaging {
  /** The COPY into the staging table: its columns, the batch's format. */
  readonly spec: CopySpec;
  readonly #create: string;
  readonly #apply: string;
  readonly #action: ConflictAction;

  private constructor(
    spec: CopySpec,
    statements: { create: string; apply: string },
    action: ConflictAction,
  ) {
    this.spec = spec;
    this.#create = statements.create;
    this.#apply = statements.apply;
    this.#action = action;
  }

  /**
   * Reads the loaded columns' types (typmods and domains kept, so the
   * staging COPY refuses what the target would, at the same line) and
   * builds the statements.
   *
   * @param session An open database.
   * @param options The table, columns, key and action.
   * @returns The staging, to create in each batch's transaction.
   */
  static async open(
    session: Session,
    options: UpsertStagingOptions,
  ): Promise<UpsertStaging> {
    const { rows } = await session.query(
      `SELECT a.attname::text AS name,
              pg_catalog.format_type(a.atttypid, a.atttypmod) AS type,
              a.attnotnull AS not_null
         FROM pg_catalog.pg_attribute a
        WHERE a.attrelid = to_regclass($1) AND a.attnum > 0
          AND NOT a.attisdropped`,
      [quoteTableName(options.table)],
    );
    const types = new Map(
      rows.map((row) => [
        row.name as string,
        `${row.type}${row.not_null ? " NOT NULL" : ""}`,
      ]),
    );
    const definition = [
      ...options.columns.map((column) =>
        `${quoteIdentifier(column)} ${types.get(column) ?? "text"}`
      ),
      ...await loadedChecks(session, options),
    ].join(", ");
    const name = `lanecopy_staging_${
      createHash("sha256").update(definition).digest("hex").slice(0, 12)
    }`;
    const staging = `pg_temp.${quoteIdentifier(name)}`;
    const target = quoteTableName(options.table);
    const columns = options.columns.map(quoteIdentifier).join(", ");
    const key = options.key.columns.map(quoteIdentifier);
    // A NULL in a key that treats NULLs as distinct never conflicts: such
    // rows are kept apart, each one its own group.
    const apart = options.key.nullable && options.key.nullsDistinct
      ? [
        `CASE WHEN ${
          key.map((column) => `${column} IS NULL`).join(" OR ")
        } THEN ${ORDER_COLUMN} END`,
      ]
      : [];
    const groups = [...key, ...apart].join(", ");
    const wins = options.action === "update" ? "DESC" : "ASC";
    const updated = options.columns.filter((column) =>
      !options.key.columns.includes(column)
    ).map(quoteIdentifier);
    const onConflict = options.action === "update" && updated.length > 0
      ? `DO UPDATE SET ${
        updated.map((column) => `${column} = EXCLUDED.${column}`).join(", ")
      }`
      : "DO NOTHING";
    return new UpsertStaging(
      {
        table: { schema: "pg_temp", table: name },
        columns: options.columns,
        format: options.format,
        encoding: options.encoding,
      },
      {
        create: `CREATE TEMPORARY TABLE IF NOT EXISTS ${staging}
                   (${definition},
                    ${ORDER_COLUMN} bigint GENERATED ALWAYS AS IDENTITY)
                   ON COMMIT DELETE ROWS`,
        // The staged rows are taken out as they go in: a transaction that
        // goes on (a savepoint of --atomic, the reject search) stages its
        // next rows into an empty table.
        apply: `WITH staged AS (DELETE FROM ${staging} RETURNING *),
                applied AS (
                  INSERT INTO ${target} (${columns})
                  SELECT DISTINCT ON (${groups}) ${columns} FROM staged
                   ORDER BY ${groups}, ${ORDER_COLUMN} ${wins}
                  ON CONFLICT (${key.join(", ")}) ${onConflict}
                  RETURNING xmax = 0 AS inserted)
                SELECT count(*) FILTER (WHERE inserted)::float8 AS inserted
                  FROM applied`,
      },
      options.action,
    );
  }

  /**
   * Creates the staging table on the session's connection unless it is
   * there (it empties itself at each commit).
   *
   * @param session The batch's transaction.
   */
  async create(session: Session): Promise<void> {
    await session.query(this.#create);
  }

  /**
   * Moves the staged rows into the target (and out of the staging
   * table): per key the last (`update`) or first (`nothing`) record in
   * input order, in key order.
   *
   * @param session The batch's transaction, the rows staged.
   * @param records How many rows were staged.
   * @returns What the records did.
   */
  async apply(session: Session, records: number): Promise<RowsApplied> {
    const { rows } = await session.query(this.#apply);
    const inserted = Number(rows[0].inserted);
    // In input order, every record after a key's first is an update of it
    // (or skipped), whichever batch the first was in.
    return this.#action === "update"
      ? { inserted, updated: records - inserted, skipped: 0 }
      : { inserted, updated: 0, skipped: records - inserted };
  }
}

/**
 * The table's CHECK constraints on loaded columns only, as the staging
 * table's: every record is checked at its COPY line, also one a later
 * record of its key replaces in the same batch (as applying the records
 * one by one would).
 */
async function loadedChecks(
  session: Session,
  options: UpsertStagingOptions,
): Promise<string[]> {
  const { rows } = await session.query(
    `SELECT c.conname::text AS name,
            pg_catalog.pg_get_constraintdef(c.oid) AS definition,
            array(SELECT a.attname::text FROM pg_catalog.pg_attribute a
                   WHERE a.attrelid = c.conrelid AND a.attnum = ANY (c.conkey))
              AS columns
       FROM pg_catalog.pg_constraint c
      WHERE c.conrelid = to_regclass($1) AND c.contype = 'c'
      ORDER BY c.conname`,
    [quoteTableName(options.table)],
  );
  return rows
    .filter((row) =>
      (row.columns as string[]).every((column) =>
        options.columns.includes(column)
      )
    )
    .map((row) =>
      `CONSTRAINT ${quoteIdentifier(row.name as string)} ${
        (row.definition as string).replace(/ NOT VALID$/, "")
      }`
    );
}
