import assert from "node:assert/strict";
import { ingest } from "../src/mod.ts";
import { loaderTest, runCli, scratchLoad, startCli } from "./_helpers.ts";
import {
  assertExactlyOnce,
  committedPrefix,
  createRecordsTable,
  createSlowTable,
  laneLoadArgs,
  makeFast,
  waitForCommits,
  within,
  writeRecords,
} from "./_loader.ts";

loaderTest(
  "a file truncated while it is read ends the load with exit 1 and the reason; no half record is committed; restored, it resumes exactly once",
  async () => {
    const { url, table, meta } = scratchLoad("truncated");
    const RECORDS = 40_000;
    await createSlowTable(url, table, 0.03);
    const path = await writeRecords(1, RECORDS, {
      value: (id) => `value ${id} `.repeat(4),
    });
    const original = await Deno.readFile(path);
    const args = laneLoadArgs(url, path, table, meta, 200, "--verbose");
    try {
      const loader = startCli(args);
      await waitForCommits(loader, 2);
      // Cut the file in the middle of a record, far past what is read yet.
      await Deno.truncate(path, Math.floor(original.length * 0.6) + 7);
      const status = await within(loader.status, 60_000, "the load's end");
      assert.equal(status.code, 1, loader.stderr);
      assert.match(
        loader.stderr,
        /Cannot read .*: it shrank from \d+ to \d+ bytes while it was being read/,
      );
      const rows = await committedPrefix(url, table);
      assert.equal(rows % 200, 0, "a partial batch was committed");
      assert.ok(rows < RECORDS * 0.6, `${rows} rows committed`);
      await assertExactlyOnce(url, table, meta, rows);

      await Deno.writeFile(path, original);
      await makeFast(url, table);
      const resumed = await runCli(args.slice(0, -1));
      assert.equal(resumed.code, 0, resumed.stderr);
      await assertExactlyOnce(url, table, meta, RECORDS);
    } finally {
      await Deno.remove(path);
    }
  },
);

Deno.test("a stream that errors after some records fails the load with its reason, commits only whole batches before it, and a replay resumes exactly once", async () => {
  const { url, table, meta } = scratchLoad("stream_error");
  await createRecordsTable(url, table);
  const encoder = new TextEncoder();
  const records = (from: number, to: number) => {
    const lines = [];
    for (let id = from; id <= to; id++) {
      lines.push(`${id},lane${id % 4},v${id}\n`);
    }
    return encoder.encode(lines.join(""));
  };
  const stream = (failAfter?: number) =>
    new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(encoder.encode("id,lane,v\n"));
        for (let from = 1; from <= 1000; from += 50) {
          if (failAfter !== undefined && from > failAfter) {
            controller.error(new Error("the producer went away"));
            return;
          }
          controller.enqueue(records(from, from + 49));
        }
        controller.close();
      },
    });
  const options = {
    table,
    lane: "lane",
    batchSize: 100,
    metaSchema: meta,
    sourceId: "replayable stream",
    db: url,
  };
  await assert.rejects(
    ingest({ ...options, source: stream(730) }),
    /the producer went away/,
  );
  const rows = await committedPrefix(url, table);
  assert.ok(rows <= 700 && rows % 100 === 0, `${rows} rows committed`);
  const summary = await ingest({ ...options, source: stream() });
  assert.equal(summary.rows, 1000 - rows);
  await assertExactlyOnce(url, table, meta, 1000);
});
