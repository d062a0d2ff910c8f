/**
 * Upsert at COPY speed, measured: the same generated CSV goes into the same
 * starting table five ways, in interleaved rounds (the order rotates each
 * round), each as its own subprocess under `/usr/bin/time`, so wall time,
 * client CPU and client peak RSS are measured alike (wall includes process
 * start):
 *
 * - **A, INSERT … ON CONFLICT batches**: a careful user's path with npm:pg.
 *   The file is read line by line (it has no quotes or commas in fields, so
 *   a split is exact); every 1,000 rows become ONE multi-row statement
 *   `INSERT INTO t (cols) VALUES ($1,…),(…) ON CONFLICT (id) DO UPDATE SET
 *   …` in autocommit (each batch its own transaction), a named prepared
 *   statement for full batches. In-batch duplicate keys are removed, last
 *   wins (the generated file has none).
 * - **B, lanecopy ingest --on-conflict update**: the CLI, per batch COPY
 *   into a temp staging table then one `INSERT … SELECT … ON CONFLICT`.
 * - **C, lanecopy ingest (append)**: the CLI's plain COPY path into an
 *   EMPTY table of the same definition: the yardstick for B.
 * - **D, server alone**: psql sends ONE `INSERT … SELECT … FROM src ORDER
 *   BY id ON CONFLICT (id) DO UPDATE`, src a typed table (`n`, the file row
 *   number, plus the columns) loaded once, untimed, by psql `\copy`: the
 *   floor of the ON CONFLICT work on this server, with no client.
 * - **E, server alone in batches**: D per 10,000 rows in file order (an
 *   indexed `n` range), each its own transaction: B's batches, no client.
 *
 * The file holds ids 1..N in a shuffled order; the starting table of A, B, D
 * and E holds every even id with other values (half the rows update, half
 * insert). Before each timed run its table is re-created, vacuumed, analyzed
 * and a CHECKPOINT taken (untimed). After each round the A, D and E tables
 * must equal B's (`EXCEPT` both ways empty), all hold N rows and no starting
 * value: the bench exits 1 otherwise. Server CPU (all server processes, from
 * `/proc`) is shown when the server runs on this machine.
 *
 * Prints per-method medians and four ratios: B rows/s ÷ A rows/s (target
 * ≥ 3), B wall ÷ C wall (target ≤ 1.6), B wall ÷ D wall and D wall ÷ C wall
 * (can any ON CONFLICT upsert come within 1.6× of plain COPY here?).
 *
 * ```sh
 * deno task bench:upsert [--rows 1000000] [--rounds 3] [--keep]
 * DATABASE_URL=postgres://… deno run -A bench/upsert.ts --rows 100000
 * ```
 *
 * Without `DATABASE_URL` a throwaway cluster (fsync on) is started, as
 * `deno task bench:compare` does, and stopped at the end unless `--keep`.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
// @ts-types="@types/pg"
import type pg from "pg";
import { type LoadMeasure, timedRun, withClient } from "./load_methods.ts";
import { postmasterPid, serverCpuSeconds } from "./server_cpu.ts";
import {
  startThrowawayCluster,
  type ThrowawayCluster,
} from "../tests/_cluster.ts";

const INSERT_BATCH = 1000;
const SERVER_BATCH = 10_000;
const COLUMNS = ["id", "name", "qty", "price", "updated_at"] as const;
const TYPES = `name text, qty int, price numeric(12,2), updated_at timestamptz`;
const DDL = (table: string) =>
  `CREATE TABLE ${table} (id bigint PRIMARY KEY, ${TYPES})`;
const UPDATE = `ON CONFLICT (id) DO UPDATE SET ${
  COLUMNS.slice(1).map((c) => `${c} = EXCLUDED.${c}`).join(", ")
}`;
const SRC = "upsert_src";
const KEYS = ["A", "B", "C", "D", "E"] as const;
type Key = typeof KEYS[number];
const TABLES = Object.fromEntries(
  KEYS.map((key) => [key, `upsert_${key.toLowerCase()}`]),
) as Record<Key, string>;
const NAMES: Record<Key, string> = {
  A: `A: INSERT ... ON CONFLICT batches (${INSERT_BATCH})`,
  B: "B: lanecopy ingest --on-conflict update",
  C: "C: lanecopy ingest (append, empty table)",
  D: "D: server alone, one INSERT ... SELECT ... ON CONFLICT",
  E: `E: server alone, batches (${SERVER_BATCH.toLocaleString("en-US")})`,
};
/** D's and E's upsert: all {@linkcode SRC}, or the batch of rows after `n`. */
const serverUpsert = (table: string, n?: number) =>
  `INSERT INTO ${table} (${COLUMNS.join(", ")}) SELECT ${
    COLUMNS.join(", ")
  } FROM ${SRC} ${
    n === undefined ? "" : `WHERE n > ${n} AND n <= ${n + SERVER_BATCH}`
  } ORDER BY id ${UPDATE}`;
