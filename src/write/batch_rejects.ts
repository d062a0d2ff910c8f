/**
 * A batch's rejects, as the writer handles them: the rows the server
 * rejects (searched for under the batch's own claim and seqs), and each
 * rejected row or malformed record as a record for the reject file, with
 * its source line and bytes; and the run's `--max-rejects` limit.
 *
 * @module
 */

import type { CopyFormat } from "../codec/copy_row.ts";
import {
  type Batch,
  type MalformedRecord,
  rowCount,
  sliceRows,
} from "../codec/row_block.ts";
import { DatabaseLoadError, ExitCode, UsageError } from "../errors.ts";
import type { TableName } from "../target/table_name.ts";
import type { CopySpec, Session, Target } from "../target/target.ts";
import { recordBytes, type Reject, type RejectFile } from "./reject_file.ts";
import { findRejectedRows, type RejectedRow } from "./reject_search.ts";
import { spliceSeqChunks } from "./seq_splice.ts";
import { ClaimLost } from "./run_claims.ts";
import {
  isRejection,
  locateServerError,
  namedRow,
  showTableName,
} from "./server_error.ts";
import type { UpsertStaging } from "./upsert_staging.ts";

/** Whose rejects they are, and the reject file's settings. */
export interface RejectContext {
  /** The source's name, as in messages. */
  source: string;
  /** The source id its progress is kept under (empty without bookkeeping). */
  sourceId: string;
  /**
   * The reject file's settings, when there is one. `max`: stop (exit 2)
   * once more than this many were rejected in the run. `headerAtStart`:
   * the source's first record is a header. `file`: the reject file, whose
   * `header` (the source's header line, when known) is how far the
   * source's first record is from its start.
   */
  rejects?: {
    max?: number;
    headerAtStart: boolean;
    file?: Pick<RejectFile, "header">;
  };
}

/** How {@linkcode searchRejected} COPYs a batch's rows. */
export interface RejectSearch {
  /** The COPY's table, columns and format. */
  spec: CopySpec;
  /** The rows' COPY format. */
  format: CopyFormat;
  /** Stop at the first rejected row (there is no reject file). */
  first: boolean;
  /**
   * Runs first in the search's transaction, as in the batch's own (claim,
   * reserve seqs): each row's seq, when the table takes them.
   */
  reserve: (session: Session) => Promise<Float64Array | undefined>;
  /**
   * Upsert: `spec` is its staging table; each part of the batch moves
   * from there into the table (so a row the move refuses is found too).
   */
  upsert?: UpsertStaging;
}

/**
 * The rows of `batch` the server rejects, found in a transaction that is
 * rolled back (all of them, or the first with `first`); their seqs, when
 * `reserve` returns them, are spliced in as in the batch's own COPY.
 *
 * @param target The database.
 * @param batch The batch.
 * @param search The COPY, and the batch's claim.
 * @returns The rejected rows, in batch order.
 *
 * @example Usage
 * ```ts
 * import { searchRejected } from "./batch_rejects.ts";
 * import { openTarget } from "../target/open_target.ts";
 * import assert from "node:assert/strict";
 *
 * const dataDir = await Deno.makeTempDir();
 * const target = await openTarget({ dataDir });
 * await target.query("create table t (n int check (n > 0))");
 * const batch = {
 *   data: new TextEncoder().encode("1\n-2\n3\n"), rowEnds: Uint32Array.of(2, 5, 7),
 *   lines: Float64Array.of(2, 3, 4), endOffsets: Float64Array.of(4, 7, 9),
 *   startOffset: 2, endOffset: 9,
 * };
 * const rejected = await searchRejected(target, batch, {
 *   spec: { table: { schema: "public", table: "t" }, columns: ["n"], format: "text" },
 *   format: "text",
 *   first: false,
 *   reserve: () => Promise.resolve(undefined),
 * });
 * assert.deepEqual(rejected.map((row) => row.index), [1]);
 * await target.close();
 * await Deno.remove(dataDir, { recursive: true });
 * ```
 */
export async function searchRejected(
  target: Target,
  batch: Batch,
  search: RejectSearch,
): Promise<RejectedRow[]> {
  let seqs: Float64Array | undefined;
  return await findRejectedRows(
    (work) => target.transaction(work),
    batch,
    async (session, from, to) => {
      const rows = sliceRows(batch, from, to);
      await session.copyFrom(
        search.spec,
        seqs
          ? spliceSeqChunks(rows, seqs.subarray(from, to), search.format)
          : rows.data,
      );
      await search.upsert?.apply(session, to - from);
    },
    {
      first: search.first,
      prepare: async (session) => {
        seqs = await search.reserve(session);
        await search.upsert?.create(session);
      },
    },
  );
}

