import assert from "node:assert/strict";
import { ensureBookkeeping } from "../src/bookkeeping/schema.ts";
import { openTarget } from "../src/target/open_target.ts";
import {
  databaseUrl,
  loaderTest,
  scratchLoad,
  sql,
  startCli,
  writeTemp,
} from "./_helpers.ts";
import { laneLoadArgs, replayableRandom, sessionsGone } from "./_loader.ts";

const ROWS = 200_000;
const BATCH = 1_000;
const KILLS = 24;
const LANES = 16;

/** The input: `ROWS` records `id,lane,body` in `LANES` lanes drawn by `random`. */
async function writeInput(random: () => number): Promise<string> {
  const lines = ["id,lane,body"];
  for (let id = 1; id <= ROWS; id++) {
    const lane = `lane-${Math.floor(random() * LANES)}`;
    const body = random() < 0.1 ? `"quoted, ""${id}"""` : `row ${id}`;
    lines.push(`${id},${lane},${body}`);
  }
  return await writeTemp(lines.join("\n") + "\n");
}

async function committedOffset(meta: string): Promise<number> {
  const rows = await sql(
    `select coalesce(max(byte_offset), 0)::float8 as o from ${meta}.progress`,
  );
  return Number(rows[0].o);
}

/** Every invariant that must hold after any crash. */
async function assertInvariants(table: string, meta: string) {
  const [state] = await sql(
    `select (select count(*) from ${table})::int as rows,
            (select count(distinct id) from ${table})::int as ids,
            (select coalesce(sum(rows_committed), 0)::int from ${meta}.progress) as committed,
            (select count(*) from (
               select lane_seq <> row_number() over (partition by lane order by id) as off
                 from ${table}) s where off)::int as out_of_order,
            (select count(*) from ${meta}.lanes l
              where l.row_count <> (select count(*) from ${table} t where t.lane = l.lane)
                 or l.next_seq - 1 <> l.row_count)::int as bad_counters`,
  );
  assert.equal(state.ids, state.rows, "duplicate ids");
  assert.equal(state.rows, state.committed, "rows differ from progress");
  assert.equal(
    state.out_of_order,
    0,
    "a lane's seqs are not 1..n in input order",
  );
  assert.equal(state.bad_counters, 0, "a lane counter differs from its rows");
  // The committed part is a prefix: ids 1..rows.
  const [prefix] = await sql(
    `select coalesce(max(id), 0)::int as max_id from ${table}`,
  );
  assert.equal(
    prefix.max_id,
    state.rows,
    "the committed rows are not a prefix",
  );
  return state.rows as number;
}

loaderTest(
  "ingest killed with SIGKILL mid-batch and mid-COMMIT, again and again, resumes to every record exactly once",
  async () => {
    const random = replayableRandom("crash");
    const { table, meta } = scratchLoad("crash");
    const path = await writeInput(random);
    await sql(
      `create table ${table} (id bigint, lane text, body text, lane_seq bigint)`,
    );
    // COMMIT takes 30 ms on the server (a deferred trigger on the progress
    // row), so a kill right after "commit-sent" lands while the server is
    // committing and before the loader reads the reply.
    const target = await openTarget({ db: databaseUrl() });
    await ensureBookkeeping(target, meta);
    await target.close();
    await sql(`create function ${meta}.slow_commit() returns trigger
      language plpgsql as $$ begin perform pg_sleep(0.03); return null; end $$`);
    await sql(
      `create constraint trigger slow_commit after update on ${meta}.progress
      deferrable initially deferred for each row execute function ${meta}.slow_commit()`,
    );

    const args = laneLoadArgs(
      databaseUrl(),
      path,
      table,
      meta,
      BATCH,
      "--verbose",
      "--quiet",
    );
    let kills = 0;
    let midCommitKills = 0;
    let commitLandedWithoutReply = 0;
    let lastRows = 0;
    while (kills < KILLS) {
      const loader = startCli(args);
      // Let a few batches commit, so progress advances between kills.
      const settle = 1 + Math.floor(random() * 3);
      const killAt = random() < 0.5 ? "commit-sent" : "start";
      let committed = 0;
      let killLine: string | undefined;
      for await (const line of loader.lines()) {
        if (line.includes(" committed ")) committed++;
        if (committed >= settle && line.includes(` ${killAt} `)) {
          killLine = line;
          break;
        }
      }
      assert.ok(
        killLine !== undefined,
        "the load finished before it was killed",
      );
      const sentEnd = Number(/bytes \d+-(\d+)/.exec(killLine)![1]);
      await new Promise((r) => setTimeout(r, Math.floor(random() * 20)));
      loader.child.kill("SIGKILL");
      const status = await loader.status;
      assert.equal(status.signal, "SIGKILL");
      await sessionsGone(databaseUrl(), loader.child.pid);
      kills++;
      const rows = await assertInvariants(table, meta);
      assert.ok(rows > lastRows, "progress did not advance between kills");
      lastRows = rows;
      if (killAt === "commit-sent") {
        midCommitKills++;
        // The batch committed on the server, but the loader never saw it.
        if (await committedOffset(meta) === sentEnd) commitLandedWithoutReply++;
      }
    }
    console.log(
      `${kills} kills, ${midCommitKills} after COMMIT was sent, ${commitLandedWithoutReply} of them committed without the loader reading the reply; ${lastRows} rows committed before the last run`,
    );
    assert.ok(
      midCommitKills >= 3,
      "too few kills landed after COMMIT was sent",
    );
    assert.ok(
      commitLandedWithoutReply >= 1,
      "no kill landed between sending COMMIT and reading its reply",
    );

    await sql(`drop trigger slow_commit on ${meta}.progress`);
    const finish = startCli(args);
    assert.equal((await finish.status).code, 0);
    assert.equal(await assertInvariants(table, meta), ROWS);
    const [progress] = await sql(
      `select bool_and(complete) as complete, sum(lines_committed)::int as lines
         from ${meta}.progress`,
    );
    assert.deepEqual(progress, { complete: true, lines: ROWS + 1 });
    const [lanes] = await sql(
      `select count(*)::int as n from ${meta}.lanes`,
    );
    assert.equal(lanes.n, LANES);
    await Deno.remove(path);
  },
);
