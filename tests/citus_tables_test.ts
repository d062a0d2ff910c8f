import assert from "node:assert/strict";
import {
  ingestArgs,
  query,
  runCli,
  scratchLoad,
  writeTemp,
} from "./_helpers.ts";
import { createRecordsTable, LANES, writeRecords } from "./_loader.ts";
import {
  citusTest,
  createDistributedRecords,
  loadKillResume,
  ROWS,
  rowsByWorker,
} from "./_citus.ts";
import { laneWriter } from "../src/parallel/writer_split.ts";

citusTest(
  "a reference table loads as on one server, killed and resumed, a full copy on every node",
  async () => {
    const { url, table, meta } = scratchLoad("citus_ref");
    await createRecordsTable(url, table);
    await query(url, "select create_reference_table($1)", [table]);
    await loadKillResume(url, table, meta);
    const placements = await query(
      url,
      `select nodeport, result from run_command_on_placements($1,
       'select count(*) || '' '' || count(distinct id) from %s')`,
      [table],
    );
    const [nodes] = await query(
      url,
      "select count(*)::int as n from pg_dist_node where isactive",
    );
    assert.ok(Number(nodes.n) >= 3, "the cluster has fewer than 3 nodes");
    assert.equal(placements.length, nodes.n, "not a copy on every node");
    for (const placement of placements) {
      assert.equal(
        placement.result,
        `${ROWS} ${ROWS}`,
        `the copy on port ${placement.nodeport} differs`,
      );
    }
  },
);

citusTest(
  "a local table on the coordinator loads as on one server, killed and resumed",
  async () => {
    const { url, table, meta } = scratchLoad("citus_local");
    await createRecordsTable(url, table);
    await loadKillResume(url, table, meta);
    const [citus] = await query(
      url,
      "select count(*)::int as n from pg_dist_partition where logicalrelid = $1::regclass",
      [table],
    );
    assert.equal(citus.n, 0, "the table became a Citus table");
  },
);

citusTest(
  "--parallel 2 --lane lane into a distributed table, killed and resumed, equals one writer's load",
  async () => {
    const url = scratchLoad("citus_par").url;
    const lanes = Array.from({ length: LANES }, (_, k) => `lane${k}`);
    assert.deepEqual(
      new Set(lanes.map((lane) => laneWriter(lane, 2))),
      new Set([0, 1]),
      "the lanes do not hash to both writers",
    );
    const one = scratchLoad("citus_par1");
    const two = scratchLoad("citus_par2");
    await createDistributedRecords(url, one.table);
    await createDistributedRecords(url, two.table);
    await loadKillResume(url, one.table, one.meta);
    await loadKillResume(url, two.table, two.meta, "--parallel", "2");

    const [writers] = await query(
      url,
      `select count(*)::int as n, bool_and(rows_committed > 0) as busy
       from ${two.meta}.progress`,
    );
    assert.deepEqual(writers, { n: 2, busy: true });
    const rows = (table: string) =>
      query(url, `select id, lane, v, lane_seq from ${table} order by id`);
    assert.deepEqual(await rows(two.table), await rows(one.table));
    const counters = (meta: string) =>
      query(
        url,
        `select lane, next_seq, row_count from ${meta}.lanes order by lane`,
      );
    assert.deepEqual(await counters(two.meta), await counters(one.meta));
    assert.deepEqual(
      await rowsByWorker(url, two.table),
      await rowsByWorker(url, one.table),
    );
  },
);

citusTest(
  "--create on Citus distributes the new table by the lane column, or by --distribute-by, and loads it",
  async () => {
    const { url, table, meta } = scratchLoad("citus_create");
    const path = await writeTemp(
      "id,lane,v\n1,a,x\n2,b,y\n3,a,z\n4,c,w\n",
    );
    const byLane = await runCli(
      ingestArgs(
        path,
        table,
        "--create",
        "--lane",
        "lane",
        "--meta-schema",
        meta,
      ),
    );
    assert.equal(byLane.code, 0, byLane.stderr);
    assert.match(
      byLane.stderr,
      new RegExp(`distributed public\\.${table} by lane \\(Citus\\)`),
    );
    const byId = await runCli(
      ingestArgs(
        path,
        `${table}_id`,
        "--create",
        "--distribute-by",
        "id",
        "--meta-schema",
        meta,
      ),
    );
    assert.equal(byId.code, 0, byId.stderr);
    const tables = await query(
      url,
      `select logicalrelid::text as name, column_to_column_name(logicalrelid, partkey) as by
         from pg_dist_partition where logicalrelid::text in ($1, $2) order by 1`,
      [table, `${table}_id`],
    );
    assert.deepEqual(tables.map((row) => [row.name, row.by]), [
      [table, "lane"],
      [`${table}_id`, "id"],
    ]);
    const [counted] = await query(
      url,
      `select count(*)::int as n from ${table}`,
    );
    assert.equal(counted.n, 4);
    const bad = await runCli(
      ingestArgs(
        path,
        `${table}_bad`,
        "--create",
        "--distribute-by",
        "nope",
        "--meta-schema",
        meta,
      ),
    );
    assert.notEqual(bad.code, 0);
    const [left] = await query(url, "select to_regclass($1) is null as gone", [
      `${table}_bad`,
    ]);
    assert.equal(
      left.gone,
      true,
      "a failed distribution leaves no table behind",
    );
  },
);

citusTest(
  "a distributed table truncated after a load loads again: the lanes start over at seq 1",
  async () => {
    const { url, table, meta } = scratchLoad("citus_truncated");
    await createDistributedRecords(url, table);
    const path = await writeTemp(
      "id,lane,v\n1,a,x\n2,b,y\n3,a,z\n",
    );
    const first = await runCli(
      ingestArgs(path, table, "--lane", "lane", "--meta-schema", meta),
    );
    assert.equal(first.code, 0, first.stderr);
    await query(url, `truncate ${table}`);
    const again = await runCli(
      ingestArgs(path, table, "--lane", "lane", "--meta-schema", meta),
    );
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stderr, /was truncated/);
    const rows = await query(
      url,
      `select id, lane, lane_seq::int as seq from ${table} order by id`,
    );
    assert.deepEqual(rows, [
      { id: 1, lane: "a", seq: 1 },
      { id: 2, lane: "b", seq: 1 },
      { id: 3, lane: "a", seq: 2 },
    ]);
    await Deno.remove(path);
  },
);

citusTest(
  "into a distributed table the default batch is 50,000 rows (a COPY pays per shard it reaches), elsewhere 10,000; --batch-size still rules",
  async () => {
    const { url, table, meta } = scratchLoad("citus_batch");
    await createDistributedRecords(url, table);
    await createRecordsTable(url, `${table}_local`);
    const path = await writeRecords(1, 120_000);
    const batches = async (into: string, ...more: string[]) => {
      const run = await runCli(
        ingestArgs(
          path,
          into,
          "--lane",
          "lane",
          "--meta-schema",
          meta,
          "--json",
          ...more,
        ),
      );
      assert.equal(run.code, 0, run.stderr);
      const summary = JSON.parse(run.stdout);
      assert.equal(summary.rows, 120_000);
      return summary.batches;
    };
    assert.equal(await batches(table), 3);
    assert.equal(await batches(`${table}_local`), 12);
    await query(url, `truncate ${table}`);
    assert.equal(await batches(table, "--batch-size", "40000", "--restart"), 3);
    const [{ n }] = await query(url, `select count(*)::int as n from ${table}`);
    assert.equal(n, 120_000);
    await Deno.remove(path);
  },
);
