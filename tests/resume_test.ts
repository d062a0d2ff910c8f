import assert from "node:assert/strict";
import { ingest } from "../src/mod.ts";
import { databaseUrl, runCli, scratchTable, sql } from "./_helpers.ts";
import { createRecordsTable, laneLoadArgs } from "./_loader.ts";

function records(from: number, to: number): string {
  let text = "";
  for (let id = from; id <= to; id++) text += `${id},lane${id % 3},v${id}\n`;
  return text;
}

async function setup() {
  const table = scratchTable("resume");
  const meta = scratchTable("meta");
  await createRecordsTable(databaseUrl(), table);
  const path = await Deno.makeTempFile({ suffix: ".csv" });
  const args = (...more: string[]) =>
    laneLoadArgs(databaseUrl(), path, table, meta, 4, ...more);
  return { table, meta, path, args };
}

async function ids(table: string): Promise<number[]> {
  return (await sql(`select id from ${table} order by id`)).map((r) =>
    r.id as number
  );
}

const range = (from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => from + i);

Deno.test("a file that grew by appends loads only the new records, with line numbers that continue", async () => {
  const { table, meta, path, args } = await setup();
  await Deno.writeTextFile(path, "id,lane,v\n" + records(1, 10));
  assert.equal((await runCli(args())).code, 0);
  await Deno.writeTextFile(path, records(11, 15), { append: true });
  const grown = await runCli(args("--json"));
  assert.equal(grown.code, 0, grown.stderr);
  const summary = JSON.parse(grown.stdout);
  assert.equal(summary.rows, 5);
  assert.ok(summary.resumedAt > 0);
  assert.deepEqual(await ids(table), range(1, 15));
  // Lanes continue their seqs across runs.
  const [gaps] = await sql(
    `select count(*)::int as n from (select lane_seq <> row_number() over (partition by lane order by id) as off from ${table}) s where off`,
  );
  assert.equal(gaps.n, 0);

  // A bad record in the appended part is reported at its true line.
  await Deno.writeTextFile(path, "16,lane1\n", { append: true });
  const bad = await runCli(args());
  assert.equal(bad.code, 2);
  assert.match(
    bad.stderr,
    /:17:9: Cannot parse record: expected 3 fields, found 2/,
  );
  const [progress] = await sql(
    `select lines_committed::int, rows_committed::int from ${meta}.progress`,
  );
  assert.deepEqual(progress, { lines_committed: 16, rows_committed: 15 });
});

Deno.test("a source whose loaded prefix changed is refused with exit 4, and --restart loads it again without deleting rows", async () => {
  const { table, meta, path, args } = await setup();
  await Deno.writeTextFile(path, "id,lane,v\n" + records(1, 6));
  assert.equal((await runCli(args())).code, 0);
  await Deno.writeTextFile(
    path,
    "id,lane,v\n" + records(1, 6).replace("v3", "V3") + records(7, 8),
  );
  const refused = await runCli(args());
  assert.equal(refused.code, 4);
  assert.match(
    refused.stderr,
    /Cannot resume source ".*resume_\w+": its first \d+ bytes .* have changed/,
  );
  assert.match(refused.stderr, /--restart/);
  assert.deepEqual(await ids(table), range(1, 6));

  const options = await runCli(args("--delimiter", ";"));
  assert.equal(options.code, 4);
  assert.match(options.stderr, /delimiter was "," and is now ";"/);

  const restarted = await runCli(args());
  assert.equal(restarted.code, 4);
  const again = await runCli(["ingest", ...args("--restart").slice(1)]);
  assert.equal(again.code, 0, again.stderr);
  assert.match(
    again.stderr,
    /Restarting \S+\.csv from its start: the 6 rows loaded before stay in public\.resume_\w+; truncate it first to replace them/,
  );
  // Rows are not deleted: the restart loads all 8 again next to the first 6.
  assert.equal((await ids(table)).length, 14);
  const [progress] = await sql(
    `select rows_committed::int, complete from ${meta}.progress`,
  );
  assert.deepEqual(progress, { rows_committed: 8, complete: true });
  // The markers are the new run's two batches, ending at the file's end.
  const [markers] = await sql(
    `select count(*)::int as n, max(end_offset)::int as last from ${meta}.batches`,
  );
  assert.deepEqual(markers, { n: 2, last: (await Deno.stat(path)).size });
});

Deno.test("stdin resumes with --source-id when the producer replays the stream from its start", async () => {
  const { table, meta } = await setup();
  const input = "id,lane,v\n" + records(1, 9);
  const base = laneLoadArgs(
    databaseUrl(),
    "-",
    table,
    meta,
    4,
    "--source-id",
    "feed-1",
  );
  // The first run sees a stream cut after 5 records.
  const cut = "id,lane,v\n" + records(1, 5);
  assert.equal((await runCli(base, { stdin: cut })).code, 0);
  assert.deepEqual(await ids(table), range(1, 5));
  const resumed = await runCli([...base, "--json"], { stdin: input });
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.equal(JSON.parse(resumed.stdout).rows, 4);
  assert.deepEqual(await ids(table), range(1, 9));

  const status = await runCli([
    "status",
    "--source-id",
    "feed-1",
    "--meta-schema",
    meta,
    "--db",
    databaseUrl(),
    "--json",
  ]);
  assert.equal(status.code, 0, status.stderr);
  const { sources, lanes } = JSON.parse(status.stdout);
  assert.equal(sources.length, 1);
  // Counts are numbers on a server too, as on the embedded database.
  assert.equal(sources[0].rows_committed, 9);
  assert.equal(sources[0].complete, true);
  assert.deepEqual(
    lanes.map((
      l: { lane: string; row_count: number },
    ) => [l.lane, l.row_count]),
    [["lane0", 3], ["lane1", 3], ["lane2", 3]],
  );
});

Deno.test("on the embedded database, a run that fails mid-way resumes exactly once", async () => {
  const dataDir = await Deno.makeTempDir();
  const input = new TextEncoder().encode("id,lane,v\n" + records(1, 50));
  const failing = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(input.subarray(0, 300));
    },
    pull(controller) {
      controller.error(new Error("the producer died"));
    },
  });
  const common = {
    table: "events",
    create: true,
    lane: "lane",
    batchSize: 5,
    sourceId: "events-feed",
    db: "",
    dataDir,
  };
  await assert.rejects(
    ingest({ ...common, source: failing }),
    /the producer died/,
  );
  const summary = await ingest({
    ...common,
    source: ReadableStream.from([input]),
  });
  assert.ok(summary.resumedAt > 0, "the second run did not resume");
  const { PGlite } = await import("@electric-sql/pglite");
  const db = await PGlite.create(dataDir);
  const { rows } = await db.query<{ n: number; ids: number; bad: number }>(
    `select count(*)::int as n, count(distinct id)::int as ids,
            (select count(*)::int from (select lane_seq::bigint <> row_number() over (partition by lane order by id::int) as off from events) s where off) as bad
       from events`,
  );
  assert.deepEqual(rows[0], { n: 50, ids: 50, bad: 0 });
  await db.close();
  await Deno.remove(dataDir, { recursive: true });
});
