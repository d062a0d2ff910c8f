/**
 * Side by side, on a real server: `psql \copy`, the lanecopy CLI (with the
 * WASM codec, and with `--codec ts`) and the INSERT batch path (batch 1000)
 * load the same generated CSV into a typed table, in interleaved rounds,
 * each into the freshly truncated table. Every load runs as a subprocess
 * under `/usr/bin/time`, so wall time, client CPU (user + sys) and client
 * peak RSS are measured the same way for all of them;
 * the row count is checked after each load. Prints a markdown table.
 *
 * ```sh
 * DATABASE_URL=postgres://… deno run -A bench/compare.ts --rows 100000 [--rounds 3]
 * DATABASE_URL=postgres://… deno run -A bench/compare.ts --rows 100000 --check-equal
 * ```
 *
 * `--methods "lanecopy CLI,lanecopy CLI --lane --parallel 2"` runs only those
 * (and `psql \copy`, the yardstick). The `--lane` methods load into the
 * typed table plus a `lane_seq` column (seqs per lane), with one writer and
 * with `--parallel 2`.
 *
 * `--report` adds the INSERT path at batch sizes 100 and 5000 and lanecopy
 * `--lane` at batch sizes 1,000 and 100,000, and writes `bench/REPORT.md`
 * with two charts (rows/s by method; lanecopy's rows/s by batch size).
 * Server CPU is read from `/proc` (a server on this machine).
 *
 * ```sh
 * deno task bench:compare --rows 2000000 --rounds 3 --report
 * ```
 *
 * `--check-equal` loads the file with `psql \copy` into one table and with
 * lanecopy into another, then counts `A EXCEPT ALL B` and `B EXCEPT ALL A`;
 * it exits 1 unless both are 0.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
// @ts-types="@types/pg"
import pg from "pg";
import { writeCsvFile } from "./generate.ts";
import { insertCsvFile } from "./insert_path.ts";
import { type MethodResult, writeReport } from "./report.ts";
import { postmasterPid, serverCpuSeconds } from "./server_cpu.ts";
import { typedTableDdl } from "./typed_table.ts";

const REPO_ROOT = fileURLToPath(new URL("..", import.meta.url));
/** The INSERT path's batch size in the default comparison. */
const INSERT_BATCH = 1000;
/** lanecopy's batch sizes in the report's second chart. */
const REPORT_BATCH_SIZES = [1000, 10_000, 100_000];
const SCHEMA = "public";

/** What one subprocess load measured. */
export interface LoadMeasure {
  /** Wall-clock seconds, around the subprocess. */
  wall: number;
  /** Client CPU seconds: user + sys of the subprocess. */
  cpu: number;
  /** Client peak resident set size, KiB. */
  maxRssKiB: number;
  /** The subprocess's standard output. */
  stdout: string;
}

/** A load that did not succeed, with what the subprocess said. */
class LoadError extends Error {
  override name = "LoadError";
}

/**
 * Runs a command under `/usr/bin/time -f "%e %U %S %M"` and returns its
 * wall time, CPU seconds and peak RSS. Rejects with its stderr when it exits
 * non-zero.
 *
 * @param argv The command and its arguments.
 * @returns What the run measured, and its stdout.
 *
 * @example Time a trivial command
 * ```ts
 * import { timedRun } from "./compare.ts";
 * import assert from "node:assert/strict";
 *
 * const measure = await timedRun(["true"]);
 * assert.ok(measure.wall >= 0 && measure.maxRssKiB > 0);
 * ```
 */
