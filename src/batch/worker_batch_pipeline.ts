/**
 * {@linkcode batchPipeline} on a worker thread: the same batches and header,
 * with fingerprinting, decoding and batching on one core while the main
 * thread writes the previous batch to the database on another.
 *
 * @module
 */

import type { BatchPipeline, BatchPipelineOptions } from "./batch_pipeline.ts";
import { InputSyntaxError, UsageError } from "../errors.ts";
import type { Batch } from "../codec/row_block.ts";
import { hasOwnedChunks } from "../source/open_source.ts";

/** Chunks forwarded to the worker and not yet taken in, at most. */
const CHUNKS_IN_FLIGHT = 4;

/** Messages to the worker. */
export type WorkerRequest =
  | { kind: "start"; options: BatchPipelineOptions; path?: string }
  | { kind: "chunk"; bytes: Uint8Array }
  | { kind: "end" }
  | { kind: "abort"; reason: string }
  | { kind: "pull" };

/** Messages from the worker. */
export type WorkerReply =
  | { kind: "ack" }
  | { kind: "header"; names: string[] | undefined }
  | { kind: "batch"; batch: PackedBatch; error?: SerializedError }
  | { kind: "fail"; error: SerializedError }
  | { kind: "done" };

/** An error as it crosses threads: its class's name and its fields. */
export interface SerializedError {
  /** The class: `InputSyntaxError`, `UsageError`, or another. */
  name: string;
  /** The message (for `InputSyntaxError`, the reason alone). */
  message: string;
  /** The class's own fields. */
  fields?: Record<string, unknown>;
}

/**
 * An error as plain data, for `postMessage`.
 *
 * @param error An error.
 * @returns Its name, message and (for lanecopy's errors) fields.
 *
 * @example Usage
 * ```ts
 * import { deserializeError, serializeError } from "./worker_batch_pipeline.ts";
 * import { InputSyntaxError } from "../errors.ts";
 * import assert from "node:assert/strict";
 *
 * const error = new InputSyntaxError("Bad", { source: "f", line: 2, column: 3, offset: 9 });
 * const copy = deserializeError(structuredClone(serializeError(error)));
 * assert.ok(copy instanceof InputSyntaxError);
 * assert.equal(copy.message, "f:2:3: Bad");
 * ```
 */
export function serializeError(error: unknown): SerializedError {
  if (error instanceof InputSyntaxError) {
    return {
      name: error.name,
      message: error.reason,
      fields: {
        source: error.source,
        line: error.line,
        column: error.column,
        offset: error.offset,
      },
    };
  }
  if (error instanceof UsageError) {
    return {
      name: error.name,
      message: error.message,
      fields: { exitCode: error.exitCode },
    };
  }
  if (error instanceof Error) {
    return { name: error.name, message: error.message };
  }
  return { name: "Error", message: String(error) };
}

/**
 * The error {@linkcode serializeError} described, as its own class again.
 *
 * @param data What crossed the thread boundary.
 * @returns The error.
 *
 * @example Usage
 * ```ts
 * import { deserializeError } from "./worker_batch_pipeline.ts";
 * import { UsageError } from "../errors.ts";
 * import assert from "node:assert/strict";
 *
 * const error = deserializeError({ name: "UsageError", message: "x", fields: { exitCode: 4 } });
 * assert.ok(error instanceof UsageError && error.exitCode === 4);
 * ```
 */
export function deserializeError(data: SerializedError): Error {
  const fields = data.fields ?? {};
  if (data.name === "InputSyntaxError") {
    return new InputSyntaxError(data.message, {
      source: String(fields.source),
      line: Number(fields.line),
      column: Number(fields.column),
      offset: Number(fields.offset),
    });
  }
  if (data.name === "UsageError") {
    return new UsageError(data.message, Number(fields.exitCode));
  }
  const error = new Error(data.message);
  error.name = data.name;
  return error;
}

