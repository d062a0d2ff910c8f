import assert from "node:assert/strict";
import { lockSource } from "../src/bookkeeping/source_state.ts";
import { PostgresTarget } from "../src/target/postgres_target.ts";
import { startThrowawayCluster } from "./_cluster.ts";
import { loaderTest, scratchLoad, scratchTable, startCli } from "./_helpers.ts";
import {
  assertExactlyOnce,
  createRecordsTable,
  createSlowTable,
  laneLoadArgs,
  makeFast,
  midCopyBackend,
  terminateSessionsOf,
  waitFor,
  waitForCommits,
  waitForSourceLock,
  within,
  writeRecords,
} from "./_loader.ts";

loaderTest(
  "a live stdin stream survives server restarts: it reconnects, keeps the records in hand, and every record lands exactly once",
  async () => {
    const cluster = await startThrowawayCluster();
    try {
      const url = cluster.url;
      const table = scratchTable("live_restart");
      const meta = `${table}_meta`;
      await createRecordsTable(url, table);
      const RECORDS = 1200;
      const loader = startCli(
        laneLoadArgs(url, "-", table, meta, 40, "--flush-ms", "100"),
        { stdin: true },
      );
      await loader.write("id,lane,v\n");
      try {
        for (let id = 1; id <= RECORDS; id++) {
          await loader.write(`${id},lane${id % 5},v${id}\n`);
          if (id % 20 === 0) await new Promise((r) => setTimeout(r, 20));
          if (id === 400) await cluster.restart("fast");
          if (id === 800) await cluster.restart("immediate");
        }
        await loader.closeStdin();
      } catch (error) {
        await loader.status;
        throw new Error(
          `The loader stopped reading: ${error}\n${loader.stderr}`,
        );
      }
      const status = await within(loader.status, 60_000, "the load's end");
      const stderr = loader.stderr;
      assert.equal(status.code, 0, stderr);
      assert.match(stderr, /reconnecting \(up to 8 attempts\)/);
      assert.match(stderr, /Reconnected to \S+@\S+:\d+\/\S+; resuming/);
      await assertExactlyOnce(url, table, meta, RECORDS);
    } finally {
      await cluster.stop();
    }
  },
);

loaderTest(
  "a run waiting for its source's lock (--wait) when the server restarts reconnects, waits again and loads every record once",
  async () => {
    const cluster = await startThrowawayCluster();
    const path = await writeRecords(1, 500);
    try {
      const url = cluster.url;
      const table = scratchTable("wait_restart");
      const meta = `${table}_meta`;
      await createRecordsTable(url, table);
      // Another run holds the source: the load waits in its set-up, before
      // any batch, and the restart ends both sessions.
      const holder = await PostgresTarget.connect(url);
      await lockSource(holder, "held", false);
      // Not quiet: the reconnect's notice is what this test reads.
      const loader = startCli(
        laneLoadArgs(url, path, table, meta, 100, "--source-id", "held")
          .concat("--wait"),
      );
      await waitForSourceLock(
        url,
        loader,
        "the load waiting for the source's lock",
      );
      await cluster.restart("fast");
      await holder.close();
      const status = await within(loader.status, 30_000, "the load's end");
      assert.equal(status.code, 0, loader.stderr);
      assert.match(
        loader.stderr,
        /terminating connection due to administrator command; reconnecting \(up to \d+ attempts\)/,
      );
      await assertExactlyOnce(url, table, meta, 500);
    } finally {
      await cluster.stop();
      await Deno.remove(path);
    }
  },
);

loaderTest(
  "a load whose connection is terminated mid-COPY reconnects, re-syncs its batch and completes exactly once",
  async () => {
    const { url, table, meta } = scratchLoad("terminated");
    await createSlowTable(url, table, 0.1);
    const path = await writeRecords(1, 1000);
    try {
      const loader = startCli(
        laneLoadArgs(url, path, table, meta, 100, "--verbose"),
      );
      for (const after of [2, 5]) {
        await waitFor(
          `a COPY after ${after} commits`,
          () => midCopyBackend(url, loader, after),
          20_000,
        );
        // Every connection of the load: with one left (batches overlap on
        // two) it would go on alone instead of reconnecting.
        assert.ok(await terminateSessionsOf(url, loader.child.pid) >= 1);
      }
      await makeFast(url, table);
      const status = await within(loader.status, 30_000, "the load's end");
      assert.equal(status.code, 0, loader.stderr);
      assert.equal(
        (loader.stderr.match(/Reconnected to /g) ?? []).length,
        2,
        loader.stderr,
      );
      await assertExactlyOnce(url, table, meta, 1000);
    } finally {
      await Deno.remove(path);
    }
  },
);

loaderTest(
  "a server that stays away: the load gives up after --retries attempts with exit 1 and how to resume",
  async () => {
    const cluster = await startThrowawayCluster();
    let stopped = false;
    try {
      const url = cluster.url;
      const table = scratchTable("gone");
      await createSlowTable(url, table, 0.1);
      const path = await writeRecords(1, 2000);
      const loader = startCli(
        laneLoadArgs(
          url,
          path,
          table,
          `${table}_meta`,
          100,
          "--retries",
          "2",
          "--verbose",
        ),
      );
      await waitForCommits(loader, 2);
      await cluster.stop();
      stopped = true;
      const status = await within(loader.status, 20_000, "giving up");
      assert.equal(status.code, 1, loader.stderr);
      assert.match(
        loader.stderr,
        /gave up after 2 reconnect attempts .*Run the same command again to resume/,
      );
      await Deno.remove(path);
    } finally {
      if (!stopped) await cluster.stop();
    }
  },
);
