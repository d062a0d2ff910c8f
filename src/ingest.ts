/**
 * `ingest()`: a source, through decode and rechunk, into the database.
 *
 * @module
 */

import { DEFAULTS } from "./defaults.ts";
import { InterruptedError } from "./errors.ts";
import type { Batch } from "./codec/row_block.ts";
import { type BatchPipeline, batchPipeline } from "./batch/batch_pipeline.ts";
import {
  releaseBatch,
  workerBatchPipeline,
} from "./batch/worker_batch_pipeline.ts";
import { writeInParallel } from "./parallel/parallel_writers.ts";
import type { InputFormat } from "./source/input_format.ts";
import type { Source } from "./source/open_source.ts";
import { reconnectWithBackoff } from "./target/reconnect_with_backoff.ts";
import { savepointTarget } from "./target/savepoint_target.ts";
import type { Target } from "./target/target.ts";
import { type BatchEvent, BatchWriter } from "./write/batch_writer.ts";
import { type LoadPlan, planLoad } from "./load_plan.ts";

/** Rows per batch (one transaction each) when none is given (from the config schema). */
export const DEFAULT_BATCH_SIZE: number = DEFAULTS.batchSize;

/**
 * What to load, from where, into where.
 *
 * @example Semicolon-separated records into a new table
 * ```ts
 * import { ingest, type IngestOptions } from "@lanecopy/lanecopy";
 * import assert from "node:assert/strict";
 *
 * const dataDir = await Deno.makeTempDir();
 * const options: IngestOptions = {
 *   source: ReadableStream.from([new TextEncoder().encode("sku;qty\nA1;3\nB2;\n")]),
 *   table: "stock",
 *   delimiter: ";",
 *   create: true,
 *   dataDir,
 * };
 * assert.equal((await ingest(options)).rows, 2);
 * await Deno.remove(dataDir, { recursive: true });
 * ```
 */
