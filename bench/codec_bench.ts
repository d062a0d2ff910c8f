/**
 * The CSV codecs in memory, WASM vs TypeScript, on the bench generator's
 * data (100k rows, about 27 MB, by default): frame, validate UTF-8 and
 * encode every record as a COPY row with its metadata (row end, source
 * line, end offset) and lane key, in 64 KiB chunks as a file is read, and
 * in 1 MiB chunks. Median MB/s per case and the WASM/TS ratio are printed
 * when the run ends, by wall time and by this process's CPU time (the
 * steadier of the two on a machine busy with other work).
 *
 * COPY binary: the same decode to COPY text, then `BinaryRows.encode` of
 * each block the codec returns (WASM codec with the WASM encoder, TS with
 * TS), for the typed table's columns (`typed_table.ts`); its MB/s are of
 * CSV input, like the rest. Every block must go in binary: a value the
 * encoder misses stops the bench.
 *
 * Beside them runs a yardstick, `wasm/bare_transcoder.ts`: a bare scalar
 * CSV-to-COPY-text transcoder (no metadata, no lane keys, no validation,
 * no SIMD), built in memory and first checked to write the very rows the
 * codec writes. The codec's speed as a share of the yardstick's says what
 * its extra work costs on whatever machine runs the bench.
 *
 * `LANECOPY_BENCH_ROWS` changes the row count.
 *
 * @module
 */

import process from "node:process";
import type { CopyFormat } from "../src/codec/copy_row.ts";
import type { RowBlock } from "../src/codec/row_block.ts";
import { CsvCopyCodec } from "../src/codec/csv/csv_codec.ts";
import { WasmCsvCopyCodec } from "../src/codec/csv/wasm_csv_codec.ts";
import { BinaryRows } from "../src/codec/binary/binary_rows.ts";
import {
  TYPE_BOOL,
  TYPE_INT4,
  TYPE_INT8,
  TYPE_JSONB,
  TYPE_NUMERIC,
  TYPE_TEXT,
  TYPE_TIMESTAMPTZ,
  TYPE_UUID,
} from "../src/codec/binary/_binary_constants.ts";
import { compile } from "../wasm/build.ts";
import { generateCsv } from "./generate.ts";
import { TYPED_COLUMNS } from "./typed_table.ts";

const ROWS = Number(Deno.env.get("LANECOPY_BENCH_ROWS") ?? 100_000);
const SMALL_CHUNK = 64 * 1024;
const LARGE_CHUNK = 1024 * 1024;

const csv = new Uint8Array(
  await new Response(generateCsv({ rows: ROWS, seed: 1 })).arrayBuffer(),
);
const megabytes = csv.length / 1e6;
const label = `${ROWS / 1000}k rows, ${megabytes.toFixed(1)} MB`;

type Make = () => CsvCopyCodec | WasmCsvCopyCodec;

/** The binary encoder of each of the typed table's SQL types. */
const BINARY_TYPES: Readonly<Record<string, number>> = {
  bigint: TYPE_INT8,
  int: TYPE_INT4,
  text: TYPE_TEXT,
  "numeric(12,2)": TYPE_NUMERIC,
  bool: TYPE_BOOL,
  timestamptz: TYPE_TIMESTAMPTZ,
  jsonb: TYPE_JSONB,
  uuid: TYPE_UUID,
};
const types = Uint8Array.from(TYPED_COLUMNS, ([name, type]) => {
  const code = BINARY_TYPES[type];
  if (code === undefined) {
    throw new Error(`Cannot bench COPY binary: column ${name} is ${type}`);
  }
  return code;
});

function encodeAll(make: Make, chunkSize: number): number {
  const codec = make();
  let rows = 0;
  for (let at = 0; at < csv.length; at += chunkSize) {
    rows += codec.push(csv.subarray(at, at + chunkSize)).rowEnds.length;
  }
  return rows + codec.finish().rowEnds.length;
}

