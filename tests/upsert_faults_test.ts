/**
 * Upsert (`--on-conflict update`) and `--replace` under faults, on a real
 * server: SIGKILL at random moments, a reader polling during a replace,
 * and what must survive a replace (views, grants, foreign keys).
 *
 * @module
 */

import assert from "node:assert/strict";
// @ts-types="@types/pg"
import pg from "pg";
import { ensureBookkeeping } from "../src/bookkeeping/schema.ts";
import { openTarget } from "../src/target/open_target.ts";
import {
  databaseUrl,
  ingestArgs,
  loaderTest,
  psql,
  runCli,
  scratchLoad,
  sql,
  startCli,
  writeTemp,
} from "./_helpers.ts";
import {
  killAfterCommits,
  laneIngestArgs,
  replayableRandom,
  sessionsGone,
  sessionsOf,
  waitFor,
} from "./_loader.ts";

const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Creates the bookkeeping schema `meta` ahead of the load and makes each
 * batch's COMMIT take `seconds` on the server (a deferred trigger on the
 * progress row), so a load has room for kills and readers.
 */
async function slowCommits(meta: string, seconds: number): Promise<void> {
  const target = await openTarget({ db: databaseUrl() });
  try {
    await ensureBookkeeping(target, meta);
  } finally {
    await target.close();
  }
  await sql(`create function ${meta}.slow_commit() returns trigger
    language plpgsql as $$ begin perform pg_sleep(${seconds}); return null; end $$`);
  await sql(
    `create constraint trigger slow_commit after update on ${meta}.progress
    deferrable initially deferred for each row execute function ${meta}.slow_commit()`,
  );
}

/** Drops a test's tables (with what hangs on them) and bookkeeping schema. */
async function dropAll(meta: string, ...tables: string[]): Promise<void> {
  await sql(`drop table if exists ${tables.join(", ")} cascade`);
  await sql(`drop schema if exists ${meta} cascade`);
}

type Progress = { committed: number; complete: boolean };

/** Records committed for the (only) source of `meta`, and whether it is complete. */
const PROGRESS = (meta: string) =>
  `select coalesce(sum(rows_committed), 0)::int as committed,
          coalesce(bool_and(complete), false) as complete from ${meta}.progress`;

async function progressOf(meta: string): Promise<Progress> {
  return (await sql(PROGRESS(meta)))[0] as Progress;
}

/** The shadow tables (`replace_%`) left in `meta`. */
async function shadowTables(meta: string): Promise<string[]> {
  const rows = await sql(
    `select tablename::text as name from pg_tables
      where schemaname = $1 and tablename like 'replace\\_%'`,
    [meta],
  );
  return rows.map((row) => row.name as string);
}

const KILL_POINT = /^lanecopy: batch \d+ (start|commit-sent|committed) /;

/**
 * Starts a load of `args` (with `--verbose`), lets 0 to 2 batches
 * commit, kills it (SIGKILL) at its next batch event plus a random delay,
 * and waits until the server has ended its sessions. Fails if the load
 * ended on its own.
 */
async function killAtRandom(
  args: string[],
  random: () => number,
): Promise<void> {
  const loader = startCli(args);
  const settle = Math.floor(random() * 3);
  const at = ["start", "commit-sent", "committed"][Math.floor(random() * 3)];
  let committed = 0;
  let reached = false;
  for await (const line of loader.lines()) {
    const event = KILL_POINT.exec(line)?.[1];
    if (event === "committed") committed++;
    if (committed >= settle && event === at) {
      reached = true;
      break;
    }
  }
  assert.ok(reached, `the load ended before its kill:\n${loader.stderr}`);
  await delay(Math.floor(random() * 25));
  loader.child.kill("SIGKILL");
  const status = await loader.status;
  assert.equal(status.signal, "SIGKILL", `the load ended:\n${loader.stderr}`);
  await sessionsGone(databaseUrl(), loader.child.pid);
}

// --- upsert --------------------------------------------------------------

const UPSERT_RECORDS = 20_000;
const UPSERT_KEYS = 6_000; // keys of the file: 1..6000, ~3.3 records each
const PRELOADED = [4_001, 8_000]; // keys the table holds before: half overlap
const BATCH = 400;
const UPSERT_KILLS = 12;

type StoredRow = { id: number; lane: string; v: string; lane_seq: unknown };
type UpsertRecord = Omit<StoredRow, "lane_seq">;

/**
 * What the table must hold once the first `n` records are applied, worked
 * out here from the records alone: the preloaded rows, each key of the
 * records replaced by its last record (lane_seq: that record's 1-based
 * position within its lane in file order); and each lane's record count.
 */
