import assert from "node:assert/strict";
import { ingest, type IngestOptions } from "../src/mod.ts";
import { startThrowawayCluster } from "./_cluster.ts";
import {
  loaderTest,
  query,
  scratchLoad,
  scratchTable,
  startCli,
} from "./_helpers.ts";
import {
  assertExactlyOnce,
  committedPrefix,
  createSlowTable,
  laneIngestArgs,
  makeFast,
  midCopyBackend,
  sessionsOf,
  terminateSessionsOf,
  waitFor,
  waitForCommits,
  within,
  writeRecords,
} from "./_loader.ts";

/** How long a loader may take to give up once its server went away. */
const GIVE_UP_MS = 5_000;

/** These tests check giving up; tests/reconnect_test.ts checks going on. */
const GIVE_UP_AT_ONCE = ["--retries", "0"];

/** `ingest()` in this process, with its committed batches counted. */
function ingestHere(options: IngestOptions) {
  const state = { batches: 0, settled: false };
  const done = ingest({
    retries: 0,
    ...options,
    onProgress: (progress) => state.batches = progress.batches,
  }).finally(() => state.settled = true);
  done.catch(() => {});
  return { state, done };
}

/**
 * The backend of this process's load when it has committed `batches`
 * batches and sleeps inside its next COPY; `undefined` while it has not.
 */
async function hereMidCopy(
  url: string,
  load: ReturnType<typeof ingestHere>,
  batches: number,
): Promise<number | undefined> {
  if (load.state.settled) {
    const outcome = await load.done.then(JSON.stringify, String);
    throw new Error(`This load ended first: ${outcome}`);
  }
  if (load.state.batches < batches) return undefined;
  const sessions = await sessionsOf(url, Deno.pid);
  return sessions.find((session) => session.wait_event === "PgSleep")?.pid;
}

/**
 * Kills a server process as a crash would, and resolves once the server
 * has reset its other sessions and accepts connections again.
 */
async function crashBackend(url: string, pid: number): Promise<void> {
  Deno.kill(pid, "SIGKILL");
  // Until the server has noticed, it may still accept a query.
  await waitFor(
    "the server to notice the crash",
    async () =>
      (await query(url, "select pid from pg_stat_activity where pid = $1", [
        pid,
      ]).catch(() => [])).length === 0,
  );
  await waitFor(
    "the server to recover",
    () => query(url, "select 1").then(() => true, () => false),
  );
}

/** Rejects with the load's error, or fails when it does not settle soon. */
async function failureOf(promise: Promise<unknown>): Promise<Error> {
  const outcome = await within(
    promise.then(() => undefined, (error: Error) => error),
    GIVE_UP_MS,
    "giving up on a lost connection",
  );
  assert.ok(outcome instanceof Error, "the load succeeded");
  return outcome;
}

/** No session of this process is left idle in a transaction. */
async function assertNoIdleTransaction(url: string): Promise<void> {
  const stuck = (await sessionsOf(url, Deno.pid)).filter((session) =>
    session.state.startsWith("idle in transaction")
  );
  assert.deepEqual(stuck, [], "a connection was left idle in a transaction");
}

loaderTest(
  "the CLI exits 1 within seconds when its connection is terminated mid-COPY, and a re-run loads every record once",
  async () => {
    const { url, table, meta } = scratchLoad("terminated_cli");
    const n = 1000;
    await createSlowTable(url, table, 0.2);
    const path = await writeRecords(1, n);
    const args = laneIngestArgs(
      url,
      path,
      table,
      meta,
      100,
      ...GIVE_UP_AT_ONCE,
    );
    const loader = startCli([...args, "--verbose"]);
    await waitFor(
      "the loader inside its third batch",
      () => midCopyBackend(url, loader, 2),
    );
    // Both of its connections: with one left it would go on alone.
    assert.ok(await terminateSessionsOf(url, loader.child.pid) >= 1);
    const status = await within(loader.status, GIVE_UP_MS, "the loader");
    assert.equal(status.code, 1, loader.stderr);
    assert.match(
      loader.stderr,
      /lanecopy: terminating connection due to administrator command/,
    );
    const rows = await committedPrefix(url, table);
    assert.ok(rows >= 200 && rows < n, `${rows} rows committed`);
    await assertExactlyOnce(url, table, meta, rows);

    await makeFast(url, table);
    const rerun = startCli(args);
    assert.equal((await rerun.status).code, 0, rerun.stderr);
    await assertExactlyOnce(url, table, meta, n);
    await Deno.remove(path);
  },
);

