import assert from "node:assert/strict";
import { RechunkStream } from "../src/batch/rechunk_stream.ts";
import type { Batch, RowBlock } from "../src/codec/row_block.ts";

/** A block of one row `text\n`, ending at source offset `end`. */
function row(text: string, line: number, end: number): RowBlock {
  const data = new TextEncoder().encode(`${text}\n`);
  return {
    data,
    rowEnds: Uint32Array.of(data.length),
    lines: Float64Array.of(line),
    endOffsets: Float64Array.of(end),
  };
}

Deno.test("RechunkStream cuts blocks into batches of batchSize rows over contiguous byte ranges", async () => {
  const blocks = [row("a", 1, 2), row("b", 2, 4), row("c", 3, 6)];
  const batches = await Array.fromAsync(
    ReadableStream.from(blocks).pipeThrough(
      new RechunkStream({ batchSize: 2, startOffset: 0 }),
    ),
  );
  assert.deepEqual(
    batches.map((b) => [b.startOffset, b.endOffset, b.rowEnds.length]),
    [[0, 4, 2], [4, 6, 1]],
  );
});

Deno.test("RechunkStream with flushMs sends a partial batch once its oldest row has waited, while the input stays open", async () => {
  const input = new TransformStream<RowBlock, RowBlock>();
  const writer = input.writable.getWriter();
  const batches = input.readable
    .pipeThrough(new RechunkStream({ batchSize: 100, flushMs: 50 }))
    .getReader();
  const started = performance.now();
  await writer.write(row("a", 1, 2));
  await writer.write(row("b", 2, 4));
  const first = await batches.read();
  const waited = performance.now() - started;
  assert.equal(first.done, false);
  assert.equal((first.value as Batch).rowEnds.length, 2);
  assert.ok(waited >= 45, `flushed after ${waited} ms, before flushMs`);
  // The clock starts again with the next row.
  await writer.write(row("c", 3, 6));
  const second = await batches.read();
  assert.deepEqual(
    [second.value?.startOffset, second.value?.endOffset],
    [4, 6],
  );
  await writer.close();
  assert.equal((await batches.read()).done, true);
});

Deno.test("RechunkStream without flushMs holds a partial batch until the input ends", async () => {
  const input = new TransformStream<RowBlock, RowBlock>();
  const writer = input.writable.getWriter();
  const batches = input.readable
    .pipeThrough(new RechunkStream({ batchSize: 100 }))
    .getReader();
  await writer.write(row("a", 1, 2));
  const pending = batches.read();
  const early = await Promise.race([
    pending.then(() => "batch"),
    new Promise((resolve) => setTimeout(() => resolve("nothing"), 100)),
  ]);
  assert.equal(early, "nothing");
  await writer.close();
  assert.equal((await pending).value?.rowEnds.length, 1);
});

Deno.test("RechunkStream refuses a batch size or flush interval below 1", () => {
  assert.throws(() => new RechunkStream({ batchSize: 0 }), RangeError);
  assert.throws(
    () => new RechunkStream({ batchSize: 1, flushMs: 0 }),
    /Cannot use flush interval 0 ms/,
  );
});

/** A malformed record the codec rejected: source bytes `[start, end)`. */
function reject(start: number, end: number, line: number) {
  return {
    startOffset: start,
    endOffset: end,
    line,
    errorLine: line,
    column: 1,
    reason: "Cannot parse record: bad",
    lines: line,
  };
}

Deno.test("RechunkStream puts each reject in the batch whose range covers it, counts it towards batchSize, and ends with a batch of no rows for rejects after the last row", async () => {
  const encoder = new TextEncoder();
  const blocks: RowBlock[] = [
    {
      // Rows end at 2 and 6, rejects cover [2, 4) and [6, 9).
      data: encoder.encode("a\nb\n"),
      rowEnds: Uint32Array.of(2, 4),
      lines: Float64Array.of(1, 3),
      endOffsets: Float64Array.of(2, 6),
      rejects: [reject(2, 4, 2), reject(6, 9, 4)],
    },
    row("c", 5, 11),
    {
      data: new Uint8Array(0),
      rowEnds: new Uint32Array(0),
      lines: new Float64Array(0),
      endOffsets: new Float64Array(0),
      rejects: [reject(11, 14, 6), reject(14, 15, 7)],
    },
  ];
  const batches = await Array.fromAsync(
    ReadableStream.from(blocks).pipeThrough(
      new RechunkStream({ batchSize: 3 }),
    ),
  );
  assert.deepEqual(
    batches.map((b) => [
      b.startOffset,
      b.endOffset,
      b.rowEnds.length,
      (b.rejects ?? []).map((r) => r.startOffset),
    ]),
    [[0, 6, 2, [2]], [6, 14, 1, [6, 11]], [14, 15, 0, [14]]],
  );
  assert.equal(new TextDecoder().decode(batches[1].data), "c\n");
});
