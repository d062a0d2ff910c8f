/**
 * How the target table is distributed, read once per run from a Citus
 * coordinator's catalog: whether Citus is installed (`pg_extension`),
 * whether the table is hash-distributed (`pg_dist_partition`), by which
 * column and type, and its shards' hash ranges (`pg_dist_shard`), in
 * order. Shard routing (`--routing shards`) maps lanes to writers by them.
 *
 * @module
 */

import { formatTableName, type TableName } from "../target/table_name.ts";
import type { Target } from "../target/target.ts";

/** One shard's range of hash values, both ends included. */
export interface ShardRange {
  /** The shard's id (`pg_dist_shard.shardid`). */
  id: number;
  /** Its lowest hash value. */
  min: number;
  /** Its highest hash value. */
  max: number;
}

/** A table Citus distributes by the hash of one column. */
export interface HashDistribution {
  /** Hash-distributed. */
  kind: "hash";
  /** The distribution column. */
  column: string;
  /** Its type, as `pg_type.typname` spells it (`int4`, `text`, …). */
  type: string;
  /** Whether its collation is deterministic (always, for a type without one). */
  deterministic: boolean;
  /** The shards, by their lowest hash value, ascending. */
  shards: ShardRange[];
}

/** A table that is not hash-distributed, and why, as a phrase for a message. */
export interface NotHashDistributed {
  /** Anything else: a plain table, a reference or local table, no Citus, no table. */
  kind: "none";
  /** Why, e.g. `Citus is not installed on this server`. */
  reason: string;
}

/** How a table is distributed. */
export type TableDistribution = HashDistribution | NotHashDistributed;

/** Citus's names of its distribution methods. */
const METHODS: Record<string, string> = {
  a: "append",
  r: "range",
  n: "none (a reference table or a Citus local table)",
};

/**
 * Reads how `table` is distributed on the server `target` is connected
 * to: a Citus hash-distributed table's column, type and shards, or why it
 * is not one. Reads the catalog only (values as parameters); a server
 * without Citus takes one query.
 *
 * @param target The run's connection (to the coordinator, on Citus).
 * @param table The target table.
 * @returns The distribution.
 *
 * @example A table on a server without Citus
 * ```ts
 * import { readDistribution } from "./citus_shards.ts";
 * import { openTarget } from "../target/open_target.ts";
 * import assert from "node:assert/strict";
 *
 * const dataDir = await Deno.makeTempDir();
 * const target = await openTarget({ dataDir });
 * assert.deepEqual(await readDistribution(target, { schema: "public", table: "t" }), {
 *   kind: "none",
 *   reason: "Citus is not installed on this server",
 * });
 * await target.close();
 * await Deno.remove(dataDir, { recursive: true });
 * ```
 */
export async function readDistribution(
  target: Target,
  table: TableName,
): Promise<TableDistribution> {
  const name = formatTableName(table);
  const { rows: citus } = await target.query(
    "SELECT count(*)::int AS n FROM pg_extension WHERE extname = 'citus'",
  );
  if (Number(citus[0].n) === 0) {
    return { kind: "none", reason: "Citus is not installed on this server" };
  }
  const relation = "to_regclass(format('%I.%I', $1::text, $2::text))";
  const { rows } = await target.query(
    `SELECT ${relation} IS NOT NULL AS found, p.partmethod::text AS method,
            a.attname AS column, t.typname AS type,
            coalesce(c.collisdeterministic, true) AS deterministic
       FROM (SELECT 1) one
       LEFT JOIN pg_dist_partition p ON p.logicalrelid = ${relation}
       LEFT JOIN pg_attribute a
         ON p.partmethod = 'h' AND a.attrelid = p.logicalrelid
        AND a.attname = column_to_column_name(p.logicalrelid, p.partkey)
       LEFT JOIN pg_type t ON t.oid = a.atttypid
       LEFT JOIN pg_collation c ON c.oid = a.attcollation`,
    [table.schema, table.table],
  );
  const row = rows[0];
  if (row.found !== true) {
    return { kind: "none", reason: `${name} does not exist yet` };
  }
  if (row.method === null || row.method === undefined) {
    return { kind: "none", reason: `${name} is not a distributed table` };
  }
  if (row.method !== "h") {
    const method = METHODS[String(row.method)] ?? String(row.method);
    return {
      kind: "none",
      reason: `${name} is distributed by ${method}, not by hash`,
    };
  }
  const { rows: shards } = await target.query(
    `SELECT shardid::float8 AS id, shardminvalue::int AS min,
            shardmaxvalue::int AS max
       FROM pg_dist_shard
      WHERE logicalrelid = ${relation}
      ORDER BY shardminvalue::int`,
    [table.schema, table.table],
  );
  return {
    kind: "hash",
    column: String(row.column),
    type: String(row.type),
    deterministic: row.deterministic === true,
    shards: shards.map((shard) => ({
      id: Number(shard.id),
      min: Number(shard.min),
      max: Number(shard.max),
    })),
  };
}