export async function timedRun(argv: string[]): Promise<LoadMeasure> {
  const timeFile = await Deno.makeTempFile({ prefix: "lanecopy_time_" });
  try {
    const started = performance.now();
    const output = await new Deno.Command("/usr/bin/time", {
      args: ["-f", "%e %U %S %M", "-o", timeFile, ...argv],
      cwd: REPO_ROOT,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    const wall = (performance.now() - started) / 1000;
    const decoder = new TextDecoder();
    const stdout = decoder.decode(output.stdout);
    if (!output.success) {
      throw new LoadError(
        `exited with code ${output.code}, stderr:\n${
          decoder.decode(output.stderr).trimEnd()
        }`,
      );
    }
    const timeLine = (await Deno.readTextFile(timeFile)).trim().split("\n")
      .at(-1) ?? "";
    const [, user, sys, rss] = timeLine.split(" ").map(Number);
    return { wall, cpu: user + sys, maxRssKiB: rss, stdout };
  } finally {
    await Deno.remove(timeFile).catch(() => {});
  }
}

/** Quotes a string as an SQL literal for psql's `\copy`. */
function sqlLiteral(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

/** A load method: how to run it into `table` (`schema.name`, unquoted). */
interface Method {
  name: string;
  /** Loads with `--lane`: into the typed table plus a `lane_seq` column. */
  lanes?: boolean;
  run(file: string, table: string, url: string): Promise<LoadMeasure>;
}

const PSQL: Method = {
  name: "psql \\copy",
  run: (file, table, url) =>
    timedRun([
      "psql",
      url,
      "-X",
      "-q",
      "-v",
      "ON_ERROR_STOP=1",
      "-c",
      `\\copy ${quoted(table)} FROM ${sqlLiteral(file)} (FORMAT csv, HEADER)`,
    ]),
};

/** The lanecopy CLI with the given codec (`wasm` is the default). */
function lanecopy(codec: "wasm" | "ts"): Method {
  return {
    name: codec === "wasm" ? "lanecopy CLI" : "lanecopy CLI --codec ts",
    run: (file, table, url) => runLanecopy(file, table, url, codec),
  };
}

const LANECOPY = lanecopy("wasm");
const LANECOPY_TS = lanecopy("ts");

/**
 * The lanecopy CLI with `--lane lane` (gapless seqs per lane, into the
 * typed table plus `lane_seq`) and `parallel` writers.
 */
function lanecopyLanes(parallel: number, batchSize?: number): Method {
  return {
    name: `lanecopy CLI --lane${parallel > 1 ? ` --parallel ${parallel}` : ""}${
      batchSize === undefined ? "" : ` --batch-size ${batchSize}`
    }`,
    lanes: true,
    run: (file, table, url) =>
      runLanecopy(file, table, url, "wasm", [
        "--lane",
        "lane",
        "--parallel",
        String(parallel),
        ...(batchSize === undefined ? [] : ["--batch-size", String(batchSize)]),
      ]),
  };
}

const LANECOPY_LANES = lanecopyLanes(1);
const LANECOPY_PARALLEL = lanecopyLanes(2);

async function runLanecopy(
  file: string,
  table: string,
  url: string,
  codec: "wasm" | "ts",
  flags: string[] = [],
): Promise<LoadMeasure> {
  const measure = await timedRun([
    Deno.execPath(),
    "run",
    "-A",
    // The flags `deno task ingest` and `deno task install` use.
    "--v8-flags=--max-semi-space-size=1",
    "src/cli/main.ts",
    "ingest",
    file,
    "--table",
    table,
    "--db",
    url,
    // Each round is a new load of the file, not a resume of the last.
    "--source-id",
    `bench ${crypto.randomUUID()}`,
    "--codec",
    codec,
    ...flags,
    "--quiet",
    "--json",
  ]);
  const summary = lastJsonLine(measure.stdout);
  if (typeof summary?.rows !== "number") {
    throw new LoadError(
      `lanecopy printed no JSON summary with rows: ${measure.stdout.trim()}`,
    );
  }
  return measure;
}

/** The INSERT batch path at `batch` rows per statement, as its own process. */
function insertPath(batch: number): Method {
  return {
    name: `INSERT unnest batch ${batch}`,
    run: (file, table, url) =>
      timedRun([
        Deno.execPath(),
        "run",
        "-A",
        fileURLToPath(import.meta.url),
        "--insert-worker",
        file,
        "--insert-batch",
        String(batch),
        "--table",
        table,
        "--db",
        url,
      ]),
  };
}

const INSERT = insertPath(INSERT_BATCH);

function quoted(table: string): string {
  return table.split(".").map((part) => `"${part.replaceAll('"', '""')}"`)
    .join(".");
}

function lastJsonLine(stdout: string): Record<string, unknown> | undefined {
  for (const line of stdout.trim().split("\n").reverse()) {
    try {
      const value = JSON.parse(line);
      if (value && typeof value === "object") return value;
    } catch {
      // Not JSON: keep looking.
    }
  }
  return undefined;
}

function median(values: number[]): number {
  const sorted = values.toSorted((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

async function withClient<T>(
  url: string,
  use: (client: pg.Client) => Promise<T>,
): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}

async function recreate(
  client: pg.Client,
  table: string,
  lanes = false,
): Promise<void> {
  await client.query(`DROP TABLE IF EXISTS ${quoted(table)}`);
  await client.query(typedTableDdl(quoted(table)));
  if (lanes) {
    await client.query(
      `ALTER TABLE ${quoted(table)} ADD COLUMN lane_seq bigint`,
    );
  }
}

async function count(client: pg.Client, table: string): Promise<number> {
  const { rows } = await client.query<{ n: string }>(
    `SELECT count(*) AS n FROM ${quoted(table)}`,
  );
  return Number(rows[0].n);
}

/** Waits until the server has no client session but this check's own. */
async function backendsGone(url: string): Promise<void> {
  for (let tries = 0; tries < 100; tries++) {
    const others = await withClient(url, async (client) =>
      Number(
        (await client.query(
          `SELECT count(*) AS n FROM pg_stat_activity
            WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()`,
        )).rows[0].n,
      ));
    if (others === 0) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  await new Promise((resolve) => setTimeout(resolve, 100));
}

/** Each run gets its own hard link, so lanecopy sees a new source each time. */
let links = 0;
async function freshLink(file: string): Promise<string> {
  const link = `${file}.${++links}.csv`;
  await Deno.link(file, link);
  return link;
}

async function compare(
  url: string,
  file: string,
  rows: number,
  rounds: number,
  only?: string[],
  report = false,
): Promise<number> {
  const typed = `${SCHEMA}.lanecopy_compare`;
  const withLanes = `${SCHEMA}.lanecopy_compare_lanes`;
  const bySize = REPORT_BATCH_SIZES.filter((size) => size !== 10_000).map(
    (size) => lanecopyLanes(1, size),
  );
  const methods = [
    PSQL,
    LANECOPY,
    LANECOPY_TS,
    LANECOPY_LANES,
    LANECOPY_PARALLEL,
    ...(report ? [insertPath(100)] : []),
    INSERT,
    ...(report ? [insertPath(5000), ...bySize] : []),
  ].filter((method) =>
    method === PSQL || only === undefined || only.includes(method.name)
  );
  const results = new Map<string, LoadMeasure[]>(
    methods.map((method) => [method.name, []]),
  );
  const serverCpu = new Map<string, number[]>(
    methods.map((method) => [method.name, []]),
  );
  const postmaster = await postmasterPid(url).catch(() => undefined);
  const failures = new Map<string, string>();
  await withClient(url, async (client) => {
    await recreate(client, typed);
    await recreate(client, withLanes, true);
  });
  for (let round = 0; round < rounds; round++) {
    // Rotate the order each round so no method always runs first.
    const order = methods.map((_, i) => methods[(i + round) % methods.length]);
    for (const method of order) {
      if (failures.has(method.name)) continue;
      const table = method.lanes ? withLanes : typed;
      await withClient(
        url,
        (client) => client.query(`TRUNCATE ${quoted(table)}`),
      );
      const source = await freshLink(file);
      try {
        const cpuBefore = postmaster && await serverCpuSeconds(postmaster);
        const measure = await method.run(source, table, url);
        if (postmaster && cpuBefore !== undefined) {
          // The loader's backend may outlive it for a moment: read once
          // the server has no other client left.
          await backendsGone(url);
          serverCpu.get(method.name)!.push(
            await serverCpuSeconds(postmaster) - cpuBefore,
          );
        }
        const loaded = await withClient(url, (client) => count(client, table));
        if (loaded !== rows) {
          throw new LoadError(`loaded ${loaded} rows: expected ${rows}`);
        }
        results.get(method.name)!.push(measure);
        console.error(
          `round ${round + 1}: ${method.name}: ${measure.wall.toFixed(2)} s`,
        );
      } catch (error) {
        if (!(error instanceof LoadError)) throw error;
        failures.set(method.name, error.message);
        console.error(
          `round ${round + 1}: ${method.name} failed: ${error.message}`,
        );
      } finally {
        await Deno.remove(source);
      }
    }
  }

  const psqlWall = median(results.get(PSQL.name)!.map((m) => m.wall));
  console.log(
    `\n${rows.toLocaleString("en-US")} rows, ${
      ((await Deno.stat(file)).size / 1e6).toFixed(1)
    } MB, median of ${rounds} round(s)\n`,
  );
  console.log(
    "| method | median wall s | rows/s | ratio to psql \\copy | client CPU s | server CPU s | client peak RSS MiB |",
  );
  console.log("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
  const measured: MethodResult[] = [];
  for (const method of methods) {
    const measures = results.get(method.name)!;
    if (measures.length === 0) {
      console.log(`| ${method.name} | failed | | | | | |`);
      continue;
    }
    const wall = median(measures.map((m) => m.wall));
    const cpu = median(measures.map((m) => m.cpu));
    const server = serverCpu.get(method.name)!;
    const serverSeconds = server.length > 0 ? median(server) : NaN;
    const rss = Math.max(...measures.map((m) => m.maxRssKiB)) / 1024;
    const ratio = Number.isFinite(psqlWall) ? (psqlWall / wall).toFixed(2) : "";
    measured.push({
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
  if (report) {
    const laneSize = (name: string) =>
      /^lanecopy CLI --lane(?: --batch-size (\d+))?$/.exec(name);
    const written = await writeReport(join(REPO_ROOT, "bench"), {
      rows,
      bytes: (await Deno.stat(file)).size,
      rounds,
      context: `${navigator.hardwareConcurrency} CPUs, ${await withClient(
        url,
        async (client) =>
          (await client.query("SHOW server_version")).rows[0].server_version,
      )}, ${new Date().toISOString().slice(0, 10)}.`,
      methods: measured.filter((m) => !/--batch-size/.test(m.method)),
      batchSizes: measured.flatMap((m) => {
        const match = laneSize(m.method);
        return match
          ? [{
            batchSize: match[1] ? Number(match[1]) : 10_000,
            rowsPerSecond: m.rowsPerSecond,
          }]
          : [];
      }).sort((a, b) => a.batchSize - b.batchSize),
    });
    console.log(`\nwrote ${written.join(", ")}`);
  }
  console.log(
    "\nratio > 1: faster than psql \\copy. Wall times include process start.",
  );
  return failures.has(PSQL.name) ? 1 : 0;
}

async function checkEqual(
  url: string,
  file: string,
  rows: number,
): Promise<number> {
  const a = `${SCHEMA}.lanecopy_equal_psql`;
  const b = `${SCHEMA}.lanecopy_equal_lanecopy`;
  await withClient(url, async (client) => {
    await recreate(client, a);
    await recreate(client, b);
  });
  for (const [method, table] of [[PSQL, a], [LANECOPY, b]] as const) {
    try {
      await method.run(file, table, url);
    } catch (error) {
      if (!(error instanceof LoadError)) throw error;
      console.error(`${method.name} failed: ${error.message}`);
      return 1;
    }
  }
  return await withClient(url, async (client) => {
    const except = async (left: string, right: string) => {
      const { rows } = await client.query<{ n: string }>(
        `SELECT count(*) AS n FROM (SELECT * FROM ${
          quoted(left)
        } EXCEPT ALL SELECT * FROM ${quoted(right)}) d`,
      );
      return Number(rows[0].n);
    };
    const countA = await count(client, a);
    const countB = await count(client, b);
    const aMinusB = await except(a, b);
    const bMinusA = await except(b, a);
    console.log(`rows: ${a} ${countA}, ${b} ${countB} (expected ${rows})`);
    console.log(`${a} EXCEPT ALL ${b}: ${aMinusB}`);
    console.log(`${b} EXCEPT ALL ${a}: ${bMinusA}`);
    const equal = aMinusB === 0 && bMinusA === 0 && countA === rows;
    console.log(equal ? "equal" : "NOT EQUAL");
    return equal ? 0 : 1;
  });
}

/** The INSERT path as its own process, so /usr/bin/time can measure it. */
async function insertWorker(
  file: string,
  table: string,
  url: string,
  batch: number,
): Promise<number> {
  const inserted = await withClient(
    url,
    (client) => insertCsvFile(client, quoted(table), file, batch),
  );
  console.log(JSON.stringify({ rows: inserted }));
  return 0;
}

const USAGE =
  "usage: DATABASE_URL=… deno run -A bench/compare.ts --rows N [--rounds R] [--seed S] [--methods NAME,NAME] [--report] [--check-equal]";

async function main(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      rows: { type: "string", default: "100000" },
      rounds: { type: "string", default: "3" },
      seed: { type: "string", default: "1" },
      "check-equal": { type: "boolean" },
      methods: { type: "string" },
      report: { type: "boolean" },
      "insert-worker": { type: "string" },
      "insert-batch": { type: "string", default: String(INSERT_BATCH) },
      table: { type: "string" },
      db: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (values["insert-worker"] !== undefined) {
    return await insertWorker(
      values["insert-worker"],
      values.table!,
      values.db!,
      Number(values["insert-batch"]),
    );
  }
  const url = Deno.env.get("DATABASE_URL");
  if (!url) {
    console.error(
      "compare: Cannot compare as DATABASE_URL is not set: point it at a PostgreSQL server you can write to (psql must reach it too)",
    );
    console.error(USAGE);
    return 2;
  }
  const rows = Number(values.rows);
  const rounds = Number(values.rounds);
  if (!Number.isSafeInteger(rounds) || rounds < 1) {
    console.error(
      `compare: Cannot compare as --rounds must be a positive integer: current value is ${values.rounds}`,
    );
    return 2;
  }
  const dir = await Deno.makeTempDir({ prefix: "lanecopy_compare_" });
  try {
    const file = join(dir, "rows.csv");
    await writeCsvFile(file, { rows, seed: Number(values.seed) });
    return values["check-equal"]
      ? await checkEqual(url, file, rows)
      : await compare(
        url,
        file,
        rows,
        rounds,
        values.methods?.split(",").map((name) => name.trim()),
        values.report,
      );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

if (import.meta.main) {
  try {
    Deno.exitCode = await main(Deno.args);
  } catch (error) {
    console.error(`compare: ${error instanceof Error ? error.message : error}`);
    Deno.exitCode = error instanceof RangeError || error instanceof TypeError
      ? 2
      : 1;
  }
}
