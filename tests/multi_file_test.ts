import assert from "node:assert/strict";
import { databaseUrl, runCli, scratchLoad, sql } from "./_helpers.ts";

/** Records `from..to` as CSV (`id,v`), with a header. */
function csv(from: number, to: number, bad?: number): string {
  const lines = ["id,v"];
  for (let id = from; id <= to; id++) {
    lines.push(id === bad ? `${id}` : `${id},v${id}`);
  }
  return lines.join("\n") + "\n";
}

/**
 * A load of `a.csv`, `b.csv.gz` and `c.csv` (in the working directory) into
 * `table`, `batchSize` rows a batch, then `more`.
 */
function threeFilesArgs(
  table: string,
  meta: string,
  batchSize: number,
  ...more: string[]
): string[] {
  return [
    "ingest",
    "a.csv",
    "b.csv.gz",
    "c.csv",
    "--table",
    table,
    "--batch-size",
    String(batchSize),
    "--meta-schema",
    meta,
    "--db",
    databaseUrl(),
    ...more,
  ];
}

async function gzip(text: string): Promise<Uint8Array> {
  const stream = ReadableStream.from([new TextEncoder().encode(text)])
    .pipeThrough(new CompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

Deno.test("ingest loads several files in one run, a .gz one decompressed on the fly, each its own source; a re-run loads nothing twice", async () => {
  const { table, meta } = scratchLoad("multi");
  await sql(`create table ${table} (id int, v text)`);
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(`${dir}/a.csv`, csv(1, 300));
  await Deno.writeFile(`${dir}/b.csv.gz`, await gzip(csv(301, 700)));
  await Deno.writeTextFile(`${dir}/c.csv`, csv(701, 1000));
  const args = threeFilesArgs(table, meta, 64, "--json");
  const first = await runCli(args, { cwd: dir });
  assert.equal(first.code, 0, first.stderr);
  const output = JSON.parse(first.stdout);
  assert.equal(output.rows, 1000);
  const summaries: { source: string; rows: number }[] = output.files;
  assert.deepEqual(summaries.map((s) => [s.source, s.rows]), [
    ["a.csv", 300],
    ["b.csv.gz", 400],
    ["c.csv", 300],
  ]);
  const [rows] = await sql(
    `select count(*)::int as n, count(distinct id)::int as d, max(id) as m from ${table}`,
  );
  assert.deepEqual(rows, { n: 1000, d: 1000, m: 1000 });
  const sources = await sql(
    `select source_id from ${meta}.sources order by source_id`,
  );
  assert.equal(sources.length, 3);
  const again = await runCli(args, { cwd: dir });
  assert.equal(again.code, 0, again.stderr);
  assert.deepEqual(
    JSON.parse(again.stdout).files.map((s: { rows: number }) => s.rows),
    [0, 0, 0],
  );
  await Deno.remove(dir, { recursive: true });
});

Deno.test("a bad record in the second of three files stops there, says which files loaded, and the fixed re-run finishes the rest", async () => {
  const { table, meta } = scratchLoad("multi_bad");
  await sql(`create table ${table} (id int, v text)`);
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(`${dir}/a.csv`, csv(1, 100));
  await Deno.writeFile(`${dir}/b.csv.gz`, await gzip(csv(101, 400, 350)));
  await Deno.writeTextFile(`${dir}/c.csv`, csv(401, 500));
  const args = threeFilesArgs(table, meta, 50);
  const stopped = await runCli(args, { cwd: dir });
  assert.equal(stopped.code, 2, stopped.stderr);
  assert.match(
    stopped.stderr,
    /b\.csv\.gz:251:4: Cannot parse record: expected 2 fields, found 1/,
  );
  assert.match(
    stopped.stderr,
    /1 of 3 files loaded \(a\.csv\); stopped at b\.csv\.gz, the rest not started/,
  );
  const [partial] = await sql(`select count(*)::int as n from ${table}`);
  assert.equal(
    partial.n,
    100 + 200,
    "a.csv and b.csv.gz's batches before the bad record",
  );
  await Deno.writeFile(`${dir}/b.csv.gz`, await gzip(csv(101, 400)));
  const resumed = await runCli(args, { cwd: dir });
  assert.equal(resumed.code, 0, resumed.stderr);
  const [all] = await sql(
    `select count(*)::int as n, count(distinct id)::int as d from ${table}`,
  );
  assert.deepEqual(all, { n: 500, d: 500 });
  await Deno.remove(dir, { recursive: true });
});

Deno.test("ingest refuses one --source-id for several files, and stdin twice", async () => {
  const one = await runCli([
    "ingest",
    "a.csv",
    "b.csv",
    "--table",
    "t",
    "--source-id",
    "s",
  ]);
  assert.equal(one.code, 1);
  assert.match(one.stderr, /Cannot use one --source-id for several files/);
  const twice = await runCli(["ingest", "-", "-", "--table", "t"]);
  assert.equal(twice.code, 1);
  assert.match(twice.stderr, /Cannot read standard input \(-\) twice/);
});

Deno.test("a file that only looks like gzip is named in the error", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.writeFile(`${dir}/x.csv.gz`, Uint8Array.of(0x1f, 0x8b, 1, 2, 3));
  const result = await runCli(["encode", "x.csv.gz"], { cwd: dir });
  assert.equal(result.code, 1);
  assert.match(result.stderr, /Cannot decompress x\.csv\.gz: /);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("Where WebAssembly cannot run, a load of several files says once that the TypeScript codec took over, and loads them all", async () => {
  const { table, meta } = scratchLoad("nowasm");
  await sql(`create table ${table} (id int, v text)`);
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(`${dir}/a.csv`, csv(1, 30));
  await Deno.writeFile(`${dir}/b.csv.gz`, await gzip(csv(31, 70)));
  await Deno.writeTextFile(`${dir}/c.csv`, csv(71, 100));
  // V8 without its JIT has no WebAssembly.
  const result = await runCli(threeFilesArgs(table, meta, 16), {
    cwd: dir,
    env: { DENO_V8_FLAGS: "--jitless" },
  });
  assert.equal(result.code, 0, result.stderr);
  const notices = result.stderr.split("\n").filter((line) =>
    line.includes("WebAssembly codec unavailable")
  );
  assert.equal(notices.length, 1, result.stderr);
  assert.match(notices[0], /using the TypeScript codec/);
  const [{ n }] = await sql(`select count(*)::int as n from ${table}`);
  assert.equal(n, 100);
  await Deno.remove(dir, { recursive: true });
});
