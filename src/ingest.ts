/**
 * `ingest()`: a source, through decode and rechunk, into the database.
 *
 * @module
 */

import { resolve } from "node:path";
import { DEFAULTS } from "./defaults.ts";
import pRetry, { AbortError } from "npm:p-retry@9.0.0";
import { RejectFile } from "./write/reject_file.ts";
import { resolveEncoding } from "./codec/encoding.ts";
import { savepointTarget } from "./target/savepoint_target.ts";
import {
  type BatchEvent,
  BatchWriter,
  DEFAULT_SEQ_COLUMN,
  tableColumns,
} from "./write/batch_writer.ts";
import {
  DEFAULT_META_SCHEMA,
  ensureBookkeeping,
} from "./bookkeeping/schema.ts";
import { ExitCode, InterruptedError, UsageError } from "./errors.ts";
import {
  defaultSourceId,
  lockSource,
  optionDifferences,
  readSourceState,
  type SourceLock,
  type SourceOptions,
  type SourceState,
} from "./bookkeeping/source_state.ts";
import type { CopyFormat } from "./codec/copy_row.ts";
import {
  type BatchPipeline,
  batchPipeline,
  type BatchPipelineOptions,
} from "./batch/batch_pipeline.ts";
import type { Batch } from "./codec/row_block.ts";
import { type InputFormat, resolveFormat } from "./source/input_format.ts";
import { openSource, type Source } from "./source/open_source.ts";
import {
  formatTableName,
  parseTableName,
  type TableName,
} from "./target/table_name.ts";
import { openTarget } from "./target/open_target.ts";
import type { Target } from "./target/target.ts";
import { retryWhenLost } from "./target/retry_when_lost.ts";
import {
  releaseBatch,
  workerBatchPipeline,
} from "./batch/worker_batch_pipeline.ts";
import {
  openWriterTargets,
  parallelWriters,
} from "./parallel/parallel_load.ts";
import { writeInParallel } from "./parallel/parallel_writers.ts";
import { readWriterProgress, resumePoint } from "./parallel/writer_progress.ts";

/** Rows per batch (one transaction each) when none is given (from the config schema). */
export const DEFAULT_BATCH_SIZE: number = DEFAULTS.batchSize;

/** What to load, from where, into where. */
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

/** How far a load has come. */
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