/**
 * Decodes to COPY text, then encodes each block in COPY binary; returns
 * the rows, or -1 when a block has a value the encoder misses.
 */
function binaryAll(
  make: Make,
  codec: "wasm" | "ts",
  chunkSize: number,
): number {
  const csvCodec = make();
  const binary = new BinaryRows({
    types,
    naiveTimestamptzIsUtc: false,
    codec,
  });
  let rows = 0;
  const encode = (block: RowBlock) => {
    if (block.rowEnds.length === 0) return;
    const encoded = binary.encode(block);
    if (!(encoded instanceof Uint8Array)) {
      throw new Error(
        `Cannot bench COPY binary: source line ${
          block.lines[encoded.row]
        }, column ${TYPED_COLUMNS[encoded.field]?.[0]} has no binary form`,
      );
    }
    rows += block.rowEnds.length;
  };
  for (let at = 0; at < csv.length; at += chunkSize) {
    encode(csvCodec.push(csv.subarray(at, at + chunkSize)));
  }
  encode(csvCodec.finish());
  return rows;
}

/** The codec's COPY text rows, joined, for checking the yardstick. */
function encodedText(): Uint8Array {
  const codec = new WasmCsvCopyCodec({ copyFormat: "text" });
  const blocks = [];
  for (let at = 0; at < csv.length; at += SMALL_CHUNK) {
    blocks.push(codec.push(csv.subarray(at, at + SMALL_CHUNK)).data);
  }
  blocks.push(codec.finish().data);
  return new Uint8Array(blocks.flatMap((block) => [...block]));
}

/**
 * The yardstick (`wasm/bare_transcoder.ts`), built in memory: returns a
 * function that transcodes the data in chunks and gives the bytes written
 * (and, with `collect`, the bytes). It must write what the codec writes.
 */
async function bareTranscoder(): Promise<
  (chunkSize: number, collect?: number[]) => number
> {
  const { bytes } = await compile("wasm/bare_transcoder.ts");
  const exports = new WebAssembly.Instance(
    new WebAssembly.Module(bytes.slice()),
  )
    .exports as {
      memory: WebAssembly.Memory;
      input(): number;
      output(): number;
      transcode(length: number): number;
    };
  const memory = new Uint8Array(exports.memory.buffer);
  const at = exports.input();
  const out = exports.output();
  return (chunkSize, collect) => {
    let written = 0;
    for (let from = 0; from < csv.length; from += chunkSize) {
      const chunk = csv.subarray(from, from + chunkSize);
      memory.set(chunk, at);
      const length = exports.transcode(chunk.length);
      if (collect) collect.push(...memory.subarray(out, out + length));
      written += length;
    }
    return written;
  };
}

const bare = await bareTranscoder();
{
  const collected: number[] = [];
  bare(SMALL_CHUNK, collected);
  const header = collected.indexOf(0x0a) + 1;
  const ours = encodedText();
  const theirs = collected.slice(header);
  if (
    theirs.length !== ours.length || theirs.some((b, i) => b !== ours[i])
  ) {
    throw new Error(
      "Cannot bench: the bare transcoder's rows differ from the codec's",
    );
  }
}

const timings = new Map<string, number[]>();
const cpuTimings = new Map<string, number[]>();

/** Times `work` (which returns false when it went wrong) under `name`. */
function measure(name: string, work: () => boolean): void {
  const started = performance.now();
  const cpu = process.cpuUsage();
  if (!work()) throw new Error(`Cannot bench ${name}: output lost`);
  const used = process.cpuUsage(cpu);
  const seconds = (performance.now() - started) / 1000;
  timings.set(name, [...timings.get(name) ?? [], seconds]);
  cpuTimings.set(name, [
    ...cpuTimings.get(name) ?? [],
    (used.user + used.system) / 1e6,
  ]);
}

const BARE = "bare transcoder, COPY text (yardstick)";
const bareLength = bare(SMALL_CHUNK);
Deno.bench({
  name: BARE,
  group: `csv encode text (${label})`,
  fn: () => measure(BARE, () => bare(SMALL_CHUNK) === bareLength),
});

