/**
 * The messages between `workerBatchPipeline` (`worker_batch_pipeline.ts`)
 * and its worker (`batch_worker.ts`): requests and replies, errors as plain
 * data, and batches packed to cross threads with their buffers moved, not
 * copied.
 *
 * @module
 */

import type { BatchPipelineOptions } from "./batch_pipeline.ts";
import { InputSyntaxError, UsageError } from "../errors.ts";
import type { Batch } from "../codec/row_block.ts";
import {
  type AheadEncoding,
  aheadOf,
  type EncodedAhead,
  keepEncodedAhead,
} from "../codec/binary/encoded_ahead.ts";

/** Messages to the worker. */
export type WorkerRequest =
  | { kind: "start"; options: BatchPipelineOptions; path?: string }
  | { kind: "chunk"; bytes: Uint8Array }
  | { kind: "end" }
  | { kind: "abort"; reason: string }
  | { kind: "pull" }
  | { kind: "binary"; encoding: AheadEncoding };

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
 * import { deserializeError, serializeError } from "./worker_protocol.ts";
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
 * import { deserializeError } from "./worker_protocol.ts";
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
  /** What was made for it ahead in COPY binary (`encoded_ahead.ts`). */
  binary?: EncodedAhead;
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
 * import { packBatch, unpackBatch } from "./worker_protocol.ts";
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
  const binary = aheadOf(batch);
  if (binary !== undefined) packed.binary = binary;
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
      binary?.encoded instanceof Uint8Array ? binary.encoded : undefined,
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
 * import { unpackBatch } from "./worker_protocol.ts";
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
  const { laneIndexes, laneNames, binary, ...rest } = packed;
  let batch: Batch = rest;
  if (laneIndexes !== undefined && laneNames !== undefined) {
    const laneKeys = new Array<string>(laneIndexes.length);
    for (let i = 0; i < laneIndexes.length; i++) {
      laneKeys[i] = laneNames[laneIndexes[i]];
    }
    batch = { ...rest, laneKeys };
  }
  if (binary !== undefined) keepEncodedAhead(batch, binary);
  return batch;
}
