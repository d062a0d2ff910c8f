/**
 * Planning a load, before any record is read: the options resolved, the
 * source and the database opened, the source's id, its bookkeeping and
 * lock, what an earlier run committed and where this one resumes, how
 * many writers it uses and how lanes are routed to them.
 *
 * @module
 */

import { resolve } from "node:path";
import { DEFAULTS } from "./defaults.ts";
import type { IngestOptions } from "./ingest_options.ts";
import { UsageError } from "./errors.ts";
import type { BatchPipelineOptions } from "./batch/batch_pipeline.ts";
import {
  DEFAULT_META_SCHEMA,
  ensureBookkeeping,
} from "./bookkeeping/schema.ts";
import { planResume, type ResumeFrom } from "./bookkeeping/resume_plan.ts";
import type { TargetFound } from "./bookkeeping/target_identity.ts";
import {
  defaultSourceId,
  lockSource,
  type SourceLock,
  type SourceOptions,
} from "./bookkeeping/source_state.ts";
import type { ColumnEntry } from "./codec/column_entry.ts";
import {
  type ExistingTable,
  remapColumns,
  resolveKeys,
} from "./codec/column_map.ts";
import type { CopyFormat } from "./codec/copy_row.ts";
import { resolveCodec } from "./codec/decode_stream.ts";
import { type Encoding, resolveEncoding } from "./codec/encoding.ts";
import {
  openWriterTargets,
  parallelWriters,
} from "./parallel/parallel_load.ts";
import type { RoutingPlan } from "./parallel/shard_routing.ts";
import { storedOptions } from "./bookkeeping/stored_options.ts";
import { readHeaderLine } from "./source/header_line.ts";
import { type InputFormat, resolveFormat } from "./source/input_format.ts";
import { openSource, type Source } from "./source/open_source.ts";
import { openTarget } from "./target/open_target.ts";
import { reconnectWithBackoff } from "./target/reconnect_with_backoff.ts";
import { retryWhenLost } from "./target/retry_when_lost.ts";
import { tableColumns } from "./target/table_columns.ts";
import {
  formatTableName,
  parseTableName,
  type TableName,
} from "./target/table_name.ts";
import type { Target } from "./target/target.ts";
import type { ColumnType } from "./write/column_type_rules.ts";
import { inferForCreate } from "./write/infer_source_columns.ts";
import { DEFAULT_SEQ_COLUMN } from "./write/prepare_table.ts";
import { RejectFile } from "./write/reject_file.ts";
import {
  checkWriteMode,
  CITUS_BATCH_SIZE,
  refuseOnCitus,
  refuseSplitKeys,
  UPSERT_BATCH_SIZE,
} from "./write/write_mode.ts";

/** A load, planned: everything it needs before reading the first record. */
export interface LoadPlan {
  /** The source, its format resolved (a sniffed source replays its first bytes). */
  source: Source;
  /** The input format. */
  format: InputFormat;
  /** The input's encoding. */
  encoding: Encoding;
  /** The target table. */
  table: TableName;
  /** The target table as `schema.table`. */
  targetName: string;
  /** The run's connection: it holds the source's lock, and writer 0 uses it. */
  target: Target;
  /** A connection for each writer after the first. */
  writerTargets: Target[];
  /** How many writers load the source. */
  writers: number;
  /** How lanes map to the writers: hashed, or by Citus shard. */
  routing: RoutingPlan;
  /** The bookkeeping schema. */
  metaSchema: string;
  /** The source id its progress is kept under. */
  sourceId: string;
  /** The options stored with the source, columns excepted. */
  runOptions: Omit<SourceOptions, "columns">;
  /** Whether the run clears an earlier run's progress and loads from the start. */
  restart: boolean;
  /** What an earlier run committed, when this one resumes after it. */
  resume?: ResumeFrom;
  /**
   * The target table as the run found it (its generation, and whether the
   * run resets its lane counters: it was dropped or truncated); the source's
   * registration records it.
   */
  targetTable: TargetFound;
  /** The source byte offset the run reads from. */
  startOffset: number;
  /**
   * Which column each field loads into, as given (or stored, resuming; for
   * NDJSON resolved, see `resolveKeys`); the header maps the rest.
   */
  columns?: ColumnEntry[];
  /**
   * The target table as the run found it before reading (unset: it did
   * not exist): the decoder and the writer map the fields against it.
   */
  into?: ExistingTable;
  /** With `create`: each column's type, by position (see `inferSourceColumns`). */
  columnTypes?: ColumnType[];
  /**
   * How the source is decoded and batched, from `startOffset` on (its line,
   * the prefixes to verify, each writer's position).
   */
  pipeline: BatchPipelineOptions;
  /** The reject file, when one was given. */
  rejectFile?: RejectFile;
  /** Replaces the run's lost connection and takes the source's lock again (a server's). */
  reconnectRun?: (error: unknown) => Promise<void>;
  /** Closes the reject file, releases the lock and closes the connections the plan opened. */
  release(): Promise<void>;
}

