import assert from "node:assert/strict";
import { databaseUrl, runCli, scratchTable, sql } from "./_helpers.ts";
import {
  query,
  sessionsGone,
  startCli,
  stopLoaders,
  waitFor,
} from "./_loader.ts";

const RECORDS = 600;

/** Record `i` of the input (its text, with its line feed), and whether it is bad. */
function record(i: number): { text: string; bad: boolean } {
  const lane = `lane${i % 4}`;
  if (i % 37 === 5) return { text: `${i},${lane},xx,n${i}\n`, bad: true }; // not an int
  if (i % 53 === 7) return { text: `${i},${lane},-1,n${i}\n`, bad: true }; // CHECK
  if (i % 71 === 3) return { text: `${i},${lane},1,\n`, bad: true }; // NOT NULL
  if (i % 97 === 11) {
    return { text: `${i},${lane},1.5,"two\nlines ${i}"\n`, bad: true };
  }
  if (i % 113 === 50) return { text: `1,${lane},2,"dup"\n`, bad: true }; // unique
  if (i % 10 === 0) {
    return {
      text: `${i},${lane},${i % 100},"a ""quoted""\nnote ${i}"\n`,
      bad: false,
    };
  }
  return { text: `${i},${lane},${i % 100},n${i}\n`, bad: false };
}

/** The input file, and the bad records as they appear in it with their first lines. */
async function writeInput(): Promise<
  { path: string; bad: { text: string; line: number }[]; good: number[] }
> {
  let text = "id,lane,qty,note\n";
  let line = 2;
  const bad: { text: string; line: number }[] = [];
  const good: number[] = [];
  for (let i = 1; i <= RECORDS; i++) {
    const { text: row, bad: isBad } = record(i);
    if (isBad) bad.push({ text: row, line });
    else good.push(i);
    text += row;
    line += row.split("\n").length - 1;
  }
  const path = await Deno.makeTempFile({ suffix: ".csv" });
  await Deno.writeTextFile(path, text);
  return { path, bad, good };
}

async function createTable(table: string): Promise<void> {
  await sql(`create table ${table} (
    id int primary key, lane text, qty int check (qty >= 0),
    note text not null, lane_seq bigint)`);
}

/** Asserts the table holds exactly the good records, each lane gapless in input order. */
async function assertGoodRowsOnce(table: string, good: number[]) {
  const rows = await sql(`select id from ${table} order by id`);
  assert.deepEqual(rows.map((row) => row.id), good);
  const [lanes] = await sql(`select count(*)::int as bad from (
      select lane_seq <> row_number() over (partition by lane order by id) as off
        from ${table}) s where off`);
  assert.equal(lanes.bad, 0, "a lane's seqs are not 1..n in input order");
}

Deno.test("ingest --reject-file loads every good row, and the reject file holds exactly the bad records byte for byte with their lines and reasons", async () => {
  const table = scratchTable("rejects");
  const meta = `${table}_meta`;
  await createTable(table);
  const { path, bad, good } = await writeInput();
  const rejects = `${path}.rejects.csv`;
  const result = await runCli([
    "ingest",
    path,
    "--table",
    table,
    "--lane",
    "lane",
    "--batch-size",
    "50",
    "--meta-schema",
    meta,
    "--db",
    databaseUrl(),
    "--reject-file",
    rejects,
    "--json",
  ]);
  assert.equal(result.code, 3, result.stderr);
  const summary = JSON.parse(result.stdout);
  assert.equal(summary.rows, good.length);
  assert.equal(summary.rejected, bad.length);
  assert.equal(summary.rows + summary.rejected, RECORDS);
  assert.match(result.stderr, new RegExp(`; ${bad.length} rejected into `));
  await assertGoodRowsOnce(table, good);
  assert.equal(
    await Deno.readTextFile(rejects),
    bad.map((b) => b.text).join(""),
  );
  const log = (await Deno.readTextFile(`${rejects}.log`)).trim().split("\n")
    .map((line) => JSON.parse(line));
  assert.deepEqual(log.map((entry) => entry.line), bad.map((b) => b.line));
  assert.ok(
    log.some((entry) =>
      /column "qty": invalid input syntax for type integer: "xx"/.test(
        entry.reason,
      )
    ),
  );
  assert.ok(
    log.some((entry) => /violates check constraint/.test(entry.reason)),
  );
  assert.ok(log.some((entry) => /not-null constraint/.test(entry.reason)));
  assert.ok(log.some((entry) => /duplicate key value/.test(entry.reason)));
  const [counters] = await sql(
    `select sum(row_count)::int as rows from ${meta}.lanes`,
  );
  assert.equal(counters.rows, good.length);
  await Deno.remove(path);
  await Deno.remove(rejects);
  await Deno.remove(`${rejects}.log`);
});