/**
 * A batch as it crosses threads: lane keys as indexes into the batch's
 * distinct lanes (cheaper to clone than one string per row).
 */
export interface PackedBatch extends Omit<Batch, "laneKeys" | "error"> {
  /** Each row's lane, as an index into `laneNames`. */
  laneIndexes?: Uint32Array;
  /** The batch's distinct lanes. */
  laneNames?: string[];
}

/**
 * A batch ready for `postMessage`: packed lane keys, and the buffers it can
 * hand over without copying (those its arrays own whole).
 *
 * @param batch A batch.
 * @returns The packed batch and the buffers to transfer.
 *
 * @example Usage
 * ```ts
 * import { packBatch, unpackBatch } from "./worker_batch_pipeline.ts";
 * import assert from "node:assert/strict";
 *
 * const batch = {
 *   data: new TextEncoder().encode("a\nb\nc\n"), rowEnds: Uint32Array.of(2, 4, 6),
 *   lines: Float64Array.of(1, 2, 3), endOffsets: Float64Array.of(2, 4, 6),
 *   laneKeys: ["x", "y", "x"], startOffset: 0, endOffset: 6,
 * };
 * const { batch: packed, transfer } = packBatch(batch);
 * assert.deepEqual(packed.laneNames, ["x", "y"]);
 * assert.equal(transfer.length, 5);
 * assert.deepEqual(unpackBatch(packed).laneKeys, ["x", "y", "x"]);
 * ```
 */
export function packBatch(
  batch: Batch,
): { batch: PackedBatch; transfer: ArrayBuffer[] } {
  const { laneKeys, error: _error, ...rest } = batch;
  const packed: PackedBatch = { ...rest };
  if (laneKeys !== undefined) {
    const ids = new Map<string, number>();
    const indexes = new Uint32Array(laneKeys.length);
    for (let i = 0; i < laneKeys.length; i++) {
      let id = ids.get(laneKeys[i]);
      if (id === undefined) ids.set(laneKeys[i], id = ids.size);
      indexes[i] = id;
    }
    packed.laneIndexes = indexes;
    packed.laneNames = [...ids.keys()];
  }
  const transfer: ArrayBuffer[] = [];
  for (
    const array of [
      packed.data,
      packed.rowEnds,
      packed.lines,
      packed.endOffsets,
      packed.laneIndexes,
      packed.raw,
    ]
  ) {
    const buffer = array?.buffer;
    if (
      buffer instanceof ArrayBuffer && array!.byteOffset === 0 &&
      array!.byteLength === buffer.byteLength && !transfer.includes(buffer)
    ) {
      transfer.push(buffer);
    }
  }
  return { batch: packed, transfer };
}

/**
 * The batch {@linkcode packBatch} packed, with its lane keys again.
 *
 * @param packed A packed batch.
 * @returns The batch.
 *
 * @example Usage
 * ```ts
 * import { unpackBatch } from "./worker_batch_pipeline.ts";
 * import assert from "node:assert/strict";
 *
 * const batch = unpackBatch({
 *   data: new Uint8Array(0), rowEnds: new Uint32Array(0), lines: new Float64Array(0),
 *   endOffsets: new Float64Array(0), startOffset: 0, endOffset: 0,
 * });
 * assert.equal(batch.laneKeys, undefined);
 * ```
 */
export function unpackBatch(packed: PackedBatch): Batch {
  const { laneIndexes, laneNames, ...rest } = packed;
  if (laneIndexes === undefined || laneNames === undefined) return rest;
  const laneKeys = new Array<string>(laneIndexes.length);
  for (let i = 0; i < laneIndexes.length; i++) {
    laneKeys[i] = laneNames[laneIndexes[i]];
  }
  return { ...rest, laneKeys };
}

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
  const arrays = [
    batch.data,
    batch.rowEnds,
    batch.lines,
    batch.endOffsets,
    batch.raw,
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
  return { batches, header: header.promise };
}
