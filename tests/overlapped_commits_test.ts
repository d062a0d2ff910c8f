import assert from "node:assert/strict";
// @ts-types="@types/pg"
import pg from "pg";
import { ingest } from "../src/mod.ts";
import type { BatchEvent } from "../src/write/batch_writer.ts";
import {
  databaseUrl,
  query,
  scratchLoad,
  scratchTable,
  sql,
  writeTemp,
} from "./_helpers.ts";
import {
  assertExactlyOnce,
  createRecordsTable,
  createSlowTable,
  sessionsOf,
  waitFor,
  writeRecords,
} from "./_loader.ts";

/** Loads `path` into `table` by lane, 100 rows a batch, reporting events. */
function loadByLane(
  path: string,
  table: string,
  meta: string,
  onEvent: (event: BatchEvent) => void,
) {
  return ingest({
    source: path,
    table,
    lane: "lane",
    batchSize: 100,
    metaSchema: meta,
    db: databaseUrl(),
    onEvent,
  });
}

/** `kind batch` for each event, in order. */
function steps(events: BatchEvent[]): string[] {
  return events.map((event) => `${event.kind} ${event.batch}`);
}

Deno.test("batches overlap on two connections: batch N+1 starts before batch N commits, commits stay in order, every lane gapless in input order", async () => {
  const { table, meta } = scratchLoad("overlap");
  await createRecordsTable(databaseUrl(), table);
  const path = await writeRecords(1, 3000);
  const events: BatchEvent[] = [];
  const summary = await loadByLane(
    path,
    table,
    meta,
    (event) => events.push(event),
  );
  assert.equal(summary.rows, 3000);
  await assertExactlyOnce(databaseUrl(), table, meta, 3000);
  const order = steps(events);
  const overlapped = [...Array(29).keys()].map((i) => i + 2).filter((n) =>
    order.indexOf(`start ${n + 1}`) < order.indexOf(`committed ${n}`)
  );
  assert.ok(
    overlapped.length > 20,
    `only batches ${overlapped} started before the previous one committed`,
  );
  const commits = events.filter((event) => event.kind === "committed");
  assert.deepEqual(
    commits.map((event) => event.batch),
    [...Array(30).keys()].map((i) => i + 1),
    "batches committed out of order",
  );
  assert.equal(
    events.filter((event) => event.kind === "start").length,
    30,
    "a batch was tried twice",
  );
});

Deno.test("another run moves a lane under an overlapped batch: it rolls back, the load goes on one batch at a time, the lane continues after the other run's seqs", async () => {
  const { table, meta } = scratchLoad("overlap_moved");
  await createRecordsTable(databaseUrl(), table);
  // Lane "late" appears from record 250 on (batch 3 of 100 rows).
  const lines = ["id,lane,v"];
  for (let id = 1; id <= 600; id++) {
    lines.push(`${id},${id >= 250 && id % 2 === 0 ? "late" : "early"},v`);
  }
  const path = await writeTemp(lines.join("\n") + "\n");
  // Warm up the bookkeeping schema, then let "another run" hold five seqs
  // of lane "late" in a transaction the load cannot see yet.
  await ingest({
    source: await writeRecords(1, 1),
    table: scratchTable("warm"),
    create: true,
    metaSchema: meta,
    db: databaseUrl(),
  });
  const other = new pg.Client({ connectionString: databaseUrl() });
  await other.connect();
  await other.query("begin");
  await other.query(
    `insert into ${meta}.lanes (target, lane, next_seq, row_count, updated_at)
     values ($1, 'late', 6, 5, now())`,
    [`public.${table}`],
  );
  let released: Promise<unknown> | undefined;
  const events: BatchEvent[] = [];
  const summary = await loadByLane(path, table, meta, (event) => {
    events.push(event);
    if (event.kind === "start" && event.batch === 3) {
      released ??= other.query("commit");
    }
  });
  await released;
  await other.end();
  assert.equal(summary.rows, 600);
  const order = steps(events);
  assert.equal(
    order.filter((step) => step === "start 3").length,
    2,
    `batch 3 was not tried again alone: ${order}`,
  );
  const late = await sql(
    `select lane_seq::int as seq from ${table} where lane = 'late' order by id`,
  );
  assert.deepEqual(
    late.map((row) => row.seq),
    [...Array(late.length).keys()].map((i) => i + 6),
  );
  const early = await sql(
    `select lane_seq::int as seq from ${table} where lane = 'early' order by id`,
  );
  assert.deepEqual(
    early.map((row) => row.seq),
    [...Array(early.length).keys()].map((i) => i + 1),
  );
  const [counter] = await sql(
    `select next_seq::int as next, row_count::int as n from ${meta}.lanes
      where target = $1 and lane = 'late'`,
    [`public.${table}`],
  );
  assert.deepEqual(counter, { next: late.length + 6, n: late.length + 5 });
});

Deno.test("the second connection terminated mid-COPY: its batch rolls back and is loaded again on the first, the load completes exactly once without reconnecting", async () => {
  const { url, table, meta } = scratchLoad("overlap_second_lost");
  await createSlowTable(url, table, 0.1);
  // 20 batches of 100, each COPY sleeping 0.1 s: time to catch one.
  const n = 2000;
  const path = await writeRecords(1, n);
  const events: BatchEvent[] = [];
  const load = ingest({
    source: path,
    table,
    lane: "lane",
    batchSize: 100,
    metaSchema: meta,
    db: url,
    retries: 0,
    onEvent: (event) => events.push(event),
  });
  let settled = false;
  load.then(() => settled = true, () => settled = true);
  // The sessions oldest first: the run's own connection, then the second.
  const second = await waitFor(
    "the second connection inside a COPY",
    async () => {
      if (settled) throw new Error("The load ended first");
      if (events.filter((event) => event.kind === "committed").length < 2) {
        return undefined;
      }
      const sessions = await sessionsOf(url, Deno.pid);
      const last = sessions.at(-1);
      return sessions.length === 2 && last?.wait_event === "PgSleep"
        ? last.pid
        : undefined;
    },
  );
  await query(url, "select pg_terminate_backend($1)", [second]);
  const summary = await load;
  assert.equal(summary.rows, n);
  await assertExactlyOnce(url, table, meta, n);
  const starts = events.filter((event) => event.kind === "start");
  assert.ok(
    starts.length > n / 100,
    `no batch was loaded again: ${steps(events)}`,
  );
  assert.deepEqual(await sessionsOf(url, Deno.pid), []);
  await Deno.remove(path);
});
