/**
 * The write stage: each batch in its own transaction, by COPY.
 *
 * @module
 */

import { type Batch, dropRows, rowCount } from "../codec/row_block.ts";
import { UsageError } from "../errors.ts";
import { markComplete } from "../bookkeeping/batch_claims.ts";
import { retryWhenLost } from "../target/retry_when_lost.ts";
import { formatTableName } from "../target/table_name.ts";
import type { Session, Target } from "../target/target.ts";
import {
  type PreparedTable,
  prepareTable,
  type PrepareTableOptions,
} from "./prepare_table.ts";
import {
  ClaimLost,
  claimRange,
  registerRun,
  resync,
  type RunBookkeeping,
} from "./run_claims.ts";
import { type BatchOutcome, copyData } from "./copy_data.ts";
import type { AheadEncoding } from "../codec/binary/encoded_ahead.ts";
import type { Reject, RejectFile } from "./reject_file.ts";
import {
  checkRejectLimit,
  malformedRejects,
  type RejectContext,
  rejectedRows,
  rejectOf,
} from "./batch_rejects.ts";
import { isRejection } from "./server_error.ts";
import type { RowsApplied } from "./upsert_staging.ts";
import {
  OverlappedCommits,
  type OverlappedCommitsOptions,
} from "./overlapped_commits.ts";

/**
 * Options for {@linkcode BatchWriter}.
 *
 * @example Name the columns (the input has no header) and count commits
 * ```ts
 * import {
 *   BatchWriter,
 *   type BatchWriterOptions,
 *   CsvDecodeStream,
 *   openTarget,
 *   RechunkStream,
 * } from "@lanecopy/lanecopy";
 * import assert from "node:assert/strict";
 *
 * const dataDir = await Deno.makeTempDir();
 * const target = await openTarget({ dataDir });
 * await target.query("create table t (a int, b text)");
 * let committed = 0;
 * const options: BatchWriterOptions = {
 *   target,
 *   table: { schema: "public", table: "t" },
 *   columns: ["a", "b"],
 *   header: Promise.resolve(undefined),
 *   format: "text",
 *   source: "t.csv",
 *   onCommit: (_batch, rows) => {
 *     committed += rows;
 *   },
 * };
 * await ReadableStream.from([new TextEncoder().encode("1,x\n2,y\n3,z\n")])
 *   .pipeThrough(new CsvDecodeStream({ source: "t.csv", header: false }))
 *   .pipeThrough(new RechunkStream({ batchSize: 2 }))
 *   .pipeTo(new BatchWriter(options));
 * assert.equal(committed, 3);
 * await target.close();
 * await Deno.remove(dataDir, { recursive: true });
 * ```
 */
export interface BatchWriterOptions
  extends Omit<PrepareTableOptions, "reservesSeqs"> {
  /** The source's name, for errors. */
  source: string;
  /** Markers, lanes and progress; without it, batches are plain COPYs. */
  bookkeeping?: RunBookkeeping;
  /** Called as each batch goes through its transaction. */
  onEvent?: (event: BatchEvent) => void;
  /**
   * Called after each batch commits, with the rows it loaded and the
   * records it rejected into the reject file.
   */
  onCommit?: (
    batch: Batch,
    rows: number,
    rejected: number,
    outcome?: BatchOutcome,
  ) => void;
  /**
   * Where rows the server rejects go instead of failing their batch: the
   * batch loads without them (batches need their `raw` source bytes). The
   * malformed records a batch carries (`rejects`, from a codec in reject
   * mode) go there too, in the same transaction.
   * `max`: stop (exit 2) once more than this many were rejected in the run.
   * `headerAtStart`: the source's first record is a header.
   */
  rejects?: { file: RejectFile; max?: number; headerAtStart: boolean };
  /**
   * Called when the connection is lost (`target.lost`): opens a new one
   * (and takes the source's lock again), or throws to give up. The batch
   * in hand is kept: the writer re-syncs it with the committed prefix (its
   * COMMIT may have landed) and goes on. Without it, a lost connection
   * fails the stream.
   */
  reconnect?: (error: unknown) => Promise<void>;
  /**
   * Overlap batches on a second connection (see
   * {@linkcode OverlappedCommits}) where possible. Default true.
   */
  overlap?: boolean;
  /**
   * Told the COPY's binary encoding once the table is prepared, when
   * batches may go in binary: the decode stage's
   * `BatchPipeline.encodeAhead`, so that batches come encoded.
   */
  encodeAhead?: (encoding: AheadEncoding) => void;
}

