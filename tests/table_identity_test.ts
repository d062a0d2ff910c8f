/**
 * A source's progress belongs to the target table as it was: a table
 * dropped (and created again) or truncated since loads from the start,
 * saying why; a rewrite that keeps the rows (VACUUM FULL) does not; a
 * complete source says it is already loaded; `--restart` says how many
 * rows stay. Lane counters equal the table after every run. On the server
 * and on the embedded database, end to end through the CLI.
 */

import assert from "node:assert/strict";
import {
  type CliResult,
  databaseUrl,
  embeddedRows,
  removeDataDir,
  runCli,
  runEmbedded,
  scratchLoad,
  sql,
} from "./_helpers.ts";

/** A database the CLI loads into, and SQL on it. */
interface Backend {
  /** Runs `ingest FILES --table T --lane team --json`, then `more`, in `dir`. */
  ingest(files: string[], more?: string[]): Promise<CliResult>;
  /** Runs SQL and returns the rows. */
  sql(text: string): Promise<Record<string, unknown>[]>;
  /** Runs a statement that returns no rows. */
  exec(text: string): Promise<void>;
  /** The target, unqualified. */
  table: string;
  /** The bookkeeping schema. */
  meta: string;
  /** Removes what the backend made. */
  cleanup(): Promise<void>;
}

const PEOPLE = "id,name,team\n1,ada,red\n2,bob,blue\n3,cy,red\n";

/** The test server, a scratch table and bookkeeping schema, files in `dir`. */
function server(dir: string): Backend {
  const { table, meta } = scratchLoad("identity");
  return {
    table,
    meta,
    ingest: (files, more = []) =>
      runCli([
        "ingest",
        ...files,
        "--table",
        table,
        "--lane",
        "team",
        "--json",
        "--meta-schema",
        meta,
        "--db",
        databaseUrl(),
        ...more,
      ], { cwd: dir }),
    sql: (text) => sql(text),
    async exec(text) {
      await sql(text);
    },
    async cleanup() {
      await sql(`drop table if exists ${table}`);
      await sql(`drop schema if exists ${meta} cascade`);
    },
  };
}

/** A new embedded database (no server), files in `dir`. */
async function embedded(dir: string): Promise<Backend> {
  const dataDir = await Deno.makeTempDir();
  return {
    table: "people",
    meta: "lanecopy",
    ingest: (files, more = []) =>
      runEmbedded(dataDir, [
        "ingest",
        ...files,
        "--table",
        "people",
        "--lane",
        "team",
        "--json",
        ...more,
      ], { cwd: dir }),
    sql: (text) => embeddedRows(dataDir, text),
    async exec(text) {
      const result = await runEmbedded(dataDir, ["sql", text]);
      assert.equal(result.code, 0, result.stderr);
    },
    cleanup: () => removeDataDir(dataDir),
  };
}

/** The notices a run printed (`lanecopy: …` lines), without the prefix. */
function notices(result: CliResult): string[] {
  return result.stderr.split("\n")
    .filter((line) => line.startsWith("lanecopy: "))
    .map((line) => line.slice("lanecopy: ".length));
}

/**
 * The rows each file's run loaded, from `--json` (one summary, or for
 * several files their `files`).
 */
function loaded(result: CliResult): number[] {
  assert.equal(result.code, 0, result.stderr);
  return result.stdout.trim().split("\n").flatMap((line) => {
    const summary = JSON.parse(line);
    return summary.files
      ? summary.files.map((file: { rows: number }) => file.rows)
      : [summary.rows];
  });
}

/**
 * Asserts the table holds `rows` rows, each lane's seqs are 1..n, and the
 * lane counters equal what the table holds.
 */
async function assertCounted(backend: Backend, rows: number): Promise<void> {
  const { table, meta } = backend;
  const [state] = await backend.sql(
    `select (select count(*) from ${table})::int as rows,
            (select count(*) from (
               select lane_seq <> row_number() over (partition by team order by lane_seq) as off
                 from ${table}) s where off)::int as seq_gaps,
            (select count(*)
               from (select * from ${meta}.lanes where target = 'public.${table}') l
               full join (select team, count(*) as n from ${table} group by team) c
                 on c.team = l.lane
              where l.row_count is distinct from c.n
                 or l.next_seq is distinct from c.n + 1)::int as bad_counters`,
  );
  assert.deepEqual(state, { rows, seq_gaps: 0, bad_counters: 0 });
}

/**
 * The whole story on one database: load, re-run, VACUUM FULL, TRUNCATE,
 * drop and create, drop, `--restart`, and `--restart` after a TRUNCATE.
 */
