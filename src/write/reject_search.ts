/**
 * Finding which rows of a batch the server rejects, for errors that do not
 * say (a foreign key, a deferred constraint: the server names no COPY line
 * for them) and for a reject file (every bad row of the batch, not only the
 * first). The search COPYs parts of the batch under savepoints, with
 * deferred constraints checked at once, inside a transaction that is always
 * rolled back: it changes nothing.
 *
 * @module
 */

import { type Batch, rowCount } from "../codec/row_block.ts";
import type { Session } from "../target/target.ts";
import { isRejection, namedRow, type ServerError } from "./server_error.ts";

/** A row the server rejected, and its error. */
export interface RejectedRow {
  /** The row's index in the batch. */
  index: number;
  /** The server's error for it alone. */
  error: ServerError;
}

/** How the search COPYs rows `[from, to)` of the batch. */
export type CopyRows = (
  session: Session,
  from: number,
  to: number,
) => Promise<void>;

/**
 * Finds the rows of `batch` the server rejects, in one transaction that is
 * rolled back. `prepare` runs first (to lock and reserve as the real
 * transaction would); then rows are COPYed in runs under savepoints: a run
 * that fails at a named row keeps the rows before it and goes on after it;
 * a run that fails without naming one is halved until a single row fails.
 *
 * @param transaction Runs work in a transaction (the search rolls it back).
 * @param batch The batch.
 * @param copy COPYs rows `[from, to)` of the batch.
 * @param options `prepare` runs before the search; `first` stops at the
 * first rejected row.
 * @returns The rejected rows, in batch order.
 *
 * @example Usage
 * ```ts
 * import { findRejectedRows } from "./reject_search.ts";
 * import { openTarget } from "../target/open_target.ts";
 * import assert from "node:assert/strict";
 *
 * const dataDir = await Deno.makeTempDir();
 * const target = await openTarget({ dataDir });
 * await target.query("create table t (n int check (n > 0))");
 * const rows = ["1", "-2", "3", "-4"];
 * const batch = {
 *   data: new TextEncoder().encode(rows.join("\n") + "\n"),
 *   rowEnds: Uint32Array.of(2, 5, 7, 10),
 *   lines: Float64Array.of(2, 3, 4, 5),
 *   endOffsets: Float64Array.of(2, 5, 7, 10),
 *   startOffset: 0,
 *   endOffset: 10,
 * };
 * const spec = { table: { schema: "public", table: "t" }, columns: ["n"], format: "text" as const };
 * const rejected = await findRejectedRows(
 *   (work) => target.transaction(work),
 *   batch,
 *   async (session, from, to) => {
 *     await session.copyFrom(spec, batch.data.subarray(from ? batch.rowEnds[from - 1] : 0, batch.rowEnds[to - 1]));
 *   },
 * );
 * assert.deepEqual(rejected.map((row) => row.index), [1, 3]);
 * assert.equal((await target.query("select count(*)::int as n from t")).rows[0].n, 0);
 * await target.close();
 * await Deno.remove(dataDir, { recursive: true });
 * ```
 */
export async function findRejectedRows(
  transaction: <T>(work: (session: Session) => Promise<T>) => Promise<T>,
  batch: Batch,
  copy: CopyRows,
  options: { prepare?: (session: Session) => Promise<void>; first?: boolean } =
    {},
): Promise<RejectedRow[]> {
  const rejected: RejectedRow[] = [];
  const rows = rowCount(batch);
  let savepoints = 0;
  /** COPYs `[from, to)` under a savepoint: kept if it loads, else the error. */
  const attempt = async (
    session: Session,
    from: number,
    to: number,
  ): Promise<ServerError | undefined> => {
    const name = `lanecopy_search_${++savepoints}`;
    await session.query(`SAVEPOINT ${name}`);
    try {
      await copy(session, from, to);
      await session.query(`RELEASE SAVEPOINT ${name}`);
      return undefined;
    } catch (error) {
      if (!isRejection(error)) throw error;
      await session.query(`ROLLBACK TO SAVEPOINT ${name}`);
      return error;
    }
  };
  /** Loads `[from, to)` as far as it goes, noting each rejected row. */
  const search = async (
    session: Session,
    from: number,
    to: number,
  ): Promise<void> => {
    while (from < to && !(options.first && rejected.length > 0)) {
      const error = await attempt(session, from, to);
      if (error === undefined) return;
      const named = namedRow(error, from);
      if (named !== undefined && named >= from && named < to) {
        // The rows before it loaded before it failed: load them again.
        if (named > from) await search(session, from, named);
        rejected.push({ index: named, error });
        from = named + 1;
      } else if (to - from === 1) {
        rejected.push({ index: from, error });
        return;
      } else {
        const middle = from + Math.floor((to - from) / 2);
        await search(session, from, middle);
        await search(session, middle, to);
        return;
      }
    }
  };
  await transaction(async (session) => {
    await options.prepare?.(session);
    await session.query("SET CONSTRAINTS ALL IMMEDIATE");
    await search(session, 0, rows);
    throw ROLL_BACK;
  }).catch((error) => {
    if (error !== ROLL_BACK) throw error;
  });
  return rejected.sort((a, b) => a.index - b.index);
}

/** Thrown to end the search's transaction with a rollback. */
const ROLL_BACK = new Error("The search's transaction is always rolled back");