for (const format of ["text", "csv"] as const satisfies CopyFormat[]) {
  const options = { copyFormat: format, laneColumn: "lane" };
  const cases: [string, Make, number][] = [
    [`WASM, COPY ${format}`, () => new WasmCsvCopyCodec(options), SMALL_CHUNK],
    [`TS, COPY ${format}`, () => new CsvCopyCodec(options), SMALL_CHUNK],
    [
      `WASM, COPY ${format}, 1 MiB chunks`,
      () => new WasmCsvCopyCodec(options),
      LARGE_CHUNK,
    ],
  ];
  for (const [name, make, chunkSize] of cases) {
    Deno.bench({
      name,
      group: `csv encode ${format} (${label})`,
      baseline: name === `WASM, COPY ${format}`,
      fn: () => measure(name, () => encodeAll(make, chunkSize) === ROWS),
    });
  }
}

{
  const text = { copyFormat: "text" as const, laneColumn: "lane" };
  const cases: [string, Make, "wasm" | "ts", number][] = [
    [
      "WASM, COPY binary",
      () => new WasmCsvCopyCodec(text),
      "wasm",
      SMALL_CHUNK,
    ],
    ["TS, COPY binary", () => new CsvCopyCodec(text), "ts", SMALL_CHUNK],
    [
      "WASM, COPY binary, 1 MiB chunks",
      () => new WasmCsvCopyCodec(text),
      "wasm",
      LARGE_CHUNK,
    ],
  ];
  for (const [name, make, codec, chunkSize] of cases) {
    Deno.bench({
      name,
      group: `csv encode binary, via COPY text (${label})`,
      baseline: name === "WASM, COPY binary",
      fn: () => measure(name, () => binaryAll(make, codec, chunkSize) === ROWS),
    });
  }
}

function median(values: number[]): number {
  const sorted = values.toSorted((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

globalThis.addEventListener("unload", () => {
  if (timings.size === 0) return;
  console.log(`\nCSV codecs, ${label}: median MB/s (wall, CPU)`);
  for (const [name, seconds] of timings) {
    const wall = megabytes / median(seconds);
    const cpu = megabytes / median(cpuTimings.get(name)!);
    console.log(
      `  ${name.padEnd(32)} ${wall.toFixed(0).padStart(5)} ${
        cpu.toFixed(0).padStart(5)
      }`,
    );
  }
  for (const format of ["text", "csv", "binary"]) {
    const ratio = (which: Map<string, number[]>) =>
      (median(which.get(`TS, COPY ${format}`)!) /
        median(which.get(`WASM, COPY ${format}`)!)).toFixed(1);
    if (
      timings.has(`WASM, COPY ${format}`) && timings.has(`TS, COPY ${format}`)
    ) {
      console.log(
        `  WASM / TS, COPY ${format}: ${ratio(timings)}x wall, ${
          ratio(cpuTimings)
        }x CPU`,
      );
    }
  }
  for (const which of ["WASM", "TS"]) {
    const [binary, text] = [`${which}, COPY binary`, `${which}, COPY text`];
    if (timings.has(binary) && timings.has(text)) {
      const share = (times: Map<string, number[]>) =>
        (median(times.get(text)!) / median(times.get(binary)!)).toFixed(2);
      console.log(
        `  ${which}, COPY binary / COPY text: ${share(timings)} wall, ${
          share(cpuTimings)
        } CPU (MB/s with the binary encode, over without)`,
      );
    }
  }
  if (timings.has(BARE) && timings.has("WASM, COPY text")) {
    const share = (which: Map<string, number[]>) =>
      (median(which.get(BARE)!) / median(which.get("WASM, COPY text")!))
        .toFixed(2);
    console.log(
      `  WASM codec / bare transcoder, COPY text: ${share(timings)} wall, ${
        share(cpuTimings)
      } CPU (metadata, lane keys and validation may cost a quarter: >= 0.75)`,
    );
  }
});
