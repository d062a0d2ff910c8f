/**
 * `status`: what the bookkeeping says: each source's committed progress,
 * and each lane's next seq and row count.
 *
 * @module
 */

import { metaTables } from "./schema.ts";
import type { QueryResult, Target } from "../target/target.ts";

/** The bookkeeping's view of sources and lanes. */
export interface LoadStatus {
  /** One row per source and writer. */
  sources: QueryResult;
  /** One row per lane of the targets those sources load (all lanes without a source filter). */
  lanes: QueryResult;
}

/**
 * Reads sources with their progress, and lanes with `next_seq` and
 * `row_count`; with `sourceId`, only that source and its target's lanes.
 * Empty when nothing was ever loaded.
 *
 * @param target An open database.
 * @param metaSchema The bookkeeping schema.
 * @param sourceId Only this source.
 * @returns The two tables.
 *
 * @example Usage
 * ```ts
 * import { loadStatus } from "./status.ts";
 * import { openTarget } from "../target/open_target.ts";
 * import assert from "node:assert/strict";
 *
 * const dataDir = await Deno.makeTempDir();
 * const target = await openTarget({ db: "", dataDir });
 * const status = await loadStatus(target, "lanecopy");
 * assert.deepEqual(status.sources.rows, []);
 * await target.close();
 * await Deno.remove(dataDir, { recursive: true });
 * ```
 */
export async function loadStatus(
  target: Target,
  metaSchema: string,
  sourceId?: string,
): Promise<LoadStatus> {
  const empty = {
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
  return { sources, lanes };
}
