/**
 * {@linkcode batchPipeline} on a worker thread: the same batches and header,
 * with fingerprinting, decoding and batching on one core while the main
 * thread writes the previous batch to the database on another.
 *
 * @module
 */

import type { BatchPipeline, BatchPipelineOptions } from "./batch_pipeline.ts";
import type { Batch } from "../codec/row_block.ts";
import { aheadOf } from "../codec/binary/encoded_ahead.ts";
import { hasOwnedChunks } from "../source/open_source.ts";
import {
  deserializeError,
  unpackBatch,
  type WorkerReply,
  type WorkerRequest,
} from "./worker_protocol.ts";

/** Chunks forwarded to the worker and not yet taken in, at most. */
const CHUNKS_IN_FLIGHT = 4;

/** Batches {@linkcode workerBatchPipeline} made: their buffers are theirs alone. */
const ownBuffers = new WeakSet<Batch>();

/**
 * Frees a batch's buffers at once, when {@linkcode workerBatchPipeline}
 * made the batch (any other batch is left alone): call it once nothing
 * will read the batch again, when it has committed. Otherwise a batch the
 * writer is done with waits for a full garbage collection, which V8 times
 * by the size of its own heap, not by these buffers: a few dozen MB of
 * them can wait. Its arrays are empty afterwards.
 *
 * @param batch A batch, done with.
 *
 * @example Usage
 * ```ts
 * import { releaseBatch, workerBatchPipeline } from "./worker_batch_pipeline.ts";
 * import assert from "node:assert/strict";
 *
 * const readable = ReadableStream.from([new TextEncoder().encode("a\n1\n")]);
 * const { batches } = workerBatchPipeline({ readable }, {
 *   decode: { copyFormat: "text" },
 *   batchSize: 10,
 * });
 * const [batch] = await Array.fromAsync(batches);
 * assert.equal(batch.data.length, 2);
 * releaseBatch(batch);
 * assert.equal(batch.data.length, 0);
 * ```
 */
export function releaseBatch(batch: Batch): void {
  if (!ownBuffers.delete(batch)) return;
  const binary = aheadOf(batch)?.encoded;
  const arrays = [
    batch.data,
    batch.rowEnds,
    batch.lines,
    batch.endOffsets,
    batch.raw,
    binary instanceof Uint8Array ? binary : undefined,
  ];
  for (const array of arrays) {
    const buffer = array?.buffer;
    if (buffer instanceof ArrayBuffer && !buffer.detached) buffer.transfer(0);
  }
}

/** Where the worker's bytes come from. */
export type WorkerInput =
  /** A file the worker opens and reads itself. */
  | { path: string }
  /** A stream this thread reads and forwards, chunk by chunk. */
  | { readable: ReadableStream<Uint8Array> };

/**
 * Runs {@linkcode batchPipeline} on a worker thread. Batches come one per
 * read, and none is fetched before it is read (highWaterMark 0): the
 * worker keeps the next batch ready, and builds the one after once that is
 * taken, so this thread holds only the batches its reader holds. At most
 * four forwarded chunks are in flight; a stream whose chunks are its
 * reader's own (see `hasOwnedChunks`: a file or standard input) has their
 * buffers moved to the worker, any other has them copied. Cancelling the
 * batches, or a failure, terminates the worker.
 *
 * @param input A file path for the worker to read, or a stream to forward.
 * @param options How to decode and batch.
 * @returns The batches and the header.
 *
 * @example Usage
 * ```ts
 * import { workerBatchPipeline } from "./worker_batch_pipeline.ts";
 * import assert from "node:assert/strict";
 *
 * const readable = ReadableStream.from([new TextEncoder().encode("a,b\n1,\n2,x\n")]);
 * const { batches, header } = workerBatchPipeline({ readable }, {
 *   decode: { copyFormat: "text" },
 *   batchSize: 10,
 * });
 * const all = await Array.fromAsync(batches);
 * assert.deepEqual(await header, ["a", "b"]);
 * assert.equal(new TextDecoder().decode(all[0].data), "1\t\\N\n2\tx\n");
 * ```
 */
