import assert from "node:assert/strict";
// @ts-types="@types/pg"
import pg from "pg";
import { ensureBookkeeping } from "../src/bookkeeping/schema.ts";
import { openTarget } from "../src/target/open_target.ts";
import { loaderTest, runCli, scratchLoad, sql, startCli } from "./_helpers.ts";
import {
  assertExactlyOnce,
  assertOneRunPerSource,
  committedPrefix,
  createRecordsTable,
  createSlowTable,
  holdSource,
  killAfterCommits,
  laneIngestArgs,
  makeFast,
  sessionsOf,
  waitFor,
  waitForSourceLock,
  within,
  writeRecords,
} from "./_loader.ts";

loaderTest(
  "two loads of different sources into the same lanes at once take turns without deadlock: each lane's seqs are 1..n, counters match, every record once",
  async () => {
    const { url, table, meta } = scratchLoad("two_sources");
    const n = 1500;
    await createRecordsTable(url, table);
    // The second file meets the lanes in the mirror order: lanes locked in
    // first-seen order instead of sorted order would deadlock.
    const paths = [
      await writeRecords(1, n),
      await writeRecords(n + 1, 2 * n, { reversed: true }),
    ];
    // Hold both loads until both are inside a batch's transaction: the
    // table is locked against their COPY.
    const gate = new pg.Client({ connectionString: url });
    await gate.connect();
    await gate.query("begin");
    await gate.query(`lock table ${table} in share mode`);
    const loaders = paths.map((path) =>
      startCli(
        laneIngestArgs(url, path, table, meta, 20, "--verbose"),
      )
    );
    try {
      await waitFor("both loads to wait inside a batch", async () => {
        for (const loader of loaders) {
          const sessions = await sessionsOf(url, loader.child.pid);
          if (!sessions.some((s) => s.wait_event_type === "Lock")) {
            return false;
          }
        }
        return true;
      });
    } finally {
      await gate.query("commit");
      await gate.end();
    }
    for (const loader of loaders) {
      const status = await within(loader.status, 30_000, "a load");
      assert.equal(status.code, 0, loader.stderr);
      assert.doesNotMatch(loader.stderr, /deadlock/);
      assert.equal(loader.count(/ committed /), n / 20);
    }
    await assertExactlyOnce(url, table, meta, 2 * n, [n + 1]);
    // They took turns in the lanes: within a lane, seq order passes from
    // one source's rows to the other's many times.
    const [turns] = await sql(
      `select count(*)::int as n from (
       select (id > $1) <> lag(id > $1) over (partition by lane order by lane_seq) as switched
         from ${table}) s
      where switched`,
      [n],
    );
    assert.ok(
      (turns.n as number) >= 20,
      `the loads hardly interleaved: ${turns.n} turns`,
    );
    for (const path of paths) await Deno.remove(path);
  },
);

loaderTest(
  "a second run of a source being loaded is refused with exit 4 naming the holder, and with --wait it waits, then resumes where the holder stopped",
  async () => {
    const { url, table, meta } = scratchLoad("busy");
    const n = 600;
    await createRecordsTable(url, table);
    const path = await writeRecords(1, n);
    await assertOneRunPerSource(url, path, table, meta, n);
    await Deno.remove(path);
  },
);

loaderTest(
  "a run with --wait behind a run that completes the source loads nothing twice",
  async () => {
    const { url, table, meta } = scratchLoad("busy_done");
    const n = 300;
    await createRecordsTable(url, table);
    const path = await writeRecords(1, n);
    const holder = await holdSource(url, path, table, meta, 40, 2);
    const waiter = startCli(
      laneIngestArgs(
        url,
        path,
        table,
        meta,
        40,
        "--wait",
        "--json",
      ),
    );
    await waitForSourceLock(
      url,
      waiter,
      "the second run to wait for the source's lock",
    );
    holder.release("end");
    assert.equal((await holder.done).rows, n);
    const status = await within(waiter.status, 15_000, "the waiting run");
    assert.equal(status.code, 0, waiter.stderr);
    assert.equal(JSON.parse(await waiter.stdout()).rows, 0);
    await assertExactlyOnce(url, table, meta, n);
    await Deno.remove(path);
  },
);

