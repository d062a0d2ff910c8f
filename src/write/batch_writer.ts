/**
 * The write stage: each batch in its own transaction, by COPY.
 *
 * @module
 */

import { DEFAULTS } from "../defaults.ts";
import type { CopyFormat } from "../codec/copy_row.ts";
import {
  DatabaseLoadError,
  ExitCode,
  type ServerErrorFields,
  UsageError,
} from "../errors.ts";
import {
  type BatchOwner,
  claimBatch,
  committedOffset,
  markComplete,
  registerSource,
} from "../bookkeeping/batch_claims.ts";
import {
  type Batch,
  dropRows,
  type MalformedRecord,
  rowCount,
  sliceRows,
} from "../codec/row_block.ts";
import { recordBytes, type Reject, type RejectFile } from "./reject_file.ts";
import {
  findRejectedRows,
  isRejection,
  namedRow,
  type RejectedRow,
} from "./reject_search.ts";
import {
  OverlappedCommits,
  type OverlappedCommitsOptions,
} from "./overlapped_commits.ts";
import { retryWhenLost } from "../target/retry_when_lost.ts";
import { assignSeqs, batchLanes, spliceSeqChunks } from "./seq_splice.ts";
import type { SourceOptions } from "../bookkeeping/source_state.ts";
import {
  formatTableName,
  quoteIdentifier,
  quoteTableName,
  type TableName,
} from "../target/table_name.ts";
import type { CopySpec, Session, Target } from "../target/target.ts";

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

/** Options for {@linkcode BatchWriter}. */
export interface BatchWriterOptions {
  /** The open database. */
  target: Target;
  /** The target table. */
  table: TableName;
  /** Target columns in file order; replaces the header's names. */
  columns?: readonly string[];
  /** The header's names, once read (from {@linkcode CsvDecodeStream.header}). */
  header: Promise<string[] | undefined>;
  /** Create the table (text columns) when it is missing. */
  create?: boolean;
  /** The COPY format the batches are in. */
  format: CopyFormat;
  /**
   * The batches' encoding when it is not UTF-8, PostgreSQL's name: the
   * COPY names it and the server converts the rows.
   */
  encoding?: string;
  /** The source's name, for errors. */
  source: string;
  /** The lane column: its rows get seqs in `seqColumn`, which must exist. */
  lane?: string;
  /** The column receiving each row's seq. Default `lane_seq`. */
  seqColumn?: string;
  /** Markers, lanes and progress; without it, batches are plain COPYs. */
  bookkeeping?: RunBookkeeping;
  /** Called as each batch goes through its transaction. */
  onEvent?: (event: BatchEvent) => void;
  /**
   * Called after each batch commits, with the rows it loaded and the
   * records it rejected into the reject file.
   */
  onCommit?: (batch: Batch, rows: number, rejected: number) => void;
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
}

/** The seq column when none is given (from the config schema). */
export const DEFAULT_SEQ_COLUMN: string = DEFAULTS.seqColumn;

