import assert from "node:assert/strict";
import {
  ingestArgs,
  psql,
  runCli,
  scratchTable,
  sql,
  writeTemp,
} from "./_helpers.ts";

/** Records that exercise every NDJSON rule a server can check. */
const EVENTS = [
  '{"id": 1, "region": "eu", "amount": 0.1000000000000000055511151231257827, "doc": {"n": 0.1000000000000000055511151231257827, "tags": ["a", "\\u00e9"]}, "note": "caf\\u00e9 \\ud83d\\ude00\\tline\\nbreak \\\\ \\"q\\"", "flag": true}',
  "",
  '{"region": "us", "id": 2, "amount": 1e400, "doc": [1, 2.50, null], "note": "", "flag": false}',
  '  {"id": 3, "region": "eu", "note": null, "doc": null}  ',
  '{"id": 4, "region": "eu", "amount": -12.5e-3, "doc": "{\\"text\\": \\"json in a string\\"}", "note": "\\\\N"}',
].join("\n") + "\n";

const DDL =
  "(id int, region text, amount numeric, doc jsonb, note text, flag boolean, lane_seq bigint)";

async function assertEvents(table: string) {
  const rows = await sql(
    `select id, region, amount::text as amount, amount = 1e400 as big,
            doc, doc->'n' = '0.1000000000000000055511151231257827'::jsonb as exact,
            note, flag, lane_seq
       from ${table} order by id`,
  );
  assert.deepEqual(rows, [
    {
      id: 1,
      region: "eu",
      amount: "0.1000000000000000055511151231257827",
      big: false,
      doc: { n: 0.1, tags: ["a", "é"] },
      exact: true,
      note: 'café 😀\tline\nbreak \\ "q"',
      flag: true,
      lane_seq: "1",
    },
    {
      id: 2,
      region: "us",
      amount: `1${"0".repeat(400)}`,
      big: true,
      doc: [1, 2.5, null],
      exact: null,
      note: "",
      flag: false,
      lane_seq: "1",
    },
    {
      id: 3,
      region: "eu",
      amount: null,
      big: null,
      doc: null,
      exact: null,
      note: null,
      flag: null,
      lane_seq: "2",
    },
    {
      id: 4,
      region: "eu",
      amount: "-0.0125",
      big: false,
      doc: { text: "json in a string" },
      exact: null,
      note: "\\N",
      flag: null,
      lane_seq: "3",
    },
  ]);
}

Deno.test("ingest loads an NDJSON file into jsonb and numeric columns named by the table, byte for byte", async () => {
  const path = await writeTemp(EVENTS, ".ndjson");
  const table = scratchTable("nd");
  await sql(`create table ${table} ${DDL}`);
  const result = await runCli(
    ingestArgs(path, table, "--lane", "region", "--batch-size", "2", "--json"),
  );
  assert.equal(result.code, 0, result.stderr);
  assert.equal(JSON.parse(result.stdout).rows, 4);
  await assertEvents(table);
  const [progress] = await sql(
    `select p.lines_committed::int as lines, s.options->>'format' as format,
            s.options->'columns' as columns
       from lanecopy.progress p join lanecopy.sources s using (source_id)
      where s.target = $1`,
    [`public.${table}`],
  );
  assert.deepEqual(progress, {
    lines: 5,
    format: "ndjson",
    columns: ["id", "region", "amount", "doc", "note", "flag"],
  });
  await Deno.remove(path);
});

Deno.test("ingest sniffs NDJSON on stdin and maps keys to --columns, with either codec", async (t) => {
  for (const codec of ["wasm", "ts"]) {
    await t.step(codec, async () => {
      const table = scratchTable("nd_stdin");
      await sql(`create table ${table} ${DDL}`);
      const result = await runCli(
        ingestArgs(
          "-",
          table,
          "--columns",
          "region,id,note,doc,amount,flag",
          "--lane",
          "region",
          "--codec",
          codec,
        ),
        { stdin: `\n${EVENTS}` },
      );
      assert.equal(result.code, 0, result.stderr);
      await assertEvents(table);
    });
  }
});

