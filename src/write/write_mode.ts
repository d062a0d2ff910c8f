/**
 * How a load writes rows: appended (the default), upserted
 * (`--on-conflict`), or replacing the table's rows (`--replace`); and what
 * each mode refuses before a record is read.
 *
 * @module
 */

import { ExitCode, UsageError } from "../errors.ts";
import type { TableName } from "../target/table_name.ts";
import type { Session } from "../target/target.ts";
import { uniqueKeys } from "./conflict_key.ts";

/**
 * Rows per batch of an upsert when none is given: a batch's rows go into
 * the table in key order, so the more of them, the closer together their
 * keys, and the fewer index and heap pages the batch touches per row. 1M
 * rows upserted into a table holding half of their keys (fsync off, one
 * run each): batches of 10,000 took 6.5 s, 25,000 5.1 s, 50,000 4.9 s,
 * 100,000 4.5 s.
 */
export const UPSERT_BATCH_SIZE = 50_000;

/**
 * Rows per batch into a table Citus distributes, when none is given: a
 * COPY pays about 9 ms per shard it reaches, whatever its rows, so larger
 * batches pay it less often. 500k rows into 32 shards (bench:citus, one
 * writer): batches of 10,000 took 6.49 s, of 50,000 4.06 s (16 lanes);
 * 14.54 s and 3.71 s with 4,096 lanes.
 */
export const CITUS_BATCH_SIZE = 50_000;

/** The options that choose the write mode. */
export interface WriteModeRequest {
  /** Upsert: `nothing` or `update`. */
  onConflict?: string;
  /** The upsert's key columns. */
  key?: readonly string[];
  /** Replace the table's rows. */
  replace?: boolean;
  /** The lane column. */
  lane?: string;
  /** Writers (`--parallel`). */
  parallel?: number;
}

/**
 * Refuses (exit 4) combinations that cannot work, before anything is
 * opened: an unknown `--on-conflict` action, `--on-conflict` with
 * `--replace`, `--key` without `--on-conflict`, `--on-conflict` with
 * `--parallel` but no `--lane`.
 *
 * @param request The run's options.
 *
 * @example Usage
 * ```ts
 * import { checkWriteMode } from "./write_mode.ts";
 * import assert from "node:assert/strict";
 *
 * checkWriteMode({ onConflict: "update", key: ["id"] });
 * assert.throws(() => checkWriteMode({ key: ["id"] }), /--key needs --on-conflict/);
 * assert.throws(
 *   () => checkWriteMode({ onConflict: "update", replace: true }),
 *   /--on-conflict and --replace/,
 * );
 * ```
 */
export function checkWriteMode(request: WriteModeRequest): void {
  const { onConflict } = request;
  if (
    onConflict !== undefined && onConflict !== "nothing" &&
    onConflict !== "update"
  ) {
    throw new UsageError(
      `Cannot use --on-conflict ${onConflict}: expected nothing (keep the row that is there) or update (the record's values win)`,
    );
  }
  if (onConflict !== undefined && request.replace) {
    throw new UsageError(
      "Cannot use --on-conflict and --replace together: --replace makes the table's rows those of the input (every row not in it goes), --on-conflict merges the input into the rows that are there; choose one",
    );
  }
  if (request.key !== undefined && onConflict === undefined) {
    throw new UsageError(
      "Cannot use --key: --key needs --on-conflict nothing|update (it names the unique index a record's key is matched by)",
    );
  }
  if (
    onConflict !== undefined && (request.parallel ?? 1) > 1 &&
    request.lane === undefined
  ) {
    throw new UsageError(
      `Cannot upsert with --parallel ${request.parallel} without --lane: records of one key must go to one writer, in input order, and writers are chosen by lane (add --lane with a column of the key)`,
      ExitCode.Refused,
    );
  }
}

