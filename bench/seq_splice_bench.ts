/**
 * The lane_seq splice on its own: one batch of the bench generator's rows
 * (10,000 by default, as encoded by the WASM codec) gets its reserved seqs
 * assigned per lane and appended to each row, in 64 KiB slices as the
 * writer sends them. Prints rows/s and MB/s per case, next to the codec's
 * own cost for the same rows so the two can be compared.
 *
 * `LANECOPY_BENCH_ROWS` changes the row count.
 *
 * @module
 */

import { WasmCsvCopyCodec } from "../src/codec/csv/wasm_csv_codec.ts";
import {
  assignSeqs,
  batchLanes,
  spliceSeqChunks,
} from "../src/write/seq_splice.ts";
import type { RowBlock } from "../src/codec/row_block.ts";
import { generateCsv } from "./generate.ts";

const ROWS = Number(Deno.env.get("LANECOPY_BENCH_ROWS") ?? 10_000);

const csv = new Uint8Array(
  await new Response(generateCsv({ rows: ROWS, seed: 1 })).arrayBuffer(),
);

function encode(): RowBlock {
  const codec = new WasmCsvCopyCodec({
    copyFormat: "text",
    laneColumn: "lane",
  });
  const first = codec.push(csv);
  const last = codec.finish();
  if (last.rowEnds.length > 0) throw new Error("rows left after finish()");
  return first;
}

const block = encode();
const { laneKeys, laneRows } = batchLanes(block);
// Seqs far from 1, as in a long-lived lane (more digits to write).
const firstSeqs = new Map(
  [...laneRows.keys()].map((lane, i) => [lane, 1_000_000_000 + i]),
);
const label = `${block.rowEnds.length} rows, ${
  (block.data.length / 1e6).toFixed(1)
} MB of COPY text`;

Deno.bench({
  name: "splice: assign seqs per lane + append them, 64 KiB slices",
  group: `lane_seq splice (${label})`,
  baseline: true,
  fn() {
    const seqs = assignSeqs(laneKeys, firstSeqs);
    let bytes = 0;
    for (const slice of spliceSeqChunks(block, seqs, "text")) {
      bytes += slice.length;
    }
    if (bytes <= block.data.length) throw new Error("nothing spliced");
  },
});

Deno.bench({
  name: "for scale: the WASM codec encoding the same rows",
  group: `lane_seq splice (${label})`,
  fn() {
    encode();
  },
});