/** What a finished load did. */
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
 * The COPY format ingest sends: text, which the server loads faster than csv
 * (`bench/copy_format_bench.ts`: 0.81 of csv's time into the typed table).
 */
const INGEST_COPY_FORMAT: CopyFormat = "text";

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
 * import { ingest } from "./ingest.ts";
 * import assert from "node:assert/strict";
 *
 * const dataDir = await Deno.makeTempDir();
 * const csv = new TextEncoder().encode("id,name\n1,ada\n2,\n");
 * const summary = await ingest({
 *   source: ReadableStream.from([csv]),
 *   table: "people",
 *   create: true,
 *   db: "",
 *   dataDir,
 * });
 * assert.equal(summary.rows, 2);
 * await Deno.remove(dataDir, { recursive: true });
 * ```
 */
export async function ingest(options: IngestOptions): Promise<IngestSummary> {
  const encoding = resolveEncoding(options.encoding ?? DEFAULTS.encoding);
  const table = parseTableName(options.table);
  const targetName = formatTableName(table);
  const started = performance.now();
  let source: Source = typeof options.source === "string"
    ? await openSource(options.source, options.cwd)
    : options.source instanceof ReadableStream
    ? { name: options.sourceName ?? "<stream>", readable: options.source }
    : options.source;
  let target: Target;
  try {
    if (!options.target && !options.db) {
      // The embedded database: refuse --parallel before opening it.
      parallelWriters(options, "embedded");
    }
    target = options.target ?? await openTarget(options);
  } catch (error) {
    await source.readable.cancel().catch(() => {});
    throw error;
  }
  const metaSchema = options.metaSchema ?? DEFAULT_META_SCHEMA;
  const sourceId = options.sourceId ??
    (source.realPath !== undefined
      ? defaultSourceId(source.realPath, targetName)
      : `${source.name} ${crypto.randomUUID()} -> ${targetName}`);
  const progress: IngestProgress = {
    rows: 0,
    rejected: 0,
    batches: 0,
    bytes: 0,
    totalBytes: source.size,
    seconds: 0,
  };
  let rejectFile: RejectFile | undefined;
  let lock: SourceLock | undefined;
  let writerTargets: Target[] = [];
  /** Replaces a lost connection (a server's), taking the source's lock again if it held it. */
  const reconnectRun = target.reconnect &&
    ((error: unknown) =>
      reconnect(target, error, {
        retries: options.retries ?? DEFAULTS.retries,
        relock: async () => {
          if (lock !== undefined) {
            lock = await lockSource(target, sourceId, false);
          }
        },
        onNotice: options.onNotice,
      }));
  /** A step of the run's set-up, run again on a new connection if it lost its own. */
  const onRunConnection = <T>(step: () => Promise<T>) =>
    retryWhenLost(target, reconnectRun, step);
  try {
    const input = await resolveFormat(source, options.format);
    source = input.source;
    const format = input.format;
    if (format === "ndjson" && encoding.charset !== "utf-8") {
      throw new UsageError(
        `Cannot read NDJSON as ${encoding.postgres}: JSON text is UTF-8 (RFC 8259); convert it first, for example with iconv`,
      );
    }
    await onRunConnection(() => ensureBookkeeping(target, metaSchema));
    lock = await onRunConnection(() =>
      lockSource(target, sourceId, options.wait ?? false)
    );
    if (options.rejectFile !== undefined) {
      rejectFile = await RejectFile.open(
        resolve(options.cwd ?? Deno.cwd(), options.rejectFile),
      );
    }
    const state = await onRunConnection(() =>
      readSourceState(target, metaSchema, sourceId)
    );
    const runOptions: Omit<SourceOptions, "columns"> = {
      target: targetName,
      format,
      delimiter: options.delimiter ?? ",",
      quote: options.quote ?? '"',
      // Stored only when it is not the quote: the default reads as before.
      escape: options.escape !== undefined &&
          options.escape !== (options.quote ?? '"')
        ? options.escape
        : undefined,
      nullString: options.nullString ?? null,
      header: format === "csv" && (options.header ?? true),
      lane: options.lane ?? null,
      encoding: encoding.name,
    };
    const restart = (options.restart ?? false) && state !== undefined;
    const stored = state &&
      await onRunConnection(() =>
        readWriterProgress(target, metaSchema, sourceId)
      );
    const earlier = stored && !restart
      ? resumePoint(stored.progress)
      : undefined;
    const writers = parallelWriters(
      options,
      target.kind,
      restart ? undefined : stored,
      earlier,
      sourceId,
      options.onNotice,
    );
    writerTargets = await openWriterTargets(writers, options);
    let resume: SourceState | undefined;
    if (state !== undefined && earlier?.started) {
      const differences = optionDifferences(
        state.options,
        { ...runOptions, columns: options.columns ?? [] },
        options.columns !== undefined,
      );
      if (differences.length > 0) {
        throw new UsageError(
          `Cannot resume source "${sourceId}" with other options: ${
            differences.join("; ")
          } (pass --restart to load it again from the start with these)`,
          ExitCode.Refused,
        );
      }
      resume = { ...state, progress: earlier.from };
      options.onNotice?.(
        writers === 1
          ? `Source "${sourceId}" has ${state.progress.rowsCommitted} rows committed up to byte ${state.progress.byteOffset}: checking that prefix, then resuming after it`
          : `Source "${sourceId}" has ${earlier.rowsCommitted} rows committed by ${writers} writers, up to bytes ${
            earlier.offsets.join(", ")
          }: checking those prefixes, then resuming from byte ${earlier.from.byteOffset}, each writer after its own`,
      );
    }
    if (restart) {
      options.onNotice?.(
        `Restarting source "${sourceId}" from its start: the earlier runs had committed ${
          stored ? resumePoint(stored.progress).rowsCommitted : 0
        } rows, which stay in ${targetName}`,
      );
    }
    const startOffset = resume?.progress.byteOffset ?? 0;
    progress.bytes = startOffset;
    const columns = resume?.options.columns ?? options.columns ??
      (format === "ndjson"
        ? await onRunConnection(() =>
          ndjsonColumns(target, table, options.seqColumn)
        )
        : undefined);
    const pipelineOptions: BatchPipelineOptions = {
      decode: {
        source: source.name,
        format,
        delimiter: options.delimiter,
        nullString: options.nullString,
        quote: options.quote,
        escape: options.escape,
        encoding: encoding.name,
        codec: options.codec,
        header: startOffset === 0 && (options.header ?? true),
        columns,
        laneColumn: options.lane,
        // With a reject file, malformed records go there too.
        malformed: options.rejectFile !== undefined ? "reject" : "stop",
        copyFormat: INGEST_COPY_FORMAT,
        startOffset,
        startLine: (resume?.progress.lines ?? 0) + 1,
      },
      batchSize: options.batchSize ?? DEFAULT_BATCH_SIZE,
      flushMs: options.flushMs ?? DEFAULTS.flushMs,
      committed: resume?.progress,
      sourceId,
      keepRaw: options.rejectFile !== undefined,
      writers: writers > 1
        ? {
          count: writers,
          offsets: resume ? earlier!.offsets : new Array(writers).fill(0),
        }
        : undefined,
      checks: writers > 1 && resume ? earlier!.checks : undefined,
    };
    let pipeline: BatchPipeline;
    if (options.decodeThread === false) {
      pipeline = batchPipeline(source.readable, pipelineOptions);
    } else if (source.realPath !== undefined) {
      // The worker reads the file itself: no bytes cross threads.
      await source.readable.cancel();
      pipeline = workerBatchPipeline(
        { path: source.realPath },
        pipelineOptions,
      );
    } else {
      pipeline = workerBatchPipeline(
        { readable: source.readable },
        pipelineOptions,
      );
    }
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
      new BatchWriter({
        target: into,
        table,
        columns,
        header: pipeline.header,
        create: options.create,
        format: INGEST_COPY_FORMAT,
        encoding: encoding.charset === "utf-8" ? undefined : encoding.postgres,
        source: source.name,
        lane: options.lane,
        seqColumn: options.seqColumn,
        bookkeeping: {
          metaSchema,
          sourceId,
          writer,
          options: runOptions,
          register: first && resume === undefined,
          restart,
          writers,
        },
        onEvent: writers > 1 && options.onEvent
          ? (event) => options.onEvent!({ ...event, writer })
          : options.onEvent,
        onCommit,
        // The run's own connection holds the source's lock.
        reconnect: writer === 0 ? reconnectRun : into.reconnect &&
          ((error) =>
            reconnect(into, error, {
              retries: options.retries ?? DEFAULTS.retries,
              relock: async () => {},
              onNotice: options.onNotice,
            })),
        rejects: rejectFile && {
          file: rejectFile,
          max: options.maxRejects,
          headerAtStart: format === "csv" && (options.header ?? true),
        },
      });
    const load = (into: Target) =>
      pipeline.batches.pipeTo(writerFor(into), { signal: options.signal });
    if (writers > 1) {
      const targets = [target, ...writerTargets];
      await writeInParallel(
        pipeline.batches,
        (writer, first) => writerFor(targets[writer], writer, first),
        { writers, signal: options.signal },
      );
    } else if (options.atomic) {
      await target.transaction((session) =>
        load(savepointTarget(target, session))
      );
    } else {
      await load(target);
    }
    const seconds = (performance.now() - started) / 1000;
    progress.bytes = Math.max(progress.bytes, source.size ?? 0);
    return {
      ...progress,
      seconds,
      table: targetName,
      source: source.name,
      sourceId,
      resumedAt: startOffset,
      rejectFile: options.rejectFile,
      rowsPerSecond: seconds > 0 ? progress.rows / seconds : 0,
      megabytesPerSecond: seconds > 0
        ? (progress.bytes - startOffset) / 1e6 / seconds
        : 0,
    };
  } catch (error) {
    await source.readable.cancel().catch(() => {});
    if (options.signal?.aborted && error === options.signal.reason) {
      const reason = error instanceof InterruptedError
        ? error
        : new InterruptedError("SIGINT");
      const resumable = options.sourceId !== undefined ||
        source.realPath !== undefined;
      if (options.atomic) {
        throw new InterruptedError(
          reason.signal,
          `Interrupted by ${reason.signal}: the load was one transaction (--atomic) and rolled back; nothing was committed`,
        );
      }
      throw new InterruptedError(
        reason.signal,
        `Interrupted by ${reason.signal}: ${progress.rows} rows committed in ${progress.batches} batches by this run, nothing half-committed; ${
          resumable
            ? "run the same command again to resume after them"
            : "standard input resumes only with --source-id"
        }`,
      );
    }
    throw error;
  } finally {
    rejectFile?.close();
    await lock?.release();
    await Promise.all(writerTargets.map((writer) => writer.close()));
    if (options.target === undefined) await target.close();
  }
}

/**
 * NDJSON's columns when none are named: the target table's, its seq column
 * excepted (lanecopy fills that one).
 */
async function ndjsonColumns(
  target: Target,
  table: TableName,
  seqColumn: string = DEFAULT_SEQ_COLUMN,
): Promise<string[]> {
  const columns = await tableColumns(target, table);
  if (columns === undefined) {
    throw new UsageError(
      `Cannot load NDJSON into ${
        formatTableName(table)
      }: the table does not exist, so its columns cannot name the keys (create it, or pass --columns and --create)`,
    );
  }
  return columns.filter((column) => column !== seqColumn);
}

/**
 * Opens a new connection after `error` lost the old one, with backoff, and
 * takes the source's lock again; gives up (throwing) once `retries`
 * attempts failed, or at once when another run holds the source now.
 */
async function reconnect(
  target: Target,
  error: unknown,
  options: {
    retries: number;
    relock: () => Promise<void>;
    onNotice?: (message: string) => void;
  },
): Promise<void> {
  const reason = (error as Error)?.message ?? String(error);
  if (options.retries === 0) throw error;
  options.onNotice?.(
    `${reason}; reconnecting (up to ${options.retries} attempts)`,
  );
  try {
    await pRetry(async () => {
      await target.reconnect!();
      try {
        await options.relock();
      } catch (refused) {
        throw new AbortError(refused as Error);
      }
    }, {
      retries: options.retries - 1,
      minTimeout: 500,
      maxTimeout: 8000,
      factor: 2,
      onFailedAttempt: ({ error, attemptNumber, retriesLeft }) => {
        if (retriesLeft > 0) {
          options.onNotice?.(
            `Reconnect attempt ${attemptNumber} failed (${error.message}); ${retriesLeft} left`,
          );
        }
      },
    });
  } catch (failed) {
    if (failed instanceof UsageError) throw failed;
    throw new Error(
      `${reason}; gave up after ${options.retries} reconnect attempts (${
        (failed as Error).message
      }). Run the same command again to resume after the committed batches`,
      { cause: failed },
    );
  }
  options.onNotice?.(`Reconnected to ${target.description}; resuming`);
}
