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
} from "../codec/row_block.ts";

/**
 * Options for {@linkcode RechunkStream}.
 *
 * @example Batches of two rows, from a source offset
 * ```ts
 * import { RechunkStream, type RechunkStreamOptions } from "@lanecopy/lanecopy";
 * import assert from "node:assert/strict";
 *
 * const options: RechunkStreamOptions = { batchSize: 2, startOffset: 100 };
 * const block = {
 *   data: new TextEncoder().encode("a\nb\nc\n"),
 *   rowEnds: Uint32Array.of(2, 4, 6),
 *   lines: Float64Array.of(5, 6, 7),
 *   endOffsets: Float64Array.of(102, 104, 106),
 * };
 * const batches = await Array.fromAsync(
 *   ReadableStream.from([block]).pipeThrough(new RechunkStream(options)),
 * );
 * assert.deepEqual(batches.map((b) => [b.startOffset, b.endOffset]), [[100, 104], [104, 106]]);
 * ```
 */
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
  /**
   * Called as batches are built and cut, in source order: the source's
   * fingerprint uses them to hash each record's bytes as soon as the record
   * joins a batch, and to stamp each batch as it is cut (see
   * `PrefixFingerprint.batchHooks`).
   */
  hooks?: BatchHooks;
}

/** What {@linkcode RechunkStream} calls as it builds and cuts batches. */
export interface BatchHooks {
  /**
   * Records through source offset `offset` (rows or rejects) have joined
   * the batch being built: it will end there or later.
   */
  added(offset: number): void;
  /** A batch has been cut; returns the batch to send on in its place. */
  cut(batch: Batch): Batch;
}

/**
 * A `TransformStream` that joins and splits {@linkcode RowBlock}s into
 * {@linkcode Batch}es of exactly `batchSize` rows (the last one may be
 * smaller). It holds at most one batch ahead (readable highWaterMark 1) and
 * the one it is building, into which each block's rows are copied as the
 * block arrives: no block waits for its batch to be cut, so blocks die
 * young, and each batch owns its buffers whole.
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
 * import { RechunkStream } from "@lanecopy/lanecopy";
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
    const builder = new BatchBuilder(batchSize);
    const hooks = options.hooks;
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
        builder.rows + rejects.length === 0
      ) {
        return;
      }
      timer = setTimeout(() => {
        timer = undefined;
        if (builder.rows + rejects.length === 0) return;
        try {
          emit(controller);
        } catch {
          // The readable side was cancelled: nothing waits for the batch.
        }
      }, flushMs);
    };
    const emit = (controller: TransformStreamDefaultController<Batch>) => {
      stopTimer();
      const batch = builder.take(nextStart, rejects);
      nextStart = batch.endOffset;
      rejects = [];
      controller.enqueue(hooks ? hooks.cut(batch) : batch);
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
              const record = bad[r++];
              rejects.push(record);
              hooks?.added(record.endOffset);
            } else {
              let to = Math.min(
                rows,
                from + batchSize - builder.rows - rejects.length,
              );
              if (r < bad.length) {
                // Only the rows before the next reject.
                const before = bad[r].endOffset;
                let k = from + 1;
                while (k < to && block.endOffsets[k] <= before) k++;
                to = k;
              }
              builder.append(block, from, to);
              hooks?.added(block.endOffsets[to - 1]);
              from = to;
            }
            if (builder.rows + rejects.length === batchSize) emit(controller);
          }
          if (block.error) {
            stopTimer();
            controller.enqueue({
              ...new BatchBuilder(1).take(nextStart),
              error: block.error,
            });
            controller.terminate();
            return;
          }
          startTimer(controller);
        },
        flush(controller) {
          stopTimer();
          if (builder.rows + rejects.length > 0) emit(controller);
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

/** The row capacity a builder starts with, at most. */
const MIN_ROWS = 1024;
/** The byte capacity a builder starts with, at least. */
const MIN_BYTES = 64 * 1024;

/**
 * The batch being built, its rows copied in as they come. Its buffers
 * start at the size the last batch needed (an eighth more for the bytes),
 * grow by half when a batch needs more, and are cut to size when the batch
 * is taken (`ArrayBuffer.prototype.transfer`): each batch owns its buffers
 * whole, so they can be transferred to another thread, and the ones they
 * replace are freed at once rather than left to the garbage collector.
 */