Deno.test("ingest stops at an unknown NDJSON key with file:line:column, earlier batches committed", async () => {
  const path = await writeTemp(
    '{"id": 1}\n{"id": 2}\n\n{"id": 3, "color": "red"}\n{"id": 4}\n',
    ".jsonl",
  );
  const table = scratchTable("nd_bad");
  await sql(`create table ${table} (id int)`);
  const result = await runCli(ingestArgs(path, table, "--batch-size", "1"));
  assert.equal(result.code, 2, result.stderr);
  assert.match(
    result.stderr,
    /:4:11: Cannot parse record: key "color" is not a column \(columns: id\)/,
  );
  const rows = await sql(`select id from ${table} order by id`);
  assert.deepEqual(rows, [{ id: 1 }, { id: 2 }]);
  await Deno.remove(path);
});

Deno.test("ingest resumes an NDJSON file that grew, with the right line numbers", async () => {
  const first = '{"id": 1, "note": "a\\nb"}\n{"id": 2}\n';
  const path = await writeTemp(first, ".ndjson");
  const table = scratchTable("nd_grow");
  await sql(`create table ${table} (id int, note text)`);
  const args = ingestArgs(path, table, "--batch-size", "1");
  assert.equal((await runCli(args)).code, 0);
  await Deno.writeTextFile(path, '{"id": 3}\n{"id": 4, "nope": 1}\n', {
    append: true,
  });
  const again = await runCli(args);
  assert.equal(again.code, 2, again.stderr);
  assert.match(again.stderr, /:4:11: Cannot parse record: key "nope"/);
  const rows = await sql(`select id from ${table} order by id`);
  assert.deepEqual(rows, [{ id: 1 }, { id: 2 }, { id: 3 }]);
  await Deno.remove(path);
});

Deno.test("ingest refuses NDJSON into a missing table without --columns, and creates it with them", async () => {
  const path = await writeTemp('{"a": "x", "b": {"k": 1}}\n', ".ndjson");
  const table = scratchTable("nd_new");
  const base = ingestArgs(path, table);
  const refused = await runCli(base);
  assert.equal(refused.code, 1);
  assert.match(
    refused.stderr,
    /Cannot load NDJSON into public\.nd_new_\w+: the table does not exist/,
  );
  const created = await runCli([...base, "--columns", "a,b", "--create"]);
  assert.equal(created.code, 0, created.stderr);
  // b's values are JSON objects: --create makes it jsonb.
  assert.deepEqual(await sql(`select a, b from ${table}`), [
    { a: "x", b: { k: 1 } },
  ]);
  await Deno.remove(path);
});

Deno.test("encode turns NDJSON into COPY rows that psql \\copy loads as ingest does", async (t) => {
  const path = await writeTemp(EVENTS, ".json");
  for (const format of ["text", "csv"] as const) {
    await t.step(format, async () => {
      const table = scratchTable(`nd_enc_${format}`);
      await sql(`create table ${table} ${DDL}`);
      const columns = "id,region,amount,doc,note,flag";
      const encoded = await runCli([
        "encode",
        path,
        "--columns",
        columns,
        "--copy-format",
        format,
      ]);
      assert.equal(encoded.code, 0, encoded.stderr);
      const loaded = await psql([
        "-c",
        `\\copy ${table} (${columns}) from stdin (format ${format})`,
      ], new TextEncoder().encode(encoded.stdout));
      assert.equal(loaded.code, 0, loaded.stderr);
      await sql(
        `update ${table} t set lane_seq = s.seq from (select id, row_number() over (partition by region order by id) as seq from ${table}) s where s.id = t.id`,
      );
      await assertEvents(table);
    });
  }
  const missing = await runCli(["encode", path]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /Cannot encode NDJSON without --columns/);
  await Deno.remove(path);
});

Deno.test("ingest names the source line of an NDJSON value a jsonb column rejects", async () => {
  const path = await writeTemp(
    '{"id": 1, "doc": {}}\n\n{"id": 2, "doc": "not json"}\n',
    ".ndjson",
  );
  const table = scratchTable("nd_reject");
  await sql(`create table ${table} (id int, doc jsonb)`);
  const result = await runCli(ingestArgs(path, table));
  assert.equal(result.code, 2, result.stderr);
  assert.match(
    result.stderr,
    /\.ndjson:3: column "doc": invalid input syntax for type json/,
  );
  await Deno.remove(path);
});