/** What a plan holds, to be released. */
interface Held {
  source: Source;
  target: Target;
  /** Whether the plan opened `target` (and so closes it). */
  ownsTarget: boolean;
  writerTargets: Target[];
  lock?: SourceLock;
  rejectFile?: RejectFile;
}

/**
 * Plans a load: opens the source and the database, sets up the bookkeeping,
 * takes the source's lock (waiting with `wait`), opens the reject file,
 * reads what earlier runs committed and how the target table changed since
 * (a table dropped or truncated since then loads from the start; a resume
 * with other options or another writer count is refused), and opens a
 * connection per writer. On failure it releases what it took and cancels
 * the source.
 *
 * @param request What to load, from where, into where.
 * @returns The plan; call `release()` once the load is over.
 *
 * @example Usage
 * ```ts
 * import { planLoad } from "./load_plan.ts";
 * import assert from "node:assert/strict";
 *
 * const dataDir = await Deno.makeTempDir();
 * const plan = await planLoad({
 *   source: ReadableStream.from([new TextEncoder().encode('{"id": 1}\n')]),
 *   sourceId: "events",
 *   table: "events",
 *   columns: ["id"],
 *   dataDir,
 * });
 * assert.equal(plan.format, "ndjson");
 * assert.equal(plan.targetName, "public.events");
 * assert.equal(plan.startOffset, 0);
 * assert.equal(plan.writers, 1);
 * await plan.source.readable.cancel();
 * await plan.release();
 * await Deno.remove(dataDir, { recursive: true });
 * ```
 */
