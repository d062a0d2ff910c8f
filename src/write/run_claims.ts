/**
 * A run's claims on its source, as the writer makes them in each batch's
 * transaction (the statements are `bookkeeping/batch_claims.ts`): register
 * the run with its first batch, claim each batch's source range and reserve
 * its lanes' seqs; and after a lost claim, re-sync the batch with the
 * committed prefix.
 *
 * @module
 */

import {
  type BatchOwner,
  claimBatch,
  committedOffset,
  registerSource,
} from "../bookkeeping/batch_claims.ts";
import type { SourceOptions } from "../bookkeeping/source_state.ts";
import { type Batch, rowCount, sliceRows } from "../codec/row_block.ts";
import { ExitCode, UsageError } from "../errors.ts";
import type { Session } from "../target/target.ts";
import { assignSeqs, batchLanes } from "./seq_splice.ts";

/** The bookkeeping of a run: which source it loads, and how. */
export interface RunBookkeeping extends BatchOwner {
  /** The source's options, columns excepted (they are known once the header is). */
  options: Omit<SourceOptions, "columns">;
  /** Register the source in the first batch's transaction (new, or restarted). */
  register: boolean;
  /** Clear the earlier run's markers and progress in that transaction. */
  restart: boolean;
  /** How many writers load the source (`--parallel`), registered with it. Default 1. */
  writers?: number;
}

/** What a batch's claim needs besides the batch. */
export interface RangeClaim {
  /** The target as `schema.table` (the lanes' key). */
  target: string;
  /** The input's fields and their columns, registered with the source. */
  columns: SourceOptions["columns"];
  /** Whether the rows take seqs (the table has the seq column). */
  writesSeq: boolean;
  /** Whether the run's source is registered already (its first batch committed). */
  registered: boolean;
}

/**
 * Registers the run's source (with `register`): its options with the
 * input's columns, its writers, and with `restart` the earlier run's
 * markers and progress cleared, all in the caller's transaction.
 *
 * @param session The transaction of the run's first batch (or of its end,
 * when it had none).
 * @param bookkeeping The run's bookkeeping.
 * @param columns The input's columns.
 *
 * @example Usage
 * ```ts
 * import { registerRun } from "./run_claims.ts";
 * import { ensureBookkeeping } from "../bookkeeping/schema.ts";
 * import { readSourceState } from "../bookkeeping/source_state.ts";
 * import { openTarget } from "../target/open_target.ts";
 * import assert from "node:assert/strict";
 *
 * const dataDir = await Deno.makeTempDir();
 * const target = await openTarget({ dataDir });
 * await ensureBookkeeping(target);
 * const bookkeeping = {
 *   metaSchema: "lanecopy", sourceId: "s", writer: 0, register: true, restart: false,
 *   options: {
 *     target: "public.t", format: "csv" as const, delimiter: ",", quote: '"',
 *     nullString: null, header: true, lane: null, encoding: "utf-8" as const,
 *   },
 * };
 * await target.transaction((session) => registerRun(session, bookkeeping, ["a"]));
 * assert.deepEqual((await readSourceState(target, "lanecopy", "s"))?.options.columns, ["a"]);
 * await target.close();
 * await Deno.remove(dataDir, { recursive: true });
 * ```
 */
export async function registerRun(
  session: Session,
  bookkeeping: RunBookkeeping,
  columns: SourceOptions["columns"],
): Promise<void> {
  await registerSource(
    session,
    bookkeeping,
    { ...bookkeeping.options, columns },
    bookkeeping.restart,
    bookkeeping.writers,
  );
}

/**
 * Steps 1 and 2 of a batch's transaction: registers the source (first
 * batch of a new run), claims the batch's range and reserves its lanes'
 * seqs. Throws {@linkcode ClaimLost} when the claim fails (an earlier run
 * has the range, or the committed prefix is elsewhere): the caller rolls
 * back and re-syncs.
 *
 * @param session The batch's transaction.
 * @param bookkeeping The run's bookkeeping.
 * @param batch The batch, stamped with its prefix.
 * @param claim The target, the columns, and whether the run is registered.
 * @returns Each row's seq when the table takes them.
 *
 * @example Usage
 * ```ts
 * import { claimRange, ClaimLost } from "./run_claims.ts";
 * import { ensureBookkeeping } from "../bookkeeping/schema.ts";
 * import { openTarget } from "../target/open_target.ts";
 * import assert from "node:assert/strict";
 *
 * const dataDir = await Deno.makeTempDir();
 * const target = await openTarget({ dataDir });
 * await ensureBookkeeping(target);
 * const bookkeeping = {
 *   metaSchema: "lanecopy", sourceId: "s", writer: 0, register: true, restart: false,
 *   options: {
 *     target: "public.t", format: "csv" as const, delimiter: ",", quote: '"',
 *     nullString: null, header: true, lane: "k", encoding: "utf-8" as const,
 *   },
 * };
 * const batch = {
 *   data: new TextEncoder().encode("x\ny\nx\n"), rowEnds: Uint32Array.of(2, 4, 6),
 *   lines: Float64Array.of(2, 3, 4), endOffsets: Float64Array.of(8, 10, 12),
 *   laneKeys: ["x", "y", "x"], startOffset: 0, endOffset: 12,
 *   prefix: { fingerprint: "f", lines: 4 },
 * };
 * const claim = { target: "public.t", columns: ["k"], writesSeq: true, registered: false };
 * const seqs = await target.transaction((session) =>
 *   claimRange(session, bookkeeping, batch, claim)
 * );
 * assert.deepEqual([...seqs!], [1, 1, 2]);
 * await assert.rejects(
 *   target.transaction((session) =>
 *     claimRange(session, bookkeeping, batch, { ...claim, registered: true })
 *   ),
 *   ClaimLost,
 * );
 * await target.close();
 * await Deno.remove(dataDir, { recursive: true });
 * ```
 */
