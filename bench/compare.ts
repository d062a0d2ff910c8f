/**
 * Side by side, on a real server: `psql \copy`, the lanecopy CLI (with the
 * WASM codec, and with `--codec ts`; `--copy-format auto`, the default,
 * sends COPY binary where it can, and `--copy-format text` today's text
 * path) and the INSERT batch path (batch 1000) load the same generated CSV
 * into a typed table, in interleaved rounds, each into the freshly
 * truncated table after a CHECKPOINT (autovacuum off on the bench tables:
 * no load pays for the one before it, nor for a vacuum that happens to
 * start during it). The ceiling, "server COPY binary file", is the server
 * loading the same rows from a COPY binary file it wrote itself (set up
 * untimed; no client work at all; the server must be on this machine).
 * "psql \copy of lanecopy's binary" is the bound of lanecopy's binary
 * path: the bytes its codec makes, written to a file beforehand and
 * streamed by psql, so the server parses what lanecopy sends and the
 * client costs nothing. "server COPY text file" is the server loading the
 * same rows from a COPY text file it wrote: its own text parsing, so that
 * the gain COPY binary can bring is measured in the same run.
 * Every load runs as a subprocess under `/usr/bin/time` (`load_methods.ts`),
 * so wall time, client CPU (user + sys) and client peak RSS are measured
 * the same way for all of them; the row count is checked after each load.
 * Prints a markdown table, then server CPU per row and each wall time
 * over the ceiling's.
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
import type pg from "pg";
import { writeCsvFile } from "./generate.ts";
import { insertCsvFile } from "./insert_path.ts";
import {
  type Measured,
  printAgainstCeiling,
  printTable,
} from "./compare_tables.ts";
import {
  insertPath,
  LANECOPY,
  LANECOPY_LANES,
  LANECOPY_PARALLEL,
  LANECOPY_TEXT,
  LANECOPY_TS,
  lanecopyLanes,
  lastJsonLine,
  LoadError,
  PSQL,
  quoted,
  serverFile,
  withClient,
} from "./load_methods.ts";
import { lanecopyBinaryFile } from "./lanecopy_binary_file.ts";
import { type MethodResult, writeReport } from "./report.ts";
import { postmasterPid, serverCpuSeconds } from "./server_cpu.ts";
import { typedTableDdl } from "./typed_table.ts";

const REPO_ROOT = fileURLToPath(new URL("..", import.meta.url));
/** The INSERT path's batch size in the default comparison. */
const INSERT_BATCH = 1000;
/** lanecopy's batch sizes in the report's second chart. */
const REPORT_BATCH_SIZES = [1000, 10_000, 100_000];
const SCHEMA = "public";

const INSERT = insertPath(INSERT_BATCH);

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
  // Autovacuum wakes once a minute: a vacuum that starts inside one load
  // would land, by chance, on whichever method runs then.
  await client.query(
    `ALTER TABLE ${quoted(table)} SET (autovacuum_enabled = false)`,
  );
}

/**
 * Empties `table` and, where the role may, runs a CHECKPOINT, so that each
 * load starts from the same server state: none writes out the rows of the
 * one before it, and each reaches its WAL-size checkpoints at the same
 * point. Returns whether the checkpoint ran.
 */
async function emptyTable(url: string, table: string): Promise<boolean> {
  return await withClient(url, async (client) => {
    await client.query(`TRUNCATE ${quoted(table)}`);
    try {
      await client.query("CHECKPOINT");
      return true;
    } catch {
      return false; // not superuser nor pg_checkpoint
    }
  });
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
  dir: string,
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
    serverFile(dir, "binary"),
    serverFile(dir, "text"),
    lanecopyBinaryFile(dir, typed),
    LANECOPY,
    LANECOPY_TEXT,
    LANECOPY_TS,
    LANECOPY_LANES,
    LANECOPY_PARALLEL,
    ...(report ? [insertPath(100)] : []),
    INSERT,
    ...(report ? [insertPath(5000), ...bySize] : []),
  ].filter((method) =>
    method === PSQL || only === undefined || only.includes(method.name)
  );
  const measured: Measured = {
    loads: new Map(methods.map((method) => [method.name, []])),
    serverCpu: new Map(methods.map((method) => [method.name, []])),
    binaryBatches: new Map(),
  };
  const postmaster = await postmasterPid(url).catch(() => undefined);
  const failures = new Map<string, string>();
  await withClient(url, async (client) => {
    await recreate(client, typed);
    await recreate(client, withLanes, true);
  });
  for (const method of methods) {
    try {
      await method.prepare?.(file, url);
    } catch (error) {
      if (
        !(error instanceof LoadError || error instanceof Deno.errors.NotFound)
      ) throw error;
      failures.set(method.name, error.message);
      console.error(`${method.name}: set-up failed: ${error.message}`);
    }
  }
  let checkpointRefused = false;
  for (let round = 0; round < rounds; round++) {
    // Rotate the order each round so no method always runs first.
    const order = methods.map((_, i) => methods[(i + round) % methods.length]);
    for (const method of order) {
      if (failures.has(method.name)) continue;
      const table = method.lanes ? withLanes : typed;
      if (!await emptyTable(url, table) && !checkpointRefused) {
        checkpointRefused = true;
        console.error(
          "CHECKPOINT refused (the role is not superuser nor pg_checkpoint): " +
            "a load may pay for writing out the one before it",
        );
      }
      const source = await freshLink(file);
      try {
        const cpuBefore = postmaster && await serverCpuSeconds(postmaster);
        const measure = await method.run(source, table, url);
        if (postmaster && cpuBefore !== undefined) {
          // The loader's backend may outlive it for a moment: read once
          // the server has no other client left.
          await backendsGone(url);
          measured.serverCpu.get(method.name)!.push(
            await serverCpuSeconds(postmaster) - cpuBefore,
          );
        }
        const loaded = await withClient(url, (client) => count(client, table));
        if (loaded !== rows) {
          throw new LoadError(`loaded ${loaded} rows: expected ${rows}`);
        }
        measured.loads.get(method.name)!.push(measure);
        const summary = lastJsonLine(measure.stdout);
        if (typeof summary?.binaryBatches === "number") {
          measured.binaryBatches.set(
            method.name,
            `${summary.binaryBatches}/${summary.batches}`,
          );
        }
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

  console.log(
    `\n${rows.toLocaleString("en-US")} rows, ${
      ((await Deno.stat(file)).size / 1e6).toFixed(1)
    } MB, median of ${rounds} round(s)\n`,
  );
  const results = printTable(methods, measured, rows);
  printAgainstCeiling(results, measured.binaryBatches, rows);
  if (report) await reportOf(results, url, file, rows, rounds);
  console.log(
    "\nratio > 1: faster than psql \\copy. Wall times include process start.",
  );
  return failures.has(PSQL.name) ? 1 : 0;
}

/** Writes `bench/REPORT.md` and its charts (`--report`). */
async function reportOf(
  results: MethodResult[],
  url: string,
  file: string,
  rows: number,
  rounds: number,
): Promise<void> {
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
    methods: results.filter((m) => !/--batch-size/.test(m.method)),
    batchSizes: results.flatMap((m) => {
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
        dir,
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
