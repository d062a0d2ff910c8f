/**
 * Upserts (`--on-conflict nothing|update`, `--key`): the table ends as if
 * the records had been applied one by one in input order, whatever the
 * batches, connections or writers; counts, lane seqs, rejects and the
 * refusals.
 */

import assert from "node:assert/strict";
import {
  type CliResult,
  databaseUrl,
  embeddedRows,
  ingestArgs,
  loaderTest,
  removeDataDir,
  runCli,
  runEmbedded,
  scratchLoad,
  sql,
  startCli,
  writeTemp,
} from "./_helpers.ts";
import { laneIngestArgs, replayableRandom, within } from "./_loader.ts";

type Action = "update" | "nothing";
const ACTIONS: Action[] = ["update", "nothing"];

/** A CSV file's text: `header`, then one line per record. */
function csv(header: string, records: unknown[][]): string {
  return [header, ...records.map((record) => record.join(","))].join("\n") +
    "\n";
}

/**
 * Applies `records` (key, row) one by one to `rows`, as an upsert must:
 * `update` overwrites, `nothing` inserts only missing keys.
 *
 * @returns How many records inserted a row.
 */
function applyOneByOne<K, R>(
  rows: Map<K, R>,
  records: [K, R][],
  action: Action,
): number {
  let inserted = 0;
  for (const [key, row] of records) {
    if (!rows.has(key)) inserted++;
    else if (action === "nothing") continue;
    rows.set(key, row);
  }
  return inserted;
}

/** `rows` as `[key, ...row]` in key order. */
function sorted<R extends unknown[]>(rows: Map<number, R>): unknown[][] {
  return [...rows].sort((a, b) => a[0] - b[0]).map(([k, r]) => [k, ...r]);
}

/** The rows of `text` as arrays of their values. */
async function values(text: string): Promise<unknown[][]> {
  return (await sql(text)).map((row) => Object.values(row));
}

/** `ingest PATH --table T --db URL --on-conflict ACTION --meta-schema M`, then `more`. */
function upsertArgs(
  path: string,
  names: { table: string; meta: string },
  action: Action,
  ...more: string[]
): string[] {
  return ingestArgs(
    path,
    names.table,
    "--on-conflict",
    action,
    "--meta-schema",
    names.meta,
    ...more,
  );
}

/** Asserts a `--json` upsert ended with exit 0 and its counts. */
function assertCounts(
  result: CliResult,
  action: Action,
  records: number,
  inserted: number,
): void {
  assert.equal(result.code, 0, result.stderr);
  const summary = JSON.parse(result.stdout);
  assert.equal(summary.rows, records);
  assert.equal(summary.inserted, inserted, "inserted");
  const other = action === "update" ? "updated" : "skipped";
  assert.equal(summary[other], records - inserted, other);
  assert.equal(
    summary[action === "update" ? "skipped" : "updated"],
    undefined,
  );
}

for (const action of ACTIONS) {
  Deno.test(`--on-conflict ${action}: 3000 records of 1000 keys over rows already there, in overlapping batches, end as if applied one by one`, async () => {
    const random = replayableRandom("upsert");
    const names = scratchLoad(`upsert_${action}`);
    const { table } = names;
    await sql(`create table ${table} (id int primary key, v text not null)`);
    await sql(
      `insert into ${table} select g, 'old-' || g from generate_series(0, 499) g`,
    );
    const records: [number, string][] = Array.from(
      { length: 3000 },
      (_, i) => [Math.floor(random() * 1000), `r${i}`],
    );
    const path = await writeTemp(csv("id,v", records));
    const result = await runCli(
      upsertArgs(path, names, action, "--batch-size", "250", "--json"),
    );
    const expected = new Map<number, [string]>(
      Array.from({ length: 500 }, (_, id) => [id, [`old-${id}`]]),
    );
    const inserted = applyOneByOne(
      expected,
      records.map(([id, v]) => [id, [v]]),
      action,
    );
    assertCounts(result, action, 3000, inserted);
    assert.equal(JSON.parse(result.stdout).batches, 12);
    assert.deepEqual(
      await values(`select id, v from ${table} order by id`),
      sorted(expected),
    );
  });
}

