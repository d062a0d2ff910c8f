/**
 * Columns by name, end to end through the command, on the server and on
 * the embedded database: a header's names map to the table's columns in
 * any order; `--columns` skips (`-`, `field:-`) and renames
 * (`field:column`) fields; fields whose column the table lacks are refused
 * all at once, or skipped with `--extra-columns ignore`; NDJSON keys that
 * are no column are skipped with `--extra-keys ignore`; columns the file
 * lacks get their defaults; a resumed run maps the fields as the first
 * did (it reads no header).
 */

import assert from "node:assert/strict";
import {
  type CliResult,
  databaseUrl,
  embeddedRows,
  runCli,
  runEmbedded,
  scratchTable,
  sql,
} from "./_helpers.ts";

/** A database a scenario loads into, with its table made fresh. */
interface Db {
  /** The table's name, as `--table` gives it. */
  table: string;
  /** `lanecopy ingest ARGS` into it, run in `cwd`. */
  ingest(args: string[], cwd: string): Promise<CliResult>;
  /** The rows of a query (`$T` is the table). */
  rows(query: string): Promise<Record<string, unknown>[]>;
  /** Drops what the scenario made. */
  close(): Promise<void>;
}

const PEOPLE =
  "(id int, nick text, joined date default '2024-01-01', lane_seq bigint)";

/** The server, a scratch table and bookkeeping schema. */
async function server(ddl: string): Promise<Db> {
  const table = scratchTable("by_name");
  const meta = `${table}_meta`;
  await sql(`create table ${table} ${ddl}`);
  return {
    table,
    ingest: (args, cwd) =>
      runCli(
        [
          "ingest",
          ...args,
          "--table",
          table,
          "--db",
          databaseUrl(),
          "--meta-schema",
          meta,
        ],
        { cwd },
      ),
    rows: (query) => sql(query.replaceAll("$T", table)),
    async close() {
      await sql(`drop table ${table}; drop schema if exists ${meta} cascade`);
    },
  };
}

/** A fresh embedded database, its table named `people`. */
async function embedded(ddl: string): Promise<Db> {
  const dataDir = await Deno.makeTempDir();
  const table = "people";
  const created = await runEmbedded(dataDir, [
    "sql",
    `create table ${table} ${ddl}`,
  ]);
  assert.equal(created.code, 0, created.stderr);
  return {
    table,
    ingest: (args, cwd) =>
      runEmbedded(dataDir, ["ingest", ...args, "--table", table], {
        cwd,
        env: { DATABASE_URL: "" },
      }),
    rows: (query) => embeddedRows(dataDir, query.replaceAll("$T", table)),
    async close() {
      await Deno.remove(dataDir, { recursive: true });
      await Deno.remove(`${dataDir}.lock`).catch(() => {});
    },
  };
}

const DATABASES = [
  ["the server", server],
  ["the embedded database", embedded],
] as const;

/** Runs `scenario` on each database, a step each, in a directory of its own. */
function onBoth(
  name: string,
  ddl: string,
  scenario: (db: Db, dir: string, where: string) => Promise<void>,
): void {
  Deno.test(name, async (t) => {
    for (const [where, open] of DATABASES) {
      await t.step(where, async () => {
        const dir = await Deno.makeTempDir();
        const db = await open(ddl);
        try {
          await scenario(db, dir, where);
        } finally {
          await db.close();
          await Deno.remove(dir, { recursive: true });
        }
      });
    }
  });
}

/** Writes `text` to `name` in `dir`. */
async function file(dir: string, name: string, text: string): Promise<string> {
  await Deno.writeTextFile(`${dir}/${name}`, text);
  return name;
}

function ok(result: CliResult): void {
  assert.equal(result.code, 0, result.stderr);
}

const PEOPLE_ROWS =
  "select id::text as id, nick, joined::text as joined, lane_seq::text as lane_seq from $T order by id";

onBoth(
  "ingest maps a header's names to the table's columns in any order; columns the file lacks get their defaults",
  PEOPLE,
  async (db, dir) => {
    // Columns in another order than the table's; joined and lane_seq absent.
    ok(
      await db.ingest([
        await file(dir, "people.csv", "nick,id\nada,1\nbob,2\n"),
      ], dir),
    );
    assert.deepEqual(await db.rows(PEOPLE_ROWS), [
      { id: "1", nick: "ada", joined: "2024-01-01", lane_seq: "1" },
      { id: "2", nick: "bob", joined: "2024-01-01", lane_seq: "2" },
    ]);
  },
);

onBoth(
  "ingest --columns skips a field by position (-) or by name (field:-), with a header or without",
  PEOPLE,
  async (db, dir) => {
    const csv = await file(dir, "people.csv", "id,age,nick\n1,36,ada\n");
    ok(await db.ingest([csv, "--columns=id,-,nick"], dir));
    const named = await file(dir, "named.csv", "nick,age,id\nbob,41,2\n");
    ok(await db.ingest([named, "--columns", "age:-"], dir));
    const bare = await file(dir, "bare.csv", "3,50,cyd\n");
    ok(await db.ingest([bare, "--no-header", "--columns=id,-,nick"], dir));
    assert.deepEqual(await db.rows(PEOPLE_ROWS), [
      { id: "1", nick: "ada", joined: "2024-01-01", lane_seq: "1" },
      { id: "2", nick: "bob", joined: "2024-01-01", lane_seq: "2" },
      { id: "3", nick: "cyd", joined: "2024-01-01", lane_seq: "3" },
    ]);
  },
);

