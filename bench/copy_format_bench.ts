/**
 * Which COPY format the server loads faster: the bench generator's rows
 * (200k by default), encoded once by the WASM codec as COPY text and as
 * COPY csv, each sent by `COPY … FROM STDIN` into the freshly truncated
 * typed table, the two formats interleaved. Only the COPY is timed. Median
 * seconds, rows/s and the text/csv ratio are printed when the run ends;
 * ingest sends the faster format (`INGEST_COPY_FORMAT` in `src/ingest.ts`).
 *
 * Needs a real server in `DATABASE_URL`; `deno task bench` starts one.
 * `LANECOPY_BENCH_ROWS` changes the row count.
 *
 * @module
 */

// @ts-types="@types/pg"
import pg from "pg";
// @ts-types="@types/pg-copy-streams"
import { from as copyFrom } from "pg-copy-streams";
import type { CopyFormat } from "../src/codec/copy_row.ts";
import { WasmCsvCopyCodec } from "../src/codec/csv/wasm_csv_codec.ts";
import { generateCsv } from "./generate.ts";
import { typedTableDdl } from "./typed_table.ts";

const url = Deno.env.get("DATABASE_URL");
if (!url) {
  throw new Error(
    "Cannot run the COPY format bench as DATABASE_URL is not set: run it with `deno task bench` (it starts a throwaway PostgreSQL) or set DATABASE_URL to a server you can write to",
  );
}

const ROWS = Number(Deno.env.get("LANECOPY_BENCH_ROWS") ?? 200_000);
const TABLE = `"public"."lanecopy_bench_copy_format"`;
const LABEL = `${ROWS / 1000}k rows`;
const FORMATS: CopyFormat[] = ["text", "csv"];

const csv = new Uint8Array(
  await new Response(generateCsv({ rows: ROWS, seed: 3 })).arrayBuffer(),
);

/** The rows as one COPY stream in `format`, cut in 1 MiB writes. */
function encode(format: CopyFormat): Uint8Array[] {
  const codec = new WasmCsvCopyCodec({ copyFormat: format });
  const blocks = [codec.push(csv), codec.finish()];
  const bytes = new Uint8Array(blocks.reduce((n, b) => n + b.data.length, 0));
  let at = 0;
  for (const block of blocks) {
    bytes.set(block.data, at);
    at += block.data.length;
  }
  const pieces: Uint8Array[] = [];
  for (let k = 0; k < bytes.length; k += 1 << 20) {
    pieces.push(bytes.subarray(k, k + (1 << 20)));
  }
  return pieces;
}

const streams = new Map(FORMATS.map((format) => [format, encode(format)]));

{
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query(`DROP TABLE IF EXISTS ${TABLE}`);
  await client.query(typedTableDdl(TABLE));
  await client.end();
}

const timings = new Map<CopyFormat, number[]>();

async function load(format: CopyFormat): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`TRUNCATE ${TABLE}`);
    const started = performance.now();
    const copy = client.query(
      copyFrom(`COPY ${TABLE} FROM STDIN (FORMAT ${format})`),
    );
    await new Promise<void>((resolve, reject) => {
      copy.on("error", reject);
      copy.on("finish", resolve);
      for (const piece of streams.get(format)!) copy.write(piece);
      copy.end();
    });
    timings.set(format, [
      ...timings.get(format) ?? [],
      (performance.now() - started) / 1000,
    ]);
    const { rows } = await client.query<{ n: string }>(
      `SELECT count(*) AS n FROM ${TABLE}`,
    );
    if (Number(rows[0].n) !== ROWS) {
      throw new Error(`Cannot trust COPY ${format}: it loaded ${rows[0].n}`);
    }
  } finally {
    await client.end();
  }
}

// Interleaved: each iteration loads both formats, in alternating order, so
// that neither gets the quieter moments of the server.
let round = 0;
Deno.bench({
  name: "COPY text and COPY csv, interleaved",
  group: `server COPY format (${LABEL})`,
  n: 6,
  warmup: 1,
  fn: async () => {
    const order = round++ % 2 === 0 ? FORMATS : FORMATS.toReversed();
    for (const format of order) await load(format);
  },
});

function median(values: number[]): number {
  const sorted = values.toSorted((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

globalThis.addEventListener("unload", () => {
  const text = timings.get("text");
  const csvTimes = timings.get("csv");
  if (!text || !csvTimes) return;
  console.log(`\nServer COPY, ${LABEL} into the typed table (median):`);
  for (const [format, seconds] of timings) {
    const s = median(seconds);
    console.log(
      `  COPY ${format.padEnd(4)} ${s.toFixed(3)} s  ${
        Math.round(ROWS / s).toLocaleString("en-US")
      } rows/s  (${seconds.length} loads)`,
    );
  }
  console.log(
    `  text / csv time: ${(median(text) / median(csvTimes)).toFixed(2)}`,
  );
});
