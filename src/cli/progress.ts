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

/**
 * The one line printed at the end of a load.
 *
 * @param summary The load's summary.
 * @returns For example `loaded 1,000 rows into public.t in 1 batch, 0.2 s (5,000 rows/s, 0.3 MB/s)`.
 *
 * @example Usage
 * ```ts
 * import { summaryLine } from "./progress.ts";
 * import assert from "node:assert/strict";
 *
 * const line = summaryLine({
 *   table: "public.t", source: "t.csv", sourceId: "t", resumedAt: 0, rows: 1000, batches: 1, bytes: 60000,
 *   seconds: 0.2, rowsPerSecond: 5000, megabytesPerSecond: 0.3, rejected: 2, rejectFile: "bad.csv",
 * });
 * assert.equal(line, "loaded 1,000 rows from t.csv into public.t in 1 batch, 0.20 s (5,000 rows/s, 0.3 MB/s); 2 rejected into bad.csv");
 * ```
 */
export function summaryLine(summary: IngestSummary): string {
  const count = (n: number) => Math.round(n).toLocaleString("en-US");
  return `loaded ${
    count(summary.rows)
  } rows from ${summary.source} into ${summary.table} in ${
    count(summary.batches)
  } batch${summary.batches === 1 ? "" : "es"}, ${
    summary.seconds.toFixed(2)
  } s (${count(summary.rowsPerSecond)} rows/s, ${
    summary.megabytesPerSecond.toFixed(1)
  } MB/s)${
    summary.resumedAt > 0
      ? `, resumed after byte ${count(summary.resumedAt)}`
      : ""
  }${
    summary.rejected > 0
      ? `; ${count(summary.rejected)} rejected into ${summary.rejectFile}`
      : ""
  }`;
}