/** A step in a batch's life, for logs and tests. */
export interface BatchEvent {
  /** `start`: its transaction begins; `commit-sent`: COMMIT is on its way;
   * `committed`; `skipped`: an earlier run already committed it. */
  kind: "start" | "commit-sent" | "committed" | "skipped";
  /** 1-based batch number in this run. */
  batch: number;
  /** Its source byte range. */
  startOffset: number;
  /** Its source byte range's end. */
  endOffset: number;
  /** Its rows. */
  rows: number;
  /** The writer, in a parallel load (`--parallel`). */
  writer?: number;
  /** Whether its rows went in COPY binary (from `commit-sent` on). */
  binary?: boolean;
}

/**
 * A `WritableStream` of {@linkcode Batch}es: before the first, it checks the
 * target table against the columns (creating it with `create`); then each
 * batch is one transaction. With `bookkeeping`, that transaction claims the
 * batch by its source range and advances the committed prefix, reserves
 * gapless seqs for its lanes (bumping their counters and notifying), COPYs
 * the rows with their seqs spliced in, and commits; a batch an earlier run
 * committed is skipped. A failure rolls the batch back, and a row the
 * server rejects is reported at its source line. A batch carrying an
 * `error` (malformed input) fails the stream with it. With a reject file,
 * rejected rows and the batch's malformed records (`rejects`) are written
 * there before the batch commits. Queue: one batch (highWaterMark 1).
 *
 * @example Usage
 * ```ts
 * import {
 *   BatchWriter,
 *   CsvDecodeStream,
 *   openTarget,
 *   RechunkStream,
 * } from "@lanecopy/lanecopy";
 * import assert from "node:assert/strict";
 *
 * const dataDir = await Deno.makeTempDir();
 * const target = await openTarget({ dataDir });
 * const decode = new CsvDecodeStream({ source: "t.csv" });
 * await ReadableStream.from([new TextEncoder().encode("a,b\n1,x\n2,\n")])
 *   .pipeThrough(decode)
 *   .pipeThrough(new RechunkStream({ batchSize: 1 }))
 *   .pipeTo(new BatchWriter({
 *     target, table: { schema: "public", table: "t" }, header: decode.header,
 *     create: true, format: "text", source: "t.csv",
 *   }));
 * const { rows } = await target.query("select count(b) as n from t");
 * assert.equal(rows[0].n, 1);
 * await target.close();
 * await Deno.remove(dataDir, { recursive: true });
 * ```
 */