export function workerBatchPipeline(
  input: WorkerInput,
  options: BatchPipelineOptions,
): BatchPipeline {
  const worker = new Worker(
    new URL("./batch_worker.ts", import.meta.url).href,
    { type: "module" },
  );
  const header = quietResolvers<string[] | undefined>();
  let reply = quietResolvers<WorkerReply>();
  let credit = quietResolvers<void>();
  let inFlight = 0;
  let stopped = false;
  const stop = (error?: Error) => {
    if (stopped) return;
    stopped = true;
    worker.terminate();
    if (error) {
      header.reject(error);
      reply.reject(error);
      credit.reject(error);
    }
  };
  worker.onmessage = (event: MessageEvent<WorkerReply>) => {
    const message = event.data;
    switch (message.kind) {
      case "ack":
        inFlight--;
        credit.resolve();
        return;
      case "header":
        header.resolve(message.names);
        return;
      default:
        reply.resolve(message);
    }
  };
  worker.onerror = (event) => {
    event.preventDefault();
    stop(
      new Error(`Cannot decode: the decode worker failed: ${event.message}`),
    );
  };
  const send = (request: WorkerRequest, transfer: Transferable[] = []) =>
    worker.postMessage(request, transfer);

  send({
    kind: "start",
    options,
    path: "path" in input ? input.path : undefined,
  });
  if ("readable" in input) forward(input.readable);

  /** Feeds the stream's chunks to the worker, a few at a time. */
  async function forward(readable: ReadableStream<Uint8Array>) {
    // A buffer that is this reader's alone moves to the worker instead of
    // being copied into a message, so no chunk read here waits for this
    // thread's garbage collector: the worker's frees it.
    const move = hasOwnedChunks(readable);
    const reader = readable.getReader();
    try {
      while (!stopped) {
        while (inFlight >= CHUNKS_IN_FLIGHT && !stopped) {
          credit = quietResolvers<void>();
          await credit.promise;
        }
        const { value, done } = await reader.read();
        if (done) {
          send({ kind: "end" });
          return;
        }
        inFlight++;
        const buffer = value.buffer;
        send(
          { kind: "chunk", bytes: value },
          move && buffer instanceof ArrayBuffer ? [buffer] : [],
        );
      }
      await reader.cancel();
    } catch (error) {
      if (!stopped) {
        send({
          kind: "abort",
          reason: (error as Error)?.message ?? String(error),
        });
      }
      await reader.cancel().catch(() => {});
    }
  }

  const batches = new ReadableStream<Batch>({
    async pull(controller) {
      reply = quietResolvers<WorkerReply>();
      send({ kind: "pull" });
      const message = await reply.promise;
      switch (message.kind) {
        case "batch":
          if (message.error === undefined) {
            const batch = unpackBatch(message.batch);
            ownBuffers.add(batch);
            controller.enqueue(batch);
            return;
          }
          header.resolve(undefined);
          controller.enqueue({
            ...unpackBatch(message.batch),
            error: deserializeError(message.error),
          });
          controller.close();
          stop();
          return;
        case "done":
          header.resolve(undefined);
          controller.close();
          stop();
          return;
        case "fail":
          throw stopWith(deserializeError(message.error));
      }
    },
    cancel() {
      stop();
    },
  }, { highWaterMark: 0 });

  /** Resolvers whose rejection nobody need observe. */
  function quietResolvers<T>(): PromiseWithResolvers<T> {
    const resolvers = Promise.withResolvers<T>();
    resolvers.promise.catch(() => {});
    return resolvers;
  }

  function stopWith(error: Error): Error {
    stop(error);
    return error;
  }
  let encoding = false;
  return {
    batches,
    header: header.promise,
    encodeAhead(ahead) {
      if (encoding || stopped) return;
      encoding = true;
      send({ kind: "binary", encoding: ahead });
    },
  };
}