async function tableIdentityStory(backend: Backend): Promise<void> {
  const { table } = backend;
  const target = `public.${table}`;
  const run = (more: string[] = []) => backend.ingest(["people.csv"], more);

  assert.deepEqual(loaded(await run(["--create"])), [3]);
  await assertCounted(backend, 3);

  const again = await run();
  assert.deepEqual(loaded(again), [0]);
  assert.deepEqual(notices(again), [
    `people.csv is already loaded: 3 rows in ${target}; nothing to do`,
  ]);
  await assertCounted(backend, 3);

  const storageOf = async () =>
    (await backend.sql(
      `select relfilenode::text as storage from pg_class where oid = '${table}'::regclass`,
    ))[0].storage;
  const before = await storageOf();
  await backend.exec(`vacuum full ${table}`);
  assert.notEqual(await storageOf(), before, "VACUUM FULL gave new storage");
  const vacuumed = await run();
  assert.deepEqual(loaded(vacuumed), [0], "VACUUM FULL keeps the rows");
  assert.deepEqual(notices(vacuumed), [
    `people.csv is already loaded: 3 rows in ${target}; nothing to do`,
  ]);
  const [storage] = await backend.sql(
    `select t.relfilenode = c.relfilenode as recorded
       from ${backend.meta}.targets t, pg_class c
      where t.target = '${target}' and c.oid = '${table}'::regclass`,
  );
  assert.equal(storage.recorded, true, "the new storage is recorded");
  await assertCounted(backend, 3);

  await backend.exec(`truncate ${table}`);
  const truncated = await run();
  assert.deepEqual(loaded(truncated), [3]);
  assert.deepEqual(notices(truncated), [
    `${target} was truncated since the last run of people.csv: loading it from the start`,
  ]);
  await assertCounted(backend, 3);

  await backend.exec(`drop table ${table}`);
  await backend.exec(
    `create table ${table} (id int, name text, team text, lane_seq bigint)`,
  );
  const recreated = await run();
  assert.deepEqual(loaded(recreated), [3]);
  assert.deepEqual(notices(recreated), [
    `${target} was dropped and created again since the last run of people.csv: loading it from the start`,
  ]);
  await assertCounted(backend, 3);

  await backend.exec(`drop table ${table}`);
  const dropped = await run(["--create"]);
  assert.deepEqual(loaded(dropped), [3]);
  assert.equal(
    notices(dropped)[0],
    `${target} was dropped since the last run of people.csv: loading it from the start`,
  );
  await assertCounted(backend, 3);

  const restarted = await run(["--restart"]);
  assert.deepEqual(loaded(restarted), [3]);
  assert.deepEqual(notices(restarted), [
    `Restarting people.csv from its start: the 3 rows loaded before stay in ${target}; truncate it first to replace them`,
  ]);
  await assertCounted(backend, 6);

  await backend.exec(`truncate ${table}`);
  const replaced = await run(["--restart"]);
  assert.deepEqual(loaded(replaced), [3]);
  assert.deepEqual(notices(replaced), [
    `${target} was truncated since the last run of people.csv: loading it from the start`,
  ]);
  await assertCounted(backend, 3);
}

/**
 * Runs `body` against the backend `open` makes over a temp directory that
 * holds `people.csv` (or `files`' text for it) and the other `files`, then
 * frees the backend and the directory, whatever happened.
 */
