/**
 * What a person watching a load sees: a progress bar on a terminal, one
 * summary line at the end.
 *
 * @module
 */

// @ts-types="npm:@types/cli-progress@3.11.6"
import type CliProgress from "npm:cli-progress@3.12.0";
import process from "node:process";
import type { IngestProgress, IngestSummary } from "../ingest_options.ts";
import type { Target } from "../target/target.ts";

/** Shows progress while a load runs. */
export interface ProgressDisplay {
  /** Shows the latest figures (redrawn at most ten times a second). */
  update(progress: IngestProgress): void;
  /** Removes the bar. */
  stop(): void;
}

/**
 * A progress bar on stderr when it is a terminal (rows, MB, rows/s, and %
 * of the file when its size is known); nothing otherwise. The bar's module
 * loads only for a terminal, so a load whose stderr is not one does not
 * carry it.
 *
 * @param totalBytes The source's size, when known.
 * @returns The display.
 *
 * @example Usage
 * ```ts
 * import { progressDisplay } from "./progress.ts";
 *
 * const display = await progressDisplay(1000);
 * display.update({ rows: 10, rejected: 0, batches: 1, bytes: 500, totalBytes: 1000, seconds: 0.5 });
 * display.stop();
 * ```
 */
export async function progressDisplay(
  totalBytes?: number,
): Promise<ProgressDisplay> {
  if (!Deno.stderr.isTerminal()) return { update() {}, stop() {} };
  const { default: cliProgress } = await import("npm:cli-progress@3.12.0") as {
    default: typeof CliProgress;
  };
  const known = totalBytes !== undefined && totalBytes > 0;
  const bar = new cliProgress.SingleBar({
    stream: process.stderr,
    fps: 10,
    hideCursor: true,
    clearOnComplete: true,
    format: known
      ? "{bar} {percentage}% | {rows} rows | {mb} MB | {rate} rows/s"
      : "{rows} rows | {mb} MB | {rate} rows/s",
  }, cliProgress.Presets.shades_classic);
  bar.start(known ? totalBytes : 1, 0, { rows: "0", mb: "0.0", rate: "0" });
  return {
    update(progress) {
      bar.update(known ? progress.bytes : 0, {
        rows: progress.rows.toLocaleString("en-US"),
        mb: (progress.bytes / 1e6).toFixed(1),
        rate: Math.round(progress.rows / Math.max(progress.seconds, 1e-3))
          .toLocaleString("en-US"),
      });
    },
    stop() {
      bar.stop();
    },
  };
}

/** Whole numbers as the summary line writes them: `13,880`. */
const WHOLE = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });
/** Seconds: `1,234.50`. */
const SECONDS = new Intl.NumberFormat("en-US", {
  minimumFractionDigits: 2,
  maximumFractionDigits: 2,
});
/** Megabytes per second: `50.0`. */
const RATE = new Intl.NumberFormat("en-US", {
  minimumFractionDigits: 1,
  maximumFractionDigits: 1,
});

/** `count` and `noun`, the noun plural unless the count is one: `1 row`, `13,880 rows`. */
function counted(count: number, noun: string, plural = `${noun}s`): string {
  const rounded = Math.round(count);
  return `${WHOLE.format(rounded)} ${rounded === 1 ? noun : plural}`;
}

