/**
 * COPY vs the INSERT batch path, loading the same generated CSV (100k rows by
 * default) into a freshly truncated typed table each iteration:
 *
 * - `COPY csv (pg-copy-streams)`: the file piped through `COPY … FROM STDIN
 *   (FORMAT csv, HEADER)`, the server's raw COPY speed (the baseline);
 * - `INSERT unnest batch N`: `insert_path.ts` at batch sizes 100, 1000, 5000;
 * - `lanecopy ingest`: the library, when `src/mod.ts` imports.
 *
 * Needs a real server in `DATABASE_URL`; `deno task bench` starts one.
 * `LANECOPY_BENCH_ROWS` changes the row count. Only the load is timed
 * (connect, TRUNCATE and the row count check are not, except that
 * `ingest()` opens its own connection inside the timed part). A rows/s
 * summary is printed when the run ends.
 *
 * @module
 */

import { createReadStream } from "node:fs";
import { pipeline } from "node:stream/promises";
import { join } from "node:path";
// @ts-types="@types/pg"
import pg from "pg";
// @ts-types="@types/pg-copy-streams"
import { from as copyFrom } from "pg-copy-streams";
import { writeCsvFile } from "./generate.ts";
import { insertCsvFile } from "./insert_path.ts";
import { typedTableDdl } from "./typed_table.ts";

const DATABASE_URL = Deno.env.get("DATABASE_URL");
if (!DATABASE_URL) {
  throw new Error(
    "Cannot run the COPY vs INSERT bench as DATABASE_URL is not set: run it with `deno task bench` (it starts a throwaway PostgreSQL) or set DATABASE_URL to a server you can write to",
  );
}
const url: string = DATABASE_URL;

const ROWS = Number(Deno.env.get("LANECOPY_BENCH_ROWS") ?? 100_000);
const LABEL = ROWS % 1000 === 0 ? `${ROWS / 1000}k rows` : `${ROWS} rows`;
const GROUP = `load ${LABEL}`;
const SCHEMA = "public";
const TABLE_NAME = "lanecopy_bench_load";
const TABLE = `"${SCHEMA}"."${TABLE_NAME}"`;
const N = 3;

/** The subset of `ingest()` this bench calls. */
type IngestFn = (options: {
  source: string | ReadableStream<Uint8Array>;
  table: string;
  db?: string;
  batchSize?: number;
  quiet?: boolean;
}) => Promise<{ rows: number }>;

let ingest: IngestFn | undefined;
try {
  // A computed specifier: deno neither type-checks nor preloads it, so this
  // file still runs while src/ is missing, broken or exports no ingest().
  const specifier = new URL("../src/mod.ts", import.meta.url).href;
  const mod = await import(specifier);
  if (typeof mod.ingest !== "function") {
    throw new TypeError("it exports no ingest() function");
  }
  ingest = mod.ingest;
} catch (error) {
  console.error(
    `note: skipping "lanecopy ingest": ../src/mod.ts did not import (${
      error instanceof Error ? error.message.split("\n")[0] : error
    })`,
  );
}

const dir = await Deno.makeTempDir({ prefix: "lanecopy_bench_" });
const file = join(dir, "rows.csv");
await writeCsvFile(file, { rows: ROWS, seed: 1 });
const fileBytes = (await Deno.stat(file)).size;

{
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query(`DROP TABLE IF EXISTS ${TABLE}`);
  await client.query(typedTableDdl(TABLE));
  await client.end();
}

/** Measured load seconds per bench name, for the rows/s summary. */
const timings = new Map<string, number[]>();

globalThis.addEventListener("unload", () => {
  const lines = [
    `\nrows/s (${LABEL}, ${
      (fileBytes / 1e6).toFixed(1)
    } MB, median over all runs, warmups included):`,
  ];
  for (const [name, seconds] of timings) {
    const sorted = seconds.toSorted((a, b) => a - b);
    const median = sorted[Math.floor(sorted.length / 2)];
    lines.push(
      `  ${name.padEnd(48)} ${
        Math.round(ROWS / median).toLocaleString("en-US").padStart(10)
      } rows/s  ${(fileBytes / 1e6 / median).toFixed(1).padStart(6)} MB/s`,
    );
  }
  console.log(lines.join("\n"));
  try {
    Deno.removeSync(dir, { recursive: true });
  } catch {
    // Already gone.
  }
});

/**
 * Runs one timed load into the freshly truncated table and checks that it
 * loaded every row. `load` runs between `b.start()` and `b.end()`.
 */
async function timedLoad(
  b: Deno.BenchContext,
  name: string,
  load: (client: pg.Client) => Promise<unknown>,
): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`TRUNCATE ${TABLE}`);
    const started = performance.now();
    b.start();
    await load(client);
    b.end();
    const seconds = (performance.now() - started) / 1000;
    const { rows } = await client.query<{ n: string }>(
      `SELECT count(*) AS n FROM ${TABLE}`,
    );
    if (Number(rows[0].n) !== ROWS) {
      throw new Error(
        `Cannot trust "${name}" as it loaded ${
          rows[0].n
        } rows: expected ${ROWS}`,
      );
    }
    const list = timings.get(name) ?? [];
    list.push(seconds);
    timings.set(name, list);
  } finally {
    await client.end();
  }
}

const copyName = `COPY csv (pg-copy-streams), ${LABEL}`;
Deno.bench({
  name: copyName,
  group: GROUP,
  baseline: true,
  n: N,
  warmup: 1,
  // An async function: deno bench only awaits `fn` when it is one.
  fn: async (b) => {
    await timedLoad(b, copyName, async (client) => {
      const copy = client.query(
        copyFrom(`COPY ${TABLE} FROM STDIN (FORMAT csv, HEADER)`),
      );
      await pipeline(createReadStream(file), copy);
    });
  },
});

for (const batchSize of [100, 1000, 5000]) {
  const name = `INSERT unnest batch ${batchSize}, ${LABEL}`;
  Deno.bench({
    name,
    group: GROUP,
    n: N,
    warmup: 1,
    fn: async (b) => {
      await timedLoad(
        b,
        name,
        (client) => insertCsvFile(client, TABLE, file, batchSize),
      );
    },
  });
}

const ingestBatch = 10_000;
let ingestRuns = 0;
const ingestName = `lanecopy ingest (batch ${ingestBatch}), ${LABEL}`;
Deno.bench({
  name: ingestName,
  group: GROUP,
  n: N,
  warmup: 1,
  ignore: ingest === undefined,
  fn: async (b) => {
    // A new path each run: a source lanecopy already committed is skipped.
    const source = join(dir, `rows_${++ingestRuns}.csv`);
    await Deno.link(file, source);
    await timedLoad(b, ingestName, async () => {
      const summary = await ingest!({
        source,
        table: `${SCHEMA}.${TABLE_NAME}`,
        db: url,
        batchSize: ingestBatch,
        quiet: true,
      });
      await Deno.remove(source);
      if (summary.rows !== ROWS) {
        throw new Error(
          `Cannot trust "lanecopy ingest" as it reported ${summary.rows} rows: expected ${ROWS}`,
        );
      }
    });
  },
});