Deno.test({
  name:
    "ingest --reject-file killed mid-run and re-run: no duplicate rejects, no gaps or doubles in the target",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const url = databaseUrl();
    const table = scratchTable("rejects_kill");
    const meta = `${table}_meta`;
    await createTable(table);
    await query(
      url,
      `create function ${table}_slow() returns trigger language plpgsql as
       $$ begin perform pg_sleep(0.02); return null; end $$`,
    );
    await query(
      url,
      `create trigger ${table}_slow after insert on ${table}
       for each statement execute function ${table}_slow()`,
    );
    const { path, bad, good } = await writeInput();
    const rejects = `${path}.rejects.csv`;
    const args = [
      "ingest",
      path,
      "--table",
      table,
      "--lane",
      "lane",
      "--batch-size",
      "40",
      "--meta-schema",
      meta,
      "--db",
      url,
      "--reject-file",
      rejects,
      "--verbose",
    ];
    try {
      // 15 batches: three runs commit 2, 3 and 3 of them before their kill.
      for (const after of [2, 3, 3]) {
        const loader = startCli(args);
        await waitFor(
          `${after} committed batches`,
          () => loader.exited || loader.count(/ committed bytes /) >= after,
          20_000,
        );
        assert.ok(
          !loader.exited,
          `the load ended before its kill:\n${loader.stderr}`,
        );
        await loader.stop();
        await sessionsGone(url, loader.child.pid);
      }
      const last = await runCli(args);
      assert.equal(last.code, 3, last.stderr);
      await assertGoodRowsOnce(table, good);
      assert.equal(
        await Deno.readTextFile(rejects),
        bad.map((b) => b.text).join(""),
        "the reject file has duplicates or misses a record",
      );
      const log = (await Deno.readTextFile(`${rejects}.log`)).trim().split(
        "\n",
      );
      assert.equal(log.length, bad.length);
    } finally {
      await stopLoaders();
      await Deno.remove(path);
      await Deno.remove(rejects).catch(() => {});
      await Deno.remove(`${rejects}.log`).catch(() => {});
    }
  },
});

Deno.test("a foreign-key violation (no COPY line) is found by bisecting: without a reject file it stops at its line, with one it is rejected", async () => {
  const parent = scratchTable("parent");
  const table = scratchTable("child");
  await sql(`create table ${parent} (id int primary key)`);
  await sql(`insert into ${parent} select generate_series(1, 100)`);
  await sql(
    `create table ${table} (id int, parent int references ${parent} deferrable initially deferred)`,
  );
  const lines = ["id,parent"];
  for (let i = 1; i <= 300; i++) {
    lines.push(`${i},${i === 177 ? 999 : i % 100 + 1}`);
  }
  const path = await Deno.makeTempFile({ suffix: ".csv" });
  await Deno.writeTextFile(path, lines.join("\n") + "\n");
  const base = [
    "ingest",
    path,
    "--table",
    table,
    "--batch-size",
    "100",
    "--meta-schema",
    `${table}_meta`,
    "--db",
    databaseUrl(),
  ];
  const stopped = await runCli(base);
  assert.equal(stopped.code, 2, stopped.stderr);
  assert.match(
    stopped.stderr,
    new RegExp(
      `${
        path.replaceAll(".", "\\.")
      }:178: .*foreign key constraint.*\\(SQLSTATE 23503\\)`,
    ),
  );
  const [loaded] = await sql(`select count(*)::int as n from ${table}`);
  assert.equal(loaded.n, 100, "only the batch before the bad record committed");
  const rejects = `${path}.rejects.csv`;
  const resumed = await runCli([...base, "--reject-file", rejects]);
  assert.equal(resumed.code, 3, resumed.stderr);
  assert.equal(await Deno.readTextFile(rejects), "177,999\n");
  const [all] = await sql(`select count(*)::int as n from ${table}`);
  assert.equal(all.n, 299);
  await Deno.remove(path);
  await Deno.remove(rejects);
  await Deno.remove(`${rejects}.log`);
});

Deno.test("--max-rejects stops at a committed, resumable point with exit 2; a re-run with a higher limit completes without duplicates", async () => {
  const table = scratchTable("max_rejects");
  const meta = `${table}_meta`;
  await createTable(table);
  const { path, bad, good } = await writeInput();
  const rejects = `${path}.rejects.csv`;
  const args = [
    "ingest",
    path,
    "--table",
    table,
    "--lane",
    "lane",
    "--batch-size",
    "50",
    "--meta-schema",
    meta,
    "--db",
    databaseUrl(),
    "--reject-file",
    rejects,
  ];
  // The first batch rejects 6 records, the second 3 more.
  const stopped = await runCli([...args, "--max-rejects", "6"]);
  assert.equal(stopped.code, 2, stopped.stderr);
  assert.match(
    stopped.stderr,
    /more than 6 records rejected \(--max-rejects 6\)/,
  );
  const [progress] = await sql(
    `select rows_committed::int as rows from ${meta}.progress`,
  );
  const [loaded] = await sql(`select count(*)::int as n from ${table}`);
  assert.equal(loaded.n, progress.rows);
  const n = loaded.n as number;
  assert.equal(n, 44, "the first batch, less its 6 rejects");
  const finished = await runCli([...args, "--max-rejects", "1000"]);
  assert.equal(finished.code, 3, finished.stderr);
  await assertGoodRowsOnce(table, good);
  assert.equal(
    await Deno.readTextFile(rejects),
    bad.map((b) => b.text).join(""),
  );
  await Deno.remove(path);
  await Deno.remove(rejects);
  await Deno.remove(`${rejects}.log`);
});

Deno.test("ingest --reject-file works on the embedded database too", async () => {
  const dataDir = await Deno.makeTempDir();
  const env = { DATABASE_URL: "" };
  const path = await Deno.makeTempFile({ suffix: ".csv" });
  await Deno.writeTextFile(path, 'id,n\n1,5\n2,x\n3,"7"\n');
  const setup = await runCli(
    ["sql", "create table t (id int, n int)", "--data-dir", dataDir],
    { env },
  );
  assert.equal(setup.code, 0, setup.stderr);
  const rejects = `${dataDir}/rejects.csv`;
  const result = await runCli(
    [
      "ingest",
      path,
      "--table",
      "t",
      "--data-dir",
      dataDir,
      "--reject-file",
      rejects,
    ],
    { env },
  );
  assert.equal(result.code, 3, result.stderr);
  assert.equal(await Deno.readTextFile(rejects), "2,x\n");
  await Deno.remove(path);
  await Deno.remove(dataDir, { recursive: true });
  await Deno.remove(`${dataDir}.lock`).catch(() => {});
});