onBoth(
  "ingest --columns renames a field (field:column), by name or at its position, and --lane names the column",
  PEOPLE,
  async (db, dir) => {
    const csv = await file(dir, "people.csv", "nickname,id\nada,1\n");
    ok(
      await db.ingest(
        [csv, "--columns", "nickname:nick", "--lane", "nick"],
        dir,
      ),
    );
    const more = await file(dir, "more.csv", "id,nickname\n2,bob\n");
    ok(await db.ingest([more, "--columns", "id,nickname:nick"], dir));
    // At its position, field:column checks the header's name there.
    const wrong = await file(dir, "wrong.csv", "id,name\n3,cyd\n");
    const refused = await db.ingest(
      [wrong, "--columns", "id,nickname:nick"],
      dir,
    );
    assert.equal(refused.code, 2, refused.stderr);
    assert.match(
      refused.stderr,
      /Cannot map --columns onto wrong\.csv: field 2 is "name" in the header, not "nickname"/,
    );
    assert.deepEqual(
      await db.rows(
        "select id::text as id, nick, lane_seq::text as lane_seq from $T order by id",
      ),
      [
        { id: "1", nick: "ada", lane_seq: "1" }, // lane "ada"
        { id: "2", nick: "bob", lane_seq: "1" }, // lane "default"
      ],
    );
  },
);

onBoth(
  "ingest refuses a file whose columns the table lacks, naming them all, before anything loads",
  "(id int, note text)",
  async (db, dir, where) => {
    const csv = await file(
      dir,
      "people.csv",
      "id,nickname,age,note\n1,ada,36,x\n",
    );
    const result = await db.ingest([csv], dir);
    assert.equal(result.code, 2, result.stderr);
    const line = where === "the embedded database"
      ? 'lanecopy: Cannot load people.csv into public.people: the table has no column "nickname", "age" (add them, map them with --columns, or pass --extra-columns ignore)\n'
      : `lanecopy: Cannot load people.csv into public.${db.table}: the table has no column "nickname", "age" (add them, map them with --columns, or pass --extra-columns ignore)\n`;
    assert.ok(result.stderr.endsWith(line), result.stderr);
    assert.deepEqual(await db.rows("select count(*)::int as n from $T"), [{
      n: 0,
    }]);
    // With --extra-columns ignore those fields are skipped.
    ok(await db.ingest([csv, "--extra-columns", "ignore"], dir));
    assert.deepEqual(await db.rows("select id, note from $T"), [{
      id: 1,
      note: "x",
    }]);
  },
);

onBoth(
  "ingest --extra-keys ignore leaves out NDJSON keys that are no column; without it the first is bad input at its line and column",
  "(id int, nick text, note text default 'none')",
  async (db, dir) => {
    const lines =
      '{"id": 1, "nick": "ada", "extra": {"x": [1]}}\n{"color": "red", "id": 2}\n';
    const events = await file(dir, "events.ndjson", lines);
    const refused = await db.ingest([events], dir);
    assert.equal(refused.code, 2, refused.stderr);
    assert.match(
      refused.stderr,
      /events\.ndjson:1:26: Cannot parse record: key "extra" is not a column \(columns: id, nick, note\)/,
    );
    ok(await db.ingest([events, "--extra-keys", "ignore"], dir));
    // Renamed and skipped keys; note is not a field, so it gets its default.
    const renamed = await file(
      dir,
      "renamed.ndjson",
      '{"id": 3, "name": "cyd", "age": 9}\n',
    );
    ok(await db.ingest([renamed, "--columns", "id,name:nick,age:-"], dir));
    assert.deepEqual(
      await db.rows("select id::text as id, nick, note from $T order by id"),
      [
        { id: "1", nick: "ada", note: null },
        { id: "2", nick: null, note: null },
        { id: "3", nick: "cyd", note: "none" },
      ],
    );
  },
);

onBoth(
  "a resumed run maps the fields as the first run did, and refuses another map",
  "(id int, nick text)",
  async (db, dir) => {
    const csv = await file(dir, "people.csv", "age,id,nickname\n36,1,ada\n");
    const flags = ["--columns", "nickname:nick", "--extra-columns", "ignore"];
    ok(await db.ingest([csv, ...flags], dir));
    // The file grows: the next run reads no header, only the new records.
    await Deno.writeTextFile(`${dir}/${csv}`, "41,2,bob\n", { append: true });
    const resumed = await db.ingest([csv, ...flags], dir);
    ok(resumed);
    assert.match(resumed.stderr, /resuming after it|resumed after byte/);
    const other = await db.ingest([
      csv,
      "--columns=-,id,-",
      "--extra-columns",
      "ignore",
    ], dir);
    assert.equal(other.code, 4, other.stderr);
    assert.match(
      other.stderr,
      /Cannot resume source .* with other options: --columns was/,
    );
    assert.deepEqual(
      await db.rows("select id::text as id, nick from $T order by id"),
      [{ id: "1", nick: "ada" }, { id: "2", nick: "bob" }],
    );
  },
);
