/**
 * A config file on a real load: its options apply, and flags override them.
 *
 * @module
 */

import assert from "node:assert/strict";
import { databaseUrl, runCli, scratchTable, sql } from "./_helpers.ts";

Deno.test("ingest --config loads with the file's options, and flags override them", async () => {
  const table = scratchTable("config");
  await sql(`create table ${table} (id int, name text)`);
  const dir = await Deno.makeTempDir();
  const input = `${dir}/rows.psv`;
  await Deno.writeTextFile(
    input,
    "id|name\n1|a\n2|b\n3|'c|x'\n4|'d\\'s'\n5|e\n",
  );
  const config = `${dir}/load.jsonc`;
  await Deno.writeTextFile(
    config,
    `{
      // everything but the batch size comes from here
      "table": "${table}",
      "batch_size": 1,
      "connection": { "db": "${databaseUrl()}", "meta_schema": "${table}_meta" },
      "format": "csv",
      "codec": "ts",
      "csv": { "delimiter": "|", "quote": "'", "escape": "\\\\" },
    }`,
  );
  const fromFile = await runCli(
    ["ingest", input, "--config", config, "--json", "--quiet"],
  );
  assert.equal(fromFile.code, 0, fromFile.stderr);
  assert.equal(JSON.parse(fromFile.stdout).batches, 5);
  await sql(`truncate ${table}`);
  const overridden = await runCli([
    "ingest",
    input,
    "--config",
    config,
    "--batch-size",
    "2",
    "--restart",
    "--json",
    "--quiet",
  ]);
  assert.equal(overridden.code, 0, overridden.stderr);
  assert.equal(JSON.parse(overridden.stdout).batches, 3);
  const rows = await sql(`select id, name from ${table} order by id`);
  assert.deepEqual(
    rows.map((row) => row.name),
    ["a", "b", "c|x", "d's", "e"],
  );
  await sql(`drop schema ${table}_meta cascade`);
  await Deno.remove(dir, { recursive: true });
});