function lastWriteWins(
  records: UpsertRecord[],
  n: number,
): { rows: StoredRow[]; lanes: Map<string, number> } {
  const rows = new Map<number, StoredRow>();
  for (let id = PRELOADED[0]; id <= PRELOADED[1]; id++) {
    rows.set(id, { id, lane: "old", v: `old${id}`, lane_seq: null });
  }
  const lanes = new Map<string, number>();
  for (const record of records.slice(0, n)) {
    const seq = (lanes.get(record.lane) ?? 0) + 1;
    lanes.set(record.lane, seq);
    rows.set(record.id, { ...record, lane_seq: seq });
  }
  return { rows: [...rows.values()].sort((a, b) => a.id - b.id), lanes };
}

/**
 * Asserts the table holds exactly the first `n` records applied, last
 * write wins, and the lanes are gapless: `next_seq - 1 = row_count` = the
 * lane's records among them.
 */
async function assertUpserted(
  table: string,
  meta: string,
  records: UpsertRecord[],
  n: number,
): Promise<void> {
  const expected = lastWriteWins(records, n);
  const rows = await sql(
    `select id, lane, v, lane_seq::int as lane_seq from ${table} order by id`,
  );
  assert.deepEqual(rows, expected.rows, `the table after ${n} records`);
  const lanes = await sql(
    `select lane, (next_seq - 1)::int as last_seq, row_count::int as rows
       from ${meta}.lanes where target = $1 order by lane`,
    [`public.${table}`],
  );
  assert.deepEqual(
    lanes,
    [...expected.lanes].sort(([a], [b]) => a < b ? -1 : 1)
      .map(([lane, count]) => ({ lane, last_seq: count, rows: count })),
    `the lane counters after ${n} records`,
  );
}

loaderTest(
  "upsert --on-conflict update killed with SIGKILL again and again resumes to the last record of each key, lanes gapless",
  async () => {
    const random = replayableRandom("upsert");
    const { url, table, meta } = scratchLoad("upsert_kill");
    const records: UpsertRecord[] = [];
    const lines = ["id,lane,v"];
    for (let i = 1; i <= UPSERT_RECORDS; i++) {
      const id = 1 + Math.floor(random() * UPSERT_KEYS);
      const lane = `lane${Math.floor(random() * 4)}`;
      const v = random() < 0.05 ? `r${i}, "quoted"` : `r${i}`;
      records.push({ id, lane, v });
      lines.push(
        `${id},${lane},${v.includes(",") ? `"${v.replaceAll('"', '""')}"` : v}`,
      );
    }
    const path = await writeTemp(lines.join("\n") + "\n");
    try {
      await sql(
        `create table ${table} (id int primary key, lane text, v text, lane_seq bigint)`,
      );
      await sql(
        `insert into ${table} select id, 'old', 'old' || id, null
           from generate_series(${PRELOADED[0]}, ${PRELOADED[1]}) id`,
      );
      await slowCommits(meta, 0.02);
      const flags = "--on-conflict update --verbose".split(" ");
      const args = laneIngestArgs(url, path, table, meta, BATCH, ...flags);
      let last = 0;
      for (let kill = 1; kill <= UPSERT_KILLS; kill++) {
        await killAtRandom(args, random);
        const { committed, complete } = await progressOf(meta);
        assert.ok(!complete, "the load completed before its kill");
        assert.ok(committed >= last, "the committed prefix went back");
        // Exactly once so far: the table is the committed prefix applied.
        await assertUpserted(table, meta, records, committed);
        last = committed;
      }
      console.log(
        `${UPSERT_KILLS} kills; ${last} records committed before the last run`,
      );
      assert.ok(last < UPSERT_RECORDS, "nothing was left for the last run");
      const finish = await runCli(args);
      assert.equal(finish.code, 0, finish.stderr);
      const done = { committed: UPSERT_RECORDS, complete: true };
      assert.deepEqual(await progressOf(meta), done);
      await assertUpserted(table, meta, records, UPSERT_RECORDS);
    } finally {
      await dropAll(meta, table);
      await Deno.remove(path);
    }
  },
);

// --- replace -------------------------------------------------------------

/** The command line of a `--replace` load of `path` into `table`. */
function replaceArgs(
  path: string,
  table: string,
  meta: string,
  batch: number,
  ...more: string[]
): string[] {
  const flags = `--replace --batch-size ${batch} --meta-schema ${meta}`;
  return ingestArgs(path, table, ...flags.split(" "), ...more);
}

type Row = { id: number; v: string };

/** Rows `from..to`, `v` from `value`. */
const rowsOf = (from: number, to: number, value: (id: number) => string) =>
  Array.from({ length: to - from + 1 }, (_, i): Row => ({
    id: from + i,
    v: value(from + i),
  }));