export async function planLoad(request: IngestOptions): Promise<LoadPlan> {
  checkWriteMode(request);
  const encoding = resolveEncoding(request.encoding ?? DEFAULTS.encoding);
  const table = parseTableName(request.table);
  const targetName = formatTableName(table);
  const held = await openEnds(request);
  const { target } = held;
  const metaSchema = request.metaSchema ?? DEFAULT_META_SCHEMA;
  const sourceId = request.sourceId ??
    (held.source.realPath !== undefined
      ? defaultSourceId(held.source.realPath, targetName)
      : `${held.source.name} ${crypto.randomUUID()} -> ${targetName}`);
  const reconnectRun = runReconnect(request, held, sourceId);
  /** A step of the set-up, run again on a new connection if it lost its own. */
  const onRunConnection = <T>(step: () => Promise<T>) =>
    retryWhenLost(target, reconnectRun, step);
  const release = () => releaseHeld(held);
  try {
    const input = await resolveFormat(held.source, request.format);
    held.source = input.source;
    // A .tsv or .tab file is tab-delimited, unless a delimiter is given.
    request = { ...request, delimiter: request.delimiter ?? input.delimiter };
    const format = input.format;
    if (format === "ndjson" && encoding.charset !== "utf-8") {
      throw new UsageError(
        `Cannot read NDJSON as ${encoding.postgres}: JSON text is UTF-8 (RFC 8259); convert it first, for example with iconv`,
      );
    }
    await onRunConnection(() => ensureBookkeeping(target, metaSchema));
    held.lock = await onRunConnection(() =>
      lockSource(target, sourceId, request.wait ?? false)
    );
    if (request.rejectFile !== undefined) {
      // The reject file starts with the header line, to load it back.
      const head = format === "csv" && (request.header ?? true)
        ? await readHeaderLine(held.source, request)
        : undefined;
      if (head !== undefined) held.source = head.source;
      held.rejectFile = await RejectFile.open(
        resolve(request.cwd ?? Deno.cwd(), request.rejectFile),
        { header: head?.header },
      );
    }
    const runOptions = storedOptions(request, format, encoding, targetName);
    const existing = await onRunConnection(() => tableColumns(target, table));
    const into = existing && { name: targetName, columns: existing };
    const { restart, writers, routing, citusShards, resume, targetTable } =
      await planResume(
        request,
        {
          target,
          metaSchema,
          sourceId,
          table,
          targetName,
          sourceName: held.source.name,
          sourceSize: held.source.size,
          runOptions,
          mapColumns: (stored) =>
            remapColumns(stored, format, {
              columns: request.columns ?? [],
              into,
              extraColumns: request.extraColumns,
              source: held.source.name,
            }),
          step: onRunConnection,
          openWriters: async (writers) => {
            held.writerTargets = await openWriterTargets(writers, request);
          },
        },
      );
    await onRunConnection(() =>
      refuseSplitKeys(target, table, request, writers)
    );
    await onRunConnection(() => refuseOnCitus(target, table, request));
    const inferred = await inferForCreate(held.source, {
      ...request,
      format,
      encoding: encoding.name,
      columns: resume?.columns ?? request.columns,
      table: targetName,
      missing: existing === undefined,
    });
    if (inferred !== undefined) held.source = inferred.source;
    const given = resume?.columns ?? request.columns ?? inferred?.keys ??
      (format === "ndjson"
        ? await onRunConnection(() =>
          ndjsonColumns(target, table, request.seqColumn)
        )
        : undefined);
    // NDJSON's keys map now; a CSV header's names once it is read.
    const columns = format === "ndjson" && given !== undefined
      ? resolveKeys({
        columns: given,
        into,
        extraColumns: request.extraColumns,
        source: held.source.name,
      })
      : given;
    const startOffset = resume?.progress.byteOffset ?? 0;
    const pipeline = pipelineOptions(request, {
      source: held.source,
      format,
      encoding,
      columns,
      into,
      resume,
      startOffset,
      sourceId,
      writers,
      routing,
      citusShards,
    });
    return {
      source: held.source,
      format,
      encoding,
      table,
      targetName,
      target,
      writerTargets: held.writerTargets,
      writers,
      routing,
      metaSchema,
      sourceId,
      runOptions: { ...runOptions, routing: routing.stored },
      restart,
      resume,
      targetTable,
      startOffset,
      columns,
      into,
      columnTypes: inferred?.types,
      pipeline,
      rejectFile: held.rejectFile,
      reconnectRun,
      release,
    };
  } catch (error) {
    await held.source.readable.cancel().catch(() => {});
    await release();
    throw error;
  }
}

/**
 * The COPY format a load sends: text, which the server loads faster than
 * csv (`bench/copy_format_bench.ts`: 0.81 of csv's time into the typed
 * table).
 */
const LOAD_COPY_FORMAT: CopyFormat = "text";

/**
 * How a planned load decodes and batches its source: from where it
 * resumes (its byte offset and line, the prefixes to verify), into how
 * many writers.
 */
