/**
 * The target table's identity: which table a target's lane counters, and
 * the progress of the sources loaded into it, belong to. A table dropped
 * (and perhaps created again) or truncated since lanecopy last loaded it
 * has lost the rows they count, so a run that finds it so resets the
 * counters and loads its source from the start, saying why.
 *
 * The `targets` row of a target records the table's OID and its storage
 * (`pg_class.relfilenode`; for a partitioned table, a hash of its leaf
 * partitions' relfilenodes), and a generation that goes up with each reset.
 * A source records the generation its progress belongs to: a source loaded
 * into an earlier generation starts again, even when another source's run
 * found the change.
 *
 * - No table, or another OID: the table was dropped (and created again).
 * - The same OID, other storage: TRUNCATE gives a table new storage, but so
 *   do VACUUM FULL, CLUSTER and the ALTER TABLEs that rewrite it, which keep
 *   the rows. The table counts as truncated when it is now empty while the
 *   counters say rows were loaded into it; otherwise its rows are kept, and
 *   its new storage is recorded.
 *
 * @module
 */

import { metaTables } from "./schema.ts";
import {
  formatTableName,
  quoteTableName,
  type TableName,
} from "../target/table_name.ts";
import type { Session } from "../target/target.ts";

/**
 * How a target table lost the rows loaded into it: `dropped` (it is gone),
 * `recreated` (another table has its name), `truncated` (new storage, and
 * empty), `emptied` (empty, found by a run of bookkeeping from before
 * identities were recorded).
 *
 * @example Usage
 * ```ts
 * import { changePhrase, type TargetChange } from "./target_identity.ts";
 * import assert from "node:assert/strict";
 *
 * const change: TargetChange = "truncated";
 * assert.equal(changePhrase(change), "was truncated");
 * ```
 */
export type TargetChange = "dropped" | "recreated" | "truncated" | "emptied";

/**
 * The target table as a run finds it, before it loads.
 *
 * @example A table found truncated: the run starts generation 3
 * ```ts
 * import type { TargetFound } from "./target_identity.ts";
 * import assert from "node:assert/strict";
 *
 * const found: TargetFound = {
 *   table: { schema: "public", table: "people" },
 *   generation: 2,
 *   reset: "truncated",
 *   lastReset: "recreated",
 * };
 * assert.equal(found.reset, "truncated");
 * ```
 */
export interface TargetFound {
  /** The table. */
  table: TableName;
  /** The generation its lane counters count (1 until a reset). */
  generation: number;
  /**
   * Set when the table lost its rows since that generation began: the run
   * starts the next one, its lane counters cleared.
   */
  reset?: TargetChange;
  /** Why the found generation began, when a reset began it. */
  lastReset?: TargetChange;
}

/**
 * The table's storage, in SQL, from its `pg_class` row `c`: its
 * relfilenode, or for a partitioned table a hash of its leaf partitions'.
 */
const STORAGE = `CASE WHEN c.relkind = 'p' THEN (
    SELECT hashtextextended(coalesce(string_agg(l.relfilenode::text, ',' ORDER BY l.oid), ''), 0)
      FROM pg_partition_tree(c.oid) AS tree JOIN pg_class l ON l.oid = tree.relid
     WHERE tree.isleaf)
  ELSE c.relfilenode::bigint END`;