/** Keys 1 and 3 repeat within a batch (of 3), keys 1, 2 and 3 across batches. */
const DUPLICATES = "id,v\n1,a\n2,b\n1,c\n3,d\n1,e\n3,f\n2,g\n4,h\n4,i\n";
/** The table's rows after the load of {@linkcode DUPLICATES} over (2, old), (5, keep). */
const AFTER_DUPLICATES: Record<Action, unknown[][]> = {
  update: [[1, "e"], [2, "g"], [3, "f"], [4, "i"], [5, "keep"]],
  nothing: [[1, "a"], [2, "old"], [3, "d"], [4, "h"], [5, "keep"]],
};
const SETUP = "create table t_dups (id int primary key, v text); " +
  "insert into t_dups values (2, 'old'), (5, 'keep')";

for (const action of ACTIONS) {
  Deno.test(`--on-conflict ${action}: duplicate keys within a batch and across batches, on a server`, async () => {
    const names = scratchLoad(`dups_${action}`);
    const { table } = names;
    await sql(SETUP.replaceAll("t_dups", table));
    const path = await writeTemp(DUPLICATES);
    const result = await runCli(
      upsertArgs(path, names, action, "--batch-size", "3", "--json"),
    );
    assertCounts(result, action, 9, 3);
    assert.deepEqual(
      await values(`select id, v from ${table} order by id`),
      AFTER_DUPLICATES[action],
    );
  });

  Deno.test(`--on-conflict ${action}: duplicate keys within a batch and across batches, on the embedded database, with the counts in the summary line`, async () => {
    const dataDir = await Deno.makeTempDir();
    try {
      const setup = await runEmbedded(dataDir, ["sql", SETUP]);
      assert.equal(setup.code, 0, setup.stderr);
      const path = await writeTemp(DUPLICATES);
      const more = ["--on-conflict", action, "--batch-size", "3"];
      const result = await runEmbedded(
        dataDir,
        ["ingest", path, "--table", "t_dups", ...more],
      );
      assert.equal(result.code, 0, result.stderr);
      assert.match(
        result.stderr,
        action === "update"
          ? /loaded 9 rows \(3 inserted, 6 updated\) from /
          : /loaded 9 rows \(3 inserted, 6 skipped: key already there\) from /,
      );
      const rows = await embeddedRows(
        dataDir,
        "select id, v from t_dups order by id",
      );
      assert.deepEqual(
        rows.map((row) => [row.id, row.v]),
        AFTER_DUPLICATES[action],
      );
    } finally {
      await removeDataDir(dataDir);
    }
  });
}

for (const action of ACTIONS) {
  Deno.test(`--on-conflict ${action} --lane: every record takes its gapless seq and counts in its lane; a row holds the seq of the record that wrote it`, async () => {
    const random = replayableRandom("upsert_lanes");
    const url = databaseUrl();
    const { table, meta } = scratchLoad(`upsert_lanes_${action}`);
    await sql(
      `create table ${table} (id int primary key, lane text, v text, lane_seq bigint)`,
    );
    await sql(
      `insert into ${table} select g, 'old', 'old', null from generate_series(0, 29) g`,
    );
    const counters = new Map<string, number>();
    const records: [number, [string, string, number]][] = [];
    for (let i = 0; i < 600; i++) {
      const lane = `lane${Math.floor(random() * 4)}`;
      const seq = (counters.get(lane) ?? 0) + 1;
      counters.set(lane, seq);
      records.push([Math.floor(random() * 150), [lane, `r${i}`, seq]]);
    }
    const path = await writeTemp(
      csv("id,lane,v", records.map(([id, [lane, v]]) => [id, lane, v])),
    );
    const more = ["--on-conflict", action, "--json"];
    const result = await runCli(
      laneIngestArgs(url, path, table, meta, 40, ...more),
    );
    const expected = new Map<number, [string, string, number | null]>(
      Array.from({ length: 30 }, (_, id) => [id, ["old", "old", null]]),
    );
    const inserted = applyOneByOne(expected, records, action);
    assertCounts(result, action, 600, inserted);
    assert.deepEqual(
      await values(
        `select id, lane, v, lane_seq::int as seq from ${table} order by id`,
      ),
      sorted(expected),
    );
    assert.deepEqual(
      await values(
        `select lane, row_count::int as n, next_seq::int as next from ${meta}.lanes
          where target = 'public.${table}' order by lane`,
      ),
      [...counters].sort().map(([lane, n]) => [lane, n, n + 1]),
    );
  });
}

