import assert from "node:assert/strict";
import {
  loaderTest,
  query,
  removeDataDir,
  runCli,
  scratchLoad,
  startCli,
} from "./_helpers.ts";
import {
  assertExactlyOnce,
  committedPrefix,
  createSlowTable,
  laneLoadArgs,
  makeFast,
  sessionsGone,
  waitFor,
  waitForCommits,
  within,
  writeRecords,
} from "./_loader.ts";

const RECORDS = 3000;

for (const [signal, code] of [["SIGINT", 130], ["SIGTERM", 143]] as const) {
  loaderTest(
    `ingest stopped by ${signal} finishes the batch in flight, exits ${code} saying how to resume, and a re-run loads every record once`,
    async () => {
      const { url, table, meta } = scratchLoad(signal.toLowerCase());
      const path = await writeRecords(1, RECORDS);
      await createSlowTable(url, table, 0.05);
      const args = laneLoadArgs(url, path, table, meta, 100, "--verbose");
      try {
        const loader = startCli(args);
        await waitForCommits(loader, 3);
        // Signal while a batch is in its transaction.
        const started = loader.count(/ start bytes /);
        await waitFor(
          "the next batch to start",
          () => loader.count(/ start bytes /) > started,
        );
        loader.child.kill(signal);
        const status = await within(
          loader.status,
          5000,
          `exit after ${signal}`,
        );
        assert.equal(status.code, code, loader.stderr);
        assert.match(
          loader.stderr,
          new RegExp(
            `Interrupted by ${signal}: \\d+ rows committed in \\d+ batches by this run, nothing half-committed; run the same command again to resume after them`,
          ),
        );
        // The batch that was in flight finished: its commit is logged.
        assert.equal(
          loader.count(/ committed bytes /),
          loader.count(/ start bytes /),
          `a batch started but did not finish:\n${loader.stderr}`,
        );
        await sessionsGone(url, loader.child.pid);
        const rows = await committedPrefix(url, table);
        const [progress] = await query(
          url,
          `select rows_committed::int as rows from ${meta}.progress`,
        );
        assert.equal(progress.rows, rows);
        assert.ok(rows > 0 && rows < RECORDS, `${rows} rows committed`);
        await assertExactlyOnce(url, table, meta, rows);

        await makeFast(url, table);
        const rerun = await runCli(args.slice(0, -1).concat("--quiet"));
        assert.equal(rerun.code, 0, rerun.stderr);
        await assertExactlyOnce(url, table, meta, RECORDS);
      } finally {
        await Deno.remove(path);
      }
    },
  );
}

loaderTest(
  "ingest into the embedded database stopped by SIGINT exits 130, leaves the database whole, and a re-run completes",
  async () => {
    const dataDir = await Deno.makeTempDir();
    const path = await writeRecords(1, RECORDS);
    const env = { DATABASE_URL: "", NO_COLOR: "1" };
    const args = [
      "ingest",
      path,
      "--table",
      "t",
      "--create",
      "--lane",
      "lane",
      "--batch-size",
      "100",
      "--data-dir",
      dataDir,
    ];
    try {
      const loader = startCli([...args, "--verbose"], { env });
      await waitForCommits(loader, 2, 30_000);
      loader.child.kill("SIGINT");
      const status = await within(loader.status, 10_000, "exit after SIGINT");
      assert.equal(status.code, 130, loader.stderr);
      assert.match(loader.stderr, /Interrupted by SIGINT: \d+ rows committed/);
      const rerun = await runCli([...args, "--quiet"], { env });
      assert.equal(rerun.code, 0, rerun.stderr);
      const check = await runCli([
        "sql",
        "select count(*)::int as n, count(distinct id)::int as d, max(lane_seq)::int as s from t",
        "--data-dir",
        dataDir,
        "--json",
      ], { env });
      assert.equal(check.code, 0, check.stderr);
      const counts = JSON.parse(check.stdout);
      assert.equal(counts.n, RECORDS);
      assert.equal(counts.d, RECORDS);
    } finally {
      await Deno.remove(path);
      await removeDataDir(dataDir);
    }
  },
);
