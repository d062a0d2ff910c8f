/**
 * The lane_seq splice: once a batch's seq ranges are reserved, each row
 * gets its seq as one more, last column. One flat pass over the batch's
 * row ranges.
 *
 * @module
 */

import type { CopyFormat } from "../codec/copy_row.ts";
import {
  type RowBlock,
  rowCount,
  rowStart,
  sliceRows,
} from "../codec/row_block.ts";

const LF = 0x0a;

/** The lane of every row when no lane column is given. */
export const DEFAULT_LANE = "default";

/**
 * Each row's lane (every row in {@linkcode DEFAULT_LANE} when the batch
 * has no lane keys) and how many rows each lane has, in order of first
 * appearance.
 *
 * @param block The rows.
 * @returns The lane of each row, and the rows per lane.
 *
 * @example Usage
 * ```ts
 * import { batchLanes } from "./seq_splice.ts";
 * import assert from "node:assert/strict";
 *
 * const block = {
 *   data: new TextEncoder().encode("1\n2\n3\n"),
 *   rowEnds: Uint32Array.of(2, 4, 6),
 *   lines: Float64Array.of(1, 2, 3),
 *   endOffsets: Float64Array.of(2, 4, 6),
 *   laneKeys: ["b", "a", "b"],
 * };
 * assert.deepEqual([...batchLanes(block).laneRows], [["b", 2], ["a", 1]]);
 * assert.deepEqual(batchLanes({ ...block, laneKeys: undefined }).laneKeys, ["default", "default", "default"]);
 * ```
 */
export function batchLanes(
  block: RowBlock,
): { laneKeys: readonly string[]; laneRows: Map<string, number> } {
  if (block.laneKeys === undefined) {
    // One lane: counted without a look at each row.
    const rows = rowCount(block);
    return {
      laneKeys: new Array<string>(rows).fill(DEFAULT_LANE),
      laneRows: new Map(rows > 0 ? [[DEFAULT_LANE, rows]] : []),
    };
  }
  const laneKeys = block.laneKeys;
  const laneRows = new Map<string, number>();
  for (const lane of laneKeys) {
    laneRows.set(lane, (laneRows.get(lane) ?? 0) + 1);
  }
  return { laneKeys, laneRows };
}

/**
 * Each row's seq: lanes number their rows in input order, starting at the
 * seq reserved for the lane.
 *
 * @param laneKeys Each row's lane.
 * @param firstSeqs The first seq reserved for each lane in the batch.
 * @returns The seq of every row.
 *
 * @example Usage
 * ```ts
 * import { assignSeqs } from "./seq_splice.ts";
 * import assert from "node:assert/strict";
 *
 * const seqs = assignSeqs(["a", "b", "a"], new Map([["a", 7], ["b", 1]]));
 * assert.deepEqual([...seqs], [7, 1, 8]);
 * ```
 */
export function assignSeqs(
  laneKeys: readonly string[],
  firstSeqs: ReadonlyMap<string, number>,
): Float64Array {
  const next = new Map(firstSeqs);
  const seqs = new Float64Array(laneKeys.length);
  for (let i = 0; i < laneKeys.length; i++) {
    const lane = laneKeys[i];
    const seq = next.get(lane);
    if (seq === undefined) {
      throw new RangeError(
        `Cannot assign a seq: lane "${lane}" was not reserved`,
      );
    }
    seqs[i] = seq;
    next.set(lane, seq + 1);
  }
  return seqs;
}

/**
 * Copies a block's rows with `seqs[i]` appended to row `i` as a last
 * column (before its line feed). Row `i` stays row `i`: COPY's line
 * numbers still map to the same records.
 *
 * @param block The encoded rows.
 * @param seqs One seq per row (non-negative integers).
 * @param format The rows' COPY format (its delimiter: tab or comma).
 * @returns The rows' new bytes.
 *
 * @example Usage
 * ```ts
 * import { spliceSeqs } from "./seq_splice.ts";
 * import assert from "node:assert/strict";
 *
 * const block = {
 *   data: new TextEncoder().encode("a\t1\nb\t\\N\n"),
 *   rowEnds: Uint32Array.of(4, 9),
 *   lines: Float64Array.of(2, 3),
 *   endOffsets: Float64Array.of(4, 8),
 * };
 * const out = spliceSeqs(block, Float64Array.of(41, 1000), "text");
 * assert.equal(new TextDecoder().decode(out), "a\t1\t41\nb\t\\N\t1000\n");
 * ```
 */