/**
 * Refuses (exit 2) a batch's rejects when they would take the run past
 * `--max-rejects`, naming the first of them.
 *
 * @param context The source, and the limit.
 * @param rejected Records rejected by the run's earlier batches.
 * @param rejects This batch's rejects, the first first.
 *
 * @example Usage
 * ```ts
 * import { checkRejectLimit } from "./batch_rejects.ts";
 * import assert from "node:assert/strict";
 *
 * const reject = {
 *   source: "in.csv", sourceId: "s", line: 7, column: "qty", startOffset: 40,
 *   endOffset: 48, reason: "bad", bytes: new Uint8Array(0),
 * };
 * const context = { source: "in.csv", sourceId: "s", rejects: { max: 1, headerAtStart: true } };
 * checkRejectLimit(context, 0, [reject]);
 * assert.throws(() => checkRejectLimit(context, 1, [reject]), /Cannot load past in\.csv:7/);
 * ```
 */
export function checkRejectLimit(
  context: RejectContext,
  rejected: number,
  rejects: readonly Reject[],
): void {
  const max = context.rejects?.max;
  if (max === undefined || rejected + rejects.length <= max) return;
  throw new UsageError(
    `Cannot load past ${rejects[0].source}:${
      rejects[0].line
    }: more than ${max} records rejected (--max-rejects ${max}); the batches before it are committed and its rejects are not written. Raise --max-rejects (or fix the records) and run again to resume`,
    ExitCode.BadInput,
  );
}

/**
 * The malformed records `batch` carries, as records for the reject file;
 * refuses (exit 2) when they would take the run past `--max-rejects`.
 *
 * @param context The source, and the reject file's settings (a batch with
 * malformed records needs a reject file).
 * @param batch The batch, with its `raw` source bytes.
 * @param rejected Records rejected by the run's earlier batches.
 * @returns The records, in the batch's order.
 *
 * @example Usage
 * ```ts
 * import { malformedRejects } from "./batch_rejects.ts";
 * import assert from "node:assert/strict";
 *
 * const raw = new TextEncoder().encode('1\n"2\n');
 * const batch = {
 *   data: new TextEncoder().encode("1\n"), rowEnds: Uint32Array.of(2),
 *   lines: Float64Array.of(1), endOffsets: Float64Array.of(2),
 *   startOffset: 0, endOffset: 5, raw,
 *   rejects: [{ startOffset: 2, endOffset: 5, line: 2, errorLine: 2, column: 3, lines: 2, reason: "Unterminated quoted field" }],
 * };
 * const [reject] = malformedRejects(
 *   { source: "in.csv", sourceId: "s", rejects: { headerAtStart: false } },
 *   batch,
 *   0,
 * );
 * assert.equal(reject.line, 2);
 * assert.equal(new TextDecoder().decode(reject.bytes), '"2\n');
 * ```
 */
export function malformedRejects(
  context: RejectContext,
  batch: Batch,
  rejected: number,
): Reject[] {
  const found = batch.rejects ?? [];
  if (found.length === 0) return [];
  if (context.rejects === undefined) {
    throw new TypeError(
      "Cannot write a batch's malformed records without a reject file",
    );
  }
  const rejects = found.map((record) =>
    malformedReject(context, batch, record)
  );
  checkRejectLimit(context, rejected, rejects);
  return rejects;
}

/** A malformed record of `batch` as a record for the reject file. */
function malformedReject(
  context: RejectContext,
  batch: Batch,
  record: MalformedRecord,
): Reject {
  return {
    source: context.source,
    sourceId: context.sourceId,
    line: record.line,
    column: record.column,
    errorLine: record.errorLine,
    startOffset: record.startOffset,
    endOffset: record.endOffset,
    reason: record.reason,
    bytes: batch.raw?.subarray(
      record.startOffset - batch.startOffset,
      record.endOffset - batch.startOffset,
    ) ?? new Uint8Array(0),
  };
}

/**
 * Row `index` of `batch`, which the server rejected with `error`, as a
 * record for the reject file: its source bytes and their byte range (a
 * malformed record, blank lines and the header before it excepted), its
 * first line, the column the server named and the reason.
 *
 * @param context The source, and the reject file's settings.
 * @param batch The batch, with its `raw` source bytes.
 * @param index The row.
 * @param error The server's error for it.
 * @returns The record.
 *
 * @example Usage
 * ```ts
 * import { rejectOf } from "./batch_rejects.ts";
 * import assert from "node:assert/strict";
 *
 * const raw = new TextEncoder().encode("1\nx\n");
 * const batch = {
 *   data: raw, rowEnds: Uint32Array.of(2, 4), lines: Float64Array.of(2, 3),
 *   endOffsets: Float64Array.of(12, 14), startOffset: 10, endOffset: 14, raw,
 * };
 * const error = Object.assign(new Error('invalid input syntax for type integer: "x"'), {
 *   code: "22P02", severity: "ERROR", where: 'COPY t, line 2, column n: "x"',
 * });
 * const reject = rejectOf(
 *   { source: "in.csv", sourceId: "s", rejects: { headerAtStart: true } },
 *   batch,
 *   1,
 *   error,
 * );
 * assert.equal(reject.line, 3);
 * assert.equal(reject.column, "n");
 * assert.equal(new TextDecoder().decode(reject.bytes), "x\n");
 * assert.deepEqual([reject.startOffset, reject.endOffset], [12, 14]);
 * ```
 */
