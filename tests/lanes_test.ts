import assert from "node:assert/strict";
// @ts-types="@types/pg"
import pg from "pg";
import { ingest } from "../src/mod.ts";
import {
  databaseUrl,
  ingestArgs,
  runCli,
  scratchLoad,
  scratchTable,
  sql,
  writeTemp,
} from "./_helpers.ts";
import { createRecordsTable, laneIngestArgs } from "./_loader.ts";

function csv(rows: [number, string, string][]): string {
  return "id,lane,v\n" + rows.map((row) => row.join(",")).join("\n") + "\n";
}

interface Notice {
  target: string;
  lane: string;
  last_seq: number;
}

async function listen(): Promise<{ notices: Notice[]; stop(): Promise<void> }> {
  const client = new pg.Client({ connectionString: databaseUrl() });
  await client.connect();
  const notices: Notice[] = [];
  client.on("notification", (message) => {
    if (message.channel === "lanecopy") {
      notices.push(JSON.parse(message.payload!));
    }
  });
  await client.query("LISTEN lanecopy");
  return {
    notices,
    async stop() {
      // A round trip flushes notifications still on their way.
      await client.query("SELECT 1");
      await client.end();
    },
  };
}

Deno.test("ingest --lane notifies once per lane per committed batch with the batch's last seq", async () => {
  const { table, meta } = scratchLoad("notify");
  await createRecordsTable(databaseUrl(), table);
  const listener = await listen();
  const path = await writeTemp(csv([
    [1, "a", "x"],
    [2, "b", "x"],
    [3, "a", "x"],
    [4, "a", "x"],
    [5, "c", "x"],
  ]));
  const summary = await ingest({
    source: path,
    table,
    lane: "lane",
    batchSize: 2,
    metaSchema: meta,
    db: databaseUrl(),
  });
  assert.equal(summary.batches, 3);
  await listener.stop();
  const target = `public.${table}`;
  assert.deepEqual(listener.notices.filter((n) => n.target === target), [
    { target, lane: "a", last_seq: 1 },
    { target, lane: "b", last_seq: 1 },
    { target, lane: "a", last_seq: 3 },
    { target, lane: "c", last_seq: 1 },
  ]);
  const rows = await sql(
    `select id, lane_seq::int as seq from ${table} order by id`,
  );
  assert.deepEqual(rows.map((r) => r.seq), [1, 1, 2, 3, 1]);
});

Deno.test("a batch the server rejects leaves no trace: no rows, marker, counter, progress or notification; the run resumes after the fix", async () => {
  const { table, meta } = scratchLoad("reject");
  await createRecordsTable(databaseUrl(), table, "v <> 'bad'");
  const path = await writeTemp(csv([
    [1, "a", "ok"],
    [2, "b", "ok"],
    [3, "a", "ok"],
    [4, "b", "bad"],
    [5, "a", "ok"],
    [6, "b", "ok"],
  ]));
  const listener = await listen();
  const args = laneIngestArgs(databaseUrl(), path, table, meta, 2);
  const failed = await runCli(args);
  await listener.stop();
  assert.equal(failed.code, 2, failed.stderr);
  assert.match(failed.stderr, /:5: .*check constraint/);
  // Batch 1 (ids 1, 2) committed; batch 2 (ids 3, 4) left nothing.
  assert.deepEqual(
    (await sql(`select id from ${table} order by id`)).map((r) => r.id),
    [1, 2],
  );
  assert.deepEqual(
    await sql(
      `select lane, next_seq::int, row_count::int from ${meta}.lanes order by lane`,
    ),
    [
      { lane: "a", next_seq: 2, row_count: 1 },
      { lane: "b", next_seq: 2, row_count: 1 },
    ],
  );
  const [progress] = await sql(
    `select byte_offset::int, rows_committed::int, lines_committed::int, complete from ${meta}.progress`,
  );
  const firstBatchEnd = new TextEncoder().encode(
    "id,lane,v\n1,a,ok\n2,b,ok\n",
  ).length;
  assert.deepEqual(progress, {
    byte_offset: firstBatchEnd,
    rows_committed: 2,
    lines_committed: 3,
    complete: false,
  });
  assert.deepEqual(
    (await sql(`select start_offset::int from ${meta}.batches`)).map((r) =>
      r.start_offset
    ),
    [0],
  );
  const target = `public.${table}`;
  assert.deepEqual(
    listener.notices.filter((n) => n.target === target).map((n) => n.last_seq),
    [1, 1],
  );

  await sql(`alter table ${table} drop constraint ${table}_v_check`);
  const resumed = await runCli(args);
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.deepEqual(
    await sql(`select id, lane_seq::int as seq from ${table} order by id`),
    [
      { id: 1, seq: 1 },
      { id: 2, seq: 1 },
      { id: 3, seq: 2 },
      { id: 4, seq: 2 },
      { id: 5, seq: 3 },
      { id: 6, seq: 3 },
    ],
  );
});

