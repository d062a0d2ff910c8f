/**
 * The split stage of a parallel load (`--parallel N`): decoded row blocks
 * in, each writer's batches out. Every row goes to its lane's writer (the
 * lane hashed, {@linkcode laneWriter}, or the `route` given, such as the
 * lane's Citus shard's writer), so a lane is always written by one writer,
 * in input order; each writer's rows are cut into batches of their own and
 * stamped with the source's prefix up to their end.
 *
 * @module
 */

import type { PrefixState } from "../source/prefix_fingerprint.ts";
import {
  type Batch,
  type RowBlock,
  rowCount,
  rowStart,
} from "../codec/row_block.ts";

/** A batch and the writer that writes it. */
export interface WriterBatch extends Batch {
  /**
   * The writer (0-based), or -1 on the last, empty batch that carries a
   * malformed input's `error` to every writer.
   */
  readonly writer: number;
}

const FNV_OFFSET_BASIS = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
const encoder = new TextEncoder();

/**
 * The writer a lane belongs to among `writers`: the 32-bit FNV-1a hash of
 * the lane key's UTF-8 bytes, modulo `writers`. The hash is fixed (it is
 * part of the resume state: a lane must meet the same writer on every run
 * and every version), so it is written out here rather than borrowed.
 *
 * @param lane The lane key, as the codec gives it.
 * @param writers How many writers, at least 1.
 * @returns The writer, `0 <= writer < writers`.
 *
 * @example Usage
 * ```ts
 * import { laneWriter } from "./writer_split.ts";
 * import assert from "node:assert/strict";
 *
 * // FNV-1a 32 of "a" is 0xe40c292c.
 * assert.equal(laneWriter("a", 2 ** 32 - 1), 0xe40c292c % (2 ** 32 - 1));
 * assert.equal(laneWriter("eu-west", 1), 0);
 * assert.equal(laneWriter("eu-west", 3), laneWriter("eu-west", 3));
 * ```
 */
export function laneWriter(lane: string, writers: number): number {
  let hash = FNV_OFFSET_BASIS;
  for (const byte of encoder.encode(lane)) {
    hash = Math.imul(hash ^ byte, FNV_PRIME);
  }
  return (hash >>> 0) % writers;
}

/** Options for {@linkcode WriterSplitStream}. */
export interface WriterSplitStreamOptions {
  /** How many writers, at least 1. */
  writers: number;
  /**
   * The writer of a lane key, `0 <= writer < writers`: a pure function,
   * the same on every run of a source (it is part of its resume state).
   * Default: {@linkcode laneWriter}, the lane key's FNV-1a hash modulo
   * `writers`.
   */
  route?: (lane: string) => number;
  /** Rows per batch, at most. */
  batchSize: number;
  /**
   * Each writer's committed position (the source end offset of the last
   * record it committed; 0 for none): its rows ending at or before it are
   * skipped, and its first batch starts there.
   */
  startOffsets: readonly number[];
  /**
   * Milliseconds a record may wait in a writer's partial batch before the
   * batch goes out; see `RechunkStream`. Default: no limit.
   */
  flushMs?: number;
  /**
   * The prefix of the source up to the end of row `row` of `block`
   * (`PrefixFingerprint.prefixAt`). Called with non-decreasing offsets, at
   * least once per block with rows (for its last row, at the latest).
   */
  prefixAt: (block: RowBlock, row: number) => PrefixState;
}