export async function claimRange(
  session: Session,
  bookkeeping: RunBookkeeping,
  batch: Batch,
  claim: RangeClaim,
): Promise<Float64Array | undefined> {
  if (bookkeeping.register && !claim.registered) {
    await registerRun(session, bookkeeping, claim.columns);
  }
  const { laneKeys, laneRows } = batchLanes(batch);
  if (batch.prefix === undefined) {
    throw new TypeError(
      "Cannot claim a batch without its prefix fingerprint (PrefixFingerprint.stamp)",
    );
  }
  const firstSeqs = await claimBatch(session, bookkeeping, {
    startOffset: batch.startOffset,
    endOffset: batch.endOffset,
    rows: rowCount(batch),
    prefix: batch.prefix,
    target: claim.target,
    laneRows,
  });
  if (firstSeqs === undefined) throw new ClaimLost();
  return claim.writesSeq ? assignSeqs(laneKeys, firstSeqs) : undefined;
}

/**
 * Thrown inside a batch's transaction to roll it back and re-sync.
 *
 * @example Usage
 * ```ts
 * import { ClaimLost } from "./run_claims.ts";
 * import assert from "node:assert/strict";
 *
 * assert.ok(new ClaimLost() instanceof Error);
 * ```
 */
export class ClaimLost extends Error {}

/**
 * After a lost claim: the part of the batch the database does not have
 * yet (`undefined` when it has all of it), from its committed prefix.
 * Refuses (exit 4) when that prefix ends elsewhere than at one of the
 * batch's record boundaries.
 *
 * @param session An open database.
 * @param owner The source and writer.
 * @param batch The batch whose claim failed.
 * @returns The rest of the batch, or `undefined`.
 *
 * @example Usage
 * ```ts
 * import { resync } from "./run_claims.ts";
 * import { ensureBookkeeping } from "../bookkeeping/schema.ts";
 * import { openTarget } from "../target/open_target.ts";
 * import assert from "node:assert/strict";
 *
 * const dataDir = await Deno.makeTempDir();
 * const target = await openTarget({ dataDir });
 * await ensureBookkeeping(target);
 * const owner = { metaSchema: "lanecopy", sourceId: "never-loaded", writer: 0 };
 * const batch = {
 *   data: new TextEncoder().encode("a\n"), rowEnds: Uint32Array.of(2),
 *   lines: Float64Array.of(1), endOffsets: Float64Array.of(2),
 *   startOffset: 0, endOffset: 2,
 * };
 * assert.equal((await resync(target, owner, batch))?.startOffset, 0);
 * await target.close();
 * await Deno.remove(dataDir, { recursive: true });
 * ```
 */
export async function resync(
  session: Session,
  owner: BatchOwner,
  batch: Batch,
): Promise<Batch | undefined> {
  const committed = await committedOffset(session, owner);
  if (committed >= batch.endOffset) return undefined;
  let from = 0;
  while (from < rowCount(batch) && batch.endOffsets[from] <= committed) from++;
  const startsAt = from === 0 ? batch.startOffset : batch.endOffsets[from - 1];
  if (committed < batch.startOffset || startsAt !== committed) {
    throw new UsageError(
      `Cannot load source "${owner.sourceId}" at byte ${batch.startOffset}: its committed prefix ends at byte ${committed}, which is not where this run stands (was it restarted or loaded by another run?); run again to resume from the database's position`,
      ExitCode.Refused,
    );
  }
  const raw = batch.raw?.subarray(committed - batch.startOffset);
  const rejects = batch.rejects?.filter((record) =>
    record.startOffset >= committed
  );
  return {
    ...batch,
    ...sliceRows(batch, from, rowCount(batch)),
    ...(raw && { raw }),
    rejects: rejects?.length ? rejects : undefined,
    startOffset: committed,
    endOffset: batch.endOffset,
  };
}
