import assert from "node:assert/strict";
import { batchPipeline } from "../src/batch/batch_pipeline.ts";
import {
  releaseBatch,
  workerBatchPipeline,
} from "../src/batch/worker_batch_pipeline.ts";
import { packBatch, unpackBatch } from "../src/batch/worker_protocol.ts";
import { markOwnedChunks } from "../src/source/open_source.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

Deno.test("packBatch and unpackBatch carry a batch's malformed records across threads", () => {
  const rejects = [{
    startOffset: 2,
    endOffset: 6,
    line: 2,
    errorLine: 2,
    column: 2,
    reason: "Cannot parse field: a quote inside an unquoted field",
    lines: 2,
  }];
  const batch = {
    data: encoder.encode("a\n"),
    rowEnds: Uint32Array.of(2),
    lines: Float64Array.of(1),
    endOffsets: Float64Array.of(2),
    rejects,
    startOffset: 0,
    endOffset: 6,
  };
  const { batch: packed } = packBatch(batch);
  assert.deepEqual(unpackBatch(structuredClone(packed)).rejects, rejects);
});

Deno.test("workerBatchPipeline hands out the same batches as batchPipeline in reject mode: rejects, raw bytes, prefixes, and a last batch of rejects alone", async () => {
  const text = 'id,n\n1,a\n2,b"c\n3,"x\ny"\n4\n5,e\n7\n6,"open\n';
  const options = {
    decode: {
      copyFormat: "text" as const,
      malformed: "reject" as const,
    },
    batchSize: 2,
    keepRaw: true,
  };
  const chunks = () =>
    ReadableStream.from([
      encoder.encode(text.slice(0, 13)),
      encoder.encode(text.slice(13)),
    ]);
  const local = await Array.fromAsync(
    batchPipeline(chunks(), options).batches,
  );
  const worker = await Array.fromAsync(
    workerBatchPipeline({ readable: chunks() }, options).batches,
  );
  // Keys without a value do not cross threads.
  const defined = (batch: object) =>
    Object.fromEntries(
      Object.entries(batch).filter(([, value]) => value !== undefined),
    );
  assert.deepEqual(worker.map(defined), local.map(defined));
  assert.deepEqual(
    local.map((b) => [b.startOffset, b.endOffset, b.rowEnds.length]),
    [[0, 15, 1], [15, 25, 1], [25, 31, 1], [31, 39, 0]],
  );
  assert.deepEqual(
    local.flatMap((b) =>
      (b.rejects ?? []).map((r) =>
        decoder.decode(
          b.raw!.subarray(
            r.startOffset - b.startOffset,
            r.endOffset - b.startOffset,
          ),
        )
      )
    ),
    ['2,b"c\n', "4\n", "7\n", '6,"open\n'],
  );
  assert.deepEqual(local.map((b) => b.prefix?.lines), [3, 6, 8, 9]);
});

Deno.test("releaseBatch frees the buffers of a batch workerBatchPipeline made, once, and leaves any other batch alone", async () => {
  const { batches } = workerBatchPipeline({
    readable: ReadableStream.from([encoder.encode("a\n1\n2\n")]),
  }, { decode: { copyFormat: "text" }, batchSize: 10 });
  const [batch] = await Array.fromAsync(batches);
  const buffers = [batch.data, batch.rowEnds, batch.lines, batch.endOffsets]
    .map((array) => array.buffer as ArrayBuffer);
  releaseBatch(batch);
  assert.deepEqual(buffers.map((buffer) => buffer.detached), [
    true,
    true,
    true,
    true,
  ]);
  assert.equal(batch.data.length, 0);
  releaseBatch(batch); // again: nothing left to free
  const own = {
    data: encoder.encode("x\n"),
    rowEnds: Uint32Array.of(2),
    lines: Float64Array.of(1),
    endOffsets: Float64Array.of(2),
    startOffset: 0,
    endOffset: 2,
  };
  releaseBatch(own);
  assert.equal(decoder.decode(own.data), "x\n");
});

Deno.test("workerBatchPipeline moves to the worker the buffers of a stream whose chunks are its own, and copies any other's", async (t) => {
  const text = "a,b\n1,x\n2,y\n3,z\n";
  for (const owned of [true, false]) {
    await t.step(owned ? "owned: moved" : "not owned: copied", async () => {
      const chunks = [
        encoder.encode(text.slice(0, 7)),
        encoder.encode(text.slice(7)),
      ];
      const stream = ReadableStream.from(chunks);
      const { batches } = workerBatchPipeline({
        readable: owned ? markOwnedChunks(stream) : stream,
      }, { decode: { copyFormat: "text" }, batchSize: 2 });
      const all = await Array.fromAsync(batches);
      assert.deepEqual(
        all.map((batch) => decoder.decode(batch.data)),
        ["1\tx\n2\ty\n", "3\tz\n"],
      );
      assert.deepEqual(
        chunks.map((chunk) => chunk.buffer.detached),
        [owned, owned],
      );
    });
  }
});
