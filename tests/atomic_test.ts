import assert from "node:assert/strict";
import {
  databaseUrl,
  loaderTest,
  runCli,
  scratchTable,
  sql,
  startCli,
} from "./_helpers.ts";
import {
  assertExactlyOnce,
  assertRejectSummary,
  createSlowTable,
  laneLoadArgs,
  waitForCommits,
  within,
  writeRecords,
} from "./_loader.ts";

const RECORDS = 500;

/** A load of `path` into `table` by lane, 50 rows a batch, then `extra`. */
function loadArgs(path: string, table: string, extra: string[] = []) {
  return laneLoadArgs(
    databaseUrl(),
    path,
    table,
    `${table}_meta`,
    50,
    ...extra,
  );
}

Deno.test("ingest --atomic loads all rows or none: a bad record near the end leaves nothing, not even counters; fixed, it loads once", async () => {
  const table = scratchTable("atomic");
  await sql(
    `create table ${table} (id int, lane text, v int, lane_seq bigint)`,
  );
  const path = await writeRecords(1, RECORDS, {
    value: (id) => id === 480 ? "not-a-number" : String(id),
  });
  const failed = await runCli(loadArgs(path, table, ["--atomic"]));
  assert.equal(failed.code, 2, failed.stderr);
  assert.match(failed.stderr, /:481: column "v": invalid input syntax/);
  const [rows] = await sql(`select count(*)::int as n from ${table}`);
  assert.equal(rows.n, 0, "an atomic load that failed left rows behind");
  const [lanes] = await sql(
    `select count(*)::int as n from ${table}_meta.lanes`,
  );
  assert.equal(lanes.n, 0, "an atomic load that failed left counters behind");

  // The positive control: batch by batch, the batches before it stay.
  const control = scratchTable("atomic_control");
  await sql(
    `create table ${control} (id int, lane text, v int, lane_seq bigint)`,
  );
  const batched = await runCli(loadArgs(path, control));
  assert.equal(batched.code, 2, batched.stderr);
  const [kept] = await sql(`select count(*)::int as n from ${control}`);
  assert.equal(kept.n, 450);

  await Deno.writeTextFile(
    path,
    (await Deno.readTextFile(path)).replace("not-a-number", "480"),
  );
  const loaded = await runCli(loadArgs(path, table, ["--atomic", "--json"]));
  assert.equal(loaded.code, 0, loaded.stderr);
  assert.equal(JSON.parse(loaded.stdout).rows, RECORDS);
  await assertExactlyOnce(databaseUrl(), table, `${table}_meta`, RECORDS);
  const again = await runCli(loadArgs(path, table, ["--atomic", "--json"]));
  assert.equal(again.code, 0, again.stderr);
  assert.equal(
    JSON.parse(again.stdout).rows,
    0,
    "a completed source loaded twice",
  );
  await assertExactlyOnce(databaseUrl(), table, `${table}_meta`, RECORDS);
  await Deno.remove(path);
});

Deno.test("ingest --atomic --reject-file leaves out the rejected rows and commits the rest at once", async () => {
  const table = scratchTable("atomic_rejects");
  await sql(
    `create table ${table} (id int, lane text, v int check (v % 100 <> 7), lane_seq bigint)`,
  );
  const path = await writeRecords(1, RECORDS, { value: (id) => String(id) });
  const rejects = `${path}.rejects.csv`;
  const result = await runCli(
    loadArgs(path, table, ["--atomic", "--reject-file", rejects, "--json"]),
  );
  assertRejectSummary(result, RECORDS - 5, 5, RECORDS);
  const [header, ...rejected] = (await Deno.readTextFile(rejects)).trim()
    .split("\n");
  assert.equal(header, "id,lane,v");
  assert.deepEqual(
    rejected.map((line) => Number(line.split(",")[0])),
    [7, 107, 207, 307, 407],
  );
  const [loaded] = await sql(`select count(*)::int as n from ${table}`);
  assert.equal(loaded.n, RECORDS - 5);
  await Deno.remove(path);
  await Deno.remove(rejects);
  await Deno.remove(`${rejects}.log`);
});

loaderTest(
  "ingest --atomic interrupted by SIGINT exits 130 and commits nothing",
  async () => {
    const url = databaseUrl();
    const table = scratchTable("atomic_sigint");
    await createSlowTable(url, table, 0.05);
    const path = await writeRecords(1, RECORDS);
    try {
      const loader = startCli(loadArgs(path, table, ["--atomic", "--verbose"]));
      await waitForCommits(loader, 3);
      loader.child.kill("SIGINT");
      const status = await within(loader.status, 5000, "exit after SIGINT");
      assert.equal(status.code, 130, loader.stderr);
      assert.match(
        loader.stderr,
        /one transaction \(--atomic\) and rolled back; nothing was committed/,
      );
      const [rows] = await sql(`select count(*)::int as n from ${table}`);
      assert.equal(rows.n, 0);
    } finally {
      await Deno.remove(path);
    }
  },
);
