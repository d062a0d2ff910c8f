/**
 * The dispatch stage of a parallel load (`--parallel N`): batches that
 * name their writer in, each to that writer's own `WritableStream` (its
 * own connection and transactions), all writers running at once.
 *
 * @module
 */

import type { Batch } from "../codec/row_block.ts";
import type { WriterBatch } from "./writer_split.ts";

/** Batches a writer holds at most: one in its transaction, one queued. */
const WRITER_QUEUE = 2;

/** Options for {@linkcode writeInParallel}. */
export interface WriteInParallelOptions {
  /** How many writers. */
  writers: number;
  /**
   * Stops the load: no further batch is handed out, every writer finishes
   * the batch in its transaction (or rolls it back), and the call rejects
   * with the signal's reason.
   */
  signal?: AbortSignal;
}

/**
 * Writes each batch with the writer it names ({@linkcode WriterBatch}),
 * opening the writers when the first batch comes: `openWriter(w, first)`,
 * where `first` is true for the writer of the first batch (writer 0 when
 * there is none). That first batch is written alone, before any other
 * batch is handed out (so the run's registration and the table's creation
 * happen once); then writers run concurrently, each writing its own
 * batches in order. A writer holds at most one batch in its transaction
 * and one queued; when the next batch's writer is full, dispatch waits.
 *
 * At the end of the batches, the first writer closes, then the others.
 * A batch carrying an `error` (malformed input) waits for every writer to
 * commit the batches it holds, then fails the load with that error. The
 * first writer to fail stops the others (their batches in flight finish,
 * their queued batches are dropped) and the call rejects with its error;
 * the batches cancel either way.
 *
 * @param batches The batches, each naming its writer.
 * @param openWriter Opens writer `w`'s stream.
 * @param options The number of writers and a signal to stop.
 * @returns When every batch is written and every writer closed.
 *
 * @example Two writers
 * ```ts
 * import { writeInParallel } from "./parallel_writers.ts";
 * import assert from "node:assert/strict";
 *
 * const empty = { data: new Uint8Array(0), rowEnds: new Uint32Array(0), lines: new Float64Array(0), endOffsets: new Float64Array(0) };
 * const batch = (writer: number, startOffset: number, endOffset: number) =>
 *   ({ ...empty, writer, startOffset, endOffset });
 * const written: string[] = [];
 * await writeInParallel(
 *   ReadableStream.from([batch(1, 0, 10), batch(0, 0, 20), batch(1, 10, 30)]),
 *   (w, first) => new WritableStream({
 *     write: (b) => { written.push(`${w}:${b.endOffset}`); },
 *     close: () => { written.push(`${w} closed${first ? " first" : ""}`); },
 *   }),
 *   { writers: 2 },
 * );
 * assert.deepEqual(written, ["1:10", "0:20", "1:30", "1 closed first", "0 closed"]);
 * ```
 */
export async function writeInParallel(
  batches: ReadableStream<Batch>,
  openWriter: (writer: number, first: boolean) => WritableStream<Batch>,
  options: WriteInParallelOptions,
): Promise<void> {
  const { writers, signal } = options;
  const reader = batches.getReader();
  let outs: WritableStreamDefaultWriter<Batch>[] | undefined;
  let firstWriter = 0;
  /** Each writer's unsettled writes, oldest first (they never reject). */
  const queues: Promise<void>[][] = Array.from({ length: writers }, () => []);
  let failure: { error: unknown } | undefined;
  /** Who waits in {@linkcode unlessFailed}: rejected by the first failure. */
  const waiting = new Set<(error: unknown) => void>();
  const fail = (error: unknown) => {
    if (failure !== undefined) return;
    failure = { error };
    for (const reject of waiting) reject(error);
    waiting.clear();
  };
  /**
   * `promise`, unless a writer fails (or the signal fires) first. (Not a
   * `Promise.race` with one long-lived promise: each race would leave it a
   * reaction holding its result, a batch, for the whole run.)
   */
  const unlessFailed = <T>(promise: Promise<T>) =>
    new Promise<T>((resolve, reject) => {
      if (failure !== undefined) return reject(failure.error);
      waiting.add(reject);
      promise.then(resolve, reject).finally(() => waiting.delete(reject));
    });
  const onAbort = () => fail(signal!.reason);
  signal?.addEventListener("abort", onAbort);
  if (signal?.aborted) onAbort();

  const open = (first: number) => {
    firstWriter = first;
    outs = Array.from(
      { length: writers },
      (_, writer) => openWriter(writer, writer === first).getWriter(),
    );
    return outs;
  };
  const send = (writer: number, batch: Batch) => {
    const queue = queues[writer];
    const written = outs![writer].write(batch).then(
      () => {},
      (error) => fail(error),
    ).finally(() => queue.splice(queue.indexOf(written), 1));
    queue.push(written);
  };

  try {
    await unlessFailed(Promise.resolve());
    let first = true;
    while (true) {
      const { value, done } = await unlessFailed(reader.read());
      if (done) break;
      const batch = value as WriterBatch;
      if (batch.error) {
        outs ?? open(0);
        await unlessFailed(Promise.all(queues.flat()));
        throw batch.error;
      }
      const writer = batch.writer;
      if (!Number.isInteger(writer) || writer < 0 || writer >= writers) {
        throw new RangeError(
          `Cannot write a batch for writer ${writer}: there are ${writers} writers`,
        );
      }
      outs ?? open(writer);
      while (queues[writer].length >= WRITER_QUEUE) {
        await unlessFailed(queues[writer][0]);
      }
      send(writer, batch);
      if (first) {
        first = false;
        await unlessFailed(Promise.all(queues[writer]));
      }
    }
    const all = outs ?? open(0);
    await unlessFailed(all[firstWriter].close());
    await unlessFailed(
      Promise.all(
        all.filter((_, w) => w !== firstWriter).map((o) => o.close()),
      ),
    );
  } catch (error) {
    fail(error);
    await reader.cancel(failure!.error).catch(() => {});
    // Every writer finishes (or rolls back) the batch in its transaction.
    await Promise.all(
      (outs ?? []).map((out) => out.abort(failure!.error).catch(() => {})),
    );
    throw failure!.error;
  } finally {
    signal?.removeEventListener("abort", onAbort);
  }
}
