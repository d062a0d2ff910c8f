/**
 * `bench/REPORT.md` and its charts: what `bench/compare.ts` measured in one
 * run, written as a markdown table and two SVG bar charts (rows/s by load
 * method, and lanecopy's rows/s by batch size), drawn by Vega-Lite.
 *
 * @module
 */

import * as vega from "vega";
import * as vegaLite from "vega-lite";

/** One load method's medians from one run. */
export interface MethodResult {
  /** The method, e.g. `psql \copy` or `lanecopy --parallel 2`. */
  method: string;
  /** Median wall seconds. */
  wall: number;
  /** Rows per second at that wall time. */
  rowsPerSecond: number;
  /** Client CPU seconds (user + sys of the loading process). */
  clientCpu: number;
  /** Server CPU seconds spent during the load (all server processes). */
  serverCpu: number;
  /** Client peak resident set size, MiB. */
  peakRssMiB: number;
}

/** lanecopy's rows/s at one batch size. */
export interface BatchSizeResult {
  /** Rows per batch. */
  batchSize: number;
  /** Median rows per second. */
  rowsPerSecond: number;
}

/** Everything one report shows. */
export interface Report {
  /** Rows in the generated file. */
  rows: number;
  /** The file's size in bytes. */
  bytes: number;
  /** Rounds each method ran (the figures are medians). */
  rounds: number;
  /** When and where, for the reader: e.g. the date, CPU count, server version. */
  context: string;
  /** Each method, the first being the baseline ratios are taken against. */
  methods: MethodResult[];
  /** lanecopy at several batch sizes. */
  batchSizes: BatchSizeResult[];
}

/**
 * The report as markdown: the context, the methods' table with each one's
 * ratio to the first, the batch-size table, and links to the charts.
 *
 * @param report What was measured.
 * @param charts The chart files' names, relative to the report.
 * @returns The markdown.
 *
 * @example Usage
 * ```ts
 * import { reportMarkdown } from "./report.ts";
 * import assert from "node:assert/strict";
 *
 * const markdown = reportMarkdown({
 *   rows: 1000, bytes: 280000, rounds: 1, context: "a test",
 *   methods: [
 *     { method: "psql \\copy", wall: 1, rowsPerSecond: 1000, clientCpu: 0.1, serverCpu: 0.9, peakRssMiB: 10 },
 *     { method: "lanecopy", wall: 0.5, rowsPerSecond: 2000, clientCpu: 0.2, serverCpu: 0.8, peakRssMiB: 90 },
 *   ],
 *   batchSizes: [{ batchSize: 1000, rowsPerSecond: 1500 }],
 * }, { methods: "m.svg", batchSizes: "b.svg" });
 * assert.match(markdown, /\| lanecopy \| 0\.50 \| 2,000 \| 2\.00 \|/);
 * assert.match(markdown, /!\[.*\]\(m\.svg\)/);
 * ```
 */
export function reportMarkdown(
  report: Report,
  charts: { methods: string; batchSizes: string },
): string {
  const count = (n: number) => Math.round(n).toLocaleString("en-US");
  const base = report.methods[0];
  const lines = [
    "# lanecopy against psql \\copy and the INSERT batch path",
    "",
    `${count(report.rows)} generated rows (${
      (report.bytes / 1e6).toFixed(1)
    } MB of CSV, \`bench/generate.ts\`), loaded into the same typed table (truncated before each load) on the same server, methods interleaved, median of ${report.rounds} round(s). ${report.context}`,
    "",
    `| method | wall s | rows/s | ratio to ${base.method} | client CPU s | server CPU s | client peak RSS MiB |`,
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ...report.methods.map((m) =>
      `| ${m.method} | ${m.wall.toFixed(2)} | ${count(m.rowsPerSecond)} | ${
        (m.rowsPerSecond / base.rowsPerSecond).toFixed(2)
      } | ${m.clientCpu.toFixed(2)} | ${m.serverCpu.toFixed(2)} | ${
        m.peakRssMiB.toFixed(0)
      } |`
    ),
    "",
    `Ratio > 1: more rows/s than ${base.method}. Wall times include process start. Server CPU is every server process's CPU time over the load (the backend, the WAL writer, the checkpointer).`,
    "",
    `![rows/s by method](${charts.methods})`,
    "",
    "## lanecopy by batch size",
    "",
    "| batch size | rows/s |",
    "| ---: | ---: |",
    ...report.batchSizes.map((b) =>
      `| ${count(b.batchSize)} | ${count(b.rowsPerSecond)} |`
    ),
    "",
    `![lanecopy rows/s by batch size](${charts.batchSizes})`,
    "",
  ];
  return lines.join("\n");
}

