import assert from "node:assert/strict";
import {
  ingestArgs,
  query,
  runCli,
  scratchLoad,
  writeTemp,
} from "./_helpers.ts";
import { citusTest } from "./_citus.ts";

/** 3000 records over 500 keys: each key's last record is the one kept. */
async function upsertInput(): Promise<
  { path: string; last: Map<number, string> }
> {
  const last = new Map<number, string>();
  const lines = ["id,lane,v"];
  for (let i = 0; i < 3000; i++) {
    const id = (i * 7919) % 500;
    const v = `v${i}`;
    lines.push(`${id},lane${id % 5},${v}`);
    last.set(id, v);
  }
  return { path: await writeTemp(lines.join("\n") + "\n", ".csv"), last };
}

async function tableRows(url: string, table: string): Promise<string> {
  const rows = await query(url, `select id, v from ${table} order by id`);
  return JSON.stringify(rows);
}

citusTest(
  "--on-conflict update into a distributed table: each key's last record wins across batches, counted, on the workers",
  async () => {
    const { url, table } = scratchLoad("citus_upsert");
    await query(
      url,
      `create table ${table} (id int primary key, lane text, v text)`,
    );
    await query(url, "select create_distributed_table($1, 'id')", [table]);
    await query(
      url,
      `insert into ${table} select g, 'old', 'old' from generate_series(0, 249) g`,
    );
    const { path, last } = await upsertInput();
    const run = await runCli(
      ingestArgs(
        path,
        table,
        "--on-conflict",
        "update",
        "--batch-size",
        "700",
        "--json",
      ),
    );
    assert.equal(run.code, 0, run.stderr);
    const summary = JSON.parse(run.stdout.trim().split("\n").at(-1)!);
    assert.equal(summary.rows, 3000);
    assert.equal(summary.inserted, 250, "keys 250..499 were new");
    assert.equal(summary.updated, 2750);
    const rows = await query(url, `select id, v from ${table} order by id`);
    assert.equal(rows.length, 500);
    for (const row of rows) {
      assert.equal(row.v, last.get(Number(row.id)), `key ${row.id}`);
    }
    await Deno.remove(path);
  },
);

citusTest(
  "what Citus cannot run is refused before a row is read (exit 4, table unchanged): --replace on distributed, reference and Citus local tables, --on-conflict on reference and Citus local tables",
  async () => {
    const { url, table } = scratchLoad("citus_modes");
    const lines = ["id,lane,v"];
    for (let id = 2; id <= 301; id++) lines.push(`${id},lane${id % 5},v${id}`);
    const path = await writeTemp(lines.join("\n") + "\n", ".csv");
    const kinds = [
      ["distributed", "select create_distributed_table($1, 'id')"],
      ["reference", "select create_reference_table($1)"],
      ["Citus local", "select citus_add_local_table_to_metadata($1)"],
    ] as const;
    for (const [kind, distribute] of kinds) {
      const name = `${table}_${kind.split(" ")[0].toLowerCase()}`;
      await query(
        url,
        `create table ${name} (id int primary key, lane text, v text)`,
      );
      await query(url, distribute, [name]);
      await query(url, `insert into ${name} values (1, 'a', 'before')`);
      const before = await tableRows(url, name);
      const modes = kind === "distributed"
        ? [["--replace"]]
        : [["--replace"], ["--on-conflict", "update"]];
      for (const mode of modes) {
        const run = await runCli(ingestArgs(path, name, ...mode));
        assert.equal(run.code, 4, `${kind} ${mode}: ${run.stderr}`);
        assert.match(
          run.stderr,
          new RegExp(
            `Cannot (--replace|upsert \\(--on-conflict\\) into) public\\.${name}: it is a (Citus )?${kind} table`,
          ),
        );
        assert.doesNotMatch(run.stderr, /SQLSTATE|is not distributed/);
        assert.equal(await tableRows(url, name), before, `${kind} changed`);
      }
      // Refused before the source started: the same source loads plainly.
      const plain = await runCli(ingestArgs(path, name, "--json"));
      assert.equal(plain.code, 0, plain.stderr);
      const [{ n }] = await query(
        url,
        `select count(*)::int as n from ${name}`,
      );
      assert.equal(n, 301);
    }
    await Deno.remove(path);
  },
);

citusTest(
  "--create on Citus refuses, before creating anything, a distribution column the table would lack or one its --key leaves out",
  async () => {
    const { url, table } = scratchLoad("citus_create_key");
    const path = await writeTemp("id,lane,v\n1,a,x\n2,b,y\n");
    const cases = [
      [
        [
          "--create",
          "--on-conflict",
          "update",
          "--key",
          "id",
          "--lane",
          "lane",
        ],
        /Cannot create public\.\S+ distributed by "lane" with the primary key \(id\): Citus needs the distribution column in every unique key\. Add it to the key \(--key id,lane\) or distribute by a key column \(--distribute-by id\)/,
      ],
      [
        ["--create", "--distribute-by", "region"],
        /Cannot create public\.\S+ distributed by "region" \(--distribute-by\): it would have no such column \(its columns: id, lane, v\)/,
      ],
    ] as const;
    for (const [flags, message] of cases) {
      const run = await runCli(ingestArgs(path, table, ...flags));
      assert.notEqual(run.code, 0, run.stderr);
      assert.match(run.stderr, message);
      const [found] = await query(url, "select to_regclass($1) as t", [table]);
      assert.equal(found.t, null, "a table was left");
    }
    const fixed = await runCli(
      ingestArgs(
        path,
        table,
        "--create",
        "--on-conflict",
        "update",
        "--key",
        "id,lane",
        "--lane",
        "lane",
      ),
    );
    assert.equal(fixed.code, 0, fixed.stderr);
    const [placed] = await query(
      url,
      "select column_to_column_name(logicalrelid, partkey) as col from pg_dist_partition where logicalrelid = $1::regclass",
      [table],
    );
    assert.equal(placed.col, "lane");
    await Deno.remove(path);
  },
);
