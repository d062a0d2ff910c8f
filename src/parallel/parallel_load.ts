/**
 * What a run needs before it loads with several writers (`--parallel N`):
 * how many writers it uses (a source that is not complete keeps the count
 * it was loaded with), the refusals (no lanes to split, the embedded
 * database, a load in one transaction, a reject file), and a connection
 * for each writer.
 *
 * @module
 */

import { ExitCode, UsageError } from "../errors.ts";
import { openTarget, type TargetOptions } from "../target/open_target.ts";
import type { Target } from "../target/target.ts";
import type { WriterProgress, WriterResume } from "./writer_progress.ts";

/** The options of a run that bear on its writers. */
export interface ParallelRequest {
  /** Writers asked for (`--parallel`). Default 1. */
  parallel?: number;
  /**
   * How lanes map to writers (`--routing`): hashed, or by the Citus shard
   * of the lane (see `planRouting`). Default: by shard where that applies.
   */
  routing?: "hash" | "shards";
  /** The lane column: without one, every row is lane `default`. */
  lane?: string;
  /** The whole load in one transaction. */
  atomic?: boolean;
  /** A dry run: one transaction, rolled back. */
  dryRun?: boolean;
  /** A reject file. */
  rejectFile?: string;
}

/**
 * The number of writers a run uses, or a refusal ({@linkcode UsageError},
 * exit code 4). A source an earlier run left incomplete keeps its writer
 * count: another one is refused (`--restart` loads it again with the new
 * count). A complete source is checked (and any records added since are
 * loaded) with the writers it was loaded with, so re-running it with
 * another count loads nothing and is fine. More than one writer needs a
 * server (the embedded database has one connection), a lane column to
 * split by, one transaction per batch, and no reject file.
 *
 * @param request What the run asks for.
 * @param kind The database: `postgres` or `embedded`.
 * @param stored The source's writers and their progress, when it was loaded before (and is not restarted).
 * @param resume Where that progress resumes.
 * @param sourceId The source id, for messages.
 * @param onNotice Told when a complete source keeps its writer count.
 * @returns The number of writers.
 *
 * @example Usage
 * ```ts
 * import { parallelWriters } from "./parallel_load.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(parallelWriters({ parallel: 3, lane: "region" }, "postgres"), 3);
 * assert.throws(
 *   () => parallelWriters({ parallel: 2, lane: "region" }, "embedded"),
 *   /the embedded database has one connection/,
 * );
 * ```
 */
export function parallelWriters(
  request: ParallelRequest,
  kind: Target["kind"],
  stored?: WriterProgress,
  resume?: WriterResume,
  sourceId = "",
  onNotice?: (message: string) => void,
): number {
  const asked = request.parallel ?? 1;
  if (!Number.isInteger(asked) || asked < 1) {
    throw new UsageError(
      `Cannot load with ${asked} writers: --parallel must be a positive whole number`,
    );
  }
  let writers = asked;
  if (stored !== undefined && resume?.started && stored.writers !== asked) {
    if (!resume.complete) {
      throw new UsageError(
        `Cannot resume source "${sourceId}" with --parallel ${asked}: it was loaded with --parallel ${stored.writers} and is not complete, and each writer's progress belongs to its lanes (run it with --parallel ${stored.writers}, or pass --restart to load it again from the start with ${asked})`,
        ExitCode.Refused,
      );
    }
    writers = stored.writers;
    onNotice?.(
      `Source "${sourceId}" was loaded completely with --parallel ${stored.writers}: checking it with ${stored.writers} writers (--parallel ${asked} applies when it is loaded again with --restart)`,
    );
  }
  if (writers === 1) return 1;
  const refuse = (why: string) =>
    new UsageError(
      `Cannot load with --parallel ${writers}: ${why}`,
      ExitCode.Refused,
    );
  if (kind === "embedded") {
    throw refuse(
      "the embedded database has one connection, so its writers could not run at once (load into a server with --db, or leave --parallel out)",
    );
  }
  if (request.lane === undefined) {
    throw refuse(
      'without --lane every row is in one lane ("default"), and a lane is written by one writer, so there is nothing to split (pass --lane COLUMN)',
    );
  }
  if (request.atomic) {
    throw refuse(
      "--atomic loads everything in one transaction, on one connection",
    );
  }
  if (request.dryRun) {
    throw refuse(
      "--dry-run loads everything in one transaction, on one connection, and rolls it back",
    );
  }
  if (request.rejectFile !== undefined) {
    throw refuse("--reject-file is not supported with several writers yet");
  }
  return writers;
}

/**
 * A connection for each writer after the first (which uses the run's own):
 * `count - 1` more, to the same server. Closes what it opened when one
 * fails.
 *
 * @param count How many writers.
 * @param options Which database (a server).
 * @returns The new connections, for writers 1 to `count - 1`.
 *
 * @example Usage
 * ```ts
 * import { openWriterTargets } from "./parallel_load.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(await openWriterTargets(1, {}), []);
 * ```
 */
export async function openWriterTargets(
  count: number,
  options: TargetOptions,
): Promise<Target[]> {
  const opened = await Promise.allSettled(
    Array.from({ length: count - 1 }, () => openTarget(options)),
  );
  const targets = opened.flatMap((result) =>
    result.status === "fulfilled" ? [result.value] : []
  );
  const failed = opened.find((result) => result.status === "rejected");
  const embedded = targets.some((target) => target.kind !== "postgres");
  if (failed !== undefined || embedded) {
    await Promise.all(targets.map((target) => target.close()));
    if (failed !== undefined) throw failed.reason;
    throw new UsageError(
      `Cannot open ${count} connections for --parallel ${count}: name the server with --db (or DATABASE_URL)`,
      ExitCode.Refused,
    );
  }
  return targets;
}