Deno.test("ingest --lane needs the seq column: a clear error, and --create adds it as bigint", async () => {
  const table = scratchTable("noseq");
  await sql(`create table ${table} (id int, lane text, v text)`);
  const path = await writeTemp(csv([[1, "a", "x"]]));
  const missing = await runCli(ingestArgs(path, table, "--lane", "lane"));
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /has no column "lane_seq"/);
  assert.match(missing.stderr, /ADD COLUMN "lane_seq" bigint/);

  const created = scratchTable("created");
  const ok = await runCli(
    ingestArgs(
      path,
      created,
      "--create",
      "--lane",
      "lane",
      "--seq-column",
      "Seq",
    ),
  );
  assert.equal(ok.code, 0, ok.stderr);
  const [column] = await sql(
    `select data_type from information_schema.columns where table_name = $1 and column_name = 'Seq'`,
    [created],
  );
  assert.equal(column.data_type, "bigint");
});

Deno.test("without --lane rows count in the lane 'default', and a table without lane_seq loads as before", async () => {
  const { table, meta } = scratchLoad("plain");
  await sql(`create table ${table} (id int, lane text, v text)`);
  const path = await writeTemp(csv([[1, "a", "x"], [2, "b", "y"]]));
  await ingest({ source: path, table, metaSchema: meta, db: databaseUrl() });
  assert.deepEqual(
    await sql(`select lane, next_seq::int, row_count::int from ${meta}.lanes`),
    [{ lane: "default", next_seq: 3, row_count: 2 }],
  );
  assert.equal((await sql(`select count(*)::int as n from ${table}`))[0].n, 2);
});

Deno.test("a record without a lane key is bad input at its line and column", async () => {
  const table = scratchTable("nolane");
  await createRecordsTable(databaseUrl(), table);
  const path = await writeTemp("id,lane,v\n1,a,x\n2,,y\n");
  const result = await runCli(ingestArgs(path, table, "--lane", "lane"));
  assert.equal(result.code, 2);
  assert.match(
    result.stderr,
    /:3:3: Cannot read lane key: column "lane" is NULL/,
  );
});

Deno.test("two first runs at once create the bookkeeping schema safely", async () => {
  const meta = scratchTable("meta_race");
  const loads = [1, 2, 3].map(async (n) => {
    const table = scratchTable(`race${n}`);
    const path = await writeTemp(csv([[n, "a", "x"]]));
    return ingest({
      source: path,
      table,
      create: true,
      lane: "lane",
      metaSchema: meta,
      db: databaseUrl(),
    });
  });
  const summaries = await Promise.all(loads);
  assert.deepEqual(summaries.map((s) => s.rows), [1, 1, 1]);
  const [lanes] = await sql(`select count(*)::int as n from ${meta}.lanes`);
  assert.equal(lanes.n, 3);
});
