import assert from "node:assert/strict";
import fc from "fast-check";
import { BinaryRows } from "../src/codec/binary/binary_rows.ts";
import {
  encodeAhead,
  encodedAhead,
  fillSeqs,
  keepEncodedAhead,
} from "../src/codec/binary/encoded_ahead.ts";
import {
  TYPE_INT4,
  TYPE_INT8,
  TYPE_TEXT,
} from "../src/codec/binary/_binary_constants.ts";
import { copyData } from "../src/write/copy_data.ts";
import { dropRows } from "../src/codec/row_block.ts";
import {
  releaseBatch,
  workerBatchPipeline,
} from "../src/batch/worker_batch_pipeline.ts";

const encoder = new TextEncoder();

/** A batch of COPY text rows, one per line of `text`. */
function batchOf(text: string) {
  const data = encoder.encode(text);
  const rowEnds: number[] = [];
  data.forEach((byte, i) => byte === 0x0a && rowEnds.push(i + 1));
  return {
    data,
    rowEnds: Uint32Array.from(rowEnds),
    lines: Float64Array.from(rowEnds, (_, i) => i + 2),
    endOffsets: Float64Array.from(rowEnds),
    startOffset: 0,
    endOffset: data.length,
  };
}

const TYPES = Uint8Array.of(TYPE_INT8, TYPE_TEXT);

Deno.test("fillSeqs on a batch encoded ahead gives the bytes of encoding it with those seqs", () => {
  const row = fc.tuple(
    fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
    fc.oneof(
      fc.constant("\\N"), // NULL
      fc.array(fc.constantFrom("a", "é", " ", "\\\\", "\\t"), { maxLength: 8 })
        .map((parts) => parts.join("")),
    ),
    fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
  );
  fc.assert(
    fc.property(fc.array(row, { maxLength: 20 }), (rows) => {
      const text = rows.map(([id, note]) => `${id}\t${note}\n`).join("");
      const batch = batchOf(text);
      const seqs = Float64Array.from(rows, ([, , seq]) => seq);
      const encoding = { types: TYPES, naiveTimestamptzIsUtc: true };
      const rowsEncoder = new BinaryRows(encoding);
      const ahead = encodeAhead(batch, rowsEncoder, {
        ...encoding,
        seqs: true,
      });
      assert.ok(ahead instanceof Uint8Array);
      assert.deepEqual(fillSeqs(ahead, seqs), rowsEncoder.encode(batch, seqs));
    }),
    { numRuns: 200 },
  );
});

Deno.test("fillSeqs refuses a stream that does not hold one row per seq, each ending in an 8-byte field", () => {
  const batch = batchOf("1\ta\n2\tb\n");
  const encoding = { types: TYPES, naiveTimestamptzIsUtc: true, seqs: true };
  const ahead = encodeAhead(batch, new BinaryRows(encoding), encoding);
  assert.ok(ahead instanceof Uint8Array);
  assert.throws(() => fillSeqs(ahead, Float64Array.of(1)), RangeError);
  assert.throws(() => fillSeqs(ahead, Float64Array.of(1, 2, 3)), RangeError);
  const noSeqs = new BinaryRows(encoding).encode(batchOf("1\ta\n"));
  assert.ok(noSeqs instanceof Uint8Array);
  assert.throws(
    () => fillSeqs(noSeqs, Float64Array.of(7)),
    RangeError,
    "its last field is not 8 bytes",
  );
});

Deno.test("encodedAhead gives what was made only to the same encoding", () => {
  const batch = batchOf("1\ta\n");
  const encoding = { types: TYPES, naiveTimestamptzIsUtc: true, seqs: false };
  const ahead = encodeAhead(batch, new BinaryRows(encoding), encoding);
  assert.equal(encodedAhead(batch, { ...encoding }), ahead);
  assert.equal(encodedAhead(batch, { ...encoding, seqs: true }), undefined);
  assert.equal(
    encodedAhead(batch, { ...encoding, naiveTimestamptzIsUtc: false }),
    undefined,
  );
  assert.equal(
    encodedAhead(batch, { ...encoding, types: Uint8Array.of(TYPE_INT8) }),
    undefined,
  );
  assert.equal(
    encodedAhead(batch, {
      ...encoding,
      types: Uint8Array.of(TYPE_INT4, TYPE_TEXT),
    }),
    undefined,
  );
  // A batch without some of its rows is another batch: nothing ahead.
  const { kept } = dropRows(batchOf("1\ta\n2\tb\n"), new Set([0]));
  assert.equal(encodedAhead(kept, encoding), undefined);
});

Deno.test("copyData sends the binary made ahead, its seqs filled, and encodes a batch that has none", () => {
  const spec = {
    table: { schema: "public", table: "t" },
    columns: ["id", "note", "lane_seq"],
    format: "text" as const,
  };
  const binary = new BinaryRows({ types: TYPES, naiveTimestamptzIsUtc: true });
  const batch = batchOf("1\ta\n2\tb\n");
  const seqs = Float64Array.of(10, 11);
  const ahead = encodeAhead(batch, binary, { ...binary.options, seqs: true });
  const sent = copyData(batch, seqs, { spec, binary });
  assert.equal(sent.binary, true);
  assert.equal(sent.data, ahead); // the same bytes, not encoded again
  assert.deepEqual(sent.data, binary.encode(batch, seqs));

  // Made without the seq field: encoded again, with it.
  const other = batchOf("3\tc\n");
  encodeAhead(other, binary, { ...binary.options, seqs: false });
  const withSeq = copyData(other, Float64Array.of(5), { spec, binary });
  assert.deepEqual(withSeq.data, binary.encode(other, Float64Array.of(5)));

  // A miss found ahead sends the batch as text.
  const missed = batchOf("x\td\n");
  keepEncodedAhead(missed, {
    encoded: { row: 0, field: 0 },
    encoding: { ...binary.options, seqs: false },
  });
  const text = copyData(missed, undefined, { spec, binary });
  assert.equal(text.binary, false);
  assert.equal(text.data, missed.data);
});

Deno.test("workerBatchPipeline encodes each batch ahead once told the encoding, and releaseBatch frees the binary", async () => {
  const csv = "id,note\n1,a\n2,b\n3,c\nx,d\n5,e\n";
  const pipeline = workerBatchPipeline(
    { readable: ReadableStream.from([encoder.encode(csv)]) },
    { decode: { copyFormat: "text" }, batchSize: 2 },
  );
  assert.ok(pipeline.encodeAhead !== undefined);
  const encoding = { types: TYPES, naiveTimestamptzIsUtc: true, seqs: true };
  pipeline.encodeAhead(encoding);
  const batches = await Array.fromAsync(pipeline.batches);
  assert.equal(batches.length, 3);
  const rows = new BinaryRows(encoding);
  for (const batch of batches) {
    const zeros = new Float64Array(batch.rowEnds.length);
    assert.deepEqual(encodedAhead(batch, encoding), rows.encode(batch, zeros));
  }
  // The batch with "x" in the int8 column: its miss came along.
  assert.deepEqual(encodedAhead(batches[1], encoding), { row: 1, field: 0 });
  const binary = encodedAhead(batches[0], encoding) as Uint8Array;
  releaseBatch(batches[0]);
  assert.equal(binary.buffer.byteLength, 0);
});
