/**
 * The decode contract: encoded COPY rows plus, for each row, where it came
 * from. The codec produces row blocks; the rechunk stage joins them into
 * batches; the writer sends a batch's bytes and maps errors back through
 * its metadata.
 *
 * @module
 */

/**
 * A malformed record the codec skipped instead of stopping (`malformed:
 * "reject"`): where it is in the source and why it is bad. Its bytes are
 * the source's `[startOffset, endOffset)`, line break included.
 */
export interface MalformedRecord {
  /** Source byte offset of the record's first byte. */
  readonly startOffset: number;
  /** Source byte offset just after it (after its line break, if it has one). */
  readonly endOffset: number;
  /** The 1-based source line the record starts on. */
  readonly line: number;
  /** The 1-based source line of the error (a record may span lines). */
  readonly errorLine: number;
  /** The error's 1-based column on `errorLine`, in characters. */
  readonly column: number;
  /** What is wrong, as the error message words it. */
  readonly reason: string;
  /** Lines of the source through the record's end: the next record starts on line `lines + 1`. */
  readonly lines: number;
}

/**
 * Encoded rows and their per-row metadata. Row `i` occupies
 * `data.subarray(rowStart(block, i), block.rowEnds[i])`, ending in `\n`.
 *
 * @example The blocks the decode stage makes
 * ```ts
 * import { CsvDecodeStream, type RowBlock } from "@lanecopy/lanecopy";
 * import assert from "node:assert/strict";
 *
 * const input = ReadableStream.from([new TextEncoder().encode("id,lane\n1,eu\n2,us\n")]);
 * const blocks: RowBlock[] = await Array.fromAsync(
 *   input.pipeThrough(new CsvDecodeStream({ laneColumn: "lane" })),
 * );
 * const [block] = blocks;
 * assert.equal(new TextDecoder().decode(block.data), "1\teu\n2\tus\n");
 * assert.deepEqual([...block.rowEnds], [5, 10]);
 * assert.deepEqual([...block.lines], [2, 3]);
 * assert.deepEqual([...block.endOffsets], [13, 18]);
 * assert.deepEqual(block.laneKeys, ["eu", "us"]);
 * ```
 */
export interface RowBlock {
  /** COPY bytes of every row, each ending in a line feed. */
  readonly data: Uint8Array;
  /** For each row, the end of its bytes within `data` (exclusive). */
  readonly rowEnds: Uint32Array;
  /** For each row, the 1-based source line where its record starts. */
  readonly lines: Float64Array;
  /** For each row, the source byte offset just after its record. */
  readonly endOffsets: Float64Array;
  /**
   * For each row, its lane key: the lane field's text as it appears in the
   * source. Present when the codec was given a lane column.
   */
  readonly laneKeys?: readonly string[];
  /**
   * The malformed records among these rows, in source order (reject mode
   * only). A batch holds those its byte range covers, which may be all it
   * holds: a batch of no rows.
   */
  readonly rejects?: readonly MalformedRecord[];
  /**
   * Set on the last block or batch of a malformed input: its rows are good,
   * the input after them is not, and nothing follows. Errors travel in band
   * so that every batch before the bad record still reaches the writer.
   */
  readonly error?: Error;
}

/**
 * A batch: the rows one transaction writes, and the source byte range
 * `[startOffset, endOffset)` they came from.
 *
 * @example Batches of two rows
 * ```ts
 * import { type Batch, CsvDecodeStream, RechunkStream } from "@lanecopy/lanecopy";
 * import assert from "node:assert/strict";
 *
 * const input = ReadableStream.from([new TextEncoder().encode("id\n1\n2\n3\n")]);
 * const batches: Batch[] = await Array.fromAsync(
 *   input.pipeThrough(new CsvDecodeStream())
 *     .pipeThrough(new RechunkStream({ batchSize: 2, startOffset: 0 })),
 * );
 * assert.deepEqual(batches.map((b) => [b.startOffset, b.endOffset]), [[0, 7], [7, 9]]);
 * assert.equal(new TextDecoder().decode(batches[1].data), "3\n");
 * ```
 */
export interface Batch extends RowBlock {
  /** Source byte offset of the batch's first record. */
  readonly startOffset: number;
  /** Source byte offset just after the batch's last record. */
  readonly endOffset: number;
  /**
   * The fingerprint of the source's bytes before `endOffset`, stamped
   * before the batch reaches the writer (see `PrefixFingerprint.stamp`).
   */
  readonly prefix?: { fingerprint: string; lines: number };
  /**
   * The source's own bytes `[startOffset, endOffset)`, when asked for (a
   * reject file copies rejected records from them, byte for byte).
   */
  readonly raw?: Uint8Array;
}

/**
 * The number of rows in a block.
 *
 * @param block A row block.
 * @returns Its row count.
 *
 * @example Usage
 * ```ts
 * import { rowCount } from "./row_block.ts";
 * import assert from "node:assert/strict";
 *
 * const block = {
 *   data: new TextEncoder().encode("a\nb\n"),
 *   rowEnds: Uint32Array.of(2, 4),
 *   lines: Float64Array.of(1, 2),
 *   endOffsets: Float64Array.of(2, 4),
 * };
 * assert.equal(rowCount(block), 2);
 * ```
 */
