import assert from "node:assert/strict";
import { ingest } from "../src/mod.ts";
import {
  databaseUrl,
  embeddedRows,
  ingestArgs,
  psql,
  REPO_ROOT,
  runCli,
  runEmbedded,
  scratchTable,
  sql,
  writeTemp,
} from "./_helpers.ts";

/** A CSV with every rule at once: BOM, CRLF, quoted line breaks, "" vs empty. */
const TRICKY_CSV = "\uFEFFid,body,note\r\n" +
  '1,"comma, inside","say ""hi"""\r\n' +
  '2,"two\nlines",\r\n' +
  '3,"",""\r\n' +
  "4,back\\slash and\ttab,中文 🚀 é\r\n" +
  '5,"\\.",x\r\n' +
  '6,"cr\r\nlf inside",\r\n' +
  "7,,\r\n";

/** Loads `path` with psql's \copy (FORMAT csv, HEADER) into a new table. */
async function psqlCopyInto(table: string, ddl: string, path: string) {
  await sql(`create table ${table} ${ddl}`);
  const result = await psql([
    "-c",
    `\\copy ${table} from '${path}' (format csv, header)`,
  ]);
  assert.equal(result.code, 0, result.stderr);
}

async function assertSameRows(a: string, b: string) {
  const [{ left, right, na, nb }] = await sql(
    `select (select count(*) from (table ${a} except all table ${b}) x)::int as left,
            (select count(*) from (table ${b} except all table ${a}) y)::int as right,
            (select count(*) from ${a})::int as na, (select count(*) from ${b})::int as nb`,
  );
  assert.deepEqual({ left, right, na: na, nb: nb }, {
    left: 0,
    right: 0,
    na: nb,
    nb: na,
  });
  assert.ok((na as number) > 0, "the reference table is empty");
}

Deno.test("ingest CLI loads a file into a server exactly as psql \\copy does", async () => {
  const path = await writeTemp(TRICKY_CSV);
  const reference = scratchTable("ref");
  const loaded = scratchTable("loaded");
  const ddl = "(id int, body text, note text)";
  await psqlCopyInto(reference, ddl, path);
  await sql(`create table ${loaded} ${ddl}`);
  const result = await runCli(ingestArgs(path, loaded, "--json"));
  assert.equal(result.code, 0, result.stderr);
  const summary = JSON.parse(result.stdout);
  assert.equal(summary.rows, 7);
  assert.equal(summary.table, `public.${loaded}`);
  await assertSameRows(reference, loaded);
  const rows = await sql(
    `select id, body, note from ${loaded} where id in (2, 3, 7) order by id`,
  );
  assert.deepEqual(rows, [
    { id: 2, body: "two\nlines", note: null },
    { id: 3, body: "", note: "" },
    { id: 7, body: null, note: null },
  ]);
  await Deno.remove(path);
});

Deno.test("ingest CLI reads stdin and commits one transaction per batch", async () => {
  const table = scratchTable("stdin");
  await sql(`create table ${table} (id int, v text)`);
  const lines = [
    "id,v",
    ...Array.from({ length: 2500 }, (_, i) => `${i + 1},"v${i}"`),
  ];
  const result = await runCli(
    ["ingest", "-", "--table", table, "--batch-size", "1000", "--json"],
    { stdin: lines.join("\n") + "\n", env: { DATABASE_URL: databaseUrl() } },
  );
  assert.equal(result.code, 0, result.stderr);
  const summary = JSON.parse(result.stdout);
  assert.equal(summary.rows, 2500);
  assert.equal(summary.batches, 3);
  assert.match(result.stderr, /loaded 2,500 rows from <stdin>/);
  const [{ n, s }] = await sql(
    `select count(*)::int as n, sum(id)::int as s from ${table}`,
  );
  assert.deepEqual({ n, s }, { n: 2500, s: 2500 * 2501 / 2 });
});

