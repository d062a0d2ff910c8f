/**
 * Resume state kept per writer (`--parallel N`): how many writers a
 * source was loaded with, each one's committed position, and where a
 * resumed run reads from. Writer `w`'s committed position is the source
 * end offset of the last record it committed; a resume reads from the
 * smallest of them, and each writer skips the records it already has.
 *
 * @module
 */

import { metaTables } from "../bookkeeping/schema.ts";
import type { PrefixCheck } from "../source/prefix_check_stream.ts";
import type { SourceProgress } from "../bookkeeping/source_state.ts";
import type { Target } from "../target/target.ts";

/** What the writers of a source have committed. */
export interface WriterProgress {
  /** The writers the source was registered with (`sources.writers`). */
  writers: number;
  /** Each writer's progress, by writer (no row: nothing committed). */
  progress: SourceProgress[];
}

/** Where a resumed run of a parallel load starts. */
export interface WriterResume {
  /**
   * The progress of the writer that stopped first: the run reads from its
   * `byteOffset`, after verifying its prefix, with line numbers from its
   * `lines`.
   */
  from: SourceProgress;
  /** The longer prefixes the other writers committed, to check as well. */
  checks: PrefixCheck[];
  /** Each writer's committed position: its records ending there or before are skipped. */
  offsets: number[];
  /** Whether some writer has committed anything. */
  started: boolean;
  /** Whether every writer reached the end of the source. */
  complete: boolean;
  /** Rows committed, all writers together. */
  rowsCommitted: number;
}

/**
 * Reads a source's writer count and every writer's progress.
 *
 * @param target An open database with the bookkeeping schema.
 * @param metaSchema The bookkeeping schema.
 * @param sourceId The source id.
 * @returns Its writers' progress, or `undefined` when it was never loaded.
 *
 * @example Usage
 * ```ts
 * import { ensureBookkeeping } from "../bookkeeping/schema.ts";
 * import { readWriterProgress } from "./writer_progress.ts";
 * import { openTarget } from "../target/open_target.ts";
 * import assert from "node:assert/strict";
 *
 * const dataDir = await Deno.makeTempDir();
 * const target = await openTarget({ db: "", dataDir });
 * await ensureBookkeeping(target);
 * assert.equal(await readWriterProgress(target, "lanecopy", "nope"), undefined);
 * await target.close();
 * await Deno.remove(dataDir, { recursive: true });
 * ```
 */
export async function readWriterProgress(
  target: Target,
  metaSchema: string,
  sourceId: string,
): Promise<WriterProgress | undefined> {
  const t = metaTables(metaSchema);
  const { rows } = await target.query(
    `SELECT s.writers, p.writer, p.byte_offset::float8 AS byte_offset,
            p.rows_committed::float8 AS rows_committed,
            p.lines_committed::float8 AS lines_committed,
            p.fingerprint, p.complete
       FROM ${t.sources} s
       LEFT JOIN ${t.progress} p ON p.source_id = s.source_id
      WHERE s.source_id = $1
      ORDER BY p.writer`,
    [sourceId],
  );
  if (rows.length === 0) return undefined;
  const writers = Number(rows[0].writers ?? 1);
  const progress: SourceProgress[] = [];
  for (let writer = 0; writer < writers; writer++) {
    const row = rows.find((row) => Number(row.writer) === writer);
    progress.push({
      byteOffset: Number(row?.byte_offset ?? 0),
      rowsCommitted: Number(row?.rows_committed ?? 0),
      lines: Number(row?.lines_committed ?? 0),
      fingerprint: String(row?.fingerprint ?? ""),
      complete: row?.complete === true,
    });
  }
  return { writers, progress };
}

/**
 * Where a resumed run starts, from each writer's progress: at the
 * smallest committed position (that writer's prefix is verified and its
 * lines continue), with the longer prefixes of the others to check too.
 *
 * @param progress Each writer's progress, by writer.
 * @returns The resume point.
 *
 * @example Usage
 * ```ts
 * import { resumePoint } from "./writer_progress.ts";
 * import assert from "node:assert/strict";
 *
 * const at = (byteOffset: number, lines: number) => ({
 *   byteOffset, lines, fingerprint: `f${byteOffset}`, rowsCommitted: lines, complete: false,
 * });
 * const resume = resumePoint([at(300, 30), at(120, 12), at(300, 30)]);
 * assert.equal(resume.from.byteOffset, 120);
 * assert.deepEqual(resume.offsets, [300, 120, 300]);
 * assert.deepEqual(resume.checks, [{ byteOffset: 300, fingerprint: "f300", writer: 0 }]);
 * assert.equal(resume.rowsCommitted, 72);
 * ```
 */
export function resumePoint(progress: readonly SourceProgress[]): WriterResume {
  const from = progress.reduce((min, p) =>
    p.byteOffset < min.byteOffset ? p : min
  );
  const checks: PrefixCheck[] = [];
  progress.forEach((p, writer) => {
    if (
      p.byteOffset > from.byteOffset &&
      !checks.some((check) => check.byteOffset === p.byteOffset)
    ) {
      checks.push({
        byteOffset: p.byteOffset,
        fingerprint: p.fingerprint,
        writer,
      });
    }
  });
  return {
    from,
    checks,
    offsets: progress.map((p) => p.byteOffset),
    started: progress.some((p) => p.byteOffset > 0),
    complete: progress.every((p) => p.complete),
    rowsCommitted: progress.reduce((sum, p) => sum + p.rowsCommitted, 0),
  };
}