/** The table as a batch writes it. */
interface PreparedTable {
  spec: CopySpec;
  columns: string[];
  writesSeq: boolean;
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
 * there before the batch commits. Queue: one batch
 * (highWaterMark 1), so the next batch is encoded while this one is written.
 *
 * @example Usage
 * ```ts
 * import { BatchWriter } from "./batch_writer.ts";
 * import { CsvDecodeStream } from "../codec/decode_stream.ts";
 * import { RechunkStream } from "../batch/rechunk_stream.ts";
 * import { openTarget } from "../target/open_target.ts";
 * import assert from "node:assert/strict";
 *
 * const dataDir = await Deno.makeTempDir();
 * const target = await openTarget({ db: "", dataDir });
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
        () => prepareTable(options),
      );
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
              await registerSource(
                session,
                bookkeeping,
                { ...bookkeeping.options, columns: ready.columns },
                bookkeeping.restart,
                bookkeeping.writers,
              );
            }
            await markComplete(session, bookkeeping);
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
  let batch = whole;
  let dropped = new Set<number>();
  let rejects: Reject[] = [];
  let malformed = malformedRejects(options, batch, run);
  const event = (kind: BatchEvent["kind"]) =>
    options.onEvent?.({
      kind,
      batch: number,
      startOffset: batch.startOffset,
      endOffset: batch.endOffset,
      rows: rowCount(batch) - dropped.size,
    });
  while (true) {
    const { kept, from } = dropRows(batch, dropped);
    event("start");
    try {
      await options.target.transaction(async (session) => {
        const seqs = await reserve(session, options, ready, kept, run);
        if (rowCount(kept) > 0) {
          await session.copyFrom(
            ready.spec,
            seqs ? spliceSeqChunks(kept, seqs, options.format) : kept.data,
          );
        }
        if (rejects.length + malformed.length > 0) {
          await options.rejects!.file.write(
            [...malformed, ...rejects].sort((a, b) =>
              a.startOffset - b.startOffset
            ),
          );
        }
      }, { onCommitSent: () => event("commit-sent") });
    } catch (error) {
      const lost = options.reconnect !== undefined &&
        options.bookkeeping !== undefined && options.target.lost === true;
      if (lost) await options.reconnect!(error);
      if (error instanceof ClaimLost || lost) {
        const next = await resync(options, options.bookkeeping!, batch);
        if (next === undefined) {
          event("skipped");
          return;
        }
        batch = next;
        dropped = new Set();
        rejects = [];
        malformed = malformedRejects(options, batch, run);
        continue;
      }
      if (!isRejection(error) || rowCount(kept) === 0) {
        throw locateServerError(error, kept, options.source);
      }
      if (options.rejects === undefined && namedRow(error) !== undefined) {
        throw locateServerError(error, kept, options.source);
      }
      const found = await searchRejected(options, ready, kept, run);
      if (found === undefined) continue; // the claim moved: re-sync
      if (found.length === 0) {
        throw locateServerError(error, kept, options.source);
      }
      if (options.rejects === undefined) {
        throw locateServerError(
          found[0].error,
          kept,
          options.source,
          found[0].index,
        );
      }
      for (const row of found) {
        const index = from[row.index];
        dropped.add(index);
        rejects.push(rejectOf(options, batch, index, row.error));
      }
      const max = options.rejects.max;
      const count = malformed.length + rejects.length;
      if (max !== undefined && run.rejected + count > max) {
        const first = [...malformed, ...rejects].sort((a, b) =>
          a.startOffset - b.startOffset
        )[0];
        throw new UsageError(
          `Cannot load past ${first.source}:${first.line}: more than ${max} records rejected (--max-rejects ${max}); the batches before it are committed and its rejects are not written. Raise --max-rejects (or fix the records) and run again to resume`,
          ExitCode.BadInput,
        );
      }
      continue;
    }
    const rejected = malformed.length + rejects.length;
    run.rejected += rejected;
    if (options.bookkeeping?.register) run.registered = true;
    event("committed");
    options.onCommit?.(batch, rowCount(batch) - dropped.size, rejected);
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
  const event = (kind: BatchEvent["kind"], batch: Batch, number: number) =>
    options.onEvent?.({
      kind,
      batch: number,
      startOffset: batch.startOffset,
      endOffset: batch.endOffset,
      rows: rowCount(batch),
    });
  try {
    const commits: OverlappedCommitsOptions = {
      primary: options.target,
      second,
      spec: ready.spec,
      format: options.format,
      writesSeq: ready.writesSeq,
      owner: options.bookkeeping!,
      target: formatTableName(options.table),
      onEvent: event,
      committed: (batch, number) => {
        event("committed", batch, number);
        options.onCommit?.(batch, rowCount(batch), 0);
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
 * Steps 1 and 2 of a batch's transaction: registers the source (first
 * batch of a new run), claims the batch's range and reserves its lanes'
 * seqs. Returns each row's seq when the table takes them.
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
  if (bookkeeping.register && !run.registered) {
    await registerSource(
      session,
      bookkeeping,
      { ...bookkeeping.options, columns: ready.columns },
      bookkeeping.restart,
      bookkeeping.writers,
    );
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
    target: formatTableName(options.table),
    laneRows,
  });
  if (firstSeqs === undefined) throw new ClaimLost();
  return ready.writesSeq ? assignSeqs(laneKeys, firstSeqs) : undefined;
}

/**
 * The rows of `batch` the server rejects, found in a transaction that is
 * rolled back (all of them with a reject file, else the first);
 * `undefined` when the batch's claim failed meanwhile.
 */
async function searchRejected(
  options: BatchWriterOptions,
  ready: PreparedTable,
  batch: Batch,
  run: RunState,
): Promise<RejectedRow[] | undefined> {
  let seqs: Float64Array | undefined;
  try {
    return await findRejectedRows(
      (work) => options.target.transaction(work),
      batch,
      async (session, from, to) => {
        const rows = sliceRows(batch, from, to);
        await session.copyFrom(
          ready.spec,
          seqs
            ? spliceSeqChunks(rows, seqs.subarray(from, to), options.format)
            : rows.data,
        );
      },
      {
        first: options.rejects === undefined,
        prepare: async (session) => {
          seqs = await reserve(session, options, ready, batch, run);
        },
      },
    );
  } catch (error) {
    if (error instanceof ClaimLost) return undefined;
    throw error;
  }
}

/**
 * The malformed records `batch` carries, as records for the reject file;
 * refuses (exit 2) when they would take the run past `--max-rejects`.
 */
function malformedRejects(
  options: BatchWriterOptions,
  batch: Batch,
  run: RunState,
): Reject[] {
  const found = batch.rejects ?? [];
  if (found.length === 0) return [];
  if (options.rejects === undefined) {
    throw new TypeError(
      "Cannot write a batch's malformed records without a reject file",
    );
  }
  const max = options.rejects.max;
  if (max !== undefined && run.rejected + found.length > max) {
    throw new UsageError(
      `Cannot load past ${options.source}:${
        found[0].line
      }: more than ${max} records rejected (--max-rejects ${max}); the batches before it are committed and its rejects are not written. Raise --max-rejects (or fix the records) and run again to resume`,
      ExitCode.BadInput,
    );
  }
  return found.map((record) => malformedReject(options, batch, record));
}

/** A malformed record of `batch` as a record for the reject file. */
function malformedReject(
  options: BatchWriterOptions,
  batch: Batch,
  record: MalformedRecord,
): Reject {
  return {
    source: options.source,
    sourceId: options.bookkeeping?.sourceId ?? "",
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

/** Row `index` of `batch` as a record for the reject file. */
function rejectOf(
  options: BatchWriterOptions,
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
  const located = locateServerError(error, batch, options.source, index);
  const reason = located instanceof DatabaseLoadError
    ? located.reason
    : String(error);
  return {
    source: options.source,
    sourceId: options.bookkeeping?.sourceId ?? "",
    line: batch.lines[index],
    column: located instanceof DatabaseLoadError
      ? located.columnName ?? ""
      : "",
    startOffset: start,
    endOffset: end,
    reason,
    bytes: recordBytes(raw, start === 0 && options.rejects!.headerAtStart),
  };
}

/** Thrown inside a batch's transaction to roll it back and re-sync. */
class ClaimLost extends Error {}

/**
 * After a lost claim: the part of the batch the database does not have
 * yet (`undefined` when it has all of it), from its committed prefix.
 */
async function resync(
  options: BatchWriterOptions,
  owner: BatchOwner,
  batch: Batch,
): Promise<Batch | undefined> {
  const committed = await committedOffset(options.target, owner);
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

/** Checks (or creates) the table; `undefined` when there are no columns yet. */
async function prepareTable(
  options: BatchWriterOptions,
): Promise<PreparedTable | undefined> {
  const names = options.columns ?? await options.header;
  if (names === undefined) return undefined;
  const name = formatTableName(options.table);
  const seqColumn = options.seqColumn ?? DEFAULT_SEQ_COLUMN;
  if (names.includes(seqColumn)) {
    throw new UsageError(
      `Cannot load into ${name}: column "${seqColumn}" receives each row's lane seq, so the input cannot fill it (name another with --seq-column)`,
      ExitCode.BadInput,
    );
  }
  const seen = new Set<string>();
  for (const column of names) {
    if (seen.has(column)) {
      throw new UsageError(
        `Cannot load into ${name}: column "${column}" is named twice`,
        ExitCode.BadInput,
      );
    }
    seen.add(column);
  }
  const existing = await tableColumns(options.target, options.table);
  if (existing === undefined) {
    if (!options.create) {
      throw new UsageError(
        `Cannot load into ${name}: the table does not exist (pass --create to create it with a text column for each of: ${
          names.join(", ")
        })`,
      );
    }
    const columns = names.map((column) => `${quoteIdentifier(column)} text`);
    if (options.lane !== undefined) {
      columns.push(`${quoteIdentifier(seqColumn)} bigint`);
    }
    await options.target.query(
      `CREATE TABLE IF NOT EXISTS ${quoteTableName(options.table)} (${
        columns.join(", ")
      })`,
    );
  } else {
    if (options.lane !== undefined && !existing.includes(seqColumn)) {
      throw new UsageError(
        `Cannot load into ${name} with --lane: it has no column "${seqColumn}" to receive each row's seq (add one: ALTER TABLE ${
          quoteTableName(options.table)
        } ADD COLUMN ${
          quoteIdentifier(seqColumn)
        } bigint, or name another with --seq-column)`,
        ExitCode.BadInput,
      );
    }
    const unknown = names.filter((column) => !existing.includes(column));
    if (unknown.length > 0) {
      throw new UsageError(
        `Cannot load into ${name}: it has no column ${
          unknown.map((column) => `"${column}"`).join(", ")
        } (its columns: ${existing.join(", ")})`,
        ExitCode.BadInput,
      );
    }
  }
  const writesSeq = options.bookkeeping !== undefined &&
    (options.lane !== undefined || (existing?.includes(seqColumn) ?? false));
  return {
    spec: {
      table: options.table,
      columns: writesSeq ? [...names, seqColumn] : names,
      format: options.format,
      encoding: options.encoding,
    },
    columns: [...names],
    writesSeq,
  };
}

