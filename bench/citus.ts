/**
 * `deno task bench:citus`: what a load costs on Citus, and what routing
 * lanes to writers by shard saves. Starts the Citus test cluster (a
 * coordinator and two workers, as `deno task test:citus` does; or uses the
 * coordinator `LANECOPY_CITUS_URL` names) and loads two files into a table
 * distributed by its lane column over 32 shards, in interleaved rounds, with
 * `psql \copy`, lanecopy `--lane` (one writer), `--parallel 2 --routing
 * hash` and `--parallel 2 --routing shards` (and the last and one writer
 * again with `--batch-size 50000`), each into the table created
 * afresh: the generated CSV (`generate.ts`, 16 lanes) into the typed table
 * plus `lane_seq`, and a narrow file (`id,lane,v`) with many lanes
 * (`--lanes`, default 4,096), where a batch holds lanes of every shard.
 * Then it times a COPY of 5,000 rows (BEGIN, COPY, COMMIT) into 1, 2, 8,
 * 16 and 32 shards. Prints markdown tables of medians.
 *
 * ```sh
 * deno task bench:citus --rows 500000 --rounds 3 [--lanes 4096]
 * ```
 *
 * On one machine (the CI's has 2 cores) the coordinator, both workers and
 * the loader share the CPU: the figures show what each way costs, not how
 * it scales across machines.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { fileURLToPath } from "node:url";
// @ts-types="@types/pg"
import type pg from "pg";
// @ts-types="npm:@types/pg-copy-streams@1.2.5"
import { from as copyFrom } from "npm:pg-copy-streams@7.0.0";
import {
  type CitusCluster,
  citusSetup,
  installCitus,
  startCitusCluster,
} from "../tests/_citus.ts";
import { DEFAULT_SEED, writeCsvFile } from "./generate.ts";
import { withClient } from "./load_methods.ts";
import { TYPED_COLUMNS } from "./typed_table.ts";

const REPO_ROOT = fileURLToPath(new URL("..", import.meta.url));
const DATA_DIR = fileURLToPath(new URL("./data/", import.meta.url));
const PSQL_BIN = "/usr/lib/postgresql/15/bin/psql";
const TABLE = "lanecopy_citus_bench";
const PROBE = "lanecopy_citus_probe";
const SHARDS = 32;
const PROBE_ROWS = 5_000;
const PROBE_SHARDS = [1, 2, 8, 16, 32];
const PROBE_REPEATS = 7;

/** A file to load, and the table it goes into. */
interface Dataset {
  /** What it is, for the tables' titles. */
  title: string;
  /** The CSV file (with a header). */
  file: string;
  /** Its columns, in file order, as `[name, SQL type]`. */
  columns: readonly (readonly [string, string])[];
}

/** A way to load a dataset, timed as a subprocess. */
interface Method {
  name: string;
  argv(data: Dataset, url: string): string[];
}

/** The quoted column names of `columns`, comma-separated. */
const columnList = (columns: Dataset["columns"]) =>
  columns.map(([name]) => `"${name}"`).join(", ");

/** lanecopy's CLI with `--lane lane` and `flags`, a new source each run. */
function lanecopy(name: string, flags: string[]): Method {
  return {
    name,
    argv: (data, url) => [
      Deno.execPath(),
      "run",
      "-A",
      "--v8-flags=--max-semi-space-size=1",
      "src/cli/main.ts",
      "ingest",
      data.file,
      "--table",
      TABLE,
      "--db",
      url,
      "--lane",
      "lane",
      "--source-id",
      `bench ${crypto.randomUUID()}`,
      "--quiet",
      ...flags,
    ],
  };
}

