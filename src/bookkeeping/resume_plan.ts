/**
 * Where a run of a source starts: from the start (a new source, `restart`,
 * or a target table dropped or truncated since the source's rows went into
 * it), or after what earlier runs committed, refused when this run's
 * options, writer count or routing differ from theirs; and with how many
 * writers, lanes routed to them how.
 *
 * @module
 */

import type { ColumnEntry } from "../codec/column_entry.ts";
import { ExitCode, UsageError } from "../errors.ts";
import {
  type ParallelRequest,
  parallelWriters,
} from "../parallel/parallel_load.ts";
import { readDistribution } from "../parallel/citus_shards.ts";
import { planRouting, type RoutingPlan } from "../parallel/shard_routing.ts";
import {
  readWriterProgress,
  resumePoint,
  type WriterProgress,
  type WriterResume,
} from "../parallel/writer_progress.ts";
import type { PrefixCheck } from "../source/prefix_check_stream.ts";
import type { TableName } from "../target/table_name.ts";
import type { Target } from "../target/target.ts";
import {
  optionDifferences,
  readSourceState,
  type SourceOptions,
  type SourceProgress,
  type SourceState,
} from "./source_state.ts";
import {
  changePhrase,
  findTarget,
  type TargetChange,
  type TargetFound,
} from "./target_identity.ts";

/** The options of a run that bear on where it starts. */
export interface ResumeRequest extends ParallelRequest {
  /** Load the source again from its start, clearing its earlier progress. */
  restart?: boolean;
  /**
   * Which column each field loads into (see `ColumnEntry`): a resume that
   * maps the fields otherwise is refused.
   */
  columns?: ColumnEntry[];
  /** Told of a resume, a restart, and why a run loads from the start. */
  onNotice?: (message: string) => void;
  /**
   * The load replaces the table's rows (`--replace`): a complete source
   * that has grown since loads again from its start (its new rows alone
   * are not the table's new contents).
   */
  replace?: boolean;
}

/** The run, as {@linkcode planResume} reads and reports it. */
export interface ResumeContext {
  /** The run's connection, with the bookkeeping schema. */
  target: Target;
  /** The bookkeeping schema. */
  metaSchema: string;
  /** The source id. */
  sourceId: string;
  /** The target table. */
  table: TableName;
  /** The target as `schema.table`, for the notices. */
  targetName: string;
  /** The source's name (its path as given), for the notices. Default: the source id. */
  sourceName?: string;
  /** The source's size in bytes, when known (a regular file). */
  sourceSize?: number;
  /** The options this run stores with the source, columns excepted. */
  runOptions: Omit<SourceOptions, "columns">;
  /**
   * How this run's `columns` map the fields the source was loaded with
   * (given its stored options: its header's names are in its columns),
   * to compare with the stored map. Default: `columns` as given.
   */
  mapColumns?: (stored: SourceOptions) => ColumnEntry[];
  /** Runs a read on the run's connection (again after a reconnect). Default: once. */
  step?: <T>(read: () => Promise<T>) => Promise<T>;
  /**
   * Opens a connection for each writer after the first, once their count
   * is known (before a resume's options are checked).
   */
  openWriters?: (writers: number) => Promise<void>;
}

/** Where a resumed run starts: what the earlier runs committed. */
export interface ResumeFrom {
  /** The committed prefix the run reads from (in a parallel load, the writer that stopped first). */
  progress: SourceProgress;
  /** The column each field loaded into, as the source was loaded. */
  columns?: ColumnEntry[];
  /** Each writer's committed position: its records ending there or before are skipped. */
  offsets: number[];
  /** The longer prefixes the other writers committed, to check as well. */
  checks: PrefixCheck[];
  /** Whether the earlier runs reached the end of the source (every writer). */
  complete: boolean;
  /** Rows the earlier runs committed, all writers together. */
  rowsCommitted: number;
}