/** psql's argv: each `-c` is its own transaction. */
const psql = (url: string, sql: string[]) =>
  ["psql", url, "-X", "-v", "ON_ERROR_STOP=1"].concat(
    sql.flatMap((s) => ["-c", s]),
  );

/** A small seeded PRNG (mulberry32): the same seed, the same file. */
function rng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Writes `rows` rows, ids 1..rows shuffled, no quotes or commas in fields. */
async function writeFile(path: string, rows: number): Promise<void> {
  const random = rng(7);
  const ids = new Int32Array(rows);
  for (let i = 0; i < rows; i++) ids[i] = i + 1;
  for (let i = rows - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [ids[i], ids[j]] = [ids[j], ids[i]];
  }
  const file = await Deno.create(path);
  const writer = file.writable.getWriter();
  const encoder = new TextEncoder();
  let chunk = `${COLUMNS.join(",")}\n`;
  const base = Date.UTC(2024, 0, 1);
  for (let i = 0; i < rows; i++) {
    const name = `item ${Math.floor(random() * 1e9).toString(36)} ${
      ["red", "blue", "green", "café", "naïve"][Math.floor(random() * 5)]
    }`;
    const qty = Math.floor(random() * 1000);
    const price = (Math.floor(random() * 10_000_000) / 100).toFixed(2);
    const at = new Date(base + Math.floor(random() * 3e10)).toISOString();
    chunk += `${ids[i]},${name},${qty},${price},${at}\n`;
    if (chunk.length > 1 << 16) {
      await writer.write(encoder.encode(chunk));
      chunk = "";
    }
  }
  await writer.write(encoder.encode(chunk));
  await writer.close();
}

/** Loads the file into {@linkcode SRC}, untimed, for D and E. */
async function loadSource(url: string, file: string): Promise<void> {
  await timedRun(psql(url, [
    `DROP TABLE IF EXISTS ${SRC}`,
    `CREATE TABLE ${SRC} (n bigint GENERATED ALWAYS AS IDENTITY, id bigint,
       ${TYPES})`,
    `\\copy ${SRC} (${COLUMNS.join(", ")}) FROM '${
      file.replaceAll("'", "''")
    }' (FORMAT csv, HEADER)`,
    `CREATE INDEX ON ${SRC} (n)`,
    `VACUUM ANALYZE ${SRC}`,
  ])).catch((error) => {
    throw new Error(`loading ${SRC} failed: ${error.message}`);
  });
}

/** The one number `text` selects. */
const scalar = (client: pg.Client, text: string) =>
  client.query({ text, rowMode: "array" }).then((r) => Number(r.rows[0][0]));