/**
 * The one line printed at the end of a load: what loaded, from where, into
 * which table of which database, and how fast.
 *
 * @param summary The load's summary.
 * @returns For example `loaded 1,000 rows from t.csv into public.t (app@db:5432/shop) in 1 batch, 0.20 s (5,000 rows/s, 0.3 MB/s)`.
 *
 * @example Usage
 * ```ts
 * import { summaryLine } from "./progress.ts";
 * import assert from "node:assert/strict";
 *
 * const line = summaryLine({
 *   table: "public.t", destination: "app@db:5432/shop", source: "t.csv", sourceId: "t", resumedAt: 0,
 *   rows: 13880, batches: 1, bytes: 60000, seconds: 0.2, rowsPerSecond: 69400, megabytesPerSecond: 0.3, dryRun: false,
 *   rejected: 1, rejectFile: "bad.csv",
 * });
 * assert.equal(
 *   line,
 *   "loaded 13,880 rows from t.csv into public.t (app@db:5432/shop) in 1 batch, 0.20 s (69,400 rows/s, 0.3 MB/s); 1 rejected into bad.csv",
 * );
 * const again = summaryLine({
 *   table: "public.t", destination: "app@db:5432/shop", source: "t.csv", sourceId: "t", resumedAt: 60000,
 *   rows: 0, batches: 0, bytes: 0, seconds: 0.1, rowsPerSecond: 0, megabytesPerSecond: 0, rejected: 0, dryRun: false,
 * });
 * assert.equal(again, "nothing new in t.csv: its first 60,000 bytes were loaded into public.t (app@db:5432/shop) before");
 * ```
 */
export function summaryLine(summary: IngestSummary): string {
  if (
    summary.rows === 0 && summary.rejected === 0 && summary.resumedAt > 0 &&
    !summary.dryRun
  ) {
    return `nothing new in ${summary.source}: its first ${
      WHOLE.format(summary.resumedAt)
    } bytes were loaded into ${summary.table} (${summary.destination}) before`;
  }
  const resumed = summary.resumedAt > 0
    ? `, resumed after byte ${WHOLE.format(summary.resumedAt)}`
    : "";
  const rejected = summary.rejected > 0
    ? `; ${WHOLE.format(summary.rejected)} rejected into ${summary.rejectFile}`
    : "";
  const loaded = summary.dryRun
    ? "dry run, rolled back: would have loaded"
    : "loaded";
  const applied = summary.inserted === undefined ? "" : ` (${
    [
      `${WHOLE.format(summary.inserted)} inserted`,
      summary.updated !== undefined &&
      `${WHOLE.format(summary.updated)} updated`,
      summary.skipped !== undefined &&
      `${WHOLE.format(summary.skipped)} skipped: key already there`,
    ].filter(Boolean).join(", ")
  })`;
  const binary = !summary.binaryBatches
    ? ""
    : summary.binaryBatches === summary.batches
    ? "; every batch in COPY binary"
    : `; ${WHOLE.format(summary.binaryBatches)} of ${
      WHOLE.format(summary.batches)
    } batches in COPY binary`;
  const routed = summary.routedByShard === undefined
    ? ""
    : `; routed by shard (${
      counted(summary.routedByShard.shards, "shard")
    } over ${counted(summary.routedByShard.writers, "writer")})`;
  return `${loaded} ${
    counted(summary.rows, "row")
  }${applied} from ${summary.source} into ${summary.table} (${summary.destination}) in ${
    counted(summary.batches, "batch", "batches")
  }, ${SECONDS.format(summary.seconds)} s (${
    WHOLE.format(summary.rowsPerSecond)
  } rows/s, ${
    RATE.format(summary.megabytesPerSecond)
  } MB/s)${resumed}${rejected}${binary}${routed}`;
}

/**
 * The line `sql` and `status` print on stderr to name the database they
 * read: a server's `user@host:port/database`, or the embedded database's
 * directory.
 *
 * @param target The open database.
 * @returns For example `lanecopy: using app@db:5432/shop`.
 *
 * @example Usage
 * ```ts
 * import { databaseLine } from "./progress.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(
 *   databaseLine({ kind: "postgres", description: "app@db:5432/shop" }),
 *   "lanecopy: using app@db:5432/shop",
 * );
 * assert.equal(
 *   databaseLine({ kind: "embedded", description: "/srv/.lanecopy/db" }),
 *   "lanecopy: using the embedded database at /srv/.lanecopy/db",
 * );
 * ```
 */
export function databaseLine(
  target: Pick<Target, "kind" | "description">,
): string {
  return `lanecopy: using ${
    target.kind === "embedded" ? "the embedded database at " : ""
  }${target.description}`;
}