Deno.test("ingest --create makes a column per header name, case kept, typed from the values (no values: text)", async () => {
  const table = scratchTable("created");
  const path = await writeTemp('Id,"Full Name",note\n1,Ada,\n');
  const result = await runCli(ingestArgs(path, table, "--create", "-q"));
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stderr, "", "--quiet prints nothing");
  const columns = await sql(
    `select column_name, data_type from information_schema.columns where table_name = $1 order by ordinal_position`,
    [table],
  );
  assert.deepEqual(columns, [
    { column_name: "Id", data_type: "integer" },
    { column_name: "Full Name", data_type: "text" },
    { column_name: "note", data_type: "text" },
  ]);
  assert.deepEqual(await sql(`select * from ${table}`), [{
    Id: 1,
    "Full Name": "Ada",
    note: null,
  }]);
  // A resume prints a notice, but not with --quiet.
  await Deno.writeTextFile(path, "2,Grace,x\n", { append: true });
  const args = ingestArgs(path, table);
  const resumed = await runCli([...args, "-q"]);
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.equal(resumed.stderr, "", "--quiet prints no notice either");
  await Deno.writeTextFile(path, "3,Edsger,y\n", { append: true });
  const told = await runCli(args);
  assert.match(told.stderr, /has 2 rows committed up to byte \d+: checking/);
  assert.equal((await sql(`select * from ${table}`)).length, 3);
  await Deno.remove(path);
});

Deno.test("ingest into a missing table fails before loading and suggests --create", async () => {
  const table = scratchTable("missing");
  const path = await writeTemp("a,b\n1,2\n");
  const result = await runCli(ingestArgs(path, table));
  assert.equal(result.code, 1);
  assert.match(
    result.stderr,
    new RegExp(`public\\.${table}: the table does not exist .*--create`),
  );
  assert.deepEqual(await sql("select to_regclass($1) as r", [table]), [{
    r: null,
  }]);
  await Deno.remove(path);
});

Deno.test("ingest stops at a wrong field count with file:line:column, earlier batches committed", async () => {
  const table = scratchTable("fields");
  await sql(`create table ${table} (a int, b text)`);
  const path = await writeTemp("a,b\n1,x\n2,y\n3,z\n4\n5,w\n");
  const result = await runCli(ingestArgs(path, table, "--batch-size", "2"));
  assert.equal(result.code, 2);
  assert.ok(
    result.stderr.includes(
      `${path}:5:2: Cannot parse record: expected 2 fields, found 1`,
    ),
    result.stderr,
  );
  const rows = await sql(`select a from ${table} order by a`);
  assert.deepEqual(
    rows.map((row) => row.a),
    [1, 2],
    "only the batch before the bad record",
  );
  await Deno.remove(path);
});

Deno.test("ingest names the source line and column of a row the server rejects", async () => {
  const table = scratchTable("rejected");
  await sql(`create table ${table} (a int, b text)`);
  const path = await writeTemp('a,b\n1,"multi\nline"\n2,ok\nthree,bad\n4,x\n');
  const result = await runCli(ingestArgs(path, table));
  assert.equal(result.code, 2);
  assert.ok(
    result.stderr.includes(
      `${path}:5: column "a": invalid input syntax for type integer: "three" (SQLSTATE 22P02)`,
    ),
    result.stderr,
  );
  assert.deepEqual(await sql(`select count(*)::int as n from ${table}`), [{
    n: 0,
  }], "the batch rolled back");
  await Deno.remove(path);
});

Deno.test("ingest rejects a header naming a column the table lacks", async () => {
  const table = scratchTable("unknowncol");
  await sql(`create table ${table} (a int)`);
  const result = await runCli(ingestArgs("-", table), {
    stdin: "a,zz\n1,2\n",
  });
  assert.equal(result.code, 2);
  assert.match(
    result.stderr,
    /Cannot load <stdin> into public\.unknowncol_\w+: the table has no column "zz" \(add them, map them with --columns, or pass --extra-columns ignore\)/,
  );
});

Deno.test("ingest --columns with --no-header maps fields to the named columns", async () => {
  const table = scratchTable("cols");
  await sql(`create table ${table} (a int, b text, c text)`);
  const result = await runCli(
    ingestArgs("-", table, "--columns", "c,a", "--no-header"),
    { stdin: "x,1\ny,2\n" },
  );
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(await sql(`select a, b, c from ${table} order by a`), [
    { a: 1, b: null, c: "x" },
    { a: 2, b: null, c: "y" },
  ]);
});