/**
 * Refuses (exit 4) an upsert with several writers whose key does not hold
 * the lane column: two records of one key could then go to two writers,
 * whose commits do not keep their input order (and could wait on each
 * other's rows). With the lane in the key, a key's records share a lane,
 * hence a writer.
 *
 * @param session An open database.
 * @param table The target table.
 * @param request The run's options (`onConflict`, `key`, `lane`).
 * @param writers The writers the run uses.
 *
 * @example Usage
 * ```ts
 * import { refuseSplitKeys } from "./write_mode.ts";
 * import { openTarget } from "../target/open_target.ts";
 * import assert from "node:assert/strict";
 *
 * const dataDir = await Deno.makeTempDir();
 * const target = await openTarget({ dataDir });
 * await target.query("create table t (region text, id int, primary key (region, id))");
 * const table = { schema: "public", table: "t" };
 * await refuseSplitKeys(target, table, { onConflict: "update", lane: "region" }, 3);
 * await assert.rejects(
 *   refuseSplitKeys(target, table, { onConflict: "update", lane: "id", key: ["region"] }, 3),
 *   /key \(region\) does not hold the lane column "id"/,
 * );
 * await target.close();
 * await Deno.remove(dataDir, { recursive: true });
 * ```
 */
export async function refuseSplitKeys(
  session: Session,
  table: TableName,
  request: WriteModeRequest,
  writers: number,
): Promise<void> {
  if (request.onConflict === undefined || writers < 2) return;
  const key = request.key ??
    (await uniqueKeys(session, table)).find((candidate) => candidate.primary)
      ?.columns;
  if (key === undefined) return; // the writer says which keys there are
  if (request.lane !== undefined && key.includes(request.lane)) return;
  throw new UsageError(
    `Cannot upsert with --parallel ${writers}: the key (${
      key.join(", ")
    }) does not hold the lane column "${request.lane}", so records of one key could go to two writers, which would apply them out of input order and could wait on each other's rows. Use a key that holds the lane column (--key), a lane column that is part of the key, or one writer`,
    ExitCode.Refused,
  );
}

/**
 * Refuses (exit 4), before a record is read, the write modes Citus cannot
 * run on a table it manages: `--replace` on any of them (the swap joins
 * the table with a shadow table on the coordinator, which Citus refuses),
 * and `--on-conflict` on a reference table or a Citus local table (the
 * upsert's `INSERT … SELECT` from the coordinator's staging table into
 * it is refused). An upsert into a hash-distributed table works (its key
 * holds the distribution column, as Citus requires of unique keys). A
 * server without Citus takes one query.
 *
 * @param session An open database.
 * @param table The target table.
 * @param request The run's options (`onConflict`, `replace`).
 *
 * @example A server without Citus refuses nothing
 * ```ts
 * import { refuseOnCitus } from "./write_mode.ts";
 * import { openTarget } from "../target/open_target.ts";
 *
 * const dataDir = await Deno.makeTempDir();
 * const target = await openTarget({ dataDir });
 * await target.query("create table t (id int primary key)");
 * await refuseOnCitus(target, { schema: "public", table: "t" }, { replace: true });
 * await target.close();
 * await Deno.remove(dataDir, { recursive: true });
 * ```
 */
export async function refuseOnCitus(
  session: Session,
  table: TableName,
  request: WriteModeRequest,
): Promise<void> {
  if (request.onConflict === undefined && request.replace !== true) return;
  const { rows: catalog } = await session.query(
    "SELECT to_regclass('pg_catalog.pg_dist_partition') IS NOT NULL AS citus",
  );
  if (catalog[0]?.citus !== true) return;
  const { rows } = await session.query(
    `SELECT partmethod::text AS method, repmodel::text AS replication
       FROM pg_dist_partition
      WHERE logicalrelid = to_regclass(format('%I.%I', $1::text, $2::text))`,
    [table.schema, table.table],
  );
  const placed = rows[0];
  if (placed === undefined) return; // a table Citus leaves alone
  const name = `${table.schema}.${table.table}`;
  const kind = placed.method === "h"
    ? "a Citus distributed table"
    : placed.replication === "t"
    ? "a Citus reference table"
    : "a Citus local table";
  if (request.replace === true) {
    throw new UsageError(
      `Cannot --replace ${name}: it is ${kind}, and the swap at the end joins it with a shadow table on the coordinator, which Citus refuses. Upsert instead (--on-conflict update keeps rows the input lacks), or load into a plain table`,
      ExitCode.Refused,
    );
  }
  if (placed.method !== "h") {
    throw new UsageError(
      `Cannot upsert (--on-conflict) into ${name}: it is ${kind}, and Citus refuses the upsert's INSERT … SELECT from the coordinator's staging table into it. Load it without --on-conflict, or upsert into a distributed or plain table`,
      ExitCode.Refused,
    );
  }
}
