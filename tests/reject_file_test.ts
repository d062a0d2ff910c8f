import assert from "node:assert/strict";
import {
  ingestArgs,
  loaderTest,
  removeDataDir,
  runCli,
  runEmbedded,
  scratchLoad,
  scratchTable,
  sql,
  writeTemp,
} from "./_helpers.ts";
import {
  assertGoodRowsOnce,
  assertRejectSummary,
  killAfterCommits,
  laneLoadArgs,
  makeSlow,
  readRejectLog,
} from "./_loader.ts";

const RECORDS = 600;
/** The input's header line: the reject file starts with it. */
const HEADER = "id,lane,qty,note\n";

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
  let text = HEADER;
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
  const path = await writeTemp(text);
  return { path, bad, good };
}

async function createTable(table: string): Promise<void> {
  await sql(`create table ${table} (
    id int primary key, lane text, qty int check (qty >= 0),
    note text not null, lane_seq bigint)`);
}

/**
 * A scratch table for the input, the input written, where its rejects go,
 * and `args(batchSize, ...more)`: a load of it by lane writing them there.
 */
async function setUp(prefix: string) {
  const { url, table, meta } = scratchLoad(prefix);
  await createTable(table);
  const { path, bad, good } = await writeInput();
  const rejects = `${path}.rejects.csv`;
  const args = (batchSize: number, ...more: string[]) =>
    laneLoadArgs(
      url,
      path,
      table,
      meta,
      batchSize,
      "--reject-file",
      rejects,
      ...more,
    );
  return { url, table, meta, path, bad, good, rejects, args };
}

Deno.test("ingest --reject-file loads every good row, and the reject file holds exactly the bad records byte for byte with their lines and reasons", async () => {
  const { table, meta, path, bad, good, rejects, args } = await setUp(
    "rejects",
  );
  const result = await runCli(args(50, "--json"));
  assertRejectSummary(result, good.length, bad.length, RECORDS);
  assert.match(result.stderr, new RegExp(`; ${bad.length} rejected into `));
  await assertGoodRowsOnce(table, good);
  assert.equal(
    await Deno.readTextFile(rejects),
    HEADER + bad.map((b) => b.text).join(""),
  );
  const log = await readRejectLog(rejects);
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

loaderTest(
  "ingest --reject-file killed mid-run and re-run: no duplicate rejects, no gaps or doubles in the target",
  async () => {
    const { url, table, path, bad, good, rejects, args } = await setUp(
      "rejects_kill",
    );
    await makeSlow(url, table, 0.02);
    const load = args(40, "--verbose");
    try {
      // 15 batches: three runs commit 2, 3 and 3 of them before their kill.
      for (const after of [2, 3, 3]) {
        await killAfterCommits(url, load, after, { timeoutMs: 20_000 });
      }
      const last = await runCli(load);
      assert.equal(last.code, 3, last.stderr);
      await assertGoodRowsOnce(table, good);
      assert.equal(
        await Deno.readTextFile(rejects),
        HEADER + bad.map((b) => b.text).join(""),
        "the reject file has duplicates or misses a record (or its header, or has it twice)",
      );
      const log = await readRejectLog(rejects);
      assert.equal(log.length, bad.length);
    } finally {
      await Deno.remove(path);
      await Deno.remove(rejects).catch(() => {});
      await Deno.remove(`${rejects}.log`).catch(() => {});
    }
  },
);

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
  const path = await writeTemp(lines.join("\n") + "\n");
  const base = ingestArgs(
    path,
    table,
    "--batch-size",
    "100",
    "--meta-schema",
    `${table}_meta`,
  );
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
  // The run resumed past the header, and the reject file starts with it.
  assert.equal(await Deno.readTextFile(rejects), "id,parent\n177,999\n");
  const [all] = await sql(`select count(*)::int as n from ${table}`);
  assert.equal(all.n, 299);
  await Deno.remove(path);
  await Deno.remove(rejects);
  await Deno.remove(`${rejects}.log`);
});

Deno.test("--max-rejects stops at a committed, resumable point with exit 2; a re-run with a higher limit completes without duplicates", async () => {
  const { table, meta, path, bad, good, rejects, args } = await setUp(
    "max_rejects",
  );
  // The first batch rejects 6 records, the second 3 more.
  const stopped = await runCli(args(50, "--max-rejects", "6"));
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
  const finished = await runCli(args(50, "--max-rejects", "1000"));
  assert.equal(finished.code, 3, finished.stderr);
  await assertGoodRowsOnce(table, good);
  assert.equal(
    await Deno.readTextFile(rejects),
    HEADER + bad.map((b) => b.text).join(""),
  );
  await Deno.remove(path);
  await Deno.remove(rejects);
  await Deno.remove(`${rejects}.log`);
});

Deno.test("ingest --reject-file works on the embedded database too", async () => {
  const dataDir = await Deno.makeTempDir();
  const path = await writeTemp('id,n\n1,5\n2,x\n3,"7"\n');
  const setup = await runEmbedded(dataDir, [
    "sql",
    "create table t (id int, n int)",
  ]);
  assert.equal(setup.code, 0, setup.stderr);
  const rejects = `${dataDir}/rejects.csv`;
  const result = await runEmbedded(dataDir, [
    "ingest",
    path,
    "--table",
    "t",
    "--reject-file",
    rejects,
  ]);
  assert.equal(result.code, 3, result.stderr);
  assert.equal(await Deno.readTextFile(rejects), "id,n\n2,x\n");
  await Deno.remove(path);
  await removeDataDir(dataDir);
});
