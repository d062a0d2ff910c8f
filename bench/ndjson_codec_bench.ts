/**
 * The NDJSON codecs in memory, WASM vs TypeScript, on the bench generator's
 * records (100k by default) written as NDJSON: strings with escapes and
 * multibyte UTF-8, numbers, booleans, a nested `payload` object, NULLs.
 * Each iteration encodes the whole input in 64 KiB chunks, lane keys
 * included; MB/s per codec is printed when the run ends.
 *
 * `LANECOPY_BENCH_ROWS` changes the row count.
 *
 * @module
 */

import { parse } from "csv-parse/sync";
import { generateCsv } from "./generate.ts";
import { NdjsonCopyCodec } from "../src/codec/ndjson/ndjson_codec.ts";
import { WasmNdjsonCopyCodec } from "../src/codec/ndjson/wasm_ndjson_codec.ts";
import type { CopyFormat } from "../src/codec/copy_row.ts";

const ROWS = Number(Deno.env.get("LANECOPY_BENCH_ROWS") ?? 100_000);
const CHUNK = 64 * 1024;

const csv = await new Response(generateCsv({ rows: ROWS })).text();
const records: Record<string, string | null>[] = parse(csv, {
  columns: true,
  cast: (value: string, context: { quoting: boolean }) =>
    !context.quoting && value === "" ? null : value,
});
const columns = Object.keys(records[0]);
const ndjson = new TextEncoder().encode(
  records.map((record) =>
    JSON.stringify({
      ...record,
      id: Number(record.id),
      qty: Number(record.qty),
      price: Number(record.price),
      active: record.active === "true" || record.active === "t",
      payload: JSON.parse(record.payload!),
    })
  ).join("\n") + "\n",
);
const megabytes = ndjson.length / 1e6;
const label = `${ROWS / 1000}k rows, ${megabytes.toFixed(1)} MB`;

type Make = () => NdjsonCopyCodec | WasmNdjsonCopyCodec;

function encodeAll(make: Make): number {
  const codec = make();
  let rows = 0;
  for (let at = 0; at < ndjson.length; at += CHUNK) {
    rows += codec.push(ndjson.subarray(at, at + CHUNK)).rowEnds.length;
  }
  return rows + codec.finish().rowEnds.length;
}

const timings = new Map<string, number[]>();

for (const format of ["text", "csv"] as const satisfies CopyFormat[]) {
  const options = { columns, copyFormat: format, laneColumn: "lane" };
  const cases: [string, Make][] = [
    [`WASM, COPY ${format}`, () => new WasmNdjsonCopyCodec(options)],
    [`TS, COPY ${format}`, () => new NdjsonCopyCodec(options)],
  ];
  for (const [name, make] of cases) {
    Deno.bench({
      name,
      group: `ndjson encode ${format} (${label})`,
      baseline: name.startsWith("WASM"),
      fn: () => {
        const started = performance.now();
        if (encodeAll(make) !== ROWS) {
          throw new Error("Cannot bench: rows lost");
        }
        const seconds = (performance.now() - started) / 1000;
        timings.set(name, [...timings.get(name) ?? [], seconds]);
      },
    });
  }
}

globalThis.addEventListener("unload", () => {
  if (timings.size === 0) return;
  console.log(`\nNDJSON codecs, ${label}: median MB/s`);
  for (const [name, seconds] of timings) {
    const sorted = seconds.toSorted((a, b) => a - b);
    const median = sorted[Math.floor(sorted.length / 2)];
    console.log(`  ${name.padEnd(18)} ${(megabytes / median).toFixed(0)}`);
  }
});