const METHODS: Method[] = [
  {
    name: "psql \\copy",
    argv: (data, url) => [
      PSQL_BIN,
      url,
      "-X",
      "-q",
      "-v",
      "ON_ERROR_STOP=1",
      "-c",
      `\\copy "public"."${TABLE}" (${columnList(data.columns)}) FROM '${
        data.file.replaceAll("'", "''")
      }' (FORMAT csv, HEADER)`,
    ],
  },
  lanecopy("lanecopy --lane (1 writer)", []),
  lanecopy("lanecopy --parallel 2 --routing hash", [
    "--parallel",
    "2",
    "--routing",
    "hash",
  ]),
  lanecopy("lanecopy --parallel 2 --routing shards", [
    "--parallel",
    "2",
    "--routing",
    "shards",
  ]),
  // Fewer, larger batches: each pays the per-shard cost once per 50,000 rows.
  lanecopy("lanecopy --lane (1 writer) --batch-size 50000", [
    "--batch-size",
    "50000",
  ]),
  lanecopy("lanecopy --parallel 2 --routing shards --batch-size 50000", [
    "--parallel",
    "2",
    "--routing",
    "shards",
    "--batch-size",
    "50000",
  ]),
];

/** Runs `argv` from the repository root; its wall time in seconds. */
async function timed(argv: string[]): Promise<number> {
  const started = performance.now();
  const output = await new Deno.Command(argv[0], {
    args: argv.slice(1),
    cwd: REPO_ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const seconds = (performance.now() - started) / 1000;
  if (!output.success) {
    throw new Error(
      `${argv.slice(0, 6).join(" ")} … exited with ${output.code}: ${
        new TextDecoder().decode(output.stderr).trim()
      }`,
    );
  }
  return seconds;
}

/** The median of `values`. */
function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2
    ? sorted[middle]
    : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** Creates `table` with `columns` plus `lane_seq`, distributed by lane. */
async function createDistributed(
  client: pg.Client,
  table: string,
  columns: Dataset["columns"],
): Promise<void> {
  await client.query(`DROP TABLE IF EXISTS "public"."${table}"`);
  await client.query(
    `CREATE TABLE "public"."${table}" (${
      columns.map(([name, type]) => `"${name}" ${type}`).join(", ")
    }, lane_seq bigint)`,
  );
  await client.query(
    "SELECT create_distributed_table($1, 'lane', shard_count => $2)",
    [`public.${table}`, SHARDS],
  );
}

/**
 * Lane keys of `count` different shards of `table` (as Citus places them),
 * from candidates `lane-0`, `lane-1`, ….
 */
async function lanesInShards(
  client: pg.Client,
  table: string,
  count: number,
): Promise<string[]> {
  const { rows } = await client.query(
    `SELECT DISTINCT ON (shard) lane FROM (
       SELECT 'lane-' || n AS lane, n,
              get_shard_id_for_distribution_column($1, 'lane-' || n) AS shard
         FROM generate_series(0, 9999) n) c
      ORDER BY shard, n`,
    [`public.${table}`],
  );
  if (rows.length < count) {
    throw new Error(`Cannot find lanes in ${count} shards of ${table}`);
  }
  return rows.slice(0, count).map((row) => row.lane as string);
}

/** 5,000 rows of the typed table in COPY text, spread evenly over `lanes`. */
function probeRows(lanes: string[]): Uint8Array {
  const lines: string[] = [];
  for (let i = 0; i < PROBE_ROWS; i++) {
    lines.push(
      [
        i,
        `row ${i}`,
        i % 100,
        "1.50",
        "t",
        "2026-01-01 00:00:00+00",
        lanes[i % lanes.length],
        '{"k": 1}',
        "\\N",
        crypto.randomUUID(),
        i + 1,
      ].join("\t"),
    );
  }
  return new TextEncoder().encode(lines.join("\n") + "\n");
}

/** Milliseconds of BEGIN, COPY of `rows`, COMMIT into the probe table. */
async function timeCopy(client: pg.Client, rows: Uint8Array): Promise<number> {
  const started = performance.now();
  await client.query("BEGIN");
  await pipeline(
    Readable.from([rows]),
    client.query(
      copyFrom(
        `COPY "public"."${PROBE}" (${
          columnList(TYPED_COLUMNS)
        }, lane_seq) FROM STDIN (FORMAT text)`,
      ),
    ),
  );
  await client.query("COMMIT");
  return performance.now() - started;
}

const NUMBER = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });
const FIXED = (digits: number) =>
  new Intl.NumberFormat("en-US", {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });

