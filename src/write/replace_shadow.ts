/**
 * `--replace`: a load into a shadow table that takes the target's place in
 * one transaction at the end.
 *
 * The batches go, exactly once and resumably, into a shadow table in the
 * bookkeeping schema with the target's columns, defaults, constraints,
 * indexes and foreign keys (so a record the target would refuse is refused
 * at its line). After the last batch, one transaction makes the target's
 * rows equal the shadow's and drops the shadow: rows whose key is gone
 * are deleted, new ones inserted, changed ones updated (unchanged rows are
 * not rewritten), keyed by the primary key (else by a unique key of NOT
 * NULL columns; a table with neither is emptied and filled). The target
 * itself stays: views, grants, triggers, foreign keys, sequences and
 * policies on it keep working, and readers see the old rows until that
 * commit (the swap is ordinary MVCC work; it locks out other writers, not
 * readers). The cost: every row is written twice (shadow, then target),
 * and changed or deleted rows leave dead rows for VACUUM. Lanes: the
 * records count in lanes under the shadow's name while they load; the
 * swap makes those the table's lanes (the old ones go) and notifies each.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { ExitCode, UsageError } from "../errors.ts";
import {
  formatTableName,
  quoteIdentifier,
  quoteTableName,
  type TableName,
} from "../target/table_name.ts";
import type { Session, Target } from "../target/target.ts";
import type { Completion } from "../bookkeeping/batch_claims.ts";
import { metaTables, NOTIFY_CHANNEL } from "../bookkeeping/schema.ts";
import { uniqueKeys } from "./conflict_key.ts";

/** Where a source's shadow table lives. */
export interface ShadowOf {
  /** The target table. */
  table: TableName;
  /** The bookkeeping schema (the shadow's). */
  metaSchema: string;
  /** The source id (a shadow per source). */
  sourceId: string;
}

/**
 * A source's shadow table: its name, created from the target when it is
 * missing, emptied when a run starts over, swapped in at the end.
 *
 * @example Replace a table's rows
 * ```ts
 * import { ShadowTable } from "./replace_shadow.ts";
 * import { ensureBookkeeping } from "../bookkeeping/schema.ts";
 * import { openTarget } from "../target/open_target.ts";
 * import assert from "node:assert/strict";
 *
 * const dataDir = await Deno.makeTempDir();
 * const target = await openTarget({ dataDir });
 * await ensureBookkeeping(target);
 * await target.query("create table t (id int primary key, v text)");
 * await target.query("insert into t values (1, 'old'), (2, 'gone')");
 * const table = { schema: "public", table: "t" };
 * const shadow = await ShadowTable.open(target, { table, metaSchema: "lanecopy", sourceId: "s" });
 * await target.copyFrom(
 *   { table: shadow.table, columns: ["id", "v"], format: "text" },
 *   new TextEncoder().encode("1\tnew\n3\tadded\n"),
 * );
 * await target.transaction((session) => shadow.swap(session));
 * const { rows } = await target.query("select id, v from t order by id");
 * assert.deepEqual(rows.map((row) => `${row.id}${row.v}`), ["1new", "3added"]);
 * await target.close();
 * await Deno.remove(dataDir, { recursive: true });
 * ```
 */
export class ShadowTable {
  /** The shadow table. */
  readonly table: TableName;
  readonly #target: TableName;
  /** The bookkeeping's lanes table, where the shadow's lanes count until the swap. */
  readonly #lanes: string;

  private constructor(table: TableName, target: TableName) {
    this.table = table;
    this.#target = target;
    this.#lanes = metaTables(table.schema).lanes;
  }

  /**
   * The source's shadow table, created (from the target's definition)
   * unless it exists.
   *
   * @param target The database.
   * @param of The target table, bookkeeping schema and source.
   * @returns The shadow.
   */
  static async open(target: Target, of: ShadowOf): Promise<ShadowTable> {
    const shadow = {
      schema: of.metaSchema,
      table: `replace_${
        createHash("sha256").update(
          `${of.sourceId}\0${formatTableName(of.table)}`,
        )
          .digest("hex").slice(0, 12)
      }`,
    };
    await target.transaction(async (session) => {
      await session.query(
        "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))",
        [`lanecopy shadow ${quoteTableName(shadow)}`],
      );
      const { rows } = await session.query(
        "SELECT to_regclass($1) IS NOT NULL AS present",
        [quoteTableName(shadow)],
      );
      if (rows[0].present !== true) {
        await createShadow(session, of.table, shadow);
      }
    });
    return new ShadowTable(shadow, of.table);
  }

  /**
   * Empties the shadow and its lanes, for a run that starts over (in its
   * first batch's transaction, with its registration).
   *
   * @param session The transaction.
   */
  async clear(session: Session): Promise<void> {
    await session.query(`TRUNCATE ${quoteTableName(this.table)}`);
    await session.query(`DELETE FROM ${this.#lanes} WHERE target = $1`, [
      formatTableName(this.table),
    ]);
  }

  /**
   * In the transaction that marked a writer complete: swaps the shadow in
   * when that completed the source; drops it (made again by a run of a
   * source that was complete before) when the source was complete already.
   *
   * @param session The transaction.
   * @param completion What marking the writer complete found.
   * @returns The rows the table holds after a swap; `undefined` without one.
   */
  async settle(
    session: Session,
    completion: Completion,
  ): Promise<number | undefined> {
    if (completion.completedNow) return await this.swap(session);
    if (completion.sourceComplete) await this.#drop(session);
    return undefined;
  }

