/**
 * `status`: what the bookkeeping says: each source's committed progress,
 * and each lane's next seq and row count.
 *
 * @module
 */

import { DEFAULT_META_SCHEMA, metaTables } from "./schema.ts";
import type { Target } from "../target/target.ts";

/**
 * One writer's committed progress on one source, as the bookkeeping keeps
 * it: where a resume starts and whether the source is complete.
 *
 * @example Is a source loaded to its end?
 * ```ts
 * import { ingest, loadStatus, openTarget, type SourceStatusRow } from "@lanecopy/lanecopy";
 * import assert from "node:assert/strict";
 *
 * const dataDir = await Deno.makeTempDir();
 * const target = await openTarget({ dataDir });
 * await ingest({
 *   source: ReadableStream.from([new TextEncoder().encode("id\n1\n2\n")]),
 *   sourceId: "feed",
 *   table: "t",
 *   create: true,
 *   target,
 * });
 * const [row]: SourceStatusRow[] = (await loadStatus(target, undefined, "feed")).sources.rows;
 * assert.deepEqual([row.source_id, row.rows_committed, row.complete], ["feed", 2, true]);
 * await target.close();
 * await Deno.remove(dataDir, { recursive: true });
 * ```
 */
export type SourceStatusRow = {
  /** The source's id (by default its real path and the target). */
  source_id: string;
  /** The target table, `schema.table`. */
  target: string;
  /** The writer (0 without `--parallel`). */
  writer: number;
  /** Bytes of the source committed: where a resume reads from. */
  byte_offset: number;
  /** Rows committed. */
  rows_committed: number;
  /** Source lines committed. */
  lines_committed: number;
  /** Whether the source was loaded to its end. */
  complete: boolean;
  /** When this progress last moved. */
  updated_at: Date;
};

/**
 * One lane's counter: the seq its next row gets and the rows it holds.
 *
 * @example A load without `lane` counts one lane
 * ```ts
 * import { ingest, type LaneStatusRow, loadStatus, openTarget } from "@lanecopy/lanecopy";
 * import assert from "node:assert/strict";
 *
 * const dataDir = await Deno.makeTempDir();
 * const target = await openTarget({ dataDir });
 * await ingest({
 *   source: ReadableStream.from([new TextEncoder().encode("id\n1\n2\n")]),
 *   table: "t",
 *   create: true,
 *   target,
 * });
 * const lanes: LaneStatusRow[] = (await loadStatus(target)).lanes.rows;
 * assert.deepEqual(lanes.map((lane) => [lane.target, lane.row_count]), [["public.t", 2]]);
 * await target.close();
 * await Deno.remove(dataDir, { recursive: true });
 * ```
 */
export type LaneStatusRow = {
  /** The target table, `schema.table`. */
  target: string;
  /** The lane key. */
  lane: string;
  /** The seq the lane's next row gets. */
  next_seq: number;
  /** Rows of the lane in the target. */
  row_count: number;
  /** When the lane last moved. */
  updated_at: Date;
};

/**
 * The bookkeeping's view of sources and lanes, each with its rows typed
 * (counts as numbers, on a server and on the embedded database alike) and
 * its column names in order.
 *
 * @example Read the lanes a load counted
 * ```ts
 * import { ingest, type LoadStatus, loadStatus, openTarget } from "@lanecopy/lanecopy";
 * import assert from "node:assert/strict";
 *
 * const dataDir = await Deno.makeTempDir();
 * const target = await openTarget({ dataDir });
 * await ingest({
 *   source: ReadableStream.from([new TextEncoder().encode("id,region\n1,eu\n2,us\n3,eu\n")]),
 *   table: "orders",
 *   create: true,
 *   lane: "region",
 *   target,
 * });
 * const status: LoadStatus = await loadStatus(target);
 * assert.deepEqual(
 *   status.lanes.rows.map((row) => [row.lane, row.row_count, row.next_seq]),
 *   [["eu", 2, 3], ["us", 1, 2]],
 * );
 * assert.equal(status.sources.rows[0].rows_committed, 3);
 * await target.close();
 * await Deno.remove(dataDir, { recursive: true });
 * ```
 */
export interface LoadStatus {
  /** One row per source and writer, the most recently moved first. */
  sources: { rows: SourceStatusRow[]; fields: string[] };
  /** One row per lane of the targets those sources load (all lanes without a source filter). */
  lanes: { rows: LaneStatusRow[]; fields: string[] };
}

/**
 * Reads sources with their progress, and lanes with `next_seq` and
 * `row_count`; with `sourceId`, only that source and its target's lanes.
 * Empty when nothing was ever loaded.
 *
 * @param target An open database.
 * @param metaSchema The bookkeeping schema. Default `lanecopy`.
 * @param sourceId Only this source.
 * @returns The two tables.
 *
 * @example Usage
 * ```ts
 * import { loadStatus, openTarget } from "@lanecopy/lanecopy";
 * import assert from "node:assert/strict";
 *
 * const dataDir = await Deno.makeTempDir();
 * const target = await openTarget({ dataDir });
 * const status = await loadStatus(target);
 * assert.deepEqual(status.sources.rows, []);
 * await target.close();
 * await Deno.remove(dataDir, { recursive: true });
 * ```
 */
export async function loadStatus(
  target: Target,
  metaSchema: string = DEFAULT_META_SCHEMA,
  sourceId?: string,
): Promise<LoadStatus> {
  const empty: LoadStatus = {
    sources: { rows: [], fields: [] },
    lanes: { rows: [], fields: [] },
  };
  const t = metaTables(metaSchema);
  const { rows } = await target.query(
    "SELECT to_regclass($1) IS NOT NULL AS ok",
    [t.progress],
  );
  if (rows[0].ok !== true) return empty;
  const sources = await target.query(
    `SELECT s.source_id, s.target, p.writer, p.byte_offset, p.rows_committed,
            p.lines_committed, p.complete, p.updated_at
       FROM ${t.sources} s JOIN ${t.progress} p USING (source_id)
      WHERE $1::text IS NULL OR s.source_id = $1
      ORDER BY p.updated_at DESC, s.source_id, p.writer`,
    [sourceId ?? null],
  );
  const lanes = await target.query(
    `SELECT l.target, l.lane, l.next_seq, l.row_count, l.updated_at
       FROM ${t.lanes} l
      WHERE $1::text IS NULL
         OR l.target IN (SELECT target FROM ${t.sources} WHERE source_id = $1)
      ORDER BY l.target, l.lane`,
    [sourceId ?? null],
  );
  return {
    sources: {
      fields: sources.fields,
      rows: sources.rows.map((row) => ({
        source_id: String(row.source_id),
        target: String(row.target),
        writer: Number(row.writer),
        byte_offset: Number(row.byte_offset),
        rows_committed: Number(row.rows_committed),
        lines_committed: Number(row.lines_committed),
        complete: row.complete === true,
        updated_at: new Date(row.updated_at as Date),
      })),
    },
    lanes: {
      fields: lanes.fields,
      rows: lanes.rows.map((row) => ({
        target: String(row.target),
        lane: String(row.lane),
        next_seq: Number(row.next_seq),
        row_count: Number(row.row_count),
        updated_at: new Date(row.updated_at as Date),
      })),
    },
  };
}