function pipelineOptions(
  request: IngestOptions,
  plan:
    & Pick<
      LoadPlan,
      | "source"
      | "format"
      | "encoding"
      | "columns"
      | "into"
      | "resume"
      | "startOffset"
      | "sourceId"
      | "writers"
      | "routing"
    >
    & { citusShards?: number },
): BatchPipelineOptions {
  const { resume, startOffset, writers } = plan;
  return {
    decode: {
      source: plan.source.name,
      format: plan.format,
      delimiter: request.delimiter,
      nullString: request.nullString,
      quote: request.quote,
      escape: request.escape,
      encoding: plan.encoding.name,
      // Chosen here, on the main thread, so a missing WebAssembly is said
      // once per process, not once per file's decode worker.
      codec: resolveCodec(request.codec),
      header: startOffset === 0 && (request.header ?? true),
      columns: plan.columns,
      into: plan.into,
      extraColumns: request.extraColumns,
      extraKeys: request.extraKeys,
      laneColumn: request.lane,
      // With a reject file, malformed records go there too.
      malformed: request.rejectFile !== undefined ? "reject" : "stop",
      copyFormat: LOAD_COPY_FORMAT,
      startOffset,
      startLine: (resume?.progress.lines ?? 0) + 1,
    },
    batchSize: request.batchSize ??
      (request.onConflict
        ? UPSERT_BATCH_SIZE
        : plan.citusShards
        ? CITUS_BATCH_SIZE
        : DEFAULTS.batchSize),
    flushMs: request.flushMs ?? DEFAULTS.flushMs,
    committed: resume?.progress,
    sourceId: plan.sourceId,
    keepRaw: request.rejectFile !== undefined,
    writers: writers > 1
      ? {
        count: writers,
        offsets: resume ? resume.offsets : new Array(writers).fill(0),
        route: plan.routing.route,
      }
      : undefined,
    checks: writers > 1 && resume ? resume.checks : undefined,
  };
}

/**
 * Replaces the run's lost connection (a server's), taking the source's
 * lock again if it held it; `undefined` when the database cannot reconnect.
 */
function runReconnect(
  request: IngestOptions,
  held: Held,
  sourceId: string,
): ((error: unknown) => Promise<void>) | undefined {
  const { target } = held;
  return target.reconnect &&
    ((error: unknown) =>
      reconnectWithBackoff(target, error, {
        retries: request.retries ?? DEFAULTS.retries,
        relock: async () => {
          if (held.lock !== undefined) {
            held.lock = await lockSource(target, sourceId, false);
          }
        },
        onNotice: request.onNotice,
      }));
}

/**
 * Opens the source, then the database (refusing `--parallel` on the
 * embedded database before opening it); cancels the source when the
 * database cannot be opened.
 */
async function openEnds(request: IngestOptions): Promise<Held> {
  const source: Source = typeof request.source === "string"
    ? await openSource(request.source, request.cwd)
    : request.source instanceof ReadableStream
    ? { name: request.sourceName ?? "<stream>", readable: request.source }
    : request.source;
  try {
    if (!request.target && !request.db) {
      // The embedded database: refuse --parallel before opening it.
      parallelWriters(request, "embedded");
    }
    const target = request.target ?? await openTarget(request);
    return {
      source,
      target,
      ownsTarget: request.target === undefined,
      writerTargets: [],
    };
  } catch (error) {
    await source.readable.cancel().catch(() => {});
    throw error;
  }
}

/** Closes and releases what a plan holds, the run's connection last. */
async function releaseHeld(held: Held): Promise<void> {
  held.rejectFile?.close();
  await held.lock?.release();
  await Promise.all(held.writerTargets.map((writer) => writer.close()));
  if (held.ownsTarget) await held.target.close();
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
      }: the table does not exist, so its columns cannot name the keys (create it, or pass --create to create it from the keys)`,
    );
  }
  return columns.filter((column) => column !== seqColumn);
}
