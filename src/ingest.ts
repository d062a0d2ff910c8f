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
import type { Source } from "./source/open_source.ts";
import { reconnectWithBackoff } from "./target/reconnect_with_backoff.ts";
import { savepointTarget } from "./target/savepoint_target.ts";
import type { Target } from "./target/target.ts";
import { BatchWriter, type BatchWriterOptions } from "./write/batch_writer.ts";
import type { BatchOutcome } from "./write/copy_data.ts";
import type {
  IngestOptions,
  IngestProgress,
  IngestSummary,
} from "./ingest_options.ts";
import { type LoadPlan, planLoad } from "./load_plan.ts";

/** Rows per batch (one transaction each) when none is given (from the config schema). */
export const DEFAULT_BATCH_SIZE: number = DEFAULTS.batchSize;

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
    binaryBatches: 0,
    bytes: plan.startOffset,
    totalBytes: plan.source.size,
    ...(options.onConflict === "update" && { inserted: 0, updated: 0 }),
    ...(options.onConflict === "nothing" && { inserted: 0, skipped: 0 }),
    seconds: 0,
  };
  try {
    const pipeline = await openPipeline(plan, options);
    const onCommit = (
      batch: Batch,
      rows: number,
      rejected: number,
      outcome?: BatchOutcome,
    ) => {
      progress.rows += rows;
      if (outcome?.binary) progress.binaryBatches! += 1;
      const applied = outcome?.applied;
      if (applied !== undefined) {
        progress.inserted! += applied.inserted;
        if (progress.updated !== undefined) progress.updated += applied.updated;
        if (progress.skipped !== undefined) progress.skipped += applied.skipped;
      }
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
        encodeAhead: pipeline.encodeAhead,
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
    } else if (options.dryRun) {
      await target.transaction(async (session) => {
        await load(savepointTarget(target, session));
        throw DRY_RUN_ROLLBACK;
      }).catch((error) => {
        if (error !== DRY_RUN_ROLLBACK) throw error;
      });
    } else if (options.atomic) {
      await target.transaction((session) =>
        load(savepointTarget(target, session))
      );
    } else {
      await load(target);
    }
    noticeNothingToDo(plan, options, progress);
    return summary(plan, options, progress, started);
  } catch (error) {
    await plan.source.readable.cancel().catch(() => {});
    throw interruption(error, options, progress, plan.source);
  } finally {
    await plan.release();
  }
}

/** Thrown inside a dry run's transaction to roll it back. */
const DRY_RUN_ROLLBACK = new Error("A dry run always rolls back");

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
  onCommit: BatchWriterOptions["onCommit"];
  /** The decode stage's, to have batches come encoded in binary. */
  encodeAhead: BatchPipeline["encodeAhead"];
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
    into: plan.into,
    extraColumns: options.extraColumns,
    create: options.create,
    columnTypes: plan.columnTypes,
    onNotice: options.onNotice,
    format: plan.pipeline.decode.copyFormat,
    encoding: encoding.charset === "utf-8" ? undefined : encoding.postgres,
    source: plan.source.name,
    lane: options.lane,
    seqColumn: options.seqColumn,
    onConflict: options.onConflict &&
      { action: options.onConflict, key: options.key },
    replace: options.replace
      ? {
        metaSchema: plan.metaSchema,
        sourceId: plan.sourceId,
        dryRun: options.dryRun,
      }
      : undefined,
    copyFormat: options.copyFormat,
    codec: options.codec,
    distributeBy: options.distributeBy,
    bookkeeping: {
      metaSchema: plan.metaSchema,
      sourceId: plan.sourceId,
      writer,
      options: plan.runOptions,
      register: of.first && plan.resume === undefined,
      restart: plan.restart,
      writers: plan.writers,
      targetTable: plan.targetTable,
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
    encodeAhead: of.encodeAhead,
  });
}

/**
 * Says so when a run of a source that earlier runs loaded to its end
 * found nothing more in it: never a silent load of nothing.
 */
function noticeNothingToDo(
  plan: LoadPlan,
  options: IngestOptions,
  progress: IngestProgress,
): void {
  const { resume } = plan;
  if (!resume?.complete || progress.rows > 0 || progress.rejected > 0) return;
  const rows = resume.rowsCommitted;
  options.onNotice?.(
    `${plan.source.name} is already loaded: ${rows} row${
      rows === 1 ? "" : "s"
    } in ${plan.targetName}; nothing to do`,
  );
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
    destination: plan.target.description,
    source: plan.source.name,
    sourceId: plan.sourceId,
    resumedAt: plan.startOffset,
    rejectFile: options.rejectFile,
    dryRun: options.dryRun === true,
    ...(plan.routing.stored && {
      routedByShard: {
        shards: plan.routing.stored.shards,
        writers: plan.writers,
      },
    }),
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
  if (options.dryRun) {
    return new InterruptedError(
      reason.signal,
      `Interrupted by ${reason.signal}: the dry run rolled back; nothing was committed`,
    );
  }
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
