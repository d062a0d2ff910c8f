/**
 * The bookkeeping statements inside one batch's transaction: claim the
 * batch and advance the source's committed prefix; reserve each lane's seq
 * range, bump its counter and announce it (one statement for all of it). Rolled back with the batch, they
 * leave no trace (notifications are only delivered on commit).
 *
 * @module
 */

import { metaTables, NOTIFY_CHANNEL } from "./schema.ts";
import type { PrefixState } from "../source/prefix_fingerprint.ts";
import type { SourceOptions } from "./source_state.ts";
import { recordTarget, type TargetFound } from "./target_identity.ts";
import type { Session } from "../target/target.ts";

/** Which source and writer a batch belongs to. */
export interface BatchOwner {
  /** The bookkeeping schema. */
  metaSchema: string;
  /** The source id. */
  sourceId: string;
  /** The writer (0 for a single-writer run). */
  writer: number;
  /**
   * The target table as the run found it before loading: registering the
   * source records its identity, and the source's progress belongs to its
   * generation (see `recordTarget`). Without it, the source's generation is
   * left as it was.
   */
  targetTable?: TargetFound;
}

/** One batch's claim: its source range, rows, prefix and lanes. */
export interface BatchClaim {
  /** Source byte offset of the batch's first record. */
  startOffset: number;
  /** Source byte offset just after its last record. */
  endOffset: number;
  /** Its rows. */
  rows: number;
  /** The source prefix up to `endOffset`. */
  prefix: PrefixState;
  /** The target as `schema.table` (the lanes' key). */
  target: string;
  /** How many rows each lane has in the batch (at least one lane). */
  laneRows: ReadonlyMap<string, number>;
  /**
   * The first seq the batch's rows were already written with, per lane
   * (rows COPYed before their claim): the reservation takes place only
   * where each lane's `next_seq` is still that value, else that lane is
   * missing from the result and the caller must roll back.
   */
  expectedFirstSeqs?: ReadonlyMap<string, number>;
}

/**
 * Records a source (its options, how many writers load it, and with
 * `owner.targetTable` the generation of the target table it loads into)
 * and a progress row for each of its writers; with `restart`, also clears
 * its markers and progress. When the run found the target table dropped
 * or truncated (`owner.targetTable.reset`), the target's lane counters are
 * cleared too (see `recordTarget`). Runs in the transaction of the run's
 * first batch, so a restart that fails changes nothing. Progress rows of
 * writers past `writers` are dropped (a source is registered only when
 * none of its writers has committed anything, or with `restart`).
 *
 * @param session The batch's transaction.
 * @param owner The source and writer.
 * @param options The source's options.
 * @param restart Clear the earlier run's markers and progress.
 * @param writers How many writers load the source (`--parallel`). Default 1.
 *
 * @example Usage
 * ```ts
 * import { ensureBookkeeping } from "./schema.ts";
 * import { registerSource } from "./batch_claims.ts";
 * import { readSourceState } from "./source_state.ts";
 * import { openTarget } from "../target/open_target.ts";
 * import assert from "node:assert/strict";
 *
 * const dataDir = await Deno.makeTempDir();
 * const target = await openTarget({ db: "", dataDir });
 * await ensureBookkeeping(target);
 * const owner = { metaSchema: "lanecopy", sourceId: "s", writer: 0 };
 * const options = {
 *   target: "public.t", format: "csv" as const, delimiter: ",", quote: '"',
 *   nullString: null, header: true, columns: ["a"], lane: null, encoding: "utf-8" as const,
 * };
 * await target.transaction((session) => registerSource(session, owner, options, false));
 * assert.equal((await readSourceState(target, "lanecopy", "s"))?.progress.byteOffset, 0);
 * await target.close();
 * await Deno.remove(dataDir, { recursive: true });
 * ```
 */
export async function registerSource(
  session: Session,
  owner: BatchOwner,
  options: SourceOptions,
  restart: boolean,
  writers = 1,
): Promise<void> {
  const t = metaTables(owner.metaSchema);
  const generation = owner.targetTable &&
    await recordTarget(session, owner.metaSchema, owner.targetTable);
  await session.query(
    `INSERT INTO ${t.sources} AS s (source_id, target, options, writers, target_generation)
     VALUES ($1, $2, $3::jsonb, $4, $5::bigint)
     ON CONFLICT (source_id) DO UPDATE
       SET target = excluded.target, options = excluded.options,
           writers = excluded.writers,
           target_generation = coalesce(excluded.target_generation, s.target_generation),
           updated_at = now()`,
    [
      owner.sourceId,
      options.target,
      JSON.stringify(options),
      writers,
      generation ?? null,
    ],
  );
  if (restart) {
    await session.query(
      `DELETE FROM ${t.batches} WHERE source_id = $1`,
      [owner.sourceId],
    );
    await session.query(
      `DELETE FROM ${t.progress} WHERE source_id = $1`,
      [owner.sourceId],
    );
  }
  await session.query(
    `DELETE FROM ${t.progress} WHERE source_id = $1 AND writer >= $2`,
    [owner.sourceId, writers],
  );
  await session.query(
    `INSERT INTO ${t.progress} (source_id, writer)
     SELECT $1, w FROM generate_series(0, $2::int - 1) AS w
     ON CONFLICT (source_id, writer) DO NOTHING`,
    [owner.sourceId, writers],
  );
}