/**
 * A horizontal bar chart as SVG: one bar per label, its length the value.
 *
 * @param title The chart's title.
 * @param bars Label and value of each bar, in the order to draw them.
 * @param axis The value axis's title.
 * @returns The SVG document.
 *
 * @example Usage
 * ```ts
 * import { barChartSvg } from "./report.ts";
 * import assert from "node:assert/strict";
 *
 * const svg = await barChartSvg("rows/s", [["psql", 200000], ["lanecopy", 210000]], "rows/s");
 * assert.ok(svg.startsWith("<svg"));
 * assert.match(svg, /lanecopy/);
 * ```
 */
export async function barChartSvg(
  title: string,
  bars: [label: string, value: number][],
  axis: string,
): Promise<string> {
  const spec = vegaLite.compile({
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title,
    width: 480,
    data: { values: bars.map(([label, value]) => ({ label, value })) },
    mark: { type: "bar", tooltip: true },
    encoding: {
      y: { field: "label", type: "nominal", sort: null, title: null },
      x: { field: "value", type: "quantitative", title: axis },
    },
  } as vegaLite.TopLevelSpec).spec;
  const view = new vega.View(vega.parse(spec), { renderer: "none" });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/**
 * Writes `REPORT.md` and its two charts into `dir`.
 *
 * @param dir The directory (the bench folder).
 * @param report What was measured.
 * @returns The paths written.
 *
 * @example Usage
 * ```ts
 * import { writeReport } from "./report.ts";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * const written = await writeReport(dir, {
 *   rows: 10, bytes: 100, rounds: 1, context: "",
 *   methods: [{ method: "psql \\copy", wall: 1, rowsPerSecond: 10, clientCpu: 0, serverCpu: 1, peakRssMiB: 9 }],
 *   batchSizes: [{ batchSize: 1000, rowsPerSecond: 10 }],
 * });
 * assert.equal(written.length, 3);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function writeReport(
  dir: string,
  report: Report,
): Promise<string[]> {
  const charts = {
    methods: "report_methods.svg",
    batchSizes: "report_batch_size.svg",
  };
  const methodsSvg = await barChartSvg(
    `Rows/s, ${
      report.rows.toLocaleString("en-US")
    } rows (median of ${report.rounds})`,
    report.methods.map((m) => [m.method, Math.round(m.rowsPerSecond)]),
    "rows/s",
  );
  const batchSvg = await barChartSvg(
    "lanecopy rows/s by batch size",
    report.batchSizes.map((
      b,
    ) => [
      `${b.batchSize.toLocaleString("en-US")} rows`,
      Math.round(
        b.rowsPerSecond,
      ),
    ]),
    "rows/s",
  );
  const paths = [
    `${dir}/REPORT.md`,
    `${dir}/${charts.methods}`,
    `${dir}/${charts.batchSizes}`,
  ];
  await Deno.writeTextFile(paths[0], reportMarkdown(report, charts));
  await Deno.writeTextFile(paths[1], methodsSvg);
  await Deno.writeTextFile(paths[2], batchSvg);
  return paths;
}