loaderTest(
  "a load stopped by a rejected row, then killed, resumes with other batch sizes: every record once, lanes gapless and in input order",
  async () => {
    const { url, table, meta } = scratchLoad("rebatch");
    const n = 2000;
    const bad = 1234;
    // Each COPY sleeps 20 ms on the server, so the second run is still
    // loading when it is killed.
    await createSlowTable(url, table, 0.02);
    await sql(
      `alter table ${table} add constraint ${table}_v check (v <> 'bad')`,
    );
    const path = await writeRecords(1, n, {
      value: (id) => id === bad ? "bad" : `v${id}`,
    });

    const first = await runCli(
      laneIngestArgs(url, path, table, meta, 100),
    );
    assert.equal(first.code, 2, first.stderr);
    assert.match(first.stderr, new RegExp(`:${bad + 1}: .*check constraint`));
    assert.equal(await committedPrefix(url, table), 1200);
    await sql(`alter table ${table} drop constraint ${table}_v`);

    const second = await killAfterCommits(
      url,
      laneIngestArgs(url, path, table, meta, 37, "--verbose"),
      3,
    );
    assert.equal((await second.status).signal, "SIGKILL");
    const afterKill = await committedPrefix(url, table);
    assert.ok(
      afterKill >= 1200 + 3 * 37 && afterKill < n,
      `the kill did not land mid-load: ${afterKill} rows`,
    );
    assert.equal((afterKill - 1200) % 37, 0);
    await assertExactlyOnce(url, table, meta, afterKill);

    await makeFast(url, table);
    const third = await runCli(
      laneIngestArgs(url, path, table, meta, 501, "--json"),
    );
    assert.equal(third.code, 0, third.stderr);
    const summary = JSON.parse(third.stdout);
    assert.equal(summary.rows, n - afterKill);
    assert.ok(summary.resumedAt > 0, "the third run did not resume");
    await assertExactlyOnce(url, table, meta, n);
    const [progress] = await sql(
      `select rows_committed::int as rows, lines_committed::int as lines, complete
       from ${meta}.progress`,
    );
    assert.deepEqual(progress, { rows: n, lines: n + 1, complete: true });
    await Deno.remove(path);
  },
);

loaderTest(
  "a reader polling during two concurrent loads never sees a lane's seq k without every seq below it, nor a counter that differs from the rows",
  async () => {
    const { url, table, meta } = scratchLoad("visible");
    const n = 2000;
    await createRecordsTable(url, table);
    const target = await openTarget({ db: url });
    await ensureBookkeeping(target, meta);
    await target.close();
    const paths = [
      await writeRecords(1, n),
      await writeRecords(n + 1, 2 * n, { reversed: true }),
    ];
    const reader = new pg.Client({ connectionString: url });
    await reader.connect();
    const loaders = paths.map((path) =>
      startCli(laneIngestArgs(url, path, table, meta, 25))
    );
    const totals = new Set<number>();
    const violations: unknown[] = [];
    let reads = 0;
    try {
      // One statement, one snapshot: the rows and the counters as of one
      // moment.
      while (!loaders.every((loader) => loader.exited)) {
        const { rows } = await reader.query(
          `select c.lane, c.n::int, c.seqs::int, c.min_seq::int, c.max_seq::int,
                l.row_count::int, l.next_seq::int
           from (select lane, count(*) as n, count(distinct lane_seq) as seqs,
                        min(lane_seq) as min_seq, max(lane_seq) as max_seq
                   from ${table} group by lane) c
           full join (select lane, row_count, next_seq from ${meta}.lanes
                       where target = $1) l using (lane)`,
          [`public.${table}`],
        );
        reads++;
        let total = 0;
        for (const row of rows) {
          total += row.n ?? 0;
          if (
            row.n !== row.seqs || row.n !== row.max_seq ||
            row.min_seq !== 1 ||
            row.n !== row.row_count || row.next_seq !== row.n + 1
          ) {
            violations.push(row);
          }
        }
        totals.add(total);
      }
    } finally {
      await reader.end();
    }
    for (const loader of loaders) {
      assert.equal((await loader.status).code, 0, loader.stderr);
    }
    assert.deepEqual(
      violations.slice(0, 3),
      [],
      `${violations.length} lane states out of step in ${reads} reads`,
    );
    const between = [...totals].filter((total) => total > 0 && total < 2 * n);
    assert.ok(
      between.length >= 5,
      `the reader saw only ${between.length} states mid-load in ${reads} reads`,
    );
    await assertExactlyOnce(url, table, meta, 2 * n, [n + 1]);
    for (const path of paths) await Deno.remove(path);
  },
);