/** How a run starts. */
export interface ResumePlan {
  /** Whether it clears the earlier runs' progress and loads from the start. */
  restart: boolean;
  /** How many writers load the source. */
  writers: number;
  /** How lanes map to the writers (see `planRouting`). */
  routing: RoutingPlan;
  /** The table's shards, when Citus distributes it by hash. */
  citusShards?: number;
  /** What the earlier runs committed, when this one resumes after them. */
  resume?: ResumeFrom;
  /**
   * The target table as the run found it: the generation its lane counters
   * count, and whether this run resets them (registering the source does).
   */
  targetTable: TargetFound;
}

/**
 * Reads what earlier runs of the source committed and how the target table
 * changed since (see `findTarget`), and decides how this run starts, with
 * one notice: from the start when the source is new, when `restart` asks
 * (saying how many earlier rows stay in the table), or when the table was
 * dropped or truncated since the source's rows went into it (saying so);
 * otherwise resuming after the earlier runs (saying so, unless a file is
 * complete and has not grown; refused, exit 4, when this run's options
 * differ); and with how many writers (a source that is not complete keeps
 * its count, see `parallelWriters`), lanes routed to them how (a source
 * keeps its routing, see `planRouting`).
 *
 * @param request The run's options that bear on it.
 * @param context The run's connection, names and options.
 * @returns How the run starts.
 *
 * @example A new source starts from its start
 * ```ts
 * import { planResume } from "./resume_plan.ts";
 * import { ensureBookkeeping } from "./schema.ts";
 * import { openTarget } from "../target/open_target.ts";
 * import assert from "node:assert/strict";
 *
 * const dataDir = await Deno.makeTempDir();
 * const target = await openTarget({ dataDir });
 * await ensureBookkeeping(target);
 * const table = { schema: "public", table: "t" };
 * const plan = await planResume({ restart: true }, {
 *   target,
 *   metaSchema: "lanecopy",
 *   sourceId: "never-loaded",
 *   table,
 *   targetName: "public.t",
 *   runOptions: {
 *     target: "public.t", format: "csv", delimiter: ",", quote: '"',
 *     nullString: null, header: true, lane: null, encoding: "utf-8",
 *   },
 * });
 * assert.deepEqual(plan, {
 *   restart: false, writers: 1, routing: { routing: "hash" }, resume: undefined,
 *   targetTable: { table, generation: 1 },
 * });
 * await target.close();
 * await Deno.remove(dataDir, { recursive: true });
 * ```
 */
export async function planResume(
  request: ResumeRequest,
  context: ResumeContext,
): Promise<ResumePlan> {
  const { target, metaSchema, sourceId } = context;
  const step = context.step ?? ((read) => read());
  const state = await step(() => readSourceState(target, metaSchema, sourceId));
  const found = await step(() => findTarget(target, metaSchema, context.table));
  const gone = state && rowsGone(state, found);
  const stored = state &&
    await step(() => readWriterProgress(target, metaSchema, sourceId));
  const before = stored && resumePoint(stored.progress);
  const replaceAgain = request.replace === true && before?.complete === true &&
    grown(context.sourceSize, before.offsets);
  const restart = state !== undefined &&
    ((request.restart ?? false) || gone !== undefined || replaceAgain);
  const earlier = restart ? undefined : before;
  const writers = parallelWriters(
    request,
    target.kind,
    restart ? undefined : stored,
    earlier,
    sourceId,
    request.onNotice,
  );
  // On a server: is the table one Citus distributes?
  const distribution = target.kind === "postgres"
    ? await step(() => readDistribution(target, context.table))
    : undefined;
  const routing = await planRouting({
    asked: request.routing,
    writers,
    lane: request.lane,
    distribution: writers > 1 ? distribution : undefined,
    resumed: state !== undefined && earlier?.started
      ? { stored: state.options.routing, complete: earlier.complete }
      : undefined,
    sourceId,
    onNotice: request.onNotice,
  });
  await context.openWriters?.(writers);
  const resume = state !== undefined && earlier?.started
    ? resumeFrom(request, context, state, earlier, writers)
    : undefined;
  const notice = replaceAgain
    ? `${
      context.sourceName ?? `source "${sourceId}"`
    } may have grown since it replaced the rows of ${context.targetName}: replacing them again from its start`
    : startNotice(context, found, gone, restart && stored);
  if (notice !== undefined) request.onNotice?.(notice);
  return {
    restart,
    writers,
    routing,
    ...(distribution?.kind === "hash" &&
      { citusShards: distribution.shards.length }),
    resume,
    targetTable: found,
  };
}

