/**
 * jsonb through COPY binary with its keys put in jsonb's order by the
 * codec: the stored values equal a text load's, duplicates (the last
 * wins), escapes, nesting, many members and whitespace included; a value
 * the server refuses is reported at its line as in text.
 */

import assert from "node:assert/strict";
import { ingestArgs, runCli, scratchLoad, sql, writeTemp } from "./_helpers.ts";

const DOCS = [
  '{"b": 1, "a": 2, "b": 3}',
  '{"bb":1,  "a" : {"y": 1, "x": 2}, "c": [3, {"k": 1, "j": 2}]}',
  '{"é": 1, "z": 2, "ab": 3, "": 4}',
  '{"b\\u00e9": 1, "a": 2}',
  '{"zz": "a,b}c", "y": "q\\"uote", "x": null, "w": true, "v": -1.50e3}',
  `{${Array.from({ length: 70 }, (_, i) => `"k${70 - i}": ${i}`).join(", ")}}`,
  '{\n  "second": 2,\n  "first": 1\n}',
  "{}",
  '[{"b": 1, "a": 2}]',
  '"just a string"',
  "1.50",
  '{"a": 1}',
];

/** A CSV field: quoted, its quotes doubled. */
const field = (text: string) => `"${text.replaceAll('"', '""')}"`;

Deno.test("jsonb in COPY binary, keys ordered by the codec: every value equals a text load's", async () => {
  const { table, meta } = scratchLoad("binary_jsonb");
  await sql(`create table ${table}_bin (id int, doc jsonb)`);
  await sql(`create table ${table}_txt (id int, doc jsonb)`);
  const lines = ["id,doc", ...DOCS.map((doc, i) => `${i + 1},${field(doc)}`)];
  const path = await writeTemp(lines.join("\n") + "\n");
  for (const [suffix, format] of [["bin", "auto"], ["txt", "text"]]) {
    const run = await runCli(
      ingestArgs(
        path,
        `${table}_${suffix}`,
        "--copy-format",
        format,
        "--meta-schema",
        meta,
        "--json",
      ),
    );
    assert.equal(run.code, 0, run.stderr);
    assert.equal(
      JSON.parse(run.stdout).binaryBatches,
      format === "auto" ? 1 : 0,
    );
  }
  const read = (suffix: string) =>
    sql(`select id, doc::text as doc from ${table}_${suffix} order by id`);
  const binary = await read("bin");
  assert.deepEqual(binary, await read("txt"));
  assert.equal(binary.length, DOCS.length);
  assert.equal(binary[0].doc, '{"a": 2, "b": 3}', "the last duplicate wins");
  await Deno.remove(path);
});

Deno.test("jsonb in COPY binary: a value the server refuses is reported at its file:line, as in text", async () => {
  const { table, meta } = scratchLoad("binary_jsonb_bad");
  await sql(`create table ${table} (id int, doc jsonb)`);
  const docs = ['{"b": 1, "a": 2}', '{"d": tru, "c": 1}', '{"b": 1}'];
  const lines = ["id,doc", ...docs.map((doc, i) => `${i + 1},${field(doc)}`)];
  const path = await writeTemp(lines.join("\n") + "\n");
  const errors: string[] = [];
  for (const format of ["auto", "text"]) {
    const run = await runCli(
      ingestArgs(
        path,
        table,
        "--copy-format",
        format,
        "--meta-schema",
        meta,
        "--source-id",
        `jsonb ${format}`,
      ),
    );
    assert.equal(run.code, 2, run.stderr);
    errors.push(run.stderr.replaceAll(/jsonb (auto|text)/g, "jsonb"));
  }
  assert.match(errors[0], new RegExp(`${path}:3: .*json`));
  assert.match(errors[0], /Token "tru" is invalid/);
  assert.equal(errors[0], errors[1]);
  await Deno.remove(path);
});