export function rejectOf(
  context: RejectContext,
  batch: Batch,
  index: number,
  error: unknown,
): Reject {
  const end = batch.endOffsets[index];
  let start = index === 0 ? batch.startOffset : batch.endOffsets[index - 1];
  // A malformed record between this row and the one before is not its.
  for (const record of batch.rejects ?? []) {
    if (record.endOffset <= end) start = Math.max(start, record.endOffset);
  }
  const raw = batch.raw?.subarray(
    start - batch.startOffset,
    end - batch.startOffset,
  ) ?? new Uint8Array(0);
  const header = start === 0 && context.rejects!.headerAtStart
    ? context.rejects!.file?.header?.length ?? true
    : false;
  const bytes = recordBytes(raw, header);
  const located = locateServerError(error, batch, context.source, index);
  const reason = located instanceof DatabaseLoadError
    ? located.reason
    : String(error);
  return {
    source: context.source,
    sourceId: context.sourceId,
    line: batch.lines[index],
    column: located instanceof DatabaseLoadError
      ? located.columnName ?? ""
      : "",
    // Where its own bytes start: past what came before it in the range.
    startOffset: end - bytes.length,
    endOffset: end,
    reason,
    bytes,
  };
}

/** What {@linkcode rejectedRows} needs besides the batch. */
export interface RejectedRowsRequest extends Omit<RejectSearch, "format"> {
  /** The target table (its name replaces a staging or shadow table's in errors). */
  table: TableName;
  /** The source's name, for errors. */
  source: string;
}

/**
 * The rows of `batch` the server rejects, after `error` failed its
 * transaction, for the reject file. Throws `error` (placed at its row)
 * instead when it is no rejection of data, or when there is no reject file
 * (`first`: after a search for the row when the server named none);
 * `undefined` when the batch's claim failed meanwhile ({@linkcode ClaimLost}).
 *
 * @param target The database.
 * @param batch The batch (COPY text rows).
 * @param error What failed its transaction.
 * @param request The text COPY, the claim, the table and source names.
 * @returns The rejected rows, in batch order.
 *
 * @example A CHECK the server names no line for
 * ```ts
 * import { rejectedRows } from "./batch_rejects.ts";
 * import { openTarget } from "../target/open_target.ts";
 * import assert from "node:assert/strict";
 *
 * const dataDir = await Deno.makeTempDir();
 * const target = await openTarget({ dataDir });
 * await target.query("create table t (n int check (n > 0))");
 * const table = { schema: "public", table: "t" };
 * const batch = {
 *   data: new TextEncoder().encode("1\n-2\n"), rowEnds: Uint32Array.of(2, 5),
 *   lines: Float64Array.of(2, 3), endOffsets: Float64Array.of(2, 5), startOffset: 0, endOffset: 5,
 * };
 * const spec = { table, columns: ["n"], format: "text" as const };
 * const error = await target.copyFrom(spec, batch.data).catch((error) => error);
 * const found = await rejectedRows(target, batch, error, {
 *   spec, table, source: "t.csv", first: false, reserve: () => Promise.resolve(undefined),
 * });
 * assert.deepEqual(found?.map((row) => row.index), [1]);
 * await target.close();
 * await Deno.remove(dataDir, { recursive: true });
 * ```
 */
export async function rejectedRows(
  target: Target,
  batch: Batch,
  error: unknown,
  request: RejectedRowsRequest,
): Promise<RejectedRow[] | undefined> {
  const { source } = request;
  showTableName(error, request.spec.table, request.table);
  if (!isRejection(error) || rowCount(batch) === 0) {
    throw locateServerError(error, batch, source);
  }
  if (request.first && namedRow(error) !== undefined) {
    throw locateServerError(error, batch, source);
  }
  let found: RejectedRow[];
  try {
    found = await searchRejected(target, batch, {
      ...request,
      format: request.spec.format as CopyFormat,
    });
  } catch (failed) {
    if (failed instanceof ClaimLost) return undefined;
    throw failed;
  }
  for (const row of found) {
    showTableName(row.error, request.spec.table, request.table);
  }
  if (found.length === 0) throw locateServerError(error, batch, source);
  if (request.first) {
    throw locateServerError(found[0].error, batch, source, found[0].index);
  }
  return found;
}