class BatchBuilder {
  readonly #maxRows: number;
  #rowCapacity: number;
  #byteCapacity = MIN_BYTES;
  #data = new Uint8Array(0);
  #rowEnds = new Uint32Array(0);
  #lines = new Float64Array(0);
  #endOffsets = new Float64Array(0);
  #laneKeys: string[] | undefined;
  #bytes = 0;
  #rows = 0;

  /** @param maxRows Rows a batch holds at most. */
  constructor(maxRows: number) {
    this.#maxRows = maxRows;
    this.#rowCapacity = Math.min(maxRows, MIN_ROWS);
  }

  /** Rows in the batch being built. */
  get rows(): number {
    return this.#rows;
  }

  /** Copies in the block's rows `[from, to)`. */
  append(block: RowBlock, from: number, to: number): void {
    const start = from === 0 ? 0 : block.rowEnds[from - 1];
    const bytes = block.rowEnds[to - 1] - start;
    const rows = to - from;
    this.#reserve(this.#bytes + bytes, this.#rows + rows);
    this.#data.set(block.data.subarray(start, start + bytes), this.#bytes);
    const shift = this.#bytes - start;
    for (let i = 0; i < rows; i++) {
      this.#rowEnds[this.#rows + i] = block.rowEnds[from + i] + shift;
    }
    this.#lines.set(block.lines.subarray(from, to), this.#rows);
    this.#endOffsets.set(block.endOffsets.subarray(from, to), this.#rows);
    if (block.laneKeys !== undefined) {
      // Sized once, as the other arrays are, not grown push by push.
      const laneKeys = this.#laneKeys ??= new Array(this.#rowEnds.length);
      for (let i = 0; i < rows; i++) {
        laneKeys[this.#rows + i] = block.laneKeys[from + i];
      }
    }
    this.#bytes += bytes;
    this.#rows += rows;
  }

  /**
   * The batch built so far, starting at source offset `startOffset` and
   * ending at its last record, row or reject; the builder starts afresh.
   */
  take(startOffset: number, rejects: MalformedRecord[] = []): Batch {
    const rows = this.#rows;
    const data = new Uint8Array(this.#data.buffer.transfer(this.#bytes));
    const rowEnds = new Uint32Array(this.#rowEnds.buffer.transfer(rows * 4));
    const lines = new Float64Array(this.#lines.buffer.transfer(rows * 8));
    const endOffsets = new Float64Array(
      this.#endOffsets.buffer.transfer(rows * 8),
    );
    const laneKeys = this.#laneKeys;
    if (laneKeys !== undefined) laneKeys.length = rows;
    if (rows > 0) this.#rowCapacity = rows;
    if (this.#bytes > 0) {
      this.#byteCapacity = Math.max(
        MIN_BYTES,
        this.#bytes + (this.#bytes >> 3),
      );
    }
    this.#data = new Uint8Array(0);
    this.#rowEnds = new Uint32Array(0);
    this.#lines = new Float64Array(0);
    this.#endOffsets = new Float64Array(0);
    this.#laneKeys = undefined;
    this.#bytes = 0;
    this.#rows = 0;
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

  /** Makes room for `bytes` bytes and `rows` rows in all. */
  #reserve(bytes: number, rows: number): void {
    if (bytes > this.#data.length) {
      let capacity = this.#data.length === 0
        ? this.#byteCapacity
        : this.#data.length + (this.#data.length >> 1);
      while (capacity < bytes) capacity += capacity >> 1;
      this.#data = new Uint8Array(this.#data.buffer.transfer(capacity));
    }
    if (rows > this.#rowEnds.length) {
      let capacity = this.#rowEnds.length === 0
        ? this.#rowCapacity
        : this.#rowEnds.length * 2;
      while (capacity < rows) capacity *= 2;
      capacity = Math.min(capacity, this.#maxRows);
      this.#rowEnds = new Uint32Array(
        this.#rowEnds.buffer.transfer(capacity * 4),
      );
      this.#lines = new Float64Array(
        this.#lines.buffer.transfer(capacity * 8),
      );
      this.#endOffsets = new Float64Array(
        this.#endOffsets.buffer.transfer(capacity * 8),
      );
    }
  }
}
