/**
 * What `compare.ts` prints once the rounds are done: the main table of
 * medians, then each method's server CPU per row and wall time over the
 * ceiling's (the server loading a COPY binary file it wrote itself), and
 * lanecopy's auto (COPY binary where it can) against its text path.
 *
 * @module
 */

import {
  CEILING,
  LANECOPY,
  LANECOPY_LANES,
  LANECOPY_TEXT,
  type LoadMeasure,
  type Method,
  PSQL,
  SERVER_TEXT,
} from "./load_methods.ts";
import type { MethodResult } from "./report.ts";
import { lanecopyBinaryFile } from "./lanecopy_binary_file.ts";

/** The bound of lanecopy's binary path (see `lanecopy_binary_file.ts`). */
const BINARY_BOUND: string = lanecopyBinaryFile("", "").name;

/** What the rounds measured, by method name. */
export interface Measured {
  loads: Map<string, LoadMeasure[]>;
  serverCpu: Map<string, number[]>;
  /** lanecopy's batches in binary, of all, from its last `--json` summary. */
  binaryBatches: Map<string, string>;
}

/**
 * The median of `values` (the mean of the middle two for an even count).
 *
 * @param values Numbers, at least one.
 * @returns Their median.
 *
 * @example Usage
 * ```ts
 * import { median } from "./compare_tables.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(median([3, 1, 2]), 2);
 * assert.equal(median([4, 1, 2, 3]), 2.5);
 * ```
 */
export function median(values: number[]): number {
  const sorted = values.toSorted((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/**
 * Prints the main table (medians).
 *
 * @param methods The methods, in table order.
 * @param measured What their rounds measured.
 * @param rows The rows each load loaded.
 * @returns Each method's medians (not the methods that failed).
 */
export function printTable(
  methods: Method[],
  measured: Measured,
  rows: number,
): MethodResult[] {
  const psqlWall = median(measured.loads.get(PSQL.name)!.map((m) => m.wall));
  console.log(
    "| method | median wall s | rows/s | ratio to psql \\copy | client CPU s | server CPU s | client peak RSS MiB |",
  );
  console.log("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
  const results: MethodResult[] = [];
  for (const method of methods) {
    const measures = measured.loads.get(method.name)!;
    if (measures.length === 0) {
      console.log(`| ${method.name} | failed | | | | | |`);
      continue;
    }
    const wall = median(measures.map((m) => m.wall));
    const cpu = median(measures.map((m) => m.cpu));
    const server = measured.serverCpu.get(method.name)!;
    const serverSeconds = server.length > 0 ? median(server) : NaN;
    const rss = Math.max(...measures.map((m) => m.maxRssKiB)) / 1024;
    const ratio = Number.isFinite(psqlWall) ? (psqlWall / wall).toFixed(2) : "";
    results.push({
      method: method.name,
      wall,
      rowsPerSecond: rows / wall,
      clientCpu: cpu,
      serverCpu: serverSeconds,
      peakRssMiB: rss,
    });
    console.log(
      `| ${method.name} | ${wall.toFixed(2)} | ${
        Math.round(rows / wall).toLocaleString("en-US")
      } | ${ratio} | ${cpu.toFixed(2)} | ${serverSeconds.toFixed(2)} | ${
        rss.toFixed(0)
      } |`,
    );
  }
  return results;
}

/**
 * Prints server CPU per row and wall over the ceiling's for each method,
 * then lanecopy's auto (binary where it can) and the bound of its binary
 * path (its bytes streamed by psql, no client cost) against its text path.
 *
 * @param results The methods' medians, from {@linkcode printTable}.
 * @param binaryBatches lanecopy's batches in binary, by method.
 * @param rows The rows each load loaded.
 */
export function printAgainstCeiling(
  results: MethodResult[],
  binaryBatches: Map<string, string>,
  rows: number,
): void {
  const byName = new Map(results.map((result) => [result.method, result]));
  const ceiling = byName.get(CEILING);
  const perRow = (result: MethodResult) => result.serverCpu / rows * 1e6;
  console.log(
    `\n| method | server CPU µs/row | wall / ${CEILING} wall | batches in binary |`,
  );
  console.log("| --- | ---: | ---: | ---: |");
  for (const result of results) {
    console.log(
      `| ${result.method} | ${perRow(result).toFixed(2)} | ${
        ceiling ? (result.wall / ceiling.wall).toFixed(2) : ""
      } | ${binaryBatches.get(result.method) ?? ""} |`,
    );
  }
  const auto = byName.get(LANECOPY.name);
  const text = byName.get(LANECOPY_TEXT.name);
  if (auto && text) {
    console.log(
      `\n${LANECOPY.name} (auto) vs ${LANECOPY_TEXT.name}: server CPU ${
        perRow(auto).toFixed(2)
      } vs ${perRow(text).toFixed(2)} µs/row (${
        ((1 - auto.serverCpu / text.serverCpu) * 100).toFixed(1)
      }% less); wall ${auto.wall.toFixed(2)} vs ${text.wall.toFixed(2)} s (${
        (text.wall / auto.wall).toFixed(2)
      }x faster)`,
    );
    // Client and server share the machine's cores: when they are all
    // busy, the wall follows the CPU both spend together.
    const cores = (result: MethodResult) => result.clientCpu + result.serverCpu;
    console.log(
      `client + server CPU: auto ${cores(auto).toFixed(2)}, text ${
        cores(text).toFixed(2)
      } core-seconds, a ratio of ${
        (cores(text) / cores(auto)).toFixed(2)
      } (on ${navigator.hardwareConcurrency} cores, the wall ratio follows it once they are all busy)`,
    );
  }
  const bound = byName.get(BINARY_BOUND);
  if (bound && text) {
    console.log(
      `${BINARY_BOUND} (no client cost) vs ${LANECOPY_TEXT.name}: server CPU ${
        perRow(bound).toFixed(2)
      } µs/row (${
        ((1 - bound.serverCpu / text.serverCpu) * 100).toFixed(1)
      }% less); wall ${bound.wall.toFixed(2)} s (${
        (text.wall / bound.wall).toFixed(2)
      }x faster: the most any client could gain through COPY binary here)`,
    );
  }
  const serverText = byName.get(SERVER_TEXT);
  if (serverText && ceiling) {
    console.log(
      `${SERVER_TEXT} wall / ${CEILING} wall: ${
        (serverText.wall / ceiling.wall).toFixed(2)
      }x (what COPY binary saves the server alone, no client)`,
    );
    if (text) {
      console.log(
        `${LANECOPY_TEXT.name} wall / ${SERVER_TEXT} wall: ${
          (text.wall / serverText.wall).toFixed(2)
        }x; ${LANECOPY_TEXT.name} wall / ${CEILING} wall: ${
          (text.wall / ceiling.wall).toFixed(2)
        }x (the most auto can gain over text without beating the ceiling)`,
      );
    }
  }
  for (const name of [LANECOPY.name, LANECOPY_LANES.name]) {
    const result = byName.get(name);
    if (result && ceiling) {
      console.log(
        `${name} wall / ${CEILING} wall: ${
          (result.wall / ceiling.wall).toFixed(2)
        }x`,
      );
    }
  }
}