/**
 * Why a source's earlier rows are no longer in the target: the run found
 * the table dropped or truncated, or another run found it so after the
 * source's rows went in (a later generation).
 */
function rowsGone(
  state: SourceState,
  found: TargetFound,
): TargetChange | undefined {
  if (found.reset !== undefined) return found.reset;
  if (state.targetGeneration < found.generation) {
    return found.lastReset ?? "truncated";
  }
  return undefined;
}

/**
 * The notice of a run that starts from the start, if one is due: why the
 * table lost the source's rows, or, for a restart, how many of them stay.
 */
function startNotice(
  context: ResumeContext,
  found: TargetFound,
  gone: TargetChange | undefined,
  restarted: WriterProgress | false | undefined,
): string | undefined {
  const { targetName } = context;
  const source = context.sourceName ?? `source "${context.sourceId}"`;
  if (gone !== undefined) {
    return `${targetName} ${
      changePhrase(gone)
    } since the last run of ${source}: loading it from the start`;
  }
  if (found.reset !== undefined) {
    return `${targetName} ${
      changePhrase(found.reset)
    } since lanecopy last loaded it: its lane counters start again, so each lane's seqs start at 1`;
  }
  if (!restarted) return undefined;
  const before = resumePoint(restarted.progress).rowsCommitted;
  return before === 0
    ? `Restarting ${source} from its start: no rows were loaded from it before`
    : `Restarting ${source} from its start: ${
      before === 1
        ? "the 1 row loaded before stays"
        : `the ${before} rows loaded before stay`
    } in ${targetName}; truncate it first to replace them`;
}

/**
 * Where a run resumes a source an earlier run started: refused (exit 4)
 * when this run's options differ from the stored ones; says so otherwise.
 */
function resumeFrom(
  request: ResumeRequest,
  context: ResumeContext,
  state: SourceState,
  earlier: WriterResume,
  writers: number,
): ResumeFrom {
  const { sourceId } = context;
  const differences = optionDifferences(
    state.options,
    {
      ...context.runOptions,
      columns: request.columns === undefined
        ? []
        : context.mapColumns?.(state.options) ?? request.columns,
    },
    request.columns !== undefined,
  );
  if (differences.length > 0) {
    throw new UsageError(
      `Cannot resume source "${sourceId}" with other options: ${
        differences.join("; ")
      } (pass --restart to load it again from the start with these)`,
      ExitCode.Refused,
    );
  }
  if (!earlier.complete || grown(context.sourceSize, earlier.offsets)) {
    request.onNotice?.(
      writers === 1
        ? `Source "${sourceId}" has ${state.progress.rowsCommitted} rows committed up to byte ${state.progress.byteOffset}: checking that prefix, then resuming after it`
        : `Source "${sourceId}" has ${earlier.rowsCommitted} rows committed by ${writers} writers, up to bytes ${
          earlier.offsets.join(", ")
        }: checking those prefixes, then resuming from byte ${earlier.from.byteOffset}, each writer after its own`,
    );
  }
  return {
    progress: earlier.from,
    columns: state.options.columns,
    offsets: earlier.offsets,
    checks: earlier.checks,
    complete: earlier.complete,
    rowsCommitted: earlier.rowsCommitted,
  };
}

/**
 * Whether a source may hold more than was loaded from it: its size is not
 * known (standard input, gzip), or it is past every writer's position.
 */
function grown(size: number | undefined, offsets: number[]): boolean {
  return size === undefined || size > Math.max(...offsets);
}
