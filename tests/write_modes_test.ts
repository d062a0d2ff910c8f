/**
 * Upsert and replace at their edges: a record a later one of its key
 * replaces within its batch is still checked; a foreign key, checked only
 * when rows move into the table, is reported at its line; and a replace
 * with lanes leaves the lanes counting what the table holds.
 */

import assert from "node:assert/strict";
// @ts-types="@types/pg"
import pg from "pg";
import {
  databaseUrl,
  ingestArgs,
  runCli,
  scratchLoad,
  sql,
  writeTemp,
} from "./_helpers.ts";

for (const action of ["update", "nothing"]) {
  Deno.test(`--on-conflict ${action}: a bad record whose key a later record of the same batch has is still reported at its line, naming the table`, async () => {
    const { table, meta } = scratchLoad("upsert_replaced_bad");
    await sql(
      `create table ${table} (id int primary key, v text not null check (v <> 'bad'))`,
    );
    const path = await writeTemp("id,v\n1,a\n7,bad\n7,m\n8,x\n");
    const result = await runCli(
      ingestArgs(path, table, "--on-conflict", action, "--meta-schema", meta),
    );
    assert.equal(result.code, 2, result.stderr);
    assert.match(
      result.stderr,
      new RegExp(`${path}:3: new row for relation "${table}" violates check`),
    );
    assert.doesNotMatch(result.stderr, /lanecopy_staging/);
    const rows = await sql(`select count(*)::int as n from ${table}`);
    assert.equal(rows[0].n, 0, "the batch rolled back");
  });
}

Deno.test("--on-conflict update: a foreign key the rows break only when they move into the table is reported at its file:line", async () => {
  const { table, meta } = scratchLoad("upsert_fk");
  await sql(`create table ${table}_parent (id int primary key)`);
  await sql(`insert into ${table}_parent values (1), (2)`);
  await sql(
    `create table ${table} (id int primary key, parent int references ${table}_parent)`,
  );
  const path = await writeTemp("id,parent\n1,1\n2,2\n3,9\n4,1\n");
  const args = ingestArgs(
    path,
    table,
    "--on-conflict",
    "update",
    "--meta-schema",
    meta,
  );
  const stopped = await runCli(args);
  assert.equal(stopped.code, 2, stopped.stderr);
  assert.match(stopped.stderr, new RegExp(`${path}:4: .*foreign key`));
  const rejects = `${await Deno.makeTempDir()}/rejects.csv`;
  const resumed = await runCli([...args, "--reject-file", rejects]);
  assert.equal(resumed.code, 3, resumed.stderr);
  assert.equal(await Deno.readTextFile(rejects), "id,parent\n3,9\n");
  const rows = await sql(`select id from ${table} order by id`);
  assert.deepEqual(rows.map((row) => row.id), [1, 2, 4]);
});

Deno.test("--replace --lane: the new rows take seqs from 1 in each lane, the lanes count what the table holds, and one notice per lane goes out at the swap", async () => {
  const { table, meta } = scratchLoad("replace_lanes");
  await sql(
    `create table ${table} (id int primary key, lane text, v text, lane_seq bigint)`,
  );
  const load = async (text: string) => {
    const path = await writeTemp(text);
    const result = await runCli(
      ingestArgs(
        path,
        table,
        "--replace",
        "--lane",
        "lane",
        "--meta-schema",
        meta,
        "--batch-size",
        "2",
      ),
    );
    assert.equal(result.code, 0, result.stderr);
  };
  await load("id,lane,v\n1,a,x\n2,a,y\n3,b,z\n");
  const client = new pg.Client({ connectionString: databaseUrl() });
  await client.connect();
  const notices: unknown[] = [];
  client.on("notification", (message) => {
    const notice = JSON.parse(message.payload!);
    if (notice.target === `public.${table}`) notices.push(notice);
  });
  await client.query("LISTEN lanecopy");
  try {
    await load("id,lane,v\n1,a,x2\n4,a,w\n5,a,v\n6,c,u\n");
    await client.query("SELECT 1"); // notifications on their way arrive
  } finally {
    await client.end();
  }
  const rows = await sql(
    `select id, lane, v, lane_seq from ${table} order by id`,
  );
  assert.deepEqual(
    rows.map((row) => [row.id, row.lane, row.v, Number(row.lane_seq)]),
    [[1, "a", "x2", 1], [4, "a", "w", 2], [5, "a", "v", 3], [6, "c", "u", 1]],
  );
  const lanes = await sql(
    `select target, lane, next_seq::int, row_count::int from ${meta}.lanes order by target, lane`,
  );
  assert.deepEqual(
    lanes.map((
      lane,
    ) => [lane.target, lane.lane, lane.next_seq, lane.row_count]),
    [[`public.${table}`, "a", 4, 3], [`public.${table}`, "c", 2, 1]],
    "the old lanes (b) are gone and no shadow's lanes are left",
  );
  assert.deepEqual(
    notices.sort((x, y) => JSON.stringify(x) < JSON.stringify(y) ? -1 : 1),
    [
      { target: `public.${table}`, lane: "a", last_seq: 3 },
      { target: `public.${table}`, lane: "c", last_seq: 1 },
    ],
  );
});

Deno.test("--replace --dry-run says what it would replace and leaves the table and bookkeeping as they were", async () => {
  const { table, meta } = scratchLoad("replace_dry");
  await sql(`create table ${table} (id int primary key, v text)`);
  await sql(`insert into ${table} values (1, 'old'), (2, 'old')`);
  const path = await writeTemp("id,v\n1,new\n3,new\n4,new\n");
  const result = await runCli(
    ingestArgs(path, table, "--replace", "--dry-run", "--meta-schema", meta),
  );
  assert.equal(result.code, 0, result.stderr);
  assert.match(
    result.stderr,
    new RegExp(
      `would replace the rows of public\\.${table} \\(3 rows\\); a dry run: rolled back`,
    ),
  );
  assert.doesNotMatch(result.stderr, /replaced the rows/);
  const rows = await sql(`select id, v from ${table} order by id`);
  assert.deepEqual(rows, [{ id: 1, v: "old" }, { id: 2, v: "old" }]);
  const shadows = await sql(
    `select count(*)::int as n from pg_tables where schemaname = $1 and tablename like 'replace%'`,
    [meta],
  );
  assert.equal(shadows[0].n, 0, "a shadow table stayed");
  // The real run afterwards replaces as if the dry run had not been.
  const real = await runCli(
    ingestArgs(path, table, "--replace", "--meta-schema", meta),
  );
  assert.equal(real.code, 0, real.stderr);
  assert.match(real.stderr, /replaced the rows of .*: it holds 3 rows now/);
  assert.deepEqual(
    (await sql(`select id from ${table} order by id`)).map((row) => row.id),
    [1, 3, 4],
  );
});