/** Writes `rows` records `id,lane,v` in `lanes` lanes, spread pseudo-randomly. */
async function writeManyLanes(
  path: string,
  rows: number,
  lanes: number,
): Promise<void> {
  const file = await Deno.create(path);
  const writer = file.writable.getWriter();
  const encoder = new TextEncoder();
  let chunk = ["id,lane,v\n"];
  for (let id = 1; id <= rows; id++) {
    const lane = Number((BigInt(id) * 2654435761n) % BigInt(lanes));
    chunk.push(`${id},lane-${lane},value ${id}\n`);
    if (chunk.length === 10_000 || id === rows) {
      await writer.write(encoder.encode(chunk.join("")));
      chunk = [];
    }
  }
  await writer.close();
}

/** The two datasets, generated into `bench/data/` when missing. */
async function datasets(rows: number, lanes: number): Promise<Dataset[]> {
  await Deno.mkdir(DATA_DIR, { recursive: true });
  const typed = `${DATA_DIR}citus_${rows}.csv`;
  const narrow = `${DATA_DIR}citus_${rows}_${lanes}_lanes.csv`;
  const missing = async (path: string) => {
    try {
      await Deno.stat(path);
      return false;
    } catch {
      console.error(`generating ${NUMBER.format(rows)} rows into ${path}`);
      return true;
    }
  };
  if (await missing(typed)) {
    await writeCsvFile(typed, { rows, seed: DEFAULT_SEED });
  }
  if (await missing(narrow)) await writeManyLanes(narrow, rows, lanes);
  return [
    {
      title: "the generated CSV (generate.ts: 10 typed columns, 16 lanes)",
      file: typed,
      columns: TYPED_COLUMNS,
    },
    {
      title: `id,lane,v with ${NUMBER.format(lanes)} lanes`,
      file: narrow,
      columns: [["id", "bigint"], ["lane", "text"], ["v", "text"]],
    },
  ];
}

/** Each method's wall times loading `data`, in interleaved rounds. */
async function loadRounds(
  url: string,
  data: Dataset,
  rows: number,
  rounds: number,
): Promise<Map<string, number[]>> {
  const walls = new Map(METHODS.map((method) => [method.name, [] as number[]]));
  for (let round = 0; round < rounds; round++) {
    const order = METHODS.map((_, i) => METHODS[(i + round) % METHODS.length]);
    for (const method of order) {
      // Created afresh, not truncated: lanecopy's check of a truncated
      // distributed table fails on Citus 13.2.2 (`SELECT FROM` a
      // distributed table with no target list).
      await withClient(
        url,
        (client) => createDistributed(client, TABLE, data.columns),
      );
      const seconds = await timed(method.argv(data, url));
      const loaded = await withClient(url, async (client) =>
        Number(
          (await client.query(`SELECT count(*) AS n FROM ${TABLE}`)).rows[0].n,
        ));
      if (loaded !== rows) {
        throw new Error(`${method.name} loaded ${loaded} rows, not ${rows}`);
      }
      walls.get(method.name)!.push(seconds);
      console.error(
        `round ${round + 1}: ${method.name} ${FIXED(2).format(seconds)} s`,
      );
    }
  }
  return walls;
}

/** Milliseconds of 5,000-row COPYs by the number of shards they touch. */
async function probeShards(url: string): Promise<Map<number, number[]>> {
  return await withClient(url, async (client) => {
    await createDistributed(client, PROBE, TYPED_COLUMNS);
    const lanes = await lanesInShards(client, PROBE, SHARDS);
    const times = new Map<number, number[]>();
    for (let repeat = 0; repeat < PROBE_REPEATS; repeat++) {
      for (const shards of PROBE_SHARDS) {
        const ms = await timeCopy(client, probeRows(lanes.slice(0, shards)));
        // The first round warms connections and caches up: not counted.
        if (repeat > 0) times.set(shards, [...times.get(shards) ?? [], ms]);
      }
      await client.query(`TRUNCATE ${PROBE}`);
    }
    await client.query(`DROP TABLE ${PROBE}`);
    return times;
  });
}