loaderTest(
  "ingest() rejects within seconds when its connection is terminated while a batch is being sent, leaves no transaction open, and a re-run loads every record once",
  async () => {
    const { url, table, meta } = scratchLoad("terminated_lib");
    const batch = 2000;
    const n = 3 * batch;
    // Rows of 4 KB, and from the third batch on the server reads 1 row per
    // millisecond: the loader is blocked sending the batch (its writes wait
    // for the socket to drain) when the connection goes.
    await createSlowTable(url, table, 0.001, { rowsAfter: 2 * batch });
    const path = await writeRecords(1, n, {
      value: (id) => `${id}`.padEnd(4000, "x"),
    });
    const options = {
      source: path,
      table,
      lane: "lane",
      batchSize: batch,
      metaSchema: meta,
      db: url,
    };
    const load = ingestHere(options);
    await waitFor(
      "this load inside its third batch",
      () => hereMidCopy(url, load, 2),
    );
    assert.ok(await terminateSessionsOf(url, Deno.pid) >= 1);
    const watching = (async () => {
      while (!load.state.settled) {
        await assertNoIdleTransaction(url);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    })();
    const error = await failureOf(load.done);
    await watching;
    assert.match(
      error.message,
      /^(terminating connection due to administrator command|Lost the connection to \S+@\S+:\d+\/)/,
    );
    // The connection's end is no record's fault: no source line is blamed.
    assert.doesNotMatch(error.message, /\.csv:\d+/);
    // This process is alive, and has no session left on the server.
    assert.deepEqual(await sessionsOf(url, Deno.pid), []);
    assert.equal(await committedPrefix(url, table), 2 * batch);
    await assertExactlyOnce(url, table, meta, 2 * batch);

    await makeFast(url, table);
    const summary = await ingest(options);
    assert.equal(summary.rows, n - 2 * batch);
    await assertExactlyOnce(url, table, meta, n);
    await Deno.remove(path);
  },
);

loaderTest(
  "loads across server restarts (fast, immediate, and after a backend crash) fail within seconds, leave no transaction open, and re-runs load every record once",
  async () => {
    const cluster = await startThrowawayCluster();
    const paths: string[] = [];
    try {
      const url = cluster.url;
      const n = 5000;
      const meta = scratchTable("meta_restart");
      // One load by the CLI, one by ingest() in this process, each into
      // its own table, both through every restart.
      const cliTable = scratchTable("restart_cli");
      const hereTable = scratchTable("restart_lib");
      await createSlowTable(url, cliTable, 0.1);
      await createSlowTable(url, hereTable, 0.1);
      const cliPath = await writeRecords(1, n);
      const herePath = await writeRecords(1, n, { reversed: true });
      paths.push(cliPath, herePath);
      const cliArgs = laneIngestArgs(
        url,
        cliPath,
        cliTable,
        meta,
        100,
        ...GIVE_UP_AT_ONCE,
      );
      const hereOptions = {
        source: herePath,
        table: hereTable,
        lane: "lane",
        batchSize: 100,
        metaSchema: meta,
        db: url,
      };
      let committed = { cli: 0, here: 0 };
      // `fast` and `immediate` stop the server (it tells its sessions so);
      // `crash` kills the CLI's backend, and the server resets every other
      // session and recovers: that connection just ends, with no message.
      for (const mode of ["fast", "immediate", "crash"] as const) {
        const loader = startCli([...cliArgs, "--verbose"]);
        // A child process starts slower than this process's load: the
        // latter begins once the former has committed, so that neither
        // ends before the other is inside a COPY.
        await waitForCommits(loader, 1);
        const load = ingestHere(hereOptions);
        // Both inside a COPY at once (the sleep is most of a batch).
        const backend = await waitFor("both loads inside a COPY", async () => {
          const cli = await midCopyBackend(url, loader, 2);
          const here = await hereMidCopy(url, load, 2);
          return cli !== undefined && here !== undefined && cli;
        });
        const restarted = mode === "crash"
          ? crashBackend(url, backend)
          : cluster.restart(mode);
        const status = await within(loader.status, GIVE_UP_MS, "the loader");
        assert.equal(status.code, 1, loader.stderr);
        assert.match(
          loader.stderr,
          /lanecopy: (terminating connection|Lost the connection to \S+@\S+:\d+\/)/,
        );
        const error = await failureOf(load.done);
        assert.match(
          error.message,
          /^(terminating connection|Lost the connection to \S+@\S+:\d+\/)/,
        );
        await restarted;
        await assertNoIdleTransaction(url);
        assert.deepEqual(await sessionsOf(url, Deno.pid), []);
        const now = {
          cli: await committedPrefix(url, cliTable),
          here: await committedPrefix(url, hereTable),
        };
        assert.ok(
          now.cli >= committed.cli + 200 && now.here >= committed.here + 200,
          `the loads did not go on between restarts: ${
            JSON.stringify([committed, now])
          }`,
        );
        assert.ok(now.cli < n && now.here < n, "a load finished");
        await assertExactlyOnce(url, cliTable, meta, now.cli);
        await assertExactlyOnce(url, hereTable, meta, now.here);
        committed = now;
      }

      await makeFast(url, cliTable);
      await makeFast(url, hereTable);
      const rerun = startCli(cliArgs);
      const summary = await ingest(hereOptions);
      assert.equal(summary.rows, n - committed.here);
      assert.equal((await rerun.status).code, 0, rerun.stderr);
      await assertExactlyOnce(url, cliTable, meta, n);
      await assertExactlyOnce(url, hereTable, meta, n);
    } finally {
      await cluster.stop();
      for (const path of paths) await Deno.remove(path);
    }
  },
);
