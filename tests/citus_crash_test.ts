import assert from "node:assert/strict";
import { query, scratchLoad, startCli } from "./_helpers.ts";
import {
  assertExactlyOnce,
  committedPrefix,
  laneLoadArgs,
  LANES,
  replayableRandom,
  sessionsGone,
  writeRecords,
} from "./_loader.ts";
import {
  assertNoPreparedTransactions,
  citusTest,
  createDistributedRecords,
  rowsByWorker,
} from "./_citus.ts";

const ROWS = 200_000;
const BATCH = 3_000;
const KILLS = 12;

/** Where a kill lands: after the verbose line of this step, and a delay. */
const STEPS = ["start", "commit-sent", "committed"] as const;

/**
 * What must hold after any kill: the committed rows are ids 1..n, each
 * once, with gapless seqs per lane in input order and counters equal to
 * them; the progress counts n; no node holds a prepared transaction.
 */
async function assertCommitted(
  url: string,
  table: string,
  meta: string,
): Promise<number> {
  const rows = await committedPrefix(url, table);
  await assertExactlyOnce(url, table, meta, rows);
  const [progress] = await query(
    url,
    `select coalesce(sum(rows_committed), 0)::int as rows,
            coalesce(max(byte_offset), 0)::float8 as offset
       from ${meta}.progress`,
  );
  assert.equal(progress.rows, rows, "the progress differs from the rows");
  await assertNoPreparedTransactions(url);
  return rows;
}

citusTest(
  "a 200k-row lane load into a table distributed by lane, SIGKILLed at random moments again and again, resumes to every row exactly once",
  async () => {
    const random = replayableRandom("citus_crash");
    const { url, table, meta } = scratchLoad("citus_crash");
    await createDistributedRecords(url, table);
    const path = await writeRecords(1, ROWS);
    const args = laneLoadArgs(
      url,
      path,
      table,
      meta,
      BATCH,
      "--verbose",
      "--quiet",
    );
    const kills: Record<string, number> = {};
    let landedWithoutReply = 0;
    let lastRows = 0;
    for (let kill = 1; kill <= KILLS; kill++) {
      const loader = startCli(args);
      // Let a batch or a few commit, so progress advances between kills,
      // then kill after a random step of a later batch and a random delay.
      const settle = 1 + Math.floor(random() * 2);
      const step = STEPS[Math.floor(random() * STEPS.length)];
      const delay = Math.floor(random() * 30);
      let committed = 0;
      let killLine: string | undefined;
      for await (const line of loader.lines()) {
        if (committed >= settle && line.includes(` ${step} `)) {
          killLine = line;
          break;
        }
        if (line.includes(" committed ")) committed++;
      }
      assert.ok(
        killLine !== undefined,
        `the load ended before its kill:\n${loader.stderr}`,
      );
      await new Promise((resolve) => setTimeout(resolve, delay));
      loader.child.kill("SIGKILL");
      assert.equal((await loader.status).signal, "SIGKILL");
      await sessionsGone(url, loader.child.pid);
      kills[step] = (kills[step] ?? 0) + 1;
      const rows = await assertCommitted(url, table, meta);
      assert.ok(rows > lastRows, "progress did not advance between kills");
      lastRows = rows;
      if (step === "commit-sent") {
        const sentEnd = Number(/bytes \d+-(\d+)/.exec(killLine)![1]);
        const [{ offset }] = await query(
          url,
          `select max(byte_offset)::float8 as offset from ${meta}.progress`,
        );
        if (offset === sentEnd) landedWithoutReply++;
      }
    }
    console.log(
      `kills after each step: ${
        JSON.stringify(kills)
      }; ${landedWithoutReply} batches committed without the loader reading the reply; ${lastRows} rows committed before the last run`,
    );
    assert.ok(lastRows < ROWS, "the kills came too late");

    const finish = startCli(args);
    const status = await finish.status;
    assert.equal(status.code, 0, finish.stderr);
    assert.equal(await assertCommitted(url, table, meta), ROWS);
    const [progress] = await query(
      url,
      `select bool_and(complete) as complete,
              sum(lines_committed)::int as lines
         from ${meta}.progress`,
    );
    assert.deepEqual(progress, { complete: true, lines: ROWS + 1 });
    const [lanes] = await query(
      url,
      `select count(*)::int as n from ${meta}.lanes where target = $1`,
      [`public.${table}`],
    );
    assert.equal(lanes.n, LANES);
    // The rows are on the workers, in their shards: both hold some.
    const byWorker = [...(await rowsByWorker(url, table)).values()];
    assert.ok(byWorker.length >= 2, "the shards are not on two workers");
    assert.ok(byWorker.filter((n) => n > 0).length >= 2, "one worker has all");
    assert.equal(byWorker.reduce((sum, n) => sum + n), ROWS);
    await Deno.remove(path);
  },
);