/**
 * Finds the target table as it is now, against the identity its lane
 * counters were recorded with: the generation they count, and whether the
 * table lost its rows since (dropped, created again, or truncated). A table
 * rewritten with its rows (VACUUM FULL, CLUSTER) gets its new storage
 * recorded here. Bookkeeping from before identities were recorded adopts
 * the table as it is, unless it is gone or empty while the counters say
 * rows were loaded into it.
 *
 * Cost: two catalog lookups and a primary-key read; only when the storage
 * changed (or an identity is first recorded), an emptiness check of the
 * table (`EXISTS`, which stops at the first row).
 *
 * @param session An open database with the bookkeeping schema.
 * @param metaSchema The bookkeeping schema.
 * @param table The target table.
 * @returns What the run found.
 *
 * @example A truncated table is found so
 * ```ts
 * import { ensureBookkeeping } from "./schema.ts";
 * import { findTarget, recordTarget } from "./target_identity.ts";
 * import { openTarget } from "../target/open_target.ts";
 * import assert from "node:assert/strict";
 *
 * const dataDir = await Deno.makeTempDir();
 * const target = await openTarget({ dataDir });
 * await ensureBookkeeping(target);
 * await target.query("create table t (a int)");
 * const table = { schema: "public", table: "t" };
 * assert.deepEqual(await findTarget(target, "lanecopy", table), { table, generation: 1 });
 * await recordTarget(target, "lanecopy", { table, generation: 1 });
 * await target.query("insert into lanecopy.lanes values ('public.t', 'default', 2, 1)");
 * await target.query("insert into t values (1)");
 * await target.query("vacuum full t"); // new storage, the row kept
 * assert.equal((await findTarget(target, "lanecopy", table)).reset, undefined);
 * await target.query("truncate t");
 * assert.equal((await findTarget(target, "lanecopy", table)).reset, "truncated");
 * await target.close();
 * await Deno.remove(dataDir, { recursive: true });
 * ```
 */
export async function findTarget(
  session: Session,
  metaSchema: string,
  table: TableName,
): Promise<TargetFound> {
  const t = metaTables(metaSchema);
  const name = formatTableName(table);
  const { rows } = await session.query(
    `SELECT c.oid::text AS oid, (${STORAGE})::text AS storage,
            r.table_oid::text AS recorded_oid, r.relfilenode::text AS recorded_storage,
            r.generation::float8 AS generation, r.reset_reason,
            EXISTS (SELECT FROM ${t.lanes} WHERE target = $1 AND row_count > 0) AS counted
       FROM (SELECT to_regclass($2) AS id) AS named
       LEFT JOIN pg_class c ON c.oid = named.id
       LEFT JOIN ${t.targets} r ON r.target = $1`,
    [name, quoteTableName(table)],
  );
  const row = rows[0];
  const recorded = row.generation !== null;
  const found: TargetFound = {
    table,
    generation: recorded ? Number(row.generation) : 1,
  };
  if (row.reset_reason !== null && row.reset_reason !== undefined) {
    found.lastReset = row.reset_reason as TargetChange;
  }
  const exists = row.oid !== null;
  if (recorded) {
    if (!exists) return { ...found, reset: "dropped" };
    if (row.oid !== row.recorded_oid) return { ...found, reset: "recreated" };
    if (row.storage === row.recorded_storage) return found;
    if (row.counted === true && await isEmpty(session, table)) {
      return { ...found, reset: "truncated" };
    }
    // Rewritten with its rows (VACUUM FULL, CLUSTER, ALTER TABLE): the
    // same table, in new storage.
    await session.query(
      `UPDATE ${t.targets} SET relfilenode = $3::bigint, updated_at = now()
        WHERE target = $1 AND generation = $2 AND table_oid = $4::bigint`,
      [name, found.generation, row.storage, row.oid],
    );
    return found;
  }
  if (row.counted !== true) return found; // recorded when a source registers
  if (!exists) return { ...found, reset: "dropped" };
  if (await isEmpty(session, table)) return { ...found, reset: "emptied" };
  await session.query(
    `INSERT INTO ${t.targets} (target, table_oid, relfilenode, generation)
     VALUES ($1, $2::bigint, $3::bigint, 1)
     ON CONFLICT (target) DO NOTHING`,
    [name, row.oid, row.storage],
  );
  return found;
}