export interface IngestOptions {
  /** A file path, `-` for standard input, a byte stream, or an open source. */
  source: string | ReadableStream<Uint8Array> | Source;
  /** The source's name in messages, for a stream. Default `<stream>`. */
  sourceName?: string;
  /**
   * The source's identity for resuming. Default: the file's real path plus
   * the target; a stream without one is a new source on every run.
   */
  sourceId?: string;
  /** The target table, `table` or `schema.table`. */
  table: string;
  /** Target columns in file order; replaces the header's names. */
  columns?: string[];
  /** Whether the first line is a header. Default `true`. */
  header?: boolean;
  /**
   * The input format. Default: from the file's extension (`.ndjson`,
   * `.jsonl` and `.json` are NDJSON), else sniffed from the first non-blank
   * byte (`{` is NDJSON). NDJSON's keys name columns: `columns`, else the
   * target table's (its seq column excepted).
   */
  format?: InputFormat;
  /** Field delimiter. Default `,`. */
  delimiter?: string;
  /** An unquoted field equal to this is NULL. Default: the unquoted empty field. */
  nullString?: string;
  /** Quote character. Default `"`. */
  quote?: string;
  /**
   * Inside quoted fields, this character before the quote (or before
   * itself) makes it data. Default: the quote, so quotes are doubled.
   */
  escape?: string;
  /**
   * The input's encoding (see `resolveEncoding`): UTF-8 (the default, and
   * the only one checked here), or another ASCII-compatible one such as
   * `latin1`, `windows-1252` or `EUC_JP`, which the COPY statement names so
   * that the server converts the rows. NDJSON is UTF-8 only.
   */
  encoding?: string;
  /**
   * The decode codec: the WebAssembly module (default) or its TypeScript
   * twin. Both give the same rows and the same errors.
   */
  codec?: "wasm" | "ts";
  /** The column whose text names each record's lane. Default: one lane, `default`. */
  lane?: string;
  /** The column receiving each row's lane seq. Default `lane_seq`. */
  seqColumn?: string;
  /** Rows per batch (one transaction each). Default 10,000. */
  batchSize?: number;
  /**
   * Milliseconds a record may wait in a partial batch before the batch
   * commits, so a live stream (stdin that trickles) is loaded as it comes.
   * Default 1,000.
   */
  flushMs?: number;
  /** Create the table (text columns) when it is missing. */
  create?: boolean;
  /** The bookkeeping schema. Default `lanecopy`. */
  metaSchema?: string;
  /** Load the source again from its start, clearing its earlier progress. */
  restart?: boolean;
  /** Wait while another run loads the same source, then resume. */
  wait?: boolean;
  /** A PostgreSQL URL. Unset or empty: the embedded database (the library reads no environment variable). */
  db?: string;
  /** The embedded database's directory. Default `./.lanecopy/db`. */
  dataDir?: string;
  /** The directory relative paths start from. Default: the process's. */
  cwd?: string;
  /** An already open database to use (and leave open) instead of `db`. */
  target?: Target;
  /**
   * Fingerprint, decode and batch on a worker thread, so the next batch is
   * made on one core while this one is written on another. Default `true`.
   */
  decodeThread?: boolean;
  /** Called after each batch commits. */
  onProgress?: (progress: IngestProgress) => void;
  /** Called as each batch goes through its transaction. */
  onEvent?: (event: BatchEvent) => void;
  /** Called with messages worth telling the user (a resume, a restart). */
  onNotice?: (message: string) => void;
  /**
   * Stops the load: the batch in flight finishes (or, if it fails, rolls
   * back), no further batch starts, and `ingest()` rejects with an
   * {@linkcode InterruptedError} (the abort reason, when it is one) that
   * says what was committed. A re-run resumes after it.
   */
  signal?: AbortSignal;
  /**
   * A file for the records that cannot load: rows the server rejects and
   * malformed records (bad CSV or NDJSON, invalid UTF-8, a NULL lane key).
   * Each is copied there byte for byte (with `PATH.log` saying where it
   * came from and why) and its batch loads without it. Without one, a
   * rejected row or a malformed record stops the load.
   */
  rejectFile?: string;
  /**
   * With `rejectFile`: stop (at a committed, resumable point) once more
   * than this many records were rejected in the run. Default: no limit.
   */
  maxRejects?: number;
  /**
   * Load everything in one transaction, like `psql -1`: all rows or none.
   * A failed or interrupted run leaves nothing behind, so there is nothing
   * to resume (a source an atomic run completed is still recognised, and
   * not loaded twice). Default `false`: one transaction per batch.
   */
  atomic?: boolean;
  /**
   * After a lost connection to a server, how many times to reconnect (with
   * backoff from 0.5 s, doubling up to 8 s: about 40 s for the default 8)
   * before giving up; the batch in hand is kept and re-synced with the
   * committed prefix. 0 gives up at once.
   */
  retries?: number;
  /**
   * Writers loading at once, each on its own connection (`--parallel N`):
   * lanes are hashed to writers (FNV-1a 32 of the lane key's UTF-8 bytes,
   * modulo N), so a lane is always written by one writer, in input order.
   * Needs `lane` and a server. Each writer keeps its own resume state; a
   * source that is not complete is resumed only with the count it was
   * loaded with (or `restart`). Default 1.
   */
  parallel?: number;
}

/**
 * How far a load has come.
 *
 * @example Progress after each batch
 * ```ts
 * import { ingest, type IngestProgress } from "@lanecopy/lanecopy";
 * import assert from "node:assert/strict";
 *
 * const dataDir = await Deno.makeTempDir();
 * const seen: IngestProgress[] = [];
 * await ingest({
 *   source: ReadableStream.from([new TextEncoder().encode("id\n1\n2\n3\n")]),
 *   table: "ids",
 *   create: true,
 *   batchSize: 2,
 *   dataDir,
 *   onProgress: (progress) => seen.push(progress),
 * });
 * assert.deepEqual(seen.map((progress) => [progress.batches, progress.rows]), [[1, 2], [2, 3]]);
 * await Deno.remove(dataDir, { recursive: true });
 * ```
 */
export interface IngestProgress {
  /** Rows committed by this run. */
  rows: number;
  /** Records this run rejected into the reject file. */
  rejected: number;
  /** Batches committed by this run. */
  batches: number;
  /** The committed prefix of the source, in bytes. */
  bytes: number;
  /** The source's size, when known. */
  totalBytes?: number;
  /** Seconds since the load started. */
  seconds: number;
}