/** (Re)creates a method's table: C is empty, the others hold every even id. */
async function prepare(url: string, key: Key, rows: number): Promise<void> {
  await withClient(url, async (client) => {
    const table = TABLES[key];
    await client.query(`DROP TABLE IF EXISTS ${table}`);
    await client.query(DDL(table));
    if (key !== "C") {
      await client.query(
        `INSERT INTO ${table}
         SELECT g, 'old ' || g, -1, 0, '2000-01-01T00:00:00Z'
           FROM generate_series(2, $1::bigint, 2) g`,
        [rows],
      );
    }
    await client.query(`VACUUM ANALYZE ${table}`);
    await client.query("CHECKPOINT");
  });
}

/** Waits until the server has no client session but this check's own. */
async function backendsGone(url: string): Promise<void> {
  for (let tries = 0; tries < 100; tries++) {
    const others = await withClient(url, (client) =>
      scalar(
        client,
        `SELECT count(*) FROM pg_stat_activity
          WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()`,
      ));
    if (others === 0) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  await new Promise((resolve) => setTimeout(resolve, 100));
}

/** The argv of one timed run of method `key`. */
function command(key: Key, file: string, url: string, rows: number): string[] {
  if (key === "D") return psql(url, [serverUpsert(TABLES.D)]);
  if (key === "E") {
    const sql = [];
    for (let n = 0; n < rows; n += SERVER_BATCH) {
      sql.push(serverUpsert(TABLES.E, n));
    }
    return psql(url, sql);
  }
  if (key === "A") {
    return [
      ...[Deno.execPath(), "run", "-A", fileURLToPath(import.meta.url)],
      ...["--insert-worker", file, "--table", TABLES.A, "--db", url],
    ];
  }
  return [
    // The flags `deno task ingest` and `deno task install` use.
    ...[Deno.execPath(), "run", "-A", "--v8-flags=--max-semi-space-size=1"],
    ...["src/cli/main.ts", "ingest", file, "--table", TABLES[key], "--db", url],
    // Each run is a new load of the file, not a resume of the last.
    ...["--source-id", `bench upsert ${crypto.randomUUID()}`, "--quiet"],
    ...(key === "B" ? ["--on-conflict", "update", "--json"] : ["--json"]),
  ];
}

/**
 * Method A as its own process: batches of {@linkcode INSERT_BATCH} rows, one
 * multi-row `INSERT … ON CONFLICT (id) DO UPDATE` per batch, autocommit.
 */
async function insertWorker(
  file: string,
  table: string,
  url: string,
): Promise<void> {
  const width = COLUMNS.length;
  const statement = (rows: number) => {
    const tuples = [];
    for (let r = 0; r < rows; r++) {
      const params = COLUMNS.map((_, c) => `$${r * width + c + 1}`);
      tuples.push(`(${params.join(",")})`);
    }
    return `INSERT INTO ${table} (${COLUMNS.join(", ")}) VALUES ${
      tuples.join(",")
    } ${UPDATE}`;
  };
  const full = statement(INSERT_BATCH);
  let affected = 0;
  await withClient(url, async (client) => {
    // Last wins within a batch: Postgres refuses to affect a row twice.
    let batch = new Map<string, string[]>();
    const flush = async () => {
      const values = [...batch.values()].flat();
      const result = batch.size === INSERT_BATCH
        ? await client.query({ name: "upsert_full", text: full, values })
        : await client.query(statement(batch.size), values);
      affected += result.rowCount ?? 0;
      batch = new Map();
    };
    let header = true;
    let rest = "";
    const lines = (await Deno.open(file)).readable.pipeThrough(
      new TextDecoderStream(),
    );
    for await (const text of lines) {
      const parts = (rest + text).split("\n");
      rest = parts.pop()!;
      for (const line of parts) {
        if (header) {
          header = false;
          continue;
        }
        const fields = line.split(",");
        batch.delete(fields[0]);
        batch.set(fields[0], fields);
        if (batch.size === INSERT_BATCH) await flush();
      }
    }
    if (rest !== "") {
      const fields = rest.split(",");
      batch.delete(fields[0]);
      batch.set(fields[0], fields);
    }
    if (batch.size > 0) await flush();
  });
  console.log(JSON.stringify({ rows: affected }));
}

/** Fails the bench unless the A, D and E tables equal B's, all upserted. */
async function checkEqual(url: string, rows: number): Promise<void> {
  const { A, B, D, E } = TABLES;
  const checks: Record<string, string> = {};
  for (const [x, y] of [A, D, E].flatMap((X) => [[X, B], [B, X]])) {
    checks[`${x} EXCEPT ${y}`] = `SELECT count(*) FROM (TABLE ${x}
      EXCEPT TABLE ${y}) d`;
  }
  for (const X of [A, B, D, E]) {
    checks[`${X} rows - ${rows}`] = `SELECT count(*) - ${rows} FROM ${X}`;
  }
  checks[`${B} rows not updated`] = `SELECT count(*) FROM ${B} WHERE qty = -1`;
  const problems = await withClient(url, async (client) => {
    const found = [];
    for (const [label, text] of Object.entries(checks)) {
      const n = await scalar(client, text);
      if (n !== 0) found.push(`${label}: ${n}`);
    }
    return found;
  });
  if (problems.length > 0) {
    throw new Error(`tables differ: ${problems.join(", ")}`);
  }
}

function median(values: number[]): number {
  const sorted = values.toSorted((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

async function bench(
  url: string,
  file: string,
  rows: number,
  rounds: number,
): Promise<void> {
  await loadSource(url, file);
  const measures = new Map<Key, LoadMeasure[]>(KEYS.map((k) => [k, []]));
  const serverCpu = new Map<Key, number[]>(KEYS.map((k) => [k, []]));
  const postmaster = await postmasterPid(url).catch(() => undefined);
  for (let round = 0; round < rounds; round++) {
    const order = KEYS.map((_, i) => KEYS[(i + round) % KEYS.length]);
    for (const key of order) {
      await prepare(url, key, rows);
      await backendsGone(url);
      const before = postmaster && await serverCpuSeconds(postmaster);
      let measure: LoadMeasure;
      try {
        measure = await timedRun(command(key, file, url, rows));
      } catch (error) {
        throw new Error(`${NAMES[key]} failed: ${(error as Error).message}`);
      }
      if (postmaster && before !== undefined) {
        // The loader's backend may outlive it for a moment.
        await backendsGone(url);
        serverCpu.get(key)!.push(await serverCpuSeconds(postmaster) - before);
      }
      const loaded = await withClient(
        url,
        (client) => scalar(client, `SELECT count(*) FROM ${TABLES[key]}`),
      );
      if (loaded !== rows) {
        throw new Error(`${NAMES[key]}: ${loaded} rows, expected ${rows}`);
      }
      measures.get(key)!.push(measure);
      const out = measure.stdout.trim().split("\n");
      // psql (D, E) prints a tag `INSERT 0 <rows>` per statement.
      const last = key === "D" || key === "E"
        ? { rows: out.reduce((sum, tag) => sum + Number(tag.split(" ")[2]), 0) }
        : JSON.parse(out.at(-1)!);
      const counts = ["rows", "inserted", "updated"].filter((k) => k in last)
        .map((k) => `${k} ${last[k]}`).join(", ");
      console.error(
        `round ${round + 1}: ${NAMES[key]}: ${
          measure.wall.toFixed(2)
        } s (${counts})`,
      );
    }
    await checkEqual(url, rows);
    console.error(`round ${round + 1}: A, D and E tables equal B's`);
  }

  const wall = (key: Key) => median(measures.get(key)!.map((m) => m.wall));
  const size = (await Deno.stat(file)).size / 1e6;
  console.log(
    `\n${rows.toLocaleString("en-US")} rows (${
      size.toFixed(1)
    } MB CSV; half the keys already in the table but for C), median of ${rounds} round(s), ${navigator.hardwareConcurrency} CPUs, PostgreSQL ${await withClient(
      url,
      async (client) =>
        (await client.query("SHOW server_version")).rows[0].server_version,
    )}\n`,
  );
  console.log(
    "| method | median wall s | rows/s | client CPU s | server CPU s | client peak RSS MiB |",
  );
  console.log("| --- | ---: | ---: | ---: | ---: | ---: |");
  for (const key of KEYS) {
    const list = measures.get(key)!;
    const server = serverCpu.get(key)!;
    console.log(
      `| ${NAMES[key]} | ${wall(key).toFixed(2)} | ${
        Math.round(rows / wall(key)).toLocaleString("en-US")
      } | ${median(list.map((m) => m.cpu)).toFixed(2)} | ${
        server.length > 0 ? median(server).toFixed(2) : "n/a"
      } | ${(Math.max(...list.map((m) => m.maxRssKiB)) / 1024).toFixed(0)} |`,
    );
  }
  const ratio = (x: Key, y: Key) => wall(x) / wall(y);
  const [ab, bc, dc] = [ratio("A", "B"), ratio("B", "C"), ratio("D", "C")];
  const met = (ok: boolean) => ok ? "met" : "NOT met";
  console.log([
    `\nB rows/s ÷ A rows/s: ${ab.toFixed(2)} (target ≥ 3: ${met(ab >= 3)})`,
    `B wall ÷ C wall: ${bc.toFixed(2)} (target ≤ 1.6: ${met(bc <= 1.6)})`,
    `B wall ÷ D wall: ${
      ratio("B", "D").toFixed(2)
    } (B over the server's floor)`,
    `D wall ÷ C wall: ${dc.toFixed(2)} (≤ 1.6 by any ON CONFLICT upsert: ${
      dc <= 1.6 ? "reachable" : "NOT reachable"
    })`,
    "Wall times include process start (psql for D and E).",
  ].join("\n"));
}

const USAGE =
  "usage: deno run -A bench/upsert.ts [--rows N] [--rounds R] [--keep]";

async function main(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      rows: { type: "string", default: "1000000" },
      rounds: { type: "string", default: "3" },
      keep: { type: "boolean" },
      "insert-worker": { type: "string" },
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
    await insertWorker(values["insert-worker"], values.table!, values.db!);
    return 0;
  }
  const rows = Number(values.rows);
  const rounds = Number(values.rounds);
  for (const [name, value] of [["rows", rows], ["rounds", rounds]] as const) {
    if (!Number.isSafeInteger(value) || value < 1) {
      console.error(
        `upsert: Cannot run as --${name} must be a positive integer: current value is ${
          values[name]
        }\n${USAGE}`,
      );
      return 2;
    }
  }
  const started = performance.now();
  let cluster: ThrowawayCluster | undefined;
  let url = Deno.env.get("DATABASE_URL");
  let onInterrupt: (() => void) | undefined;
  if (!url) {
    cluster = await startThrowawayCluster({ durable: true });
    url = cluster.url;
    console.error(`upsert: throwaway PostgreSQL (fsync on) at ${url}`);
    onInterrupt = async () => {
      if (!values.keep) await cluster?.stop();
      Deno.exit(130);
    };
    Deno.addSignalListener("SIGINT", onInterrupt);
  }
  const dir = await Deno.makeTempDir({ prefix: "lanecopy_upsert_" });
  try {
    const file = join(dir, "upsert.csv");
    await writeFile(file, rows);
    await bench(url, file, rows, rounds);
    console.error(
      `upsert: took ${((performance.now() - started) / 1000).toFixed(0)} s`,
    );
    return 0;
  } finally {
    await Deno.remove(dir, { recursive: true });
    if (onInterrupt) Deno.removeSignalListener("SIGINT", onInterrupt);
    if (cluster && values.keep) {
      console.error(`upsert: kept PostgreSQL running at ${url}`);
    } else {
      await cluster?.stop();
    }
  }
}

if (import.meta.main) {
  try {
    Deno.exitCode = await main(Deno.args);
  } catch (error) {
    console.error(`upsert: ${error instanceof Error ? error.message : error}`);
    Deno.exitCode = 1;
  }
}