/**
 * Steps 1, 2, 4 and 5 of a batch's transaction, in one statement (one round
 * trip, so the server waits less between COPYs):
 * - claims the batch: inserts its marker on `(source_id, writer,
 *   start_offset)` (pruning markers behind it) and advances the writer's
 *   committed prefix by compare-and-set from `startOffset` to `endOffset`;
 * - only if both happened, locks the batch's lanes in sorted order (so
 *   concurrent writers never deadlock), reserves each a gapless seq range,
 *   bumps its row counter and queues a `pg_notify` on channel `lanecopy`
 *   with `{target, lane, last_seq}` (delivered only if the batch commits).
 *
 * The lane rows stay locked until the transaction ends, so a lane's seqs
 * become visible in order. With `expectedFirstSeqs` (rows COPYed before
 * their claim, with seqs predicted), a lane is reserved only where its
 * `next_seq` is still the predicted first seq; a lane that moved is left
 * out of the result.
 *
 * @param session The batch's transaction.
 * @param owner The source and writer.
 * @param claim The batch's range, rows, prefix, target and rows per lane.
 * @returns The first seq reserved for each lane; `undefined` when the claim
 * failed (already claimed, or the prefix is elsewhere: roll back, re-sync).
 *
 * @example A range is claimed once; lanes continue their seqs
 * ```ts
 * import { ensureBookkeeping } from "./schema.ts";
 * import { claimBatch, committedOffset, registerSource } from "./batch_claims.ts";
 * import { openTarget } from "../target/open_target.ts";
 * import assert from "node:assert/strict";
 *
 * const dataDir = await Deno.makeTempDir();
 * const target = await openTarget({ db: "", dataDir });
 * await ensureBookkeeping(target);
 * const owner = { metaSchema: "lanecopy", sourceId: "s", writer: 0 };
 * const options = {
 *   target: "public.t", format: "csv" as const, delimiter: ",", quote: '"',
 *   nullString: null, header: true, columns: ["a"], lane: null, encoding: "utf-8" as const,
 * };
 * await target.transaction((session) => registerSource(session, owner, options, false));
 * const prefix = { fingerprint: "f", lines: 4 };
 * const laneRows = new Map([["eu", 2], ["us", 1]]);
 * const first = { startOffset: 0, endOffset: 120, rows: 3, prefix, target: "public.t", laneRows };
 * const second = { ...first, startOffset: 120, endOffset: 200 };
 * assert.deepEqual(
 *   await target.transaction((s) => claimBatch(s, owner, first)),
 *   new Map([["eu", 1], ["us", 1]]),
 * );
 * assert.equal(await target.transaction((s) => claimBatch(s, owner, first)), undefined);
 * assert.deepEqual(
 *   await target.transaction((s) => claimBatch(s, owner, second)),
 *   new Map([["eu", 3], ["us", 2]]),
 * );
 * assert.equal(await committedOffset(target, owner), 200);
 * await target.close();
 * await Deno.remove(dataDir, { recursive: true });
 * ```
 */
export async function claimBatch(
  session: Session,
  owner: BatchOwner,
  claim: BatchClaim,
): Promise<Map<string, number> | undefined> {
  const t = metaTables(owner.metaSchema);
  const { rows } = await session.query(
    `WITH pruned AS (
       DELETE FROM ${t.batches}
        WHERE source_id = $1 AND writer = $2 AND end_offset < $3
     ), claimed AS (
       INSERT INTO ${t.batches} (source_id, writer, start_offset, end_offset, row_count)
       VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (source_id, writer, start_offset) DO NOTHING
       RETURNING 1
     ), advanced AS (
       UPDATE ${t.progress}
          SET byte_offset = $4, rows_committed = rows_committed + $5,
              lines_committed = $6, fingerprint = $7, complete = false,
              updated_at = now()
        WHERE source_id = $1 AND writer = $2 AND byte_offset = $3
          AND EXISTS (SELECT FROM claimed)
       RETURNING 1
     ), reserved AS (
       INSERT INTO ${t.lanes} AS l (target, lane, next_seq, row_count, updated_at)
       SELECT $8, w.lane, coalesce(w.first, 1) + w.n, w.n, now()
         FROM unnest($9::text[], $10::bigint[], $12::bigint[]) AS w(lane, n, first)
        WHERE EXISTS (SELECT FROM advanced)
          AND (w.first IS NULL OR w.first = 1 OR EXISTS (
                SELECT FROM ${t.lanes} x WHERE x.target = $8 AND x.lane = w.lane))
        ORDER BY w.lane
       ON CONFLICT (target, lane) DO UPDATE
         SET next_seq = l.next_seq + excluded.row_count,
             row_count = l.row_count + excluded.row_count,
             updated_at = excluded.updated_at
         WHERE $12::bigint[] IS NULL
            OR l.next_seq = excluded.next_seq - excluded.row_count
       RETURNING l.lane, l.next_seq
     )
     SELECT r.lane, r.next_seq::float8 AS next_seq,
            CASE WHEN r.lane IS NOT NULL THEN pg_notify($11, json_build_object(
              'target', $8::text, 'lane', r.lane, 'last_seq', r.next_seq - 1)::text)
            END
       FROM advanced LEFT JOIN reserved r ON true`,
    [
      owner.sourceId,
      owner.writer,
      claim.startOffset,
      claim.endOffset,
      claim.rows,
      claim.prefix.lines,
      claim.prefix.fingerprint,
      claim.target,
      [...claim.laneRows.keys()],
      [...claim.laneRows.values()],
      NOTIFY_CHANNEL,
      claim.expectedFirstSeqs &&
      [...claim.laneRows.keys()].map((lane) =>
        claim.expectedFirstSeqs!.get(lane)
      ),
    ],
  );
  if (rows.length === 0) return undefined;
  const first = new Map<string, number>();
  for (const row of rows) {
    if (row.lane === null) continue; // a claim of no rows: every record rejected
    const lane = row.lane as string;
    first.set(lane, Number(row.next_seq) - claim.laneRows.get(lane)!);
  }
  return first;
}