/**
 * What a finished load did.
 *
 * @example A summary names the table, the source and where it started
 * ```ts
 * import { ingest, type IngestSummary } from "@lanecopy/lanecopy";
 * import assert from "node:assert/strict";
 *
 * const dataDir = await Deno.makeTempDir();
 * const summary: IngestSummary = await ingest({
 *   source: ReadableStream.from([new TextEncoder().encode("id\n1\n")]),
 *   sourceName: "ids.csv",
 *   table: "ids",
 *   create: true,
 *   dataDir,
 * });
 * assert.equal(summary.table, "public.ids");
 * assert.equal(summary.source, "ids.csv");
 * assert.equal(summary.resumedAt, 0);
 * assert.equal(summary.rows, 1);
 * await Deno.remove(dataDir, { recursive: true });
 * ```
 */
export interface IngestSummary extends IngestProgress {
  /** The reject file, when one was given. */
  rejectFile?: string;
  /** The target, as `schema.table`. */
  table: string;
  /** The source's name. */
  source: string;
  /** The source id its progress is kept under. */
  sourceId: string;
  /** The byte offset this run started from (an earlier run's committed prefix). */
  resumedAt: number;
  /** Rows per second. */
  rowsPerSecond: number;
  /** Source megabytes (10^6 bytes) per second, this run's bytes. */
  megabytesPerSecond: number;
}

/**
 * Loads CSV or NDJSON records into a table exactly once: one transaction
 * per batch, by COPY, with the batch's claim, lane seqs and counters
 * committed in the same transaction. A re-run of the same source resumes
 * after its committed prefix (verified by fingerprint). Resolves when every
 * row is committed; rejects with the reason otherwise (batches before the
 * failing one stay committed and resumable).
 *
 * @param options What to load and where.
 * @returns A summary of the load.
 *
 * @example Load a CSV stream into the embedded database
 * ```ts
 * import { ingest } from "@lanecopy/lanecopy";
 * import assert from "node:assert/strict";
 *
 * const dataDir = await Deno.makeTempDir();
 * const csv = new TextEncoder().encode("id,name\n1,ada\n2,\n");
 * const summary = await ingest({
 *   source: ReadableStream.from([csv]),
 *   table: "people",
 *   create: true,
 *   dataDir,
 * });
 * assert.equal(summary.rows, 2);
 * await Deno.remove(dataDir, { recursive: true });
 * ```
 */
export async function ingest(options: IngestOptions): Promise<IngestSummary> {
  const started = performance.now();
  const plan = await planLoad(options);
  const progress: IngestProgress = {
    rows: 0,
    rejected: 0,
    batches: 0,
    bytes: plan.startOffset,
    totalBytes: plan.source.size,
    seconds: 0,
  };
  try {
    const pipeline = await openPipeline(plan, options);
    const onCommit = (batch: Batch, rows: number, rejected: number) => {
      progress.rows += rows;
      progress.rejected += rejected;
      progress.batches++;
      progress.bytes = Math.max(progress.bytes, batch.endOffset);
      progress.seconds = (performance.now() - started) / 1000;
      options.onProgress?.({ ...progress });
      // Its buffers go now rather than at the next full collection.
      releaseBatch(batch);
    };
    /** Writer `writer`'s stream; `first` registers the run (and restarts). */
    const writerFor = (into: Target, writer = 0, first = true) =>
      batchWriter(plan, options, {
        into,
        writer,
        first,
        header: pipeline.header,
        onCommit,
      });
    const load = (into: Target) =>
      pipeline.batches.pipeTo(writerFor(into), { signal: options.signal });
    const { target } = plan;
    if (plan.writers > 1) {
      const targets = [target, ...plan.writerTargets];
      await writeInParallel(
        pipeline.batches,
        (writer, first) => writerFor(targets[writer], writer, first),
        { writers: plan.writers, signal: options.signal },
      );
    } else if (options.atomic) {
      await target.transaction((session) =>
        load(savepointTarget(target, session))
      );
    } else {
      await load(target);
    }
    return summary(plan, options, progress, started);
  } catch (error) {
    await plan.source.readable.cancel().catch(() => {});
    throw interruption(error, options, progress, plan.source);
  } finally {
    await plan.release();
  }
}

/**
 * The plan's decode and batching: on a worker thread (which reads a file
 * itself) unless `decodeThread` is false.
 */