/**
 * A `TransformStream` from decoded {@linkcode RowBlock}s (with lane keys)
 * to {@linkcode WriterBatch}es. Each row goes to its lane's writer; each
 * writer's rows are joined into batches of `batchSize` rows, the last one
 * smaller. Writer `w`'s batch covers the source range from the end of its
 * previous batch to the end of its own last record (the other writers'
 * records in between are not its business), and carries the source's
 * prefix up to that end, taken as the row went by: batches of different
 * writers may come out in any order.
 *
 * A partial batch goes out once its oldest record has waited `flushMs`,
 * and at the end of input (then sorted by end offset). A block carrying an
 * `error` ends the stream: the batches its rows complete come out, the
 * partial batches are dropped, and a last, empty batch for writer -1
 * carries the error. Memory: each writer's partial batch, and one batch
 * ahead (readable highWaterMark 1).
 *
 * @example Usage
 * ```ts
 * import { laneWriter, WriterSplitStream } from "./writer_split.ts";
 * import assert from "node:assert/strict";
 *
 * const block = {
 *   data: new TextEncoder().encode("a\nb\nc\nd\n"),
 *   rowEnds: Uint32Array.of(2, 4, 6, 8),
 *   lines: Float64Array.of(2, 3, 4, 5),
 *   endOffsets: Float64Array.of(10, 20, 30, 40),
 *   laneKeys: ["x", "y", "x", "x"],
 * };
 * const split = new WriterSplitStream({
 *   writers: 2,
 *   batchSize: 2,
 *   startOffsets: [4, 4],
 *   prefixAt: (block, row) => ({ fingerprint: `to ${block.endOffsets[row]}`, lines: block.lines[row] }),
 * });
 * const batches = await Array.fromAsync(ReadableStream.from([block]).pipeThrough(split));
 * const x = laneWriter("x", 2);
 * assert.notEqual(x, laneWriter("y", 2));
 * assert.deepEqual(
 *   batches.map((b) => [b.writer, b.startOffset, b.endOffset, b.prefix?.fingerprint]),
 *   [[x, 4, 30, "to 30"], [1 - x, 4, 20, "to 20"], [x, 30, 40, "to 40"]],
 * );
 * assert.equal(new TextDecoder().decode(batches[0].data), "a\nc\n");
 * ```
 *
 * @example Lanes routed by a function (`route`)
 * ```ts
 * import { WriterSplitStream } from "./writer_split.ts";
 * import assert from "node:assert/strict";
 *
 * const block = {
 *   data: new TextEncoder().encode("a\nb\nc\n"),
 *   rowEnds: Uint32Array.of(2, 4, 6),
 *   lines: Float64Array.of(2, 3, 4),
 *   endOffsets: Float64Array.of(10, 20, 30),
 *   laneKeys: ["1", "2", "3"],
 * };
 * const split = new WriterSplitStream({
 *   writers: 2,
 *   route: (lane) => Number(lane) % 2,
 *   batchSize: 10,
 *   startOffsets: [0, 0],
 *   prefixAt: (block, row) => ({ fingerprint: "", lines: block.lines[row] }),
 * });
 * const batches = await Array.fromAsync(ReadableStream.from([block]).pipeThrough(split));
 * assert.deepEqual(batches.map((b) => [b.writer, b.laneKeys]), [[0, ["2"]], [1, ["1", "3"]]]);
 * ```
 */
