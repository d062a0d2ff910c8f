/**
 * The worker thread behind {@linkcode workerBatchPipeline}: runs
 * {@linkcode batchPipeline} (fingerprint, decode, rechunk, stamp) on its own
 * core, reading the file itself or chunks the main thread forwards, and
 * hands out one batch per request.
 *
 * @module
 */

/// <reference lib="deno.worker" />

import { batchPipeline } from "./batch_pipeline.ts";
import { checkPrefixes } from "../source/prefix_check_stream.ts";
import { readFileGuarded } from "../source/open_source.ts";
import type { Batch } from "../codec/row_block.ts";
import { BinaryRows } from "../codec/binary/binary_rows.ts";
import {
  type AheadEncoding,
  encodeAhead,
} from "../codec/binary/encoded_ahead.ts";
import {
  packBatch,
  serializeError,
  type WorkerReply,
  type WorkerRequest,
} from "./worker_protocol.ts";

let input: WritableStreamDefaultWriter<Uint8Array> | undefined;
let batches: ReadableStreamDefaultReader<Batch> | undefined;
let ready: Promise<void> = Promise.resolve();
/** The batch after the one last handed out, read (and encoded) ahead. */
let ahead: Promise<ReadableStreamReadResult<Batch>> | undefined;
/** The encoder, once the main thread sent the COPY's binary encoding. */
let binary: { encoder: BinaryRows; encoding: AheadEncoding } | undefined;

function post(reply: WorkerReply): void {
  self.postMessage(reply);
}

async function start(
  message: Extract<WorkerRequest, { kind: "start" }>,
): Promise<void> {
  let bytes: ReadableStream<Uint8Array>;
  let options = message.options;
  if (message.path !== undefined) {
    try {
      if (options.checks?.length) {
        // A file can be read twice: check the longer prefixes first, then
        // read it again, instead of holding its bytes back.
        await checkPrefixes(
          await readFileGuarded(message.path),
          options.checks,
          options.sourceId,
        );
        options = { ...options, checks: undefined };
      }
      bytes = await readFileGuarded(message.path);
    } catch (error) {
      post({ kind: "fail", error: serializeError(error) });
      return;
    }
  } else {
    const forwarded = new TransformStream<Uint8Array, Uint8Array>(
      {},
      { highWaterMark: 4 },
    );
    input = forwarded.writable.getWriter();
    bytes = forwarded.readable;
  }
  let pipeline: ReturnType<typeof batchPipeline>;
  try {
    pipeline = batchPipeline(bytes, options);
  } catch (error) {
    post({ kind: "fail", error: serializeError(error) });
    return;
  }
  pipeline.header.then(
    (names) => post({ kind: "header", names }),
    () => {/* reported with the batches */},
  );
  batches = pipeline.batches.getReader();
}

/** Reads the next batch and, with an encoder, encodes it. */
async function readAhead(
  reader: ReadableStreamDefaultReader<Batch>,
): Promise<ReadableStreamReadResult<Batch>> {
  const result = await reader.read();
  if (!result.done && binary !== undefined) {
    encodeAhead(result.value, binary.encoder, binary.encoding);
  }
  return result;
}

async function pull(): Promise<void> {
  await ready;
  if (batches === undefined) return; // it failed to start, and said so
  try {
    const { value, done } = await (ahead ?? readAhead(batches));
    ahead = undefined;
    if (done) {
      post({ kind: "done" });
      return;
    }
    if (!value.error) {
      ahead = readAhead(batches);
      ahead.catch(() => {/* reported on the next pull */});
    }
    const { batch, transfer } = packBatch(value);
    self.postMessage(
      {
        kind: "batch",
        batch,
        error: value.error ? serializeError(value.error) : undefined,
      } satisfies WorkerReply,
      transfer,
    );
  } catch (error) {
    post({ kind: "fail", error: serializeError(error) });
  }
}

function useEncoding(encoding: AheadEncoding): void {
  binary = { encoder: new BinaryRows(encoding), encoding };
}

self.onmessage = (event: MessageEvent<WorkerRequest>) => {
  const message = event.data;
  switch (message.kind) {
    case "start":
      ready = start(message);
      return;
    case "chunk":
      input?.write(message.bytes).then(
        () => post({ kind: "ack" }),
        () => {/* the pipeline failed: reported on the next pull */},
      );
      return;
    case "end":
      input?.close().catch(() => {});
      return;
    case "abort":
      input?.abort(new Error(message.reason)).catch(() => {});
      return;
    case "pull":
      pull();
      return;
    case "binary":
      useEncoding(message.encoding);
      return;
  }
};
