/**
 * The benchmarks' generated 2M-row file (quotes, newlines, NULLs, numeric,
 * timestamptz, jsonb, uuid) through COPY binary equals `psql \copy` of the
 * same file into the same typed table.
 */

import assert from "node:assert/strict";
import { writeCsvFile } from "../bench/generate.ts";
import { TYPED_COLUMNS, typedTableDdl } from "../bench/typed_table.ts";
import { ingestArgs, psql, runCli, scratchLoad, sql } from "./_helpers.ts";

const ROWS = 2_000_000;

Deno.test("the generated 2M-row file through COPY binary equals psql \\copy of it", async () => {
  const { table, meta } = scratchLoad("binary_2m");
  const dir = await Deno.makeTempDir();
  const path = `${dir}/generated.csv`;
  try {
    await writeCsvFile(path, { rows: ROWS });
    await sql(typedTableDdl(table));
    await sql(typedTableDdl(`${table}_psql`));
    const loaded = await runCli(
      ingestArgs(path, table, "--meta-schema", meta, "--json", "--quiet"),
    );
    assert.equal(loaded.code, 0, loaded.stderr);
    const summary = JSON.parse(loaded.stdout);
    assert.equal(summary.rows, ROWS);
    assert.equal(
      summary.binaryBatches,
      summary.batches,
      "every batch in binary",
    );
    const copied = await psql([
      "-c",
      `\\copy ${table}_psql FROM '${path}' (FORMAT csv, HEADER)`,
    ]);
    assert.equal(copied.code, 0, copied.stderr);
    const columns = TYPED_COLUMNS.map(([name]) => name).join(", ");
    const differ = await sql(
      `select count(*)::int as n from (
         (select ${columns} from ${table} except all select ${columns} from ${table}_psql)
         union all
         (select ${columns} from ${table}_psql except all select ${columns} from ${table})
       ) d`,
    );
    assert.equal(differ[0].n, 0);
    const counted = await sql(`select count(*)::int as n from ${table}`);
    assert.equal(counted[0].n, ROWS);
  } finally {
    await Deno.remove(dir, { recursive: true });
    await sql(`drop table if exists ${table}, ${table}_psql`);
  }
});