  /** Drops the shadow and its lanes. */
  async #drop(session: Session): Promise<void> {
    await session.query(`DROP TABLE IF EXISTS ${quoteTableName(this.table)}`);
    await session.query(`DELETE FROM ${this.#lanes} WHERE target = $1`, [
      formatTableName(this.table),
    ]);
  }

  /**
   * Makes the target's rows those of the shadow and drops the shadow, in
   * the caller's transaction (see the module's description).
   *
   * @param session The transaction that also marks the load complete.
   * @returns How many rows the target holds now.
   */
  async swap(session: Session): Promise<number> {
    const target = quoteTableName(this.#target);
    const shadow = quoteTableName(this.table);
    await session.query(`LOCK TABLE ${target} IN SHARE ROW EXCLUSIVE MODE`);
    const { rows: columnRows } = await session.query(
      `SELECT attname::text AS name FROM pg_catalog.pg_attribute
        WHERE attrelid = to_regclass($1) AND attnum > 0 AND NOT attisdropped
          AND attgenerated = ''
        ORDER BY attnum`,
      [target],
    );
    const columns = columnRows.map((row) =>
      quoteIdentifier(row.name as string)
    );
    const list = columns.join(", ");
    const key = (await uniqueKeys(session, this.#target)).find((candidate) =>
      candidate.primary || !candidate.nullable
    );
    if (key === undefined) {
      await session.query(`DELETE FROM ${target}`);
      await session.query(
        `INSERT INTO ${target} (${list}) OVERRIDING SYSTEM VALUE
         SELECT ${list} FROM ${shadow}`,
      );
    } else {
      const keyColumns = key.columns.map(quoteIdentifier);
      const same = keyColumns.map((column) => `s.${column} = t.${column}`)
        .join(" AND ");
      await session.query(
        `DELETE FROM ${target} AS t
          WHERE NOT EXISTS (SELECT FROM ${shadow} AS s WHERE ${same})`,
      );
      const rest = columns.filter((column) => !keyColumns.includes(column));
      const onConflict = rest.length === 0
        ? "DO NOTHING"
        : `DO UPDATE SET ${
          rest.map((column) => `${column} = EXCLUDED.${column}`).join(", ")
        } WHERE ROW(${
          rest.map((column) => `t.${column}`).join(", ")
        })::text IS DISTINCT FROM ROW(${
          rest.map((column) => `EXCLUDED.${column}`).join(", ")
        })::text`;
      await session.query(
        `INSERT INTO ${target} AS t (${list}) OVERRIDING SYSTEM VALUE
         SELECT ${list} FROM ${shadow} ORDER BY ${keyColumns.join(", ")}
         ON CONFLICT (${keyColumns.join(", ")}) ${onConflict}`,
      );
    }
    const { rows } = await session.query(
      `SELECT count(*)::float8 AS n FROM ${shadow}`,
    );
    await session.query(`DROP TABLE ${shadow}`);
    // The lanes now count what the table holds: the shadow's records.
    const [table, from] = [this.#target, this.table].map(formatTableName);
    await session.query(`DELETE FROM ${this.#lanes} WHERE target = $1`, [
      table,
    ]);
    await session.query(
      `WITH moved AS (
         UPDATE ${this.#lanes} SET target = $1, updated_at = now()
          WHERE target = $2 RETURNING lane, next_seq)
       SELECT pg_notify($3, json_build_object(
         'target', $1::text, 'lane', lane, 'last_seq', next_seq - 1)::text)
         FROM moved`,
      [table, from, NOTIFY_CHANNEL],
    );
    return Number(rows[0].n);
  }
}

/**
 * Creates `shadow` like `table`: its columns, defaults (identity columns
 * draw from the target's own sequence), generated columns, CHECK and NOT
 * NULL constraints, unique indexes and foreign keys to other tables.
 */
async function createShadow(
  session: Session,
  table: TableName,
  shadow: TableName,
): Promise<void> {
  const target = quoteTableName(table);
  const { rows: found } = await session.query(
    "SELECT to_regclass($1) IS NOT NULL AS present",
    [target],
  );
  if (found[0].present !== true) {
    throw new UsageError(
      `Cannot replace the rows of ${
        formatTableName(table)
      }: the table does not exist (pass --create to create it)`,
      ExitCode.Refused,
    );
  }
  await session.query(
    `CREATE TABLE ${quoteTableName(shadow)} (LIKE ${target}
       INCLUDING DEFAULTS INCLUDING GENERATED INCLUDING CONSTRAINTS
       INCLUDING INDEXES)`,
  );
  const { rows: identities } = await session.query(
    `SELECT attname::text AS name,
            pg_catalog.pg_get_serial_sequence($1, attname) AS sequence
       FROM pg_catalog.pg_attribute
      WHERE attrelid = to_regclass($1) AND attnum > 0 AND NOT attisdropped
        AND attidentity <> ''`,
    [target],
  );
  for (const identity of identities) {
    await session.query(
      `ALTER TABLE ${quoteTableName(shadow)} ALTER COLUMN ${
        quoteIdentifier(identity.name as string)
      } SET DEFAULT nextval(${
        quoteLiteral(identity.sequence as string)
      }::regclass)`,
    );
  }
  const { rows: foreignKeys } = await session.query(
    `SELECT pg_catalog.pg_get_constraintdef(oid) AS definition
       FROM pg_catalog.pg_constraint
      WHERE conrelid = to_regclass($1) AND contype = 'f'
        AND confrelid <> conrelid`,
    [target],
  );
  for (const foreignKey of foreignKeys) {
    await session.query(
      `ALTER TABLE ${quoteTableName(shadow)} ADD ${foreignKey.definition}`,
    );
  }
}

/** `text` as an SQL string literal. */
function quoteLiteral(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}