export class WriterSplitStream extends TransformStream<RowBlock, WriterBatch> {
  /** @param options The writers, batch size, start offsets and prefixes. */
  constructor(options: WriterSplitStreamOptions) {
    const { writers, batchSize, flushMs } = options;
    if (!Number.isInteger(writers) || writers < 1) {
      throw new RangeError(
        `Cannot split among ${writers} writers: it must be a positive integer`,
      );
    }
    if (!Number.isInteger(batchSize) || batchSize < 1) {
      throw new RangeError(
        `Cannot use batch size ${batchSize}: it must be a positive integer`,
      );
    }
    if (flushMs !== undefined && (!Number.isFinite(flushMs) || flushMs < 1)) {
      throw new RangeError(
        `Cannot use flush interval ${flushMs} ms: it must be at least 1`,
      );
    }
    if (options.startOffsets.length !== writers) {
      throw new RangeError(
        `Cannot split among ${writers} writers with ${options.startOffsets.length} start offsets`,
      );
    }
    const pending = options.startOffsets.map((start) =>
      new PendingBatch(start)
    );
    const writerOf = laneCache(
      writers,
      options.route ?? ((lane) => laneWriter(lane, writers)),
    );
    let timer: ReturnType<typeof setTimeout> | undefined;
    let controller!: TransformStreamDefaultController<WriterBatch>;

    const emit = (writer: number) => {
      controller.enqueue({ ...pending[writer].take(), writer });
    };
    /** Emits the partial batches that waited `flushMs` (all with `all`). */
    const flushPartial = (all: boolean) => {
      const now = performance.now();
      const due = pending
        .map((batch, writer) => ({ batch, writer }))
        .filter(({ batch }) =>
          batch.rows > 0 && (all || now - batch.since >= flushMs! - 1)
        )
        .sort((a, b) => a.batch.endOffset - b.batch.endOffset);
      for (const { writer } of due) emit(writer);
    };
    const stopTimer = () => {
      clearTimeout(timer);
      timer = undefined;
    };
    /** Sets the clock for the oldest partial batch, if none is set. */
    const startTimer = () => {
      if (flushMs === undefined || timer !== undefined) return;
      let oldest = Infinity;
      for (const batch of pending) {
        if (batch.rows > 0) oldest = Math.min(oldest, batch.since);
      }
      if (oldest === Infinity) return;
      const wait = Math.max(0, oldest + flushMs - performance.now());
      timer = setTimeout(() => {
        timer = undefined;
        try {
          flushPartial(false);
        } catch {
          // The readable side was cancelled: nothing waits for the batches.
          return;
        }
        startTimer();
      }, wait);
    };

    super(
      {
        start(c) {
          controller = c;
        },
        transform(block) {
          const rows = rowCount(block);
          const lanes = block.laneKeys;
          if (rows > 0 && lanes === undefined) {
            throw new TypeError(
              "Cannot split rows among writers without their lane keys",
            );
          }
          if (block.rejects?.length) {
            throw new TypeError(
              "Cannot split malformed records among writers: the codec's reject mode is for one writer",
            );
          }
          // Each row's writer (-1: that writer has it already), and each
          // writer's last row in the block.
          const who = new Int32Array(rows);
          const last = new Int32Array(writers).fill(-1);
          for (let i = 0; i < rows; i++) {
            const writer = writerOf(lanes![i]);
            if (block.endOffsets[i] <= pending[writer].startOffset) {
              who[i] = -1;
            } else {
              who[i] = writer;
              last[writer] = i;
            }
          }
          // Runs of consecutive rows of one writer, in row order, so the
          // prefixes are asked for at increasing offsets.
          let asked = -1;
          let i = 0;
          while (i < rows) {
            const writer = who[i];
            if (writer < 0) {
              i++;
              continue;
            }
            const batch = pending[writer];
            let to = i + 1;
            const limit = Math.min(rows, i + batchSize - batch.rows);
            while (to < limit && who[to] === writer) to++;
            batch.append(block, i, to);
            if (batch.rows === batchSize || to - 1 === last[writer]) {
              batch.prefix = options.prefixAt(block, to - 1);
              asked = to - 1;
            }
            if (batch.rows === batchSize) emit(writer);
            i = to;
          }
          // Hashing keeps up even when every row is skipped (a resume far
          // behind some writers), so the bytes it holds stay few.
          if (rows > 0 && asked < rows - 1) options.prefixAt(block, rows - 1);
          if (block.error) {
            stopTimer();
            const start = Math.min(
              ...pending.map((batch) => batch.startOffset),
            );
            controller.enqueue({
              data: new Uint8Array(0),
              rowEnds: new Uint32Array(0),
              lines: new Float64Array(0),
              endOffsets: new Float64Array(0),
              startOffset: start,
              endOffset: start,
              error: block.error,
              writer: -1,
            });
            controller.terminate();
            return;
          }
          startTimer();
        },
        flush() {
          stopTimer();
          flushPartial(true);
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

/** Each lane's writer by `route`, remembered (lanes are usually few). */
function laneCache(
  writers: number,
  route: (lane: string) => number,
): (lane: string) => number {
  const known = new Map<string, number>();
  return (lane) => {
    let writer = known.get(lane);
    if (writer === undefined) {
      if (known.size >= 65_536) known.clear();
      writer = route(lane);
      if (!Number.isInteger(writer) || writer < 0 || writer >= writers) {
        throw new RangeError(
          `Cannot route lane "${lane}" to writer ${writer}: there are ${writers} writers`,
        );
      }
      known.set(lane, writer);
    }
    return writer;
  };
}

/** One writer's partial batch: its rows' bytes and metadata, growing. */
class PendingBatch {
  /** Where the batch starts: the end of the writer's previous batch. */
  startOffset: number;
  /** The prefix up to its last row, once known. */
  prefix?: PrefixState;
  /** When its first row arrived (`performance.now()`). */
  since = 0;
  #rows = 0;
  #bytes = 0;
  #data = new Uint8Array(1024);
  #rowEnds = new Uint32Array(64);
  #lines = new Float64Array(64);
  #endOffsets = new Float64Array(64);
  #laneKeys: string[] = [];

  constructor(startOffset: number) {
    this.startOffset = startOffset;
  }

  /** Rows held. */
  get rows(): number {
    return this.#rows;
  }

  /** The end offset of its last row. */
  get endOffset(): number {
    return this.#rows === 0
      ? this.startOffset
      : this.#endOffsets[this.#rows - 1];
  }

  /** Appends rows `[from, to)` of `block` (copied). */
  append(block: RowBlock, from: number, to: number): void {
    if (this.#rows === 0) this.since = performance.now();
    const start = rowStart(block, from);
    const end = block.rowEnds[to - 1];
    const count = to - from;
    this.#reserve(end - start, count);
    this.#data.set(block.data.subarray(start, end), this.#bytes);
    const shift = this.#bytes - start;
    for (let i = 0; i < count; i++) {
      this.#rowEnds[this.#rows + i] = block.rowEnds[from + i] + shift;
    }
    this.#lines.set(block.lines.subarray(from, to), this.#rows);
    this.#endOffsets.set(block.endOffsets.subarray(from, to), this.#rows);
    for (let i = from; i < to; i++) this.#laneKeys.push(block.laneKeys![i]);
    this.#rows += count;
    this.#bytes += end - start;
  }

  /** The batch, in arrays of its own; the writer starts a new one. */
  take(): Batch {
    const rows = this.#rows;
    const batch: Batch = {
      data: this.#data.slice(0, this.#bytes),
      rowEnds: this.#rowEnds.slice(0, rows),
      lines: this.#lines.slice(0, rows),
      endOffsets: this.#endOffsets.slice(0, rows),
      laneKeys: this.#laneKeys,
      startOffset: this.startOffset,
      endOffset: this.#endOffsets[rows - 1],
      prefix: this.prefix,
    };
    this.startOffset = batch.endOffset;
    this.prefix = undefined;
    this.#laneKeys = [];
    this.#rows = 0;
    this.#bytes = 0;
    return batch;
  }

  /** Grows the arrays to take `bytes` more bytes and `rows` more rows. */
  #reserve(bytes: number, rows: number): void {
    if (this.#bytes + bytes > this.#data.length) {
      const data = new Uint8Array(
        Math.max(this.#data.length * 2, this.#bytes + bytes),
      );
      data.set(this.#data.subarray(0, this.#bytes));
      this.#data = data;
    }
    if (this.#rows + rows > this.#rowEnds.length) {
      const size = Math.max(this.#rowEnds.length * 2, this.#rows + rows);
      const rowEnds = new Uint32Array(size);
      rowEnds.set(this.#rowEnds.subarray(0, this.#rows));
      this.#rowEnds = rowEnds;
      const lines = new Float64Array(size);
      lines.set(this.#lines.subarray(0, this.#rows));
      this.#lines = lines;
      const endOffsets = new Float64Array(size);
      endOffsets.set(this.#endOffsets.subarray(0, this.#rows));
      this.#endOffsets = endOffsets;
    }
  }
}
