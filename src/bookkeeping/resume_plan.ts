/**
 * Where a run of a source starts: from the start (a new source, or
 * `restart`), or after what earlier runs committed, refused when this run's
 * options or writer count differ from theirs; and with how many writers.
 *
 * @module
 */

import { ExitCode, UsageError } from "../errors.ts";
import {
  type ParallelRequest,
  parallelWriters,
} from "../parallel/parallel_load.ts";
import {
  readWriterProgress,
  resumePoint,
  type WriterResume,
} from "../parallel/writer_progress.ts";
import type { PrefixCheck } from "../source/prefix_check_stream.ts";
import type { Target } from "../target/target.ts";
import {
  optionDifferences,
  readSourceState,
  type SourceOptions,
  type SourceProgress,
  type SourceState,
} from "./source_state.ts";

/** The options of a run that bear on where it starts. */
export interface ResumeRequest extends ParallelRequest {
  /** Load the source again from its start, clearing its earlier progress. */
  restart?: boolean;
  /** Target columns in file order: a resume with others is refused. */
  columns?: string[];
  /** Told of a resume or a restart. */
  onNotice?: (message: string) => void;
}

/** The run, as {@linkcode planResume} reads and reports it. */
export interface ResumeContext {
  /** The run's connection, with the bookkeeping schema. */
  target: Target;
  /** The bookkeeping schema. */
  metaSchema: string;
  /** The source id. */
  sourceId: string;
  /** The target as `schema.table`, for the notices. */
  targetName: string;
  /** The options this run stores with the source, columns excepted. */
  runOptions: Omit<SourceOptions, "columns">;
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
  /** The columns the source was loaded with. */
  columns?: string[];
  /** Each writer's committed position: its records ending there or before are skipped. */
  offsets: number[];
  /** The longer prefixes the other writers committed, to check as well. */
  checks: PrefixCheck[];
}

/** How a run starts. */
export interface ResumePlan {
  /** Whether it clears the earlier runs' progress and loads from the start. */
  restart: boolean;
  /** How many writers load the source. */
  writers: number;
  /** What the earlier runs committed, when this one resumes after them. */
  resume?: ResumeFrom;
}

/**
 * Reads what earlier runs of the source committed, and decides how this
 * run starts: from the start (a new source, or `restart`, said in a
 * notice), or resuming after them (said in a notice; refused, exit 4, when
 * this run's options differ); and with how many writers (a source that is
 * not complete keeps its count, see `parallelWriters`).
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
 * const plan = await planResume({ restart: true }, {
 *   target,
 *   metaSchema: "lanecopy",
 *   sourceId: "never-loaded",
 *   targetName: "public.t",
 *   runOptions: {
 *     target: "public.t", format: "csv", delimiter: ",", quote: '"',
 *     nullString: null, header: true, lane: null, encoding: "utf-8",
 *   },
 * });
 * assert.deepEqual(plan, { restart: false, writers: 1, resume: undefined });
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
  const restart = (request.restart ?? false) && state !== undefined;
  const stored = state &&
    await step(() => readWriterProgress(target, metaSchema, sourceId));
  const earlier = stored && !restart ? resumePoint(stored.progress) : undefined;
  const writers = parallelWriters(
    request,
    target.kind,
    restart ? undefined : stored,
    earlier,
    sourceId,
    request.onNotice,
  );
  await context.openWriters?.(writers);
  const resume = state !== undefined && earlier?.started
    ? resumeFrom(request, context, state, earlier, writers)
    : undefined;
  if (restart) {
    request.onNotice?.(
      `Restarting source "${sourceId}" from its start: the earlier runs had committed ${
        stored ? resumePoint(stored.progress).rowsCommitted : 0
      } rows, which stay in ${context.targetName}`,
    );
  }
  return { restart, writers, resume };
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
    { ...context.runOptions, columns: request.columns ?? [] },
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
  request.onNotice?.(
    writers === 1
      ? `Source "${sourceId}" has ${state.progress.rowsCommitted} rows committed up to byte ${state.progress.byteOffset}: checking that prefix, then resuming after it`
      : `Source "${sourceId}" has ${earlier.rowsCommitted} rows committed by ${writers} writers, up to bytes ${
        earlier.offsets.join(", ")
      }: checking those prefixes, then resuming from byte ${earlier.from.byteOffset}, each writer after its own`,
  );
  return {
    progress: earlier.from,
    columns: state.options.columns,
    offsets: earlier.offsets,
    checks: earlier.checks,
  };
}