/** A table `(id int primary key, v text)` holding `rows`. */
async function createKeyedTable(table: string, rows: Row[]): Promise<void> {
  await sql(`create table ${table} (id int primary key, v text not null)`);
  await sql(
    `insert into ${table} select * from unnest($1::int[], $2::text[])`,
    [rows.map((row) => row.id), rows.map((row) => row.v)],
  );
}

/** A CSV file `id,v` of `rows`. */
async function writeRows(rows: Row[]): Promise<string> {
  return await writeTemp(
    ["id,v", ...rows.map((row) => `${row.id},${row.v}`)].join("\n") + "\n",
  );
}

async function rowsIn(table: string): Promise<Row[]> {
  return await sql(`select id, v from ${table} order by id`) as Row[];
}

const CHECKSUM = (table: string) =>
  `select count(*)::int as n,
          coalesce(sum(hashtext(id || ':' || v)), 0)::text as sum from ${table}`;

async function checksum(table: string): Promise<string> {
  const [row] = await sql(CHECKSUM(table));
  return `${row.n}/${row.sum}`;
}

/** New contents `from..to` of a table of keys 1..`old`: every 4th kept key unchanged. */
const replacement = (from: number, to: number, old: number) =>
  rowsOf(from, to, (id) => id <= old && id % 4 === 0 ? `old${id}` : `new${id}`);

loaderTest(
  "--replace: a reader polling during the load sees the old rows until the source completes, then the new ones, never a mix",
  async () => {
    const { table, meta } = scratchLoad("replace_read");
    const old = rowsOf(1, 30_000, (id) => `old${id}`);
    const fresh = replacement(10_001, 50_000, 30_000);
    const path = await writeRows(fresh);
    const reader = new pg.Client({ connectionString: databaseUrl() });
    try {
      await createKeyedTable(table, old);
      await slowCommits(meta, 0.01);
      const before = await checksum(table);
      await reader.connect();
      const loader = startCli(replaceArgs(path, table, meta, 400));
      // One statement, one snapshot: the target's checksum and the source's progress.
      const poll = async () => {
        const { rows: [row] } = await reader.query(
          `select * from (${CHECKSUM(table)}) t, (${PROGRESS(meta)}) p`,
        );
        return { seen: `${row.n}/${row.sum}`, ...row as Progress };
      };
      const seen: Awaited<ReturnType<typeof poll>>[] = [];
      while (!loader.exited) seen.push(await poll());
      const status = await loader.status;
      assert.equal(status.code, 0, loader.stderr);
      seen.push(await poll());
      assert.deepEqual(await rowsIn(table), fresh);
      const after = await checksum(table);
      assert.notEqual(after, before);
      const midLoad = seen.filter((s) => !s.complete && s.committed > 0);
      console.log(
        `${seen.length} polls, ${midLoad.length} while the shadow was partly loaded`,
      );
      assert.ok(midLoad.length > 0, "no poll saw the load half done");
      for (const s of seen) {
        assert.equal(
          s.seen,
          s.complete ? after : before,
          `a reader saw ${s.seen} with ${s.committed} records committed (complete: ${s.complete})`,
        );
      }
      assert.deepEqual(await shadowTables(meta), []);
    } finally {
      await reader.end().catch(() => {});
      await dropAll(meta, table);
      await Deno.remove(path);
    }
  },
);

loaderTest(
  "--replace killed with SIGKILL before the swap keeps the old rows, and a re-run swaps in the new ones exactly once and drops the shadow",
  async () => {
    const { url, table, meta } = scratchLoad("replace_kill");
    const old = rowsOf(1, 6_000, (id) => `old${id}`);
    const fresh = replacement(3_001, 12_000, 6_000);
    const path = await writeRows(fresh);
    try {
      await createKeyedTable(table, old);
      await slowCommits(meta, 0.02);
      const args = replaceArgs(path, table, meta, 200, "--verbose");
      // The third run is killed in the swap: every batch is in the shadow,
      // and the DELETE of the swap sleeps (a statement trigger).
      const inSwap = (loader: { child: { pid: number } }) =>
        waitFor(
          "the swap",
          async () =>
            (await sessionsOf(url, loader.child.pid)).some((session) =>
              session.wait_event === "PgSleep" &&
              /^DELETE/.test(session.query.trim())
            ),
          20_000,
        );
      let last = 0;
      for (const batches of [3, 2, 1]) {
        const swap = batches === 1;
        if (swap) {
          await sql(`create function ${meta}.slow_delete() returns trigger
            language plpgsql as $$ begin perform pg_sleep(1); return null; end $$`);
          await sql(`create trigger slow after delete on ${table}
            for each statement execute function ${meta}.slow_delete()`);
        }
        await killAfterCommits(url, args, batches, {
          timeoutMs: 20_000,
          beforeKill: swap ? inSwap : undefined,
        });
        const { committed, complete } = await progressOf(meta);
        assert.ok(!complete, "the killed run completed the source");
        assert.ok(committed > last, "the re-run did not go on loading");
        assert.ok(swap ? committed === fresh.length : committed < fresh.length);
        // Before the swap: the target holds the old rows, untouched.
        assert.deepEqual(await rowsIn(table), old);
        // The shadow holds the committed records, once each.
        const shadows = await shadowTables(meta);
        assert.equal(shadows.length, 1);
        const [shadow] = await sql(
          `select count(*)::int as n, count(distinct id)::int as ids
             from ${meta}.${shadows[0]}`,
        );
        assert.deepEqual(shadow, { n: committed, ids: committed });
        last = committed;
      }
      await sql(`drop trigger slow on ${table}`);
      const finish = await runCli(args);
      assert.equal(finish.code, 0, finish.stderr);
      assert.match(
        finish.stderr,
        /replaced the rows of public\.\S+: it holds 9000 rows now/,
      );
      assert.deepEqual(await rowsIn(table), fresh);
      const done = { committed: fresh.length, complete: true };
      assert.deepEqual(await progressOf(meta), done);
      assert.deepEqual(await shadowTables(meta), []);
    } finally {
      await dropAll(meta, table);
      await Deno.remove(path);
    }
  },
);