async function bench(
  url: string,
  rows: number,
  rounds: number,
  lanes: number,
): Promise<void> {
  const version = await withClient(url, async (client) =>
    String(
      (await client.query("SELECT citus_version() AS v")).rows[0].v,
    ).split(" on ")[0]);
  const results: [Dataset, Map<string, number[]>][] = [];
  for (const data of await datasets(rows, lanes)) {
    results.push([data, await loadRounds(url, data, rows, rounds)]);
  }
  const probes = await probeShards(url);
  await withClient(url, (client) => client.query(`DROP TABLE ${TABLE}`));

  console.log(
    `\n## lanecopy on Citus: ${
      NUMBER.format(rows)
    } rows into a table distributed by lane over ${SHARDS} shards, median of ${rounds} interleaved rounds\n`,
  );
  console.log(
    `${version}; a coordinator and two workers on this one machine (${navigator.hardwareConcurrency} cores, fsync off); lanecopy's default batch of 10,000 rows. The loader and all three nodes share its CPU: these figures show costs, not scale.`,
  );
  for (const [data, walls] of results) {
    const psql = median(walls.get(METHODS[0].name)!);
    console.log(
      `\n### ${data.title}, ${
        FIXED(1).format((await Deno.stat(data.file)).size / 1e6)
      } MB\n`,
    );
    console.log("| method | wall s | rows/s | wall vs psql \\copy |");
    console.log("| --- | ---: | ---: | ---: |");
    for (const method of METHODS) {
      const wall = median(walls.get(method.name)!);
      console.log(
        `| ${method.name} | ${FIXED(2).format(wall)} | ${
          NUMBER.format(rows / wall)
        } | ${FIXED(2).format(wall / psql)} |`,
      );
    }
  }
  console.log(
    `\n### One COPY of ${
      NUMBER.format(PROBE_ROWS)
    } rows (BEGIN, COPY, COMMIT) by shards touched, median of ${
      PROBE_REPEATS - 1
    }\n`,
  );
  console.log("| shards touched | median ms | min ms |");
  console.log("| ---: | ---: | ---: |");
  for (const shards of PROBE_SHARDS) {
    const times = probes.get(shards)!;
    console.log(
      `| ${shards} | ${FIXED(1).format(median(times))} | ${
        FIXED(1).format(Math.min(...times))
      } |`,
    );
  }
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      rows: { type: "string", default: "2000000" },
      rounds: { type: "string", default: "3" },
      lanes: { type: "string", default: "4096" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    console.log(
      "usage: deno task bench:citus [--rows N (default 2000000)] [--rounds N (default 3)] [--lanes N (default 4096)]",
    );
    return 0;
  }
  const rows = Number(values.rows);
  const rounds = Number(values.rounds);
  const lanes = Number(values.lanes);
  if (!Number.isInteger(lanes) || lanes < 1) {
    console.error(
      `bench:citus: Cannot use --lanes ${values.lanes}: expected a positive whole number`,
    );
    return 2;
  }
  if (!Number.isInteger(rows) || rows < 1) {
    console.error(
      `bench:citus: Cannot use --rows ${values.rows}: expected a positive whole number`,
    );
    return 2;
  }
  if (!Number.isInteger(rounds) || rounds < 1) {
    console.error(
      `bench:citus: Cannot use --rounds ${values.rounds}: expected a positive whole number`,
    );
    return 2;
  }
  const setup = await citusSetup();
  if (setup.kind === "none") {
    console.error(`bench:citus: Cannot run: ${setup.reason}`);
    return 1;
  }
  if (setup.kind === "url") {
    await bench(setup.url, rows, rounds, lanes);
    return 0;
  }
  if (setup.install) await installCitus(setup.install, setup.binDir);
  let cluster: CitusCluster | undefined;
  const stop = async () => {
    await cluster?.stop();
    Deno.exit(130);
  };
  Deno.addSignalListener("SIGINT", stop);
  try {
    cluster = await startCitusCluster(setup.binDir);
    console.error(`bench:citus: throwaway Citus cluster at ${cluster.url}`);
    await bench(cluster.url, rows, rounds, lanes);
    return 0;
  } finally {
    await cluster?.stop();
    Deno.removeSignalListener("SIGINT", stop);
  }
}

if (import.meta.main) Deno.exit(await main());
