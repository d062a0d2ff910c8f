/**
 * The cost of exactly-once bookkeeping, side by side on a real server: the
 * same rows loaded without bookkeeping (`lanecopy encode FILE | psql -c
 * '\copy t from stdin'`) and by `lanecopy ingest --lane lane` (markers,
 * lane seqs, counters, progress, notifications), at batch 10,000, into the
 * same typed table (truncated before each run), in interleaved rounds.
 * Prints each round and the median ratio.
 *
 * ```sh
 * deno task bench:overhead [--rows 1000000] [--rounds 3]
 * DATABASE_URL=postgres://… deno run -A bench/overhead.ts --rows 1000000
 * ```
 *
 * @module
 */

import { parseArgs } from "node:util";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
// @ts-types="@types/pg"
import pg from "pg";
import { type LoadMeasure, timedRun } from "./load_methods.ts";
import { writeCsvFile } from "./generate.ts";
import { TYPED_COLUMNS, typedTableDdl } from "./typed_table.ts";

const BATCH_SIZE = 10_000;
const TABLE = "bench_overhead";
const META = "bench_overhead_meta";

const { values } = parseArgs({
  options: {
    rows: { type: "string", default: "1000000" },
    rounds: { type: "string", default: "3" },
  },
});
const rows = Number(values.rows);
const rounds = Number(values.rounds);
const url = Deno.env.get("DATABASE_URL");
if (!url) {
  throw new Error(
    "Cannot run without DATABASE_URL (deno task bench:overhead starts a server)",
  );
}

const dataDir = join(fileURLToPath(new URL(".", import.meta.url)), "data");
await Deno.mkdir(dataDir, { recursive: true });
const file = join(dataDir, `overhead_${rows}.csv`);
await writeCsvFile(file, { rows });
const client = new pg.Client({ connectionString: url });
await client.connect();
await client.query(`DROP TABLE IF EXISTS ${TABLE}`);
await client.query(
  typedTableDdl(`"public"."${TABLE}"`).replace(/\)$/, ", lane_seq bigint)"),
);

const deno = [
  Deno.execPath(),
  "run",
  "-A",
  "--v8-flags=--max-semi-space-size=1",
];
const columns = TYPED_COLUMNS.map(([name]) => name).join(", ");
const shellQuote = (text: string) => `'${text.replaceAll("'", "'\\''")}'`;

const methods: { name: string; run(): Promise<LoadMeasure> }[] = [
  {
    name: "encode | psql \\copy (no bookkeeping)",
    run: () =>
      timedRun([
        "bash",
        "-o",
        "pipefail",
        "-c",
        `${deno.map(shellQuote).join(" ")} src/cli/main.ts encode ${
          shellQuote(file)
        } | psql ${shellQuote(url)} -X -q -v ON_ERROR_STOP=1 -c ${
          shellQuote(`\\copy ${TABLE} (${columns}) from stdin`)
        }`,
      ]),
  },
  {
    name: `ingest --lane lane --batch-size ${BATCH_SIZE}`,
    run: () =>
      timedRun([
        ...deno,
        "src/cli/main.ts",
        "ingest",
        file,
        "--table",
        TABLE,
        "--lane",
        "lane",
        "--batch-size",
        String(BATCH_SIZE),
        "--meta-schema",
        META,
        "--source-id",
        `overhead ${crypto.randomUUID()}`,
        "--db",
        url,
        "--quiet",
      ]),
  },
];

const walls = methods.map(() => [] as number[]);
for (let round = 1; round <= rounds; round++) {
  for (const [i, method] of methods.entries()) {
    await client.query(`TRUNCATE ${TABLE}`);
    await client.query(`CHECKPOINT`);
    const measure = await method.run();
    const { rows: [{ n }] } = await client.query(
      `SELECT count(*)::int AS n FROM ${TABLE}`,
    );
    if (n !== rows) {
      throw new Error(`${method.name} loaded ${n} rows, not ${rows}`);
    }
    walls[i].push(measure.wall);
    console.log(
      `round ${round}: ${method.name.padEnd(40)} ${
        measure.wall.toFixed(2)
      } s wall, ${measure.cpu.toFixed(2)} s client CPU`,
    );
  }
}
await client.end();

const median = (xs: number[]) => {
  const s = xs.toSorted((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const [plain, booked] = walls.map(median);
console.log(
  `\n${
    rows.toLocaleString("en-US")
  } rows, median of ${rounds}: no bookkeeping ${
    plain.toFixed(2)
  } s, ingest --lane ${booked.toFixed(2)} s; bookkeeping overhead ${
    ((booked / plain - 1) * 100).toFixed(1)
  }% of wall (target <= 5%)`,
);