export function spliceSeqs(
  block: RowBlock,
  seqs: Float64Array,
  format: CopyFormat,
): Uint8Array {
  const rows = rowCount(block);
  const delimiter = format === "csv" ? 0x2c : 0x09;
  const rowEnds = block.rowEnds;
  // Pass 1: how many bytes each row grows by (a delimiter and the digits).
  let extra = 0;
  for (let i = 0; i < rows; i++) extra += 1 + digitCount(seqs[i]);
  // Pass 2, backwards in one buffer: move each row to its place (memmove,
  // no allocation per row), then write its seq after it.
  const out = new Uint8Array(block.data.length + extra);
  out.set(block.data);
  let shift = extra;
  for (let i = rows - 1; i >= 0; i--) {
    const start = i === 0 ? 0 : rowEnds[i - 1];
    const end = rowEnds[i]; // just after the row's line feed
    const seq = seqs[i];
    const digits = digitCount(seq);
    shift -= 1 + digits;
    let pos = end + shift + digits - 1; // where the seq's last digit goes
    out[pos + 1] = LF;
    let rest = seq;
    // Whole-number division on small integers (the common case) is cheap;
    // larger seqs take the float path until they are small.
    while (rest > 0x7fffffff) {
      const next = Math.floor(rest / 10);
      out[pos--] = 0x30 + (rest - next * 10);
      rest = next;
    }
    let small = rest | 0;
    do {
      const next = (small / 10) | 0;
      out[pos--] = 0x30 + small - next * 10;
      small = next;
    } while (small > 0);
    out[pos] = delimiter;
    if (shift > 0) out.copyWithin(start + shift, start, end - 1);
  }
  return out;
}

/**
 * {@linkcode spliceSeqs} a slice of rows at a time, lazily: each slice is
 * spliced as the consumer asks for it, so writing the first bytes need not
 * wait for the whole batch.
 *
 * @param block The encoded rows.
 * @param seqs One seq per row.
 * @param format The rows' COPY format.
 * @param sliceBytes About how many input bytes each slice covers. Default 64 KiB.
 * @returns The spliced rows, slice by slice.
 *
 * @example Usage
 * ```ts
 * import { spliceSeqChunks } from "./seq_splice.ts";
 * import assert from "node:assert/strict";
 *
 * const block = {
 *   data: new TextEncoder().encode("a\nb\nc\n"),
 *   rowEnds: Uint32Array.of(2, 4, 6),
 *   lines: Float64Array.of(1, 2, 3),
 *   endOffsets: Float64Array.of(2, 4, 6),
 * };
 * const chunks = [...spliceSeqChunks(block, Float64Array.of(1, 2, 3), "text", 4)];
 * assert.equal(chunks.length, 2);
 * assert.equal(chunks.map((c) => new TextDecoder().decode(c)).join(""), "a\t1\nb\t2\nc\t3\n");
 * ```
 */
export function* spliceSeqChunks(
  block: RowBlock,
  seqs: Float64Array,
  format: CopyFormat,
  sliceBytes: number = 64 * 1024,
): Generator<Uint8Array> {
  const rows = rowCount(block);
  let from = 0;
  while (from < rows) {
    const base = rowStart(block, from);
    let to = from + 1;
    while (to < rows && block.rowEnds[to] - base <= sliceBytes) to++;
    yield spliceSeqs(
      sliceRows(block, from, to),
      seqs.subarray(from, to),
      format,
    );
    from = to;
  }
}

/** Decimal digits of a non-negative integer. */
function digitCount(value: number): number {
  let digits = 1;
  let bound = 10;
  while (value >= bound) {
    bound *= 10;
    digits++;
  }
  return digits;
}