/**
 * Records the target table's identity as a source registers, in the
 * transaction of its run's first batch, and returns the generation the
 * source's progress belongs to. When the run found the table reset
 * (`found.reset`), this starts the next generation and clears the
 * target's lane counters, by compare-and-set on the generation found: if
 * another run has started it meanwhile, its counters stand. The targets
 * row stays locked until the transaction ends, so concurrent
 * registrations take turns.
 *
 * @param session The transaction of the run's first batch.
 * @param metaSchema The bookkeeping schema.
 * @param found The target table, as the run found it.
 * @returns The generation of the table now.
 *
 * @example Usage
 * ```ts
 * import { ensureBookkeeping } from "./schema.ts";
 * import { recordTarget } from "./target_identity.ts";
 * import { openTarget } from "../target/open_target.ts";
 * import assert from "node:assert/strict";
 *
 * const dataDir = await Deno.makeTempDir();
 * const target = await openTarget({ dataDir });
 * await ensureBookkeeping(target);
 * await target.query("create table t (a int)");
 * const table = { schema: "public", table: "t" };
 * assert.equal(await recordTarget(target, "lanecopy", { table, generation: 1 }), 1);
 * await target.query("insert into lanecopy.lanes values ('public.t', 'default', 4, 3)");
 * const reset = { table, generation: 1, reset: "truncated" as const };
 * assert.equal(await target.transaction((s) => recordTarget(s, "lanecopy", reset)), 2);
 * const { rows } = await target.query("select count(*)::int as n from lanecopy.lanes");
 * assert.equal(rows[0].n, 0);
 * await target.close();
 * await Deno.remove(dataDir, { recursive: true });
 * ```
 */
export async function recordTarget(
  session: Session,
  metaSchema: string,
  found: TargetFound,
): Promise<number> {
  const t = metaTables(metaSchema);
  const name = formatTableName(found.table);
  const params = [name, quoteTableName(found.table), found.generation];
  if (found.reset !== undefined) {
    await session.query(
      `WITH reset AS (
         INSERT INTO ${t.targets} AS r (target, table_oid, relfilenode, generation, reset_reason)
         SELECT $1, c.oid, ${STORAGE}, $3::bigint + 1, $4
           FROM pg_class c WHERE c.oid = to_regclass($2)
         ON CONFLICT (target) DO UPDATE
           SET table_oid = excluded.table_oid, relfilenode = excluded.relfilenode,
               generation = excluded.generation, reset_reason = excluded.reset_reason,
               updated_at = now()
           WHERE r.generation = $3::bigint
         RETURNING 1)
       DELETE FROM ${t.lanes} WHERE target = $1 AND EXISTS (SELECT FROM reset)`,
      [...params, found.reset],
    );
  } else {
    await session.query(
      `INSERT INTO ${t.targets} (target, table_oid, relfilenode, generation)
       SELECT $1, c.oid, ${STORAGE}, $3::bigint
         FROM pg_class c WHERE c.oid = to_regclass($2)
       ON CONFLICT (target) DO NOTHING`,
      params,
    );
  }
  // A share lock waits for a reset another run has not committed yet.
  const { rows } = await session.query(
    `SELECT generation::float8 AS generation FROM ${t.targets}
      WHERE target = $1 FOR SHARE`,
    [name],
  );
  return rows.length === 0 ? found.generation : Number(rows[0].generation);
}

/**
 * How a change reads in a notice: `was truncated`, and so on.
 *
 * @param change The change.
 * @returns The phrase.
 *
 * @example Usage
 * ```ts
 * import { changePhrase } from "./target_identity.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(changePhrase("recreated"), "was dropped and created again");
 * ```
 */
export function changePhrase(change: TargetChange): string {
  switch (change) {
    case "dropped":
      return "was dropped";
    case "recreated":
      return "was dropped and created again";
    case "truncated":
      return "was truncated";
    case "emptied":
      return "was emptied";
  }
}

/** Whether the table holds no row (stops at the first). */
async function isEmpty(session: Session, table: TableName): Promise<boolean> {
  const { rows } = await session.query(
    // `SELECT 1`: Citus cannot plan a distributed table's `SELECT FROM t`
    // once the table is truncated (13.2.2).
    `SELECT NOT EXISTS (SELECT 1 FROM ${quoteTableName(table)}) AS empty`,
  );
  return rows[0].empty === true;
}