/**
 * Marks a writer's progress complete: the run reached the end of the
 * source. The source's progress rows are locked first, in writer order,
 * so that of writers finishing at once exactly one sees them all complete.
 *
 * @param session An open database (the caller's transaction).
 * @param owner The source and writer.
 * @returns Whether every writer of the source is complete now, and
 * whether this call completed it.
 *
 * @example Usage
 * ```ts
 * import { ensureBookkeeping } from "./schema.ts";
 * import { markComplete, registerSource } from "./batch_claims.ts";
 * import { readSourceState } from "./source_state.ts";
 * import { openTarget } from "../target/open_target.ts";
 * import assert from "node:assert/strict";
 *
 * const dataDir = await Deno.makeTempDir();
 * const target = await openTarget({ db: "", dataDir });
 * await ensureBookkeeping(target);
 * const owner = { metaSchema: "lanecopy", sourceId: "s", writer: 0 };
 * const options = {
 *   target: "public.t", format: "csv" as const, delimiter: ",", quote: '"',
 *   nullString: null, header: true, columns: ["a"], lane: null, encoding: "utf-8" as const,
 * };
 * await target.transaction((session) => registerSource(session, owner, options, false));
 * assert.deepEqual(await markComplete(target, owner), { sourceComplete: true, completedNow: true });
 * assert.deepEqual(await markComplete(target, owner), { sourceComplete: true, completedNow: false });
 * assert.equal((await readSourceState(target, "lanecopy", "s"))?.progress.complete, true);
 * await target.close();
 * await Deno.remove(dataDir, { recursive: true });
 * ```
 */
export async function markComplete(
  session: Session,
  owner: BatchOwner,
): Promise<Completion> {
  const t = metaTables(owner.metaSchema);
  const { rows } = await session.query(
    `SELECT writer, complete FROM ${t.progress}
      WHERE source_id = $1 ORDER BY writer FOR UPDATE`,
    [owner.sourceId],
  );
  await session.query(
    `UPDATE ${t.progress} SET complete = true, updated_at = now()
      WHERE source_id = $1 AND writer = $2`,
    [owner.sourceId, owner.writer],
  );
  const others = rows.filter((row) => Number(row.writer) !== owner.writer);
  const mine = rows.find((row) => Number(row.writer) === owner.writer);
  const sourceComplete = others.every((row) => row.complete === true);
  return {
    sourceComplete,
    completedNow: sourceComplete && mine?.complete !== true,
  };
}

/** What {@linkcode markComplete} found. */
export interface Completion {
  /** Every writer of the source is complete now. */
  sourceComplete: boolean;
  /** This writer's completion completed the source (it was not complete before). */
  completedNow: boolean;
}

/**
 * A writer's committed prefix end, as the database has it now.
 *
 * @param session An open database.
 * @param owner The source and writer.
 * @returns Its byte offset (0 when it has none).
 *
 * @example Usage
 * ```ts
 * import { ensureBookkeeping } from "./schema.ts";
 * import { committedOffset } from "./batch_claims.ts";
 * import { openTarget } from "../target/open_target.ts";
 * import assert from "node:assert/strict";
 *
 * const dataDir = await Deno.makeTempDir();
 * const target = await openTarget({ db: "", dataDir });
 * await ensureBookkeeping(target);
 * const owner = { metaSchema: "lanecopy", sourceId: "never-loaded", writer: 0 };
 * assert.equal(await committedOffset(target, owner), 0);
 * await target.close();
 * await Deno.remove(dataDir, { recursive: true });
 * ```
 */
export async function committedOffset(
  session: Session,
  owner: BatchOwner,
): Promise<number> {
  const t = metaTables(owner.metaSchema);
  const { rows } = await session.query(
    `SELECT byte_offset::float8 AS o FROM ${t.progress}
      WHERE source_id = $1 AND writer = $2`,
    [owner.sourceId, owner.writer],
  );
  return rows.length === 0 ? 0 : Number(rows[0].o);
}