/**
 * The table's column names in order, or `undefined` when it does not exist.
 *
 * @param target An open database.
 * @param table The table.
 * @returns Its columns, or `undefined`.
 */
export async function tableColumns(
  target: Target,
  table: TableName,
): Promise<string[] | undefined> {
  const { rows } = await target.query(
    `SELECT to_regclass($1)::oid AS oid,
            array(SELECT attname::text FROM pg_catalog.pg_attribute
                   WHERE attrelid = to_regclass($1) AND attnum > 0 AND NOT attisdropped
                   ORDER BY attnum) AS columns`,
    [quoteTableName(table)],
  );
  if (rows[0].oid === null) return undefined;
  return rows[0].columns as string[];
}

/**
 * The COPY line in a server error's context, which may follow other context
 * (a json value's own `JSON data, line 1: …`).
 */
const COPY_LINE = /^COPY .*?, line (\d+)(?:, column ([^:]+)(?:: (.*))?)?/m;

/**
 * A server error as a {@linkcode DatabaseLoadError}, placed at the source
 * line of the record the server named (its `where`: `COPY t, line 2,
 * column q: "…"`). A session's end (FATAL, PANIC: a terminated backend, a
 * server shutting down) is no record's fault, so it is not placed. Other
 * errors pass through.
 */
function locateServerError(
  error: unknown,
  batch: Batch,
  source: string,
  known?: number,
): unknown {
  if (!isServerError(error)) return error;
  if (error.severity === "FATAL" || error.severity === "PANIC") {
    return new DatabaseLoadError(error);
  }
  const match = error.where ? COPY_LINE.exec(error.where) : null;
  const row = known ?? (match ? Number(match[1]) - 1 : -1);
  if (row < 0 || row >= rowCount(batch)) return new DatabaseLoadError(error);
  return new DatabaseLoadError(error, {
    source,
    line: batch.lines[row],
    // A NOT NULL violation names its column in a field, not in the context.
    columnName: match?.[2] ?? error.column,
    value: match?.[3],
  });
}

function isServerError(error: unknown): error is ServerErrorFields {
  return error instanceof Error &&
    typeof (error as { code?: unknown }).code === "string" &&
    "severity" in error;
}