Deno.test("--on-conflict refuses a table without a usable key, --key without --on-conflict, and --on-conflict with --replace or an unknown action; nothing is loaded", async () => {
  const { table, meta } = scratchLoad("upsert_refused");
  await sql(`create table ${table} (id int, email text unique, v text)`);
  const path = await writeTemp("id,email,v\n1,a@x,a\n");
  const run = (...more: string[]) =>
    runCli(ingestArgs(path, table, "--meta-schema", meta, ...more));
  // One at a time: two runs of one source at once would refuse each other.
  const noPrimary = await run("--on-conflict", "update");
  const noIndex = await run("--on-conflict", "nothing", "--key", "id");
  const keyAlone = await run("--key", "email");
  const withReplace = await run("--on-conflict", "update", "--replace");
  const unknown = await run("--on-conflict", "merge");
  assert.equal(noPrimary.code, 4, noPrimary.stderr);
  assert.match(noPrimary.stderr, /has no primary key/);
  assert.match(noPrimary.stderr, /pass --key .*unique indexes: \(email\)/);
  assert.equal(noIndex.code, 4, noIndex.stderr);
  assert.match(
    noIndex.stderr,
    /--key id: no primary key or unique index is on exactly \(id\); the table's are \(email\)/,
  );
  assert.equal(keyAlone.code, 1, keyAlone.stderr);
  assert.match(keyAlone.stderr, /--key needs --on-conflict nothing\|update/);
  assert.equal(withReplace.code, 1, withReplace.stderr);
  assert.match(withReplace.stderr, /--on-conflict and --replace together/);
  assert.equal(unknown.code, 1, unknown.stderr);
  assert.match(unknown.stderr, /--on-conflict merge: expected nothing/);
  assert.deepEqual(await values(`select count(*)::int from ${table}`), [[0]]);
  // The unique index named by --key works.
  const byEmail = await run("--on-conflict", "update", "--key", "email");
  assert.equal(byEmail.code, 0, byEmail.stderr);
  assert.deepEqual(await values(`select * from ${table}`), [[1, "a@x", "a"]]);
});

Deno.test("--create --key id --on-conflict update creates the table with that primary key; a second file updates it", async () => {
  const names = scratchLoad("upsert_create");
  const { table } = names;
  const more = ["--create", "--key", "id", "--json"];
  const run = async (text: string) =>
    await runCli(upsertArgs(await writeTemp(text), names, "update", ...more));
  const first = await run(csv("id,v", [[1, "a"], [2, "b"], [1, "c"]]));
  assertCounts(first, "update", 3, 2);
  assert.deepEqual(
    await values(
      `select pg_get_constraintdef(oid) from pg_constraint
        where conrelid = 'public.${table}'::regclass and contype = 'p'`,
    ),
    [["PRIMARY KEY (id)"]],
  );
  const second = await run(csv("id,v", [[2, "x"], [3, "y"], [3, "z"]]));
  assertCounts(second, "update", 3, 1);
  assert.deepEqual(
    await values(`select id::text, v from ${table} order by id`),
    [["1", "c"], ["2", "x"], ["3", "z"]],
  );
});

