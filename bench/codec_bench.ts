/**
 * The CSV codecs in memory, WASM vs TypeScript, on the bench generator's
 * data (100k rows, about 27 MB, by default): frame, validate UTF-8 and
 * encode every record as a COPY row with its metadata (row end, source
 * line, end offset) and lane key, in 64 KiB chunks as a file is read, and
 * in 1 MiB chunks. Median MB/s per case and the WASM/TS ratio are printed
 * when the run ends, by wall time and by this process's CPU time (the
 * steadier of the two on a machine busy with other work).
 *
 * `LANECOPY_BENCH_ROWS` changes the row count.
 *
 * @module
 */

import process from "node:process";
import type { CopyFormat } from "../src/copy_row.ts";
import { CsvCopyCodec } from "../src/csv_codec.ts";
import { WasmCsvCopyCodec } from "../src/wasm_csv_codec.ts";
import { generateCsv } from "./generate.ts";

const ROWS = Number(Deno.env.get("LANECOPY_BENCH_ROWS") ?? 100_000);
const SMALL_CHUNK = 64 * 1024;
const LARGE_CHUNK = 1024 * 1024;

const csv = new Uint8Array(
  await new Response(generateCsv({ rows: ROWS, seed: 1 })).arrayBuffer(),
);
const megabytes = csv.length / 1e6;
const label = `${ROWS / 1000}k rows, ${megabytes.toFixed(1)} MB`;

type Make = () => CsvCopyCodec | WasmCsvCopyCodec;

function encodeAll(make: Make, chunkSize: number): number {
  const codec = make();
  let rows = 0;
  for (let at = 0; at < csv.length; at += chunkSize) {
    rows += codec.push(csv.subarray(at, at + chunkSize)).rowEnds.length;
  }
  return rows + codec.finish().rowEnds.length;
}

const timings = new Map<string, number[]>();
const cpuTimings = new Map<string, number[]>();

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
      fn: () => {
        const started = performance.now();
        const cpu = process.cpuUsage();
        if (encodeAll(make, chunkSize) !== ROWS) {
          throw new Error("Cannot bench: rows lost");
        }
        const used = process.cpuUsage(cpu);
        const seconds = (performance.now() - started) / 1000;
        timings.set(name, [...timings.get(name) ?? [], seconds]);
        cpuTimings.set(name, [
          ...cpuTimings.get(name) ?? [],
          (used.user + used.system) / 1e6,
        ]);
      },
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
  for (const format of ["text", "csv"]) {
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
});
