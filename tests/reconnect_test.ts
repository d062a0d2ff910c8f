import assert from "node:assert/strict";
import { lockSource } from "../src/bookkeeping/source_state.ts";
import { PostgresTarget } from "../src/target/postgres_target.ts";
import { startThrowawayCluster } from "./_cluster.ts";
import { databaseUrl, REPO_ROOT, scratchTable } from "./_helpers.ts";
import {
  assertExactlyOnce,
  createSlowTable,
  laneIngestArgs,
  makeFast,
  query,
  sessionsOf,
  startCli,
  stopLoaders,
  terminateSessionsOf,
  waitFor,
  within,
  writeRecords,
} from "./_loader.ts";

/** A CLI load reading standard input, fed by the test. */
function streamLoader(url: string, table: string, meta: string) {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      `${REPO_ROOT}src/cli/main.ts`,
      "ingest",
      "-",
      "--table",
      table,
      "--lane",
      "lane",
      "--batch-size",
      "40",
      "--flush-ms",
      "100",
      "--meta-schema",
      meta,
      "--db",
      url,
    ],
    env: { NO_COLOR: "1" },
    stdin: "piped",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const stderr = new Response(child.stderr).text();
  return { child, stderr, stdin: child.stdin.getWriter() };
}

Deno.test({
  name:
    "a live stdin stream survives server restarts: it reconnects, keeps the records in hand, and every record lands exactly once",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const cluster = await startThrowawayCluster();
    try {
      const url = cluster.url;
      const table = scratchTable("live_restart");
      const meta = `${table}_meta`;
      await query(
        url,
        `create table ${table} (id int, lane text, v text, lane_seq bigint)`,
      );
      const RECORDS = 1200;
      const loader = streamLoader(url, table, meta);
      const encoder = new TextEncoder();
      await loader.stdin.write(encoder.encode("id,lane,v\n"));
      try {
        for (let id = 1; id <= RECORDS; id++) {
          await loader.stdin.write(
            encoder.encode(`${id},lane${id % 5},v${id}\n`),
          );
          if (id % 20 === 0) await new Promise((r) => setTimeout(r, 20));
          if (id === 400) await cluster.restart("fast");
          if (id === 800) await cluster.restart("immediate");
        }
        await loader.stdin.close();
      } catch (error) {
        await loader.child.status;
        throw new Error(
          `The loader stopped reading: ${error}\n${await loader.stderr}`,
        );
      }
      const status = await within(
        loader.child.status,
        60_000,
        "the load's end",
      );
      const stderr = await loader.stderr;
      assert.equal(status.code, 0, stderr);
      assert.match(stderr, /reconnecting \(up to 8 attempts\)/);
      assert.match(stderr, /Reconnected to postgres:\/\/.*; resuming/);
      await assertExactlyOnce(url, table, meta, RECORDS);
    } finally {
      await cluster.stop();
    }
  },
});

Deno.test({
  name:
    "a run waiting for its source's lock (--wait) when the server restarts reconnects, waits again and loads every record once",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const cluster = await startThrowawayCluster();
    const path = await writeRecords(1, 500);
    try {
      const url = cluster.url;
      const table = scratchTable("wait_restart");
      const meta = `${table}_meta`;
      await query(
        url,
        `create table ${table} (id int, lane text, v text, lane_seq bigint)`,
      );
      // Another run holds the source: the load waits in its set-up, before
      // any batch, and the restart ends both sessions.
      const holder = await PostgresTarget.connect(url);
      await lockSource(holder, "held", false);
      // Not quiet: the reconnect's notice is what this test reads.
      const loader = startCli(
        laneIngestArgs(url, path, table, meta, 100, "--source-id", "held")
          .concat("--wait")
          .filter((arg) => arg !== "--quiet"),
      );
      await waitFor(
        "the load waiting for the source's lock",
        async () =>
          (await sessionsOf(url, loader.child.pid)).some((session) =>
            session.wait_event === "advisory"
          ),
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
      await stopLoaders();
      await cluster.stop();
      await Deno.remove(path);
    }
  },
});

Deno.test({
  name:
    "a load whose connection is terminated mid-COPY reconnects, re-syncs its batch and completes exactly once",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const url = databaseUrl();
    const table = scratchTable("terminated");
    const meta = `${table}_meta`;
    await createSlowTable(url, table, 0.1);
    const path = await writeRecords(1, 1000);
    try {
      const loader = startCli([
        "ingest",
        path,
        "--table",
        table,
        "--lane",
        "lane",
        "--batch-size",
        "100",
        "--meta-schema",
        meta,
        "--db",
        url,
        "--verbose",
      ]);
      for (const after of [2, 5]) {
        await waitFor(
          `a COPY after ${after} commits`,
          async () => {
            if (loader.count(/ committed bytes /) < after) return undefined;
            const sessions = await sessionsOf(url, loader.child.pid);
            return sessions.find((s) => s.wait_event === "PgSleep")?.pid;
          },
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
      await stopLoaders();
      await Deno.remove(path);
    }
  },
});

Deno.test({
  name:
    "a server that stays away: the load gives up after --retries attempts with exit 1 and how to resume",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const cluster = await startThrowawayCluster();
    let stopped = false;
    try {
      const url = cluster.url;
      const table = scratchTable("gone");
      await createSlowTable(url, table, 0.1);
      const path = await writeRecords(1, 2000);
      const loader = startCli([
        "ingest",
        path,
        "--table",
        table,
        "--lane",
        "lane",
        "--batch-size",
        "100",
        "--meta-schema",
        `${table}_meta`,
        "--db",
        url,
        "--retries",
        "2",
        "--verbose",
      ]);
      await waitFor(
        "two commits",
        () => loader.count(/ committed bytes /) >= 2,
      );
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
      await stopLoaders();
      if (!stopped) await cluster.stop();
    }
  },
});