Deno.test("--on-conflict update: a row the INSERT refuses (a CHECK) stops the load at its file:line; resumed with --reject-file it is rejected and the rest upserted", async () => {
  const names = scratchLoad("upsert_check");
  const { table } = names;
  await sql(
    `create table ${table} (id int primary key, v text check (v <> 'bad'))`,
  );
  await sql(`insert into ${table} values (1, 'old'), (20, 'old')`);
  // Batches of 5; the bad record (line 14) follows a good one of its key
  // in batch 3, which must win once the bad one is out.
  const records =
    "1,a 2,b 3,c 4,d 5,e 6,f 7,g 1,h 8,i 9,j 10,k 7,m 7,bad 11,n 2,o 12,p 1,q 13,r 20,s 15,t"
      .split(" ").map((r): [number, string] => [parseInt(r), r.split(",")[1]]);
  const path = await writeTemp(csv("id,v", records));
  const args = upsertArgs(path, names, "update", "--batch-size", "5");
  const expected = new Map<number, [string]>([[1, ["old"]], [20, ["old"]]]);
  const wrap = (list: [number, string][]) =>
    list.map(([id, v]): [number, [string]] => [id, [v]]);
  applyOneByOne(expected, wrap(records.slice(0, 10)), "update");

  const stopped = await runCli(args);
  assert.equal(stopped.code, 2, stopped.stderr);
  assert.match(stopped.stderr, new RegExp(`${path}:14: .*check constraint`));
  const allRows = `select id, v from ${table} order by id`;
  assert.deepEqual(await values(allRows), sorted(expected), "batches 1 and 2");

  const rejects = `${await Deno.makeTempDir()}/rejects.csv`;
  const resumed = await runCli([...args, "--reject-file", rejects, "--json"]);
  assert.equal(resumed.code, 3, resumed.stderr);
  const rest = records.slice(10).filter(([, v]) => v !== "bad");
  const inserted = applyOneByOne(expected, wrap(rest), "update");
  const summary = JSON.parse(resumed.stdout);
  assert.deepEqual(
    [summary.rows, summary.rejected, summary.inserted, summary.updated],
    [9, 1, inserted, 9 - inserted],
  );
  assert.equal(await Deno.readTextFile(rejects), "id,v\n7,bad\n");
  assert.deepEqual(await values(allRows), sorted(expected));
  assert.deepEqual(expected.get(7), ["m"]);
});

Deno.test("--on-conflict nothing with --reject-file: a new key refused by a CHECK goes to the reject file (exit 3), the other rows are upserted", async () => {
  const names = scratchLoad("upsert_check_nothing");
  const { table } = names;
  await sql(
    `create table ${table} (id int primary key, v text check (v <> 'bad'))`,
  );
  await sql(`insert into ${table} values (1, 'old')`);
  const path = await writeTemp(
    "id,v\n1,a\n2,b\n3,bad\n2,c\n4,d\n1,e\n5,f\n",
  );
  const rejects = `${await Deno.makeTempDir()}/rejects.csv`;
  const more = ["--batch-size", "4", "--reject-file", rejects, "--json"];
  const result = await runCli(upsertArgs(path, names, "nothing", ...more));
  assert.equal(result.code, 3, result.stderr);
  const summary = JSON.parse(result.stdout);
  assert.deepEqual(
    [summary.rows, summary.rejected, summary.inserted, summary.skipped],
    [6, 1, 3, 3],
  );
  assert.equal(await Deno.readTextFile(rejects), "id,v\n3,bad\n");
  assert.deepEqual(
    await values(`select id, v from ${table} order by id`),
    [[1, "old"], [2, "b"], [4, "d"], [5, "f"]],
  );
});

const REGIONS = 8;