loaderTest(
  "--replace keeps the table's views, grants and foreign keys working, and re-running the completed replace changes nothing",
  async () => {
    const { table, meta } = scratchLoad("replace_keep");
    const view = `${table}_view`;
    const child = `${table}_child`;
    const role = `lanecopy_reader_${crypto.randomUUID().slice(0, 8)}`;
    const old = rowsOf(1, 2_000, (id) => `old${id}`);
    const fresh = replacement(1_001, 3_000, 2_000);
    const path = await writeRows(fresh);
    try {
      await createKeyedTable(table, old);
      await sql(
        `create view ${view} as select id, v from ${table} where id % 10 = 0`,
      );
      await sql(
        `create table ${child} (ref int not null references ${table} (id))`,
      );
      await sql(`insert into ${child} select generate_series(1500, 1600)`);
      await sql(`create role ${role} nologin`);
      await sql(`grant select on ${table} to ${role}`);
      const oid = async () =>
        (await sql(`select '${table}'::regclass::oid::int as oid`))[0].oid;
      const before = await oid();
      const unchanged = `select id, xmin::text as x from ${table}
        where id between 1001 and 2000 and id % 4 = 0 order by id`;
      const unchangedBefore = await sql(unchanged);
      assert.equal(unchangedBefore.length, 250);

      const args = replaceArgs(path, table, meta, 250);
      const result = await runCli(args);
      assert.equal(result.code, 0, result.stderr);
      assert.deepEqual(await rowsIn(table), fresh);
      assert.equal(await oid(), before, "the target is another relation now");
      assert.deepEqual(
        await sql(`select id, v from ${view} order by id`),
        fresh.filter((row) => row.id % 10 === 0),
      );
      const counted = `select count(*), min(id), max(id) from ${table}`;
      const asRole = await psql([
        "-At",
        "-c",
        `set role ${role}`,
        "-c",
        counted,
      ]);
      assert.equal(asRole.code, 0, asRole.stderr);
      assert.equal(asRole.stdout.trim(), "2000|1001|3000");
      const [joined] = await sql(
        `select count(*)::int as n from ${child} c join ${table} t on t.id = c.ref`,
      );
      assert.equal(joined.n, 101);
      await assert.rejects(
        sql(`insert into ${child} values (5)`),
        /violates foreign key constraint/,
        "the foreign key no longer holds for a removed key",
      );
      await sql(`insert into ${child} values (2999)`);
      assert.deepEqual(
        await sql(unchanged),
        unchangedBefore,
        "an unchanged row was rewritten",
      );
      assert.deepEqual(await shadowTables(meta), []);

      // The same command again: already loaded, nothing rewritten.
      const snapshot = `select id, v, xmin::text as x, ctid::text as c
        from ${table} order by id`;
      const rowsBefore = await sql(snapshot);
      const again = await runCli(args);
      assert.equal(again.code, 0, again.stderr);
      assert.match(
        again.stderr,
        /is already loaded: 2000 rows in public\.\S+; nothing to do/,
      );
      assert.deepEqual(await sql(snapshot), rowsBefore);
      const done = { committed: 2_000, complete: true };
      assert.deepEqual(await progressOf(meta), done);
      assert.deepEqual(await shadowTables(meta), []);
    } finally {
      await dropAll(meta, child, table);
      await sql(`drop role if exists ${role}`);
      await Deno.remove(path);
    }
  },
);