export class BatchWriter extends WritableStream<Batch> {
  /** @param options Where and how to write. */
  constructor(options: BatchWriterOptions) {
    let prepared: Promise<PreparedTable | undefined> | undefined;
    const prepare = () =>
      prepared ??= retryWhenLost(
        options.target,
        options.reconnect,
        () =>
          prepareTable({
            ...options,
            reservesSeqs: options.bookkeeping !== undefined,
          }),
      ).then((ready) => {
        if (ready?.binary !== undefined) {
          options.encodeAhead?.({
            ...ready.binary.options,
            seqs: ready.writesSeq,
          });
        }
        return ready;
      });
    const run: RunState = { registered: false, batches: 0, rejected: 0 };
    let overlapped: Promise<OverlappedCommits | undefined> | undefined;
    const finishOverlapped = async () => await (await overlapped)?.finish();
    super({
      async write(batch) {
        if (batch.error) {
          await finishOverlapped();
          throw batch.error;
        }
        const ready = await prepare();
        if (ready === undefined) {
          throw new UsageError(
            "Cannot load rows without column names: the input has no header; pass --columns",
          );
        }
        const number = ++run.batches;
        // The first batch goes alone (it registers the run); the rest
        // overlap when the database can open a second connection.
        const registered = run.registered || !options.bookkeeping?.register;
        if (number > 1 && registered && canOverlap(options)) {
          overlapped ??= overlapCommits(options, ready, run);
        }
        const overlap = await overlapped;
        if (overlap) return await overlap.submit(batch, number);
        await writeBatch(options, ready, batch, run, number);
      },
      async abort() {
        await finishOverlapped().catch(() => {});
      },
      async close() {
        await finishOverlapped();
        const ready = await prepare();
        const bookkeeping = options.bookkeeping;
        if (bookkeeping === undefined) return;
        const complete = () =>
          options.target.transaction(async (session) => {
            if (
              bookkeeping.register && !run.registered && ready !== undefined
            ) {
              await ready.shadow?.clear(session);
              await registerRun(session, bookkeeping, ready.columns);
            }
            const completion = await markComplete(session, bookkeeping);
            const rows = await ready?.shadow?.settle(session, completion);
            if (rows !== undefined) {
              const plural = rows === 1 ? "" : "s";
              options.onNotice?.(
                options.replace?.dryRun
                  ? `would replace the rows of ${
                    formatTableName(options.table)
                  } (${rows} row${plural}); a dry run: rolled back`
                  : `replaced the rows of ${
                    formatTableName(options.table)
                  }: it holds ${rows} row${plural} now`,
              );
            }
          });
        await retryWhenLost(options.target, options.reconnect, complete);
      },
    }, { highWaterMark: 1 });
  }
}

/** What a run has done so far, across batches. */
interface RunState {
  /** The source is registered (its first batch committed). */
  registered: boolean;
  /** Batches begun. */
  batches: number;
  /** Records rejected into the reject file. */
  rejected: number;
}

/**
 * One batch through its transaction; re-syncs when the claim fails. A row
 * the server rejects is found (by its COPY line, or by a search when the
 * server names none) and, with a reject file, left out: the batch is tried
 * again without it, and commits with its rejects (and the malformed records
 * it carries) written beside it.
 */
async function writeBatch(
  options: BatchWriterOptions,
  ready: PreparedTable,
  whole: Batch,
  run: RunState,
  number: number,
): Promise<void> {
  const context: RejectContext = {
    source: options.source,
    sourceId: options.bookkeeping?.sourceId ?? "",
    rejects: options.rejects,
  };
  let batch = whole;
  let dropped = new Set<number>();
  let rejects: Reject[] = [];
  let malformed = malformedRejects(context, batch, run.rejected);
  let applied: RowsApplied | undefined;
  let [binary, textOnly] = [false, false];
  /** The batch's rejects, in source order. */
  const inOrder = () =>
    [...malformed, ...rejects].sort((a, b) => a.startOffset - b.startOffset);
  const event = (kind: BatchEvent["kind"]) =>
    options.onEvent?.({
      kind,
      batch: number,
      startOffset: batch.startOffset,
      endOffset: batch.endOffset,
      rows: rowCount(batch) - dropped.size,
      ...(kind !== "start" && kind !== "skipped" && { binary }),
    });
  while (true) {
    const { kept, from } = dropRows(batch, dropped);
    event("start");
    try {
      await options.target.transaction(async (session) => {
        const seqs = await reserve(session, options, ready, kept, run);
        binary = false;
        if (rowCount(kept) > 0) {
          await ready.upsert?.create(session);
          const copy = copyData(kept, seqs, ready, textOnly);
          binary = copy.binary;
          await session.copyFrom(copy.spec, copy.data);
          applied = await ready.upsert?.apply(session, rowCount(kept));
        }
        if (rejects.length + malformed.length > 0) {
          await options.rejects!.file.write(inOrder());
        }
      }, { onCommitSent: () => event("commit-sent") });
    } catch (error) {
      const lost = options.reconnect !== undefined &&
        options.bookkeeping !== undefined && options.target.lost === true;
      if (lost) await options.reconnect!(error);
      if (error instanceof ClaimLost || lost) {
        const next = await resync(
          options.target,
          options.bookkeeping!,
          batch,
        );
        if (next === undefined) {
          event("skipped");
          return;
        }
        batch = next;
        dropped = new Set();
        rejects = [];
        malformed = malformedRejects(context, batch, run.rejected);
        continue;
      }
      if (binary && isRejection(error)) {
        // Again in text, so that the server's error reads as ever.
        textOnly = true;
        continue;
      }
      const found = await rejectedRows(options.target, kept, error, {
        spec: ready.spec,
        table: ready.table,
        source: options.source,
        first: options.rejects === undefined,
        reserve: (session) => reserve(session, options, ready, kept, run),
        upsert: ready.upsert,
      });
      if (found === undefined) continue; // the claim moved: re-sync
      for (const row of found) {
        const index = from[row.index];
        dropped.add(index);
        rejects.push(rejectOf(context, batch, index, row.error));
      }
      checkRejectLimit(context, run.rejected, inOrder());
      continue;
    }
    const rejected = malformed.length + rejects.length;
    run.rejected += rejected;
    if (options.bookkeeping?.register) run.registered = true;
    event("committed");
    options.onCommit?.(batch, rowCount(batch) - dropped.size, rejected, {
      applied,
      binary,
    });
    return;
  }
}