loaderTest(
  "--parallel 3 --lane region with key (region, id) ends as one writer does, five times over, without a deadlock",
  async () => {
    const random = replayableRandom("upsert_parallel");
    for (let round = 0; round < 5; round++) {
      const action = ACTIONS[round % 2];
      const parallel = scratchLoad("upsert_par");
      const single = scratchLoad("upsert_one");
      await sql(
        `create table ${parallel.table} (region text, id int, v text, lane_seq bigint,
         primary key (region, id))`,
      );
      await sql(
        `insert into ${parallel.table}
         select 'r' || (g % ${REGIONS}), g / ${REGIONS}, 'old', null
           from generate_series(0, 199) g`,
      );
      await sql(
        `create table ${single.table} (like ${parallel.table} including all);
       insert into ${single.table} select * from ${parallel.table}`,
      );
      const records: [string, [string, number, string, number]][] = [];
      const counters = new Map<string, number>();
      for (let i = 0; i < 2000; i++) {
        const region = `r${Math.floor(random() * REGIONS)}`;
        const id = Math.floor(random() * 60);
        const seq = (counters.get(region) ?? 0) + 1;
        counters.set(region, seq);
        records.push([`${region}/${id}`, [region, id, `r${i}`, seq]]);
      }
      const path = await writeTemp(
        csv("region,id,v", records.map(([, [r, id, v]]) => [r, id, v])),
      );
      const load = async (
        names: { table: string; meta: string },
        n: string,
      ) => {
        const loader = startCli([
          ...upsertArgs(path, names, action, "--lane", "region", "--json"),
          ...["--batch-size", "30", "--parallel", n],
        ]);
        const status = await within(
          loader.status,
          120_000,
          `round ${round}: the load with --parallel ${n}`,
        );
        assert.equal(status.code, 0, loader.stderr);
        return JSON.parse(await loader.stdout());
      };
      const [many, one] = await Promise.all([
        load(parallel, "3"),
        load(single, "1"),
      ]);
      const expected = new Map<
        string,
        [string, number, string, number | null]
      >();
      for (let g = 0; g < 200; g++) {
        const [region, id] = [`r${g % REGIONS}`, Math.floor(g / REGIONS)];
        expected.set(`${region}/${id}`, [region, id, "old", null]);
      }
      const inserted = applyOneByOne(expected, records, action);
      const other = action === "update" ? "updated" : "skipped";
      for (const summary of [many, one]) {
        assert.deepEqual(
          [summary.rows, summary.inserted, summary[other]],
          [2000, inserted, 2000 - inserted],
        );
      }
      const rowsOf = (table: string) =>
        values(
          `select region, id, v, lane_seq::int from ${table} order by region, id`,
        );
      const want = [...expected.values()].sort((a, b) =>
        a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] - b[1]
      );
      assert.deepEqual(await rowsOf(parallel.table), want, `round ${round}`);
      assert.deepEqual(await rowsOf(single.table), want, `round ${round}`);
      const lanesOf = (names: { table: string; meta: string }) =>
        values(
          `select lane, row_count::int from ${names.meta}.lanes
          where target = 'public.${names.table}' order by lane`,
        );
      const counts = [...counters].sort();
      assert.deepEqual(await lanesOf(parallel), counts);
      assert.deepEqual(await lanesOf(single), counts);
    }
  },
);

Deno.test("--on-conflict with --parallel refuses a key without the lane column, and no --lane", async () => {
  const names = scratchLoad("upsert_split");
  const { table } = names;
  await sql(
    `create table ${table} (id int primary key, region text, v text, lane_seq bigint)`,
  );
  const path = await writeTemp("id,region,v\n1,a,x\n1,b,y\n");
  const run = (...more: string[]) =>
    runCli(upsertArgs(path, names, "update", "--parallel", "2", ...more));
  const split = await run("--lane", "region");
  const noLane = await run();
  assert.equal(split.code, 4, split.stderr);
  assert.match(
    split.stderr,
    /key \(id\) does not hold the lane column "region", so records of one key could go to two writers, which would apply them out of input order/,
  );
  assert.equal(noLane.code, 4, noLane.stderr);
  assert.match(noLane.stderr, /records of one key must go to one writer/);
  assert.deepEqual(await values(`select count(*)::int from ${table}`), [[0]]);
});

Deno.test("a source loaded with --on-conflict update is refused with --on-conflict nothing (exit 4) until --restart", async () => {
  const names = scratchLoad("upsert_mode");
  const { table } = names;
  await sql(`create table ${table} (id int primary key, v text)`);
  const path = await writeTemp("id,v\n1,a\n1,b\n");
  const run = (action: Action, ...more: string[]) =>
    runCli(upsertArgs(path, names, action, ...more));
  const first = await run("update");
  assert.equal(first.code, 0, first.stderr);
  const changed = await run("nothing");
  assert.equal(changed.code, 4, changed.stderr);
  assert.match(
    changed.stderr,
    /with other options: --on-conflict was "update" and is now "nothing"/,
  );
  assert.deepEqual(await values(`select id, v from ${table}`), [[1, "b"]]);
  await sql(`update ${table} set v = 'changed'`);
  const restarted = await run("nothing", "--restart", "--json");
  assertCounts(restarted, "nothing", 2, 0);
  const changedRow = [[1, "changed"]];
  assert.deepEqual(await values(`select id, v from ${table}`), changedRow);
});
