/**
 * Both CSV codecs against the server: COPY data they write loads as the
 * records read, and the CLI's quote and escape options hold on resume.
 *
 * @module
 */

import assert from "node:assert/strict";
// @ts-types="@types/pg"
import pg from "pg";
// @ts-types="@types/pg-copy-streams"
import { from as copyFrom } from "pg-copy-streams";
import type { CopyFormat } from "../src/codec/copy_row.ts";
import {
  CsvCopyCodec,
  type CsvCopyCodecOptions,
} from "../src/codec/csv/csv_codec.ts";
import { WasmCsvCopyCodec } from "../src/codec/csv/wasm_csv_codec.ts";
import { databaseUrl, runCli, scratchTable, sql } from "./_helpers.ts";

const encoder = new TextEncoder();
const CODECS: Record<
  "wasm" | "ts",
  (options: CsvCopyCodecOptions) => CsvCopyCodec | WasmCsvCopyCodec
> = {
  wasm: (options) => new WasmCsvCopyCodec(options),
  ts: (options) => new CsvCopyCodec(options),
};
const FORMATS: CopyFormat[] = ["text", "csv"];

Deno.test("A field that is exactly \\. survives both COPY formats into the server", async () => {
  const name = scratchTable("dot");
  const client = new pg.Client({ connectionString: databaseUrl() });
  await client.connect();
  try {
    await client.query(`create table ${name} (n int, a text, b text)`);
    const csv = 'n,a,b\n1,\\.,x\n2,"\\.",\\.\n3,"a\n\\.\nb",\n4,\\.,""\n';
    const expected = [
      [1, "\\.", "x"],
      [2, "\\.", "\\."],
      [3, "a\n\\.\nb", null],
      [4, "\\.", ""],
    ];
    for (const [codecName, make] of Object.entries(CODECS)) {
      for (const format of FORMATS) {
        await client.query(`truncate ${name}`);
        const codec = make({ copyFormat: format });
        const data = [codec.push(encoder.encode(csv)), codec.finish()]
          .map((block) => block.data);
        const stream = client.query(
          copyFrom(`copy ${name} (n, a, b) from stdin (format ${format})`),
        );
        await new Promise<void>((resolve, reject) => {
          stream.on("error", reject);
          stream.on("finish", resolve);
          for (const chunk of data) stream.write(chunk);
          stream.end();
        });
        const { rows } = await client.query(
          `select n, a, b from ${name} order by n`,
        );
        assert.deepEqual(
          rows.map((row) => [row.n, row.a, row.b]),
          expected,
          `${codecName} ${format}`,
        );
      }
    }
  } finally {
    await client.query(`drop table if exists ${name}`).catch(() => {});
    await client.end();
  }
});

Deno.test("ingest --quote and --escape load backslash-escaped fields, and a changed escape is refused on resume", async () => {
  const table = scratchTable("escape");
  const dir = await Deno.makeTempDir();
  const path = `${dir}/escaped.csv`;
  const args = (...more: string[]) => [
    "ingest",
    path,
    "--table",
    table,
    "--db",
    databaseUrl(),
    "--create",
    "--delimiter",
    ";",
    "--quote",
    "'",
    "--source-id",
    table,
    "--quiet",
    ...more,
  ];
  try {
    await Deno.writeTextFile(
      path,
      "id;note\n1;'it\\'s'\n2;'C:\\\\tmp'\n3;''\n4;\n",
    );
    const first = await runCli(args("--escape", "\\"));
    assert.equal(first.code, 0, first.stderr);
    const rows = await sql(`select id, note from ${table} order by id`);
    assert.deepEqual(rows.map((row) => [row.id, row.note]), [
      [1, "it's"],
      [2, "C:\\tmp"],
      [3, ""],
      [4, null],
    ]);
    await Deno.writeTextFile(path, "5;'x'\n", { append: true });
    const changed = await runCli(args());
    assert.equal(changed.code, 4);
    assert.match(changed.stderr, /escape was "\\\\" and is now "'"/);
    const resumed = await runCli(args("--escape", "\\"));
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.equal(
      (await sql(`select count(*)::int as n from ${table}`))[0].n,
      5,
    );
  } finally {
    await sql(`drop table if exists ${table}`);
    await Deno.remove(dir, { recursive: true });
  }
});
