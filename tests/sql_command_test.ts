import assert from "node:assert/strict";
import stringWidth from "string-width";
import {
  type CliResult,
  databaseUrl,
  removeDataDir,
  runCli,
  runEmbedded,
  scratchTable,
} from "./_helpers.ts";

/** `sql` run on one database: a server, or an embedded one in a temp directory. */
interface Backend {
  name: string;
  sql(args: string[]): Promise<CliResult>;
}

/**
 * Runs `fn` once on the test server and once on a new embedded database,
 * each as its own step.
 */
async function onBothBackends(
  t: Deno.TestContext,
  fn: (backend: Backend) => Promise<void>,
): Promise<void> {
  await t.step("on a server", () =>
    fn({
      name: "server",
      sql: (args) => runCli(["sql", ...args, "--db", databaseUrl()]),
    }));
  const dataDir = await Deno.makeTempDir();
  try {
    await t.step("on the embedded database", () =>
      fn({
        name: "embedded",
        sql: (args) => runEmbedded(dataDir, ["sql", ...args]),
      }));
  } finally {
    await removeDataDir(dataDir);
  }
}

Deno.test("sql runs several statements in one string, printing each command tag and each result's table", async (t) => {
  const outputs: string[] = [];
  await onBothBackends(t, async ({ sql }) => {
    const table = scratchTable("sql_multi");
    const result = await sql([
      `create table ${table} (id int8, name text, note text);
       insert into ${table} values (1, '東京', null), (2, '👍🏽 ok', ''), (3, e'two\\nlines\\tx', 'NULL');
       select id, name, note from ${table} order by id;
       update ${table} set note = 'x' where id = 1;
       delete from ${table} where id = 3;
       select count(*) as n from ${table};
       drop table ${table}`,
    ]);
    assert.equal(result.code, 0, result.stderr);
    const lines = result.stdout.split("\n");
    assert.deepEqual(lines.slice(0, 2), ["CREATE TABLE", "INSERT 0 3"]);
    assert.deepEqual(lines.slice(9), [
      "UPDATE 1",
      "DELETE 1",
      "n",
      "-",
      "2",
      "(1 row)",
      "",
      "DROP TABLE",
      "",
    ]);
    outputs.push(result.stdout);
  });
  assert.equal(outputs[0], outputs[1], "the same output on both");
});

Deno.test("sql shows NULL apart from the empty string, escapes line breaks and tabs, and aligns wide characters", async (t) => {
  await onBothBackends(t, async ({ sql }) => {
    const result = await sql([
      `select * from (values
         (1, '東京', null::text),
         (2, '👍🏽 ok', ''),
         (3, e'two\\nlines\\tx\\r', 'NULL'),
         (4, 'ｆｕｌｌ　ｗｉｄｔｈ', e'bell\\x07')
       ) as v(id, name, note)`,
    ]);
    assert.equal(result.code, 0, result.stderr);
    const lines = result.stdout.trimEnd().split("\n");
    assert.equal(lines.length, 7, result.stdout);
    assert.equal(lines[0].replace(/ +/g, " "), "id | name | note");
    assert.equal(lines[6], "(4 rows)");
    const [one, two, three, four] = lines.slice(2, 6);
    assert.match(one, /^1 +\| 東京 +\| NULL$/);
    assert.match(two, /^2 +\| 👍🏽 ok +\|$/); // the empty string: nothing
    assert.match(three, /^3 +\| two\\nlines\\tx\\r +\| NULL$/);
    assert.match(four, /^4 +\| ｆｕｌｌ　ｗｉｄｔｈ +\| bell\\u0007$/);
    // Every separator sits in the same terminal column, however wide the
    // characters before it.
    const bars = (line: string) =>
      [...line.matchAll(/[|+]/g)].map((match) =>
        stringWidth(line.slice(0, match.index))
      );
    for (const line of lines.slice(0, 6)) {
      assert.deepEqual(bars(line), bars(lines[1]), line);
    }
  });
});

Deno.test("sql prints a result with no rows as its header, and a failed statement undoes the ones before it", async (t) => {
  await onBothBackends(t, async ({ sql }) => {
    const empty = await sql(["select 1 as one where false"]);
    assert.equal(empty.code, 0, empty.stderr);
    assert.equal(empty.stdout, "one\n---\n(0 rows)\n");

    const table = scratchTable("sql_undo");
    const failed = await sql([
      `create table ${table} (a int); insert into ${table} values (1); select nope from ${table}`,
    ]);
    assert.equal(failed.code, 1);
    assert.equal(failed.stdout, "");
    assert.match(failed.stderr, /lanecopy: column "nope" does not exist/);
    const gone = await sql([`select to_regclass('${table}') is null as gone`]);
    assert.equal(gone.code, 0, gone.stderr);
    assert.equal(gone.stdout, "gone\n----\nt\n(1 row)\n");
  });
});

Deno.test("sql --json prints each row as one object a line, leaves tags out, and sends notices to stderr", async (t) => {
  await onBothBackends(t, async ({ sql }) => {
    const table = scratchTable("sql_json");
    const result = await sql([
      `drop table if exists ${table};
       select 1 as n, null::text as a, ''::text as b;
       select 2 as n, 'x' as a, e'y\\n' as b`,
      "--json",
    ]);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(
      result.stdout.trimEnd().split("\n").map((line) => JSON.parse(line)),
      [{ n: 1, a: null, b: "" }, { n: 2, a: "x", b: "y\n" }],
    );
    assert.match(
      result.stderr,
      /NOTICE: table "[^"]+" does not exist, skipping/,
    );

    const text = await sql([`drop table if exists ${table}`]);
    assert.equal(text.stdout, "DROP TABLE\n");
  });
});