export function rowCount(block: RowBlock): number {
  return block.rowEnds.length;
}

/**
 * Where row `index` starts within the block's `data`.
 *
 * @param block A row block.
 * @param index 0-based row index.
 * @returns The byte offset of the row's first byte.
 *
 * @example Usage
 * ```ts
 * import { rowStart } from "./row_block.ts";
 * import assert from "node:assert/strict";
 *
 * const block = {
 *   data: new TextEncoder().encode("a\nbc\n"),
 *   rowEnds: Uint32Array.of(2, 5),
 *   lines: Float64Array.of(1, 2),
 *   endOffsets: Float64Array.of(2, 5),
 * };
 * assert.equal(rowStart(block, 1), 2);
 * ```
 */
export function rowStart(block: RowBlock, index: number): number {
  return index === 0 ? 0 : block.rowEnds[index - 1];
}

/**
 * Rows `[from, to)` of a block, as a block of their own; shares the bytes
 * (no copy) and rebases the row ends.
 *
 * @param block A row block.
 * @param from First row (0-based).
 * @param to Row after the last.
 * @returns The rows as a block.
 *
 * @example Usage
 * ```ts
 * import { sliceRows } from "./row_block.ts";
 * import assert from "node:assert/strict";
 *
 * const block = {
 *   data: new TextEncoder().encode("a\nbc\nd\n"),
 *   rowEnds: Uint32Array.of(2, 5, 7),
 *   lines: Float64Array.of(1, 2, 3),
 *   endOffsets: Float64Array.of(2, 5, 7),
 * };
 * const tail = sliceRows(block, 1, 3);
 * assert.equal(new TextDecoder().decode(tail.data), "bc\nd\n");
 * assert.deepEqual([...tail.rowEnds], [3, 5]);
 * ```
 */
export function sliceRows(block: RowBlock, from: number, to: number): RowBlock {
  if (from === 0 && to === rowCount(block)) return block;
  const base = rowStart(block, from);
  const rowEnds = block.rowEnds.slice(from, to);
  for (let i = 0; i < rowEnds.length; i++) rowEnds[i] -= base;
  return {
    data: block.data.subarray(base, block.rowEnds[to - 1]),
    rowEnds,
    lines: block.lines.subarray(from, to),
    endOffsets: block.endOffsets.subarray(from, to),
    laneKeys: block.laneKeys?.slice(from, to),
  };
}

/**
 * The batch without the rows in `drop`: same source range, fingerprint and
 * raw bytes (the dropped records are still part of what it covers), the
 * kept rows' bytes copied together. With nothing to drop, the batch itself
 * (no copy).
 *
 * @param batch A batch.
 * @param drop Indexes of rows to leave out.
 * @returns The batch that remains, and for each of its rows the index it
 * had in `batch`.
 *
 * @example Usage
 * ```ts
 * import { dropRows } from "./row_block.ts";
 * import assert from "node:assert/strict";
 *
 * const batch = {
 *   data: new TextEncoder().encode("a\nbc\nd\n"),
 *   rowEnds: Uint32Array.of(2, 5, 7),
 *   lines: Float64Array.of(1, 2, 3),
 *   endOffsets: Float64Array.of(2, 5, 7),
 *   startOffset: 0,
 *   endOffset: 7,
 * };
 * const { kept, from } = dropRows(batch, new Set([1]));
 * assert.equal(new TextDecoder().decode(kept.data), "a\nd\n");
 * assert.deepEqual([...kept.rowEnds], [2, 4]);
 * assert.deepEqual([...kept.lines], [1, 3]);
 * assert.deepEqual(from, [0, 2]);
 * assert.equal(kept.endOffset, 7);
 * ```
 */
export function dropRows(
  batch: Batch,
  drop: ReadonlySet<number>,
): { kept: Batch; from: number[] } {
  if (drop.size === 0) {
    return { kept: batch, from: Array.from(batch.rowEnds, (_, i) => i) };
  }
  const from: number[] = [];
  let bytes = 0;
  for (let i = 0; i < rowCount(batch); i++) {
    if (drop.has(i)) continue;
    from.push(i);
    bytes += batch.rowEnds[i] - rowStart(batch, i);
  }
  const data = new Uint8Array(bytes);
  const rowEnds = new Uint32Array(from.length);
  const lines = new Float64Array(from.length);
  const endOffsets = new Float64Array(from.length);
  let at = 0;
  from.forEach((i, k) => {
    const row = batch.data.subarray(rowStart(batch, i), batch.rowEnds[i]);
    data.set(row, at);
    at += row.length;
    rowEnds[k] = at;
    lines[k] = batch.lines[i];
    endOffsets[k] = batch.endOffsets[i];
  });
  const laneKeys = batch.laneKeys && from.map((i) => batch.laneKeys![i]);
  return {
    kept: { ...batch, data, rowEnds, lines, endOffsets, laneKeys },
    from,
  };
}
