import assert from "node:assert/strict";
import { runCli, scratchLoad, startCli } from "./_helpers.ts";
import {
  assertExactlyOnce,
  committedPrefix,
  holdSource,
  laneIngestArgs,
  laneLoadArgs,
  waitForSourceLock,
  within,
  writeRecords,
} from "./_loader.ts";
import {
  assertNoPreparedTransactions,
  citusTest,
  createDistributedRecords,
} from "./_citus.ts";

citusTest(
  "one run per source on Citus: a second run is refused naming the holder; with --wait it waits, then resumes where the holder stopped",
  async () => {
    const { url, table, meta } = scratchLoad("citus_busy");
    const n = 600;
    await createDistributedRecords(url, table);
    const path = await writeRecords(1, n);
    const holder = await holdSource(url, path, table, meta, 50, 4);

    const refused = await runCli(laneIngestArgs(url, path, table, meta, 50));
    assert.equal(refused.code, 4, refused.stderr);
    assert.match(
      refused.stderr,
      new RegExp(
        `Cannot load source ".*": another run is loading it \\(lanecopy pid ${Deno.pid} on `,
      ),
    );
    assert.match(refused.stderr, /pass --wait/);
    assert.equal(holder.state.settled, false);
    assert.equal(await committedPrefix(url, table), 200);

    const waiter = startCli(
      laneLoadArgs(url, path, table, meta, 50, "--wait", "--json"),
    );
    await waitForSourceLock(url, waiter, "the second run to wait");
    assert.equal(waiter.exited, false);
    assert.equal(await committedPrefix(url, table), 200);

    holder.release("break");
    await assert.rejects(holder.done, /the holder's input broke/);
    const status = await within(waiter.status, 30_000, "the waiting run");
    assert.equal(status.code, 0, waiter.stderr);
    const summary = JSON.parse(await waiter.stdout());
    assert.ok(summary.resumedAt > 0, "the waiting run did not resume");
    assert.equal(summary.rows, n - 200);
    await assertExactlyOnce(url, table, meta, n);
    await assertNoPreparedTransactions(url);
    await Deno.remove(path);
  },
);