/**
 * Whether batches may overlap (see {@linkcode OverlappedCommits}): on a
 * server (a second connection), with bookkeeping (claims keep the commits
 * in order), and without a reject file (whose records are written in
 * their batch's transaction, one batch at a time).
 */
function canOverlap(options: BatchWriterOptions): boolean {
  return options.overlap !== false && options.target.fork !== undefined &&
    options.bookkeeping !== undefined && options.rejects === undefined;
}

/**
 * Opens the second connection and the overlap; `undefined` (batches go
 * one at a time) when the connection cannot be opened.
 */
async function overlapCommits(
  options: BatchWriterOptions,
  ready: PreparedTable,
  run: RunState,
): Promise<OverlappedCommits | undefined> {
  let second: Target;
  try {
    second = await options.target.fork!();
  } catch {
    return undefined; // e.g. max_connections reached: one at a time still works
  }
  const event = (
    kind: BatchEvent["kind"],
    batch: Batch,
    number: number,
    binary?: boolean,
  ) =>
    options.onEvent?.({
      kind,
      batch: number,
      startOffset: batch.startOffset,
      endOffset: batch.endOffset,
      rows: rowCount(batch),
      binary,
    });
  try {
    const commits: OverlappedCommitsOptions = {
      primary: options.target,
      second,
      encoding: ready,
      writesSeq: ready.writesSeq,
      owner: options.bookkeeping!,
      target: ready.lanesTarget,
      onEvent: event,
      upsert: ready.upsert,
      committed: (batch, number, outcome) => {
        event("committed", batch, number, outcome.binary);
        options.onCommit?.(batch, rowCount(batch), 0, outcome);
      },
      alone: (batch, number) => writeBatch(options, ready, batch, run, number),
    };
    return await retryWhenLost(
      options.target,
      options.reconnect,
      () => OverlappedCommits.open(commits),
    );
  } catch (error) {
    await second.close();
    throw error;
  }
}

/**
 * Steps 1 and 2 of a batch's transaction (see {@linkcode claimRange});
 * nothing without bookkeeping. Returns each row's seq when the table takes
 * them.
 */
async function reserve(
  session: Session,
  options: BatchWriterOptions,
  ready: PreparedTable,
  batch: Batch,
  run: RunState,
): Promise<Float64Array | undefined> {
  const bookkeeping = options.bookkeeping;
  if (bookkeeping === undefined) return undefined;
  // A run that starts over starts its shadow table over, with its
  // registration.
  if (bookkeeping.register && !run.registered) {
    await ready.shadow?.clear(session);
  }
  return await claimRange(session, bookkeeping, batch, {
    target: ready.lanesTarget,
    columns: ready.columns,
    writesSeq: ready.writesSeq,
    registered: run.registered,
  });
}