Deno.test("ingest never prints a password from a URL that fails", async (t) => {
  const secret = "pa55-w0rd-XYZ";
  for (
    const url of [
      `postgres://someone:${secret}@127.0.0.1:1/db`,
      `postgres://someone:${secret}@bad host:port/db`,
      `postgres://someone:${secret}@[::1/db`,
    ]
  ) {
    await t.step(url.replace(secret, "***"), async () => {
      const result = await runCli(
        ["ingest", "-", "--table", "t", "--db", url],
        { stdin: "a\n1\n" },
      );
      assert.equal(result.code, 1);
      assert.ok(
        !(result.stdout + result.stderr).includes(secret),
        result.stderr,
      );
      assert.match(
        result.stderr,
        /lanecopy: Cannot (connect to|use the database URL)/,
      );
    });
  }
});

Deno.test("ingest loads into the embedded database from a file and from stdin; sql reads it", async () => {
  const dataDir = await Deno.makeTempDir();
  const path = await writeTemp(TRICKY_CSV);
  const first = await runEmbedded(dataDir, [
    "ingest",
    path,
    "--table",
    "tricky",
    "--create",
  ]);
  assert.equal(first.code, 0, first.stderr);
  const second = await runEmbedded(
    dataDir,
    ["ingest", "-", "--table", "tricky"],
    { stdin: "id,body,note\n8,eight,\n" },
  );
  assert.equal(second.code, 0, second.stderr);
  const rows = await embeddedRows(
    dataDir,
    "select id, body, note from tricky order by id::int",
  );
  assert.equal(rows.length, 8);
  assert.deepEqual(rows[2], { id: 3, body: "", note: "" });
  assert.deepEqual(rows[5], { id: 6, body: "cr\r\nlf inside", note: null });
  assert.deepEqual(rows[7], { id: 8, body: "eight", note: null });
  await Deno.remove(path);
  await Deno.remove(dataDir, { recursive: true });
});

Deno.test("ingest() on the embedded database resolves relative paths against cwd", async () => {
  const cwd = await Deno.makeTempDir();
  await Deno.writeTextFile(`${cwd}/in.csv`, "x\n1\n2\n");
  const summary = await ingest({
    source: "in.csv",
    table: "rel",
    create: true,
    db: "",
    dataDir: "db",
    cwd,
  });
  assert.equal(summary.rows, 2);
  assert.ok((await Deno.stat(`${cwd}/db`)).isDirectory);
  await Deno.remove(cwd, { recursive: true });
});

Deno.test("ingest() rejects a server-rejected row in the embedded database with its line", async () => {
  const dataDir = await Deno.makeTempDir();
  const csv = new TextEncoder().encode("a\n1\n2\nnope\n");
  const { openTarget } = await import("../src/target/open_target.ts");
  const target = await openTarget({ db: "", dataDir });
  await target.query("create table typed (a int)");
  await assert.rejects(
    ingest({
      source: ReadableStream.from([csv]),
      sourceName: "mem.csv",
      table: "typed",
      target,
    }),
    (error: Error & { line?: number; code?: string }) => {
      assert.equal(error.line, 4);
      assert.equal(error.code, "22P02");
      assert.match(
        error.message,
        /^mem\.csv:4: column "a": invalid input syntax/,
      );
      return true;
    },
  );
  assert.deepEqual(
    (await target.query("select count(*)::int as n from typed")).rows,
    [{ n: 0 }],
  );
  await target.close();
  await Deno.remove(dataDir, { recursive: true });
});

Deno.test("README's ingest command works from a clean directory with no server", async () => {
  const dataDir = await Deno.makeTempDir();
  const result = await runEmbedded(
    dataDir,
    ["ingest", "examples/orders.csv", "--table", "orders", "--create"],
    { cwd: REPO_ROOT },
  );
  assert.equal(result.code, 0, result.stderr);
  assert.match(
    result.stderr,
    /loaded \d+ rows from examples\/orders.csv into public.orders/,
  );
  await Deno.remove(dataDir, { recursive: true });
});