async function withPeople(
  open: (dir: string) => Backend | Promise<Backend>,
  body: (backend: Backend) => Promise<void>,
  files: Record<string, string> = {},
): Promise<void> {
  const dir = await Deno.makeTempDir();
  for (
    const [name, text] of Object.entries({ "people.csv": PEOPLE, ...files })
  ) {
    await Deno.writeTextFile(`${dir}/${name}`, text);
  }
  const backend = await open(dir);
  try {
    await body(backend);
  } finally {
    await backend.cleanup();
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("ingest on a server reloads a dropped, recreated or truncated table with one notice, not after VACUUM FULL, and says when a source is already loaded or how many rows a restart keeps", async () => {
  await withPeople(server, async (backend) => {
    await tableIdentityStory(backend);
  });
});

Deno.test("ingest on the embedded database reloads a dropped, recreated or truncated table with one notice, not after VACUUM FULL, and says when a source is already loaded or how many rows a restart keeps", async () => {
  await withPeople(embedded, async (backend) => {
    await tableIdentityStory(backend);
  });
});

Deno.test("ingest of several files into a table truncated since reloads every file, even those whose run did not find the truncate", async () => {
  await withPeople(server, async (backend) => {
    const target = `public.${backend.table}`;
    const files = ["people.csv", "more.csv"];
    assert.deepEqual(loaded(await backend.ingest(files, ["--create"])), [3, 2]);
    await sql(`truncate ${backend.table}`);
    const again = await backend.ingest(files);
    assert.deepEqual(loaded(again), [3, 2]);
    assert.deepEqual(notices(again), [
      `${target} was truncated since the last run of people.csv: loading it from the start`,
      `${target} was truncated since the last run of more.csv: loading it from the start`,
    ]);
    await assertCounted(backend, 5);
    const complete = await backend.ingest(files);
    assert.deepEqual(loaded(complete), [0, 0]);
    assert.deepEqual(notices(complete), [
      `people.csv is already loaded: 3 rows in ${target}; nothing to do`,
      `more.csv is already loaded: 2 rows in ${target}; nothing to do`,
    ]);
  }, { "more.csv": "id,name,team\n4,di,blue\n5,ed,red\n" });
});

Deno.test("a new source into a table truncated since lanecopy loaded it starts the lane counters again, and the earlier source then reloads", async () => {
  await withPeople(server, async (backend) => {
    const target = `public.${backend.table}`;
    assert.deepEqual(
      loaded(await backend.ingest(["people.csv"], ["--create"])),
      [3],
    );
    await sql(`truncate ${backend.table}`);
    const fresh = await backend.ingest(["more.csv"]);
    assert.deepEqual(loaded(fresh), [2]);
    assert.deepEqual(notices(fresh), [
      `${target} was truncated since lanecopy last loaded it: its lane counters start again, so each lane's seqs start at 1`,
    ]);
    await assertCounted(backend, 2);
    const earlier = await backend.ingest(["people.csv"]);
    assert.deepEqual(loaded(earlier), [3]);
    assert.deepEqual(notices(earlier), [
      `${target} was truncated since the last run of people.csv: loading it from the start`,
    ]);
    await assertCounted(backend, 5);
  }, { "more.csv": "id,name,team\n4,di,blue\n5,ed,red\n" });
});

Deno.test("ingest --parallel reloads a truncated table with every writer, and a complete parallel source says it is already loaded", async () => {
  const teams = ["red", "blue", "green", "gold", "grey"];
  let csv = "id,name,team\n";
  for (let id = 1; id <= 60; id++) {
    csv += `${id},n${id},${teams[id % teams.length]}\n`;
  }
  await withPeople(server, async (backend) => {
    const target = `public.${backend.table}`;
    const parallel = ["--parallel", "2", "--batch-size", "7"];
    assert.deepEqual(
      loaded(await backend.ingest(["people.csv"], ["--create", ...parallel])),
      [60],
    );
    await assertCounted(backend, 60);
    await sql(`truncate ${backend.table}`);
    const again = await backend.ingest(["people.csv"], parallel);
    assert.deepEqual(loaded(again), [60]);
    assert.deepEqual(notices(again), [
      `${target} was truncated since the last run of people.csv: loading it from the start`,
    ]);
    await assertCounted(backend, 60);
    const [writers] = await sql(
      `select count(*)::int as n, bool_and(complete) as complete
         from ${backend.meta}.progress`,
    );
    assert.deepEqual(writers, { n: 2, complete: true });
    const complete = await backend.ingest(["people.csv"], parallel);
    assert.deepEqual(loaded(complete), [0]);
    assert.deepEqual(notices(complete), [
      `people.csv is already loaded: 60 rows in ${target}; nothing to do`,
    ]);
    await assertCounted(backend, 60);
  }, { "people.csv": csv });
});

Deno.test("bookkeeping from before table identities gains them, keeps its progress, and still finds a table emptied since", async () => {
  await withPeople(server, async (backend) => {
    const { table, meta } = backend;
    const target = `public.${table}`;
    /** Takes the bookkeeping back to how an earlier version made it. */
    const older = async () => {
      await sql(`drop table ${meta}.targets`);
      await sql(`alter table ${meta}.sources drop column target_generation`);
    };
    assert.deepEqual(
      loaded(await backend.ingest(["people.csv"], ["--create"])),
      [3],
    );
    await older();
    const upgraded = await backend.ingest(["people.csv"]);
    assert.deepEqual(loaded(upgraded), [0], "the progress was kept");
    assert.deepEqual(notices(upgraded), [
      `people.csv is already loaded: 3 rows in ${target}; nothing to do`,
    ]);
    const [adopted] = await sql(
      `select t.table_oid = '${table}'::regclass::oid::bigint as same, t.generation::int
         from ${meta}.targets t`,
    );
    assert.deepEqual(adopted, { same: true, generation: 1 });
    await sql(`truncate ${table}`);
    const truncated = await backend.ingest(["people.csv"]);
    assert.deepEqual(loaded(truncated), [3]);
    assert.deepEqual(notices(truncated), [
      `${target} was truncated since the last run of people.csv: loading it from the start`,
    ]);
    await assertCounted(backend, 3);

    await older();
    await sql(`truncate ${table}`);
    const emptied = await backend.ingest(["people.csv"]);
    assert.deepEqual(loaded(emptied), [3]);
    assert.deepEqual(notices(emptied), [
      `${target} was emptied since the last run of people.csv: loading it from the start`,
    ]);
    await assertCounted(backend, 3);
    const [generation] = await sql(
      `select s.target_generation::int as source, t.generation::int as target
         from ${meta}.sources s, ${meta}.targets t`,
    );
    assert.deepEqual(generation, { source: 2, target: 2 });
  });
});