async function openPipeline(
  plan: LoadPlan,
  options: IngestOptions,
): Promise<BatchPipeline> {
  const { source, pipeline } = plan;
  if (options.decodeThread === false) {
    return batchPipeline(source.readable, pipeline);
  }
  if (source.realPath !== undefined) {
    // The worker reads the file itself: no bytes cross threads.
    await source.readable.cancel();
    return workerBatchPipeline({ path: source.realPath }, pipeline);
  }
  return workerBatchPipeline({ readable: source.readable }, pipeline);
}

/** One writer of a run, and what it reports to. */
interface WriterOf {
  /** Its connection. */
  into: Target;
  /** Its number (0 without `parallel`). */
  writer: number;
  /** Whether it registers the run (and restarts it). */
  first: boolean;
  /** The header's names, once read. */
  header: Promise<string[] | undefined>;
  /** Called after each batch commits. */
  onCommit: (batch: Batch, rows: number, rejected: number) => void;
}

/** The {@linkcode BatchWriter} of writer `of.writer`, on its connection. */
function batchWriter(
  plan: LoadPlan,
  options: IngestOptions,
  of: WriterOf,
): BatchWriter {
  const { into, writer } = of;
  const { encoding, rejectFile } = plan;
  return new BatchWriter({
    target: into,
    table: plan.table,
    columns: plan.columns,
    header: of.header,
    create: options.create,
    format: plan.pipeline.decode.copyFormat,
    encoding: encoding.charset === "utf-8" ? undefined : encoding.postgres,
    source: plan.source.name,
    lane: options.lane,
    seqColumn: options.seqColumn,
    bookkeeping: {
      metaSchema: plan.metaSchema,
      sourceId: plan.sourceId,
      writer,
      options: plan.runOptions,
      register: of.first && plan.resume === undefined,
      restart: plan.restart,
      writers: plan.writers,
    },
    onEvent: plan.writers > 1 && options.onEvent
      ? (event) => options.onEvent!({ ...event, writer })
      : options.onEvent,
    onCommit: of.onCommit,
    // The run's own connection holds the source's lock.
    reconnect: writer === 0 ? plan.reconnectRun : into.reconnect &&
      ((error) =>
        reconnectWithBackoff(into, error, {
          retries: options.retries ?? DEFAULTS.retries,
          relock: async () => {},
          onNotice: options.onNotice,
        })),
    rejects: rejectFile && {
      file: rejectFile,
      max: options.maxRejects,
      headerAtStart: plan.format === "csv" && (options.header ?? true),
    },
  });
}

/** What a finished load did. */
function summary(
  plan: LoadPlan,
  options: IngestOptions,
  progress: IngestProgress,
  started: number,
): IngestSummary {
  const seconds = (performance.now() - started) / 1000;
  progress.bytes = Math.max(progress.bytes, plan.source.size ?? 0);
  return {
    ...progress,
    seconds,
    table: plan.targetName,
    source: plan.source.name,
    sourceId: plan.sourceId,
    resumedAt: plan.startOffset,
    rejectFile: options.rejectFile,
    rowsPerSecond: seconds > 0 ? progress.rows / seconds : 0,
    megabytesPerSecond: seconds > 0
      ? (progress.bytes - plan.startOffset) / 1e6 / seconds
      : 0,
  };
}

/**
 * The error a failed load throws: `error` itself, unless the load was
 * stopped (`signal`), and then an {@linkcode InterruptedError} that says
 * what was committed and how to go on.
 */
function interruption(
  error: unknown,
  options: IngestOptions,
  progress: IngestProgress,
  source: Source,
): unknown {
  if (!options.signal?.aborted || error !== options.signal.reason) {
    return error;
  }
  const reason = error instanceof InterruptedError
    ? error
    : new InterruptedError("SIGINT");
  const resumable = options.sourceId !== undefined ||
    source.realPath !== undefined;
  if (options.atomic) {
    return new InterruptedError(
      reason.signal,
      `Interrupted by ${reason.signal}: the load was one transaction (--atomic) and rolled back; nothing was committed`,
    );
  }
  return new InterruptedError(
    reason.signal,
    `Interrupted by ${reason.signal}: ${progress.rows} rows committed in ${progress.batches} batches by this run, nothing half-committed; ${
      resumable
        ? "run the same command again to resume after them"
        : "standard input resumes only with --source-id"
    }`,
  );
}
