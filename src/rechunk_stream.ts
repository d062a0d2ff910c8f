/**
 * The rechunk stage: row blocks of any size in, batches of up to
 * `batchSize` rows out, each covering a contiguous source byte range.
 *
 * @module
 */

import {
  type Batch,
  type MalformedRecord,
  type RowBlock,
  rowCount,
  sliceRows,
} from "./row_block.ts";

/** Options for {@linkcode RechunkStream}. */
export interface RechunkStreamOptions {
  /** Rows per batch, at most. */
  batchSize: number;
  /** Source byte offset where the first batch starts. Default 0. */
  startOffset?: number;
  /**
   * Milliseconds a record may wait in a partial batch: once the oldest
   * pending record has waited this long, the partial batch goes out (like
   * Kafka's `linger.ms`), so a trickling stream is not held back until
   * `batchSize` rows arrive. Default: no limit (a partial batch waits for
   * the end of input).
   */
  flushMs?: number;
}

/**
 * A `TransformStream` that joins and splits {@linkcode RowBlock}s into
 * {@linkcode Batch}es of exactly `batchSize` rows (the last one may be
 * smaller). It holds at most one batch ahead (readable highWaterMark 1).
 *
 * Malformed records the codec rejected (`rejects`) go with the batch whose
 * byte range covers them: a batch covers the source from the previous
 * batch's end to its own last record's end, row or reject. They count
 * towards `batchSize` (so memory stays bounded whatever the input), and a
 * reject after the input's last row comes out in a last batch of no rows.
 *
 * With `flushMs`, a partial batch also goes out once its oldest row has
 * waited that long.
 *
 * A block carrying an `error` ends the stream: its rows still fill and emit
 * complete batches, the rows of the unfinished batch are dropped (their
 * batch fails), and a last, empty batch carries the error to the writer.
 *
 * @example Usage
 * ```ts
 * import { RechunkStream } from "./rechunk_stream.ts";
 * import assert from "node:assert/strict";
 *
 * const block = {
 *   data: new TextEncoder().encode("a\nb\nc\n"),
 *   rowEnds: Uint32Array.of(2, 4, 6),
 *   lines: Float64Array.of(2, 3, 4),
 *   endOffsets: Float64Array.of(6, 8, 10),
 * };
 * const batches = await Array.fromAsync(
 *   ReadableStream.from([block]).pipeThrough(new RechunkStream({ batchSize: 2 })),
 * );
 * assert.deepEqual(batches.map((b) => [b.startOffset, b.endOffset]), [[0, 8], [8, 10]]);
 * assert.equal(new TextDecoder().decode(batches[1].data), "c\n");
 * ```
 */
export class RechunkStream extends TransformStream<RowBlock, Batch> {
  /** @param options The batch size and the source offset of the first batch. */
  constructor(options: RechunkStreamOptions) {
    const { batchSize } = options;
    if (!Number.isInteger(batchSize) || batchSize < 1) {
      throw new RangeError(
        `Cannot use batch size ${batchSize}: it must be a positive integer`,
      );
    }
    const { flushMs } = options;
    if (flushMs !== undefined && (!Number.isFinite(flushMs) || flushMs < 1)) {
      throw new RangeError(
        `Cannot use flush interval ${flushMs} ms: it must be at least 1`,
      );
    }
    let pieces: RowBlock[] = [];
    let pendingRows = 0;
    let rejects: MalformedRecord[] = [];
    let nextStart = options.startOffset ?? 0;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const stopTimer = () => {
      clearTimeout(timer);
      timer = undefined;
    };
    /** Starts the clock when the first row of a batch arrives. */
    const startTimer = (
      controller: TransformStreamDefaultController<Batch>,
    ) => {
      if (
        flushMs === undefined || timer !== undefined ||
        pendingRows + rejects.length === 0
      ) {
        return;
      }
      timer = setTimeout(() => {
        timer = undefined;
        if (pendingRows + rejects.length === 0) return;
        try {
          emit(controller);
        } catch {
          // The readable side was cancelled: nothing waits for the batch.
        }
      }, flushMs);
    };
    const emit = (controller: TransformStreamDefaultController<Batch>) => {
      stopTimer();
      const batch = joinBlocks(pieces, nextStart, rejects);
      nextStart = batch.endOffset;
      pieces = [];
      pendingRows = 0;
      rejects = [];
      controller.enqueue(batch);
    };
    super(
      {
        transform(block, controller) {
          const rows = rowCount(block);
          const bad = block.rejects ?? [];
          let from = 0;
          let r = 0;
          // Rows and rejects in source order, each batch up to batchSize.
          while (from < rows || r < bad.length) {
            if (
              r < bad.length &&
              (from === rows || bad[r].endOffset <= block.endOffsets[from])
            ) {
              rejects.push(bad[r++]);
            } else {
              let to = Math.min(
                rows,
                from + batchSize - pendingRows - rejects.length,
              );
              if (r < bad.length) {
                // Only the rows before the next reject.
                const before = bad[r].endOffset;
                let k = from + 1;
                while (k < to && block.endOffsets[k] <= before) k++;
                to = k;
              }
              pieces.push(sliceRows(block, from, to));
              pendingRows += to - from;
              from = to;
            }
            if (pendingRows + rejects.length === batchSize) emit(controller);
          }
          if (block.error) {
            stopTimer();
            controller.enqueue({
              ...joinBlocks([], nextStart),
              endOffset: nextStart,
              error: block.error,
            });
            controller.terminate();
            return;
          }
          startTimer(controller);
        },
        flush(controller) {
          stopTimer();
          if (pendingRows + rejects.length > 0) emit(controller);
        },
        cancel() {
          stopTimer();
        },
      },
      { highWaterMark: 1 },
      { highWaterMark: 1 },
    );
  }
}

/**
 * One contiguous batch from consecutive blocks, and the rejects among them;
 * it ends at its last record, row or reject.
 */
function joinBlocks(
  blocks: RowBlock[],
  startOffset: number,
  rejects: MalformedRecord[] = [],
): Batch {
  let bytes = 0;
  let rows = 0;
  for (const block of blocks) {
    bytes += block.data.length;
    rows += rowCount(block);
  }
  const data = new Uint8Array(bytes);
  const rowEnds = new Uint32Array(rows);
  const lines = new Float64Array(rows);
  const endOffsets = new Float64Array(rows);
  const laneKeys = blocks.some((block) => block.laneKeys !== undefined)
    ? blocks.flatMap((block) => block.laneKeys ?? [])
    : undefined;
  let byteAt = 0;
  let rowAt = 0;
  for (const block of blocks) {
    data.set(block.data, byteAt);
    for (let i = 0; i < block.rowEnds.length; i++) {
      rowEnds[rowAt + i] = block.rowEnds[i] + byteAt;
    }
    lines.set(block.lines, rowAt);
    endOffsets.set(block.endOffsets, rowAt);
    byteAt += block.data.length;
    rowAt += rowCount(block);
  }
  return {
    data,
    rowEnds,
    lines,
    endOffsets,
    laneKeys,
    ...(rejects.length > 0 && { rejects }),
    startOffset,
    endOffset: Math.max(
      rows > 0 ? endOffsets[rows - 1] : startOffset,
      rejects.at(-1)?.endOffset ?? startOffset,
    ),
  };
}
