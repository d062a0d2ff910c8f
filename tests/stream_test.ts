import assert from "node:assert/strict";
// @ts-types="@types/pg"
import pg from "pg";
import {
  databaseUrl,
  loaderTest,
  scratchTable,
  sql,
  startCli,
} from "./_helpers.ts";
import { laneLoadArgs } from "./_loader.ts";

loaderTest(
  "a trickling stdin stream is committed as it comes: each record within flush_ms + 1 s of being written, long before the stream ends",
  async () => {
    const RECORDS = 20;
    const EVERY_MS = 200;
    const FLUSH_MS = 1000;
    const table = scratchTable("trickle");
    await sql(`create table ${table} (id int, lane text, lane_seq bigint)`);
    const loader = startCli(
      laneLoadArgs(
        databaseUrl(),
        "-",
        table,
        `${table}_meta`,
        undefined,
        "--flush-ms",
        String(FLUSH_MS),
        "--quiet",
      ),
      { stdin: true },
    );
    const reader = new pg.Client({ connectionString: databaseUrl() });
    await reader.connect();
    const written = new Map<number, number>();
    const seen = new Map<number, number>();
    let writing = true;
    const poll = (async () => {
      while (writing || seen.size < RECORDS) {
        const { rows } = await reader.query(`select id from ${table}`);
        const now = performance.now();
        for (const { id } of rows) if (!seen.has(id)) seen.set(id, now);
        if (!writing && seen.size >= RECORDS) break;
        if (performance.now() - (written.get(RECORDS) ?? now) > 5000) break;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();
    await loader.write("id,lane\n");
    for (let id = 1; id <= RECORDS; id++) {
      await loader.write(`${id},lane${id % 3}\n`);
      written.set(id, performance.now());
      await new Promise((resolve) => setTimeout(resolve, EVERY_MS));
    }
    const seenBeforeEnd = seen.size;
    await loader.closeStdin();
    writing = false;
    const status = await loader.status;
    await poll;
    await reader.end();
    assert.equal(status.code, 0, loader.stderr);
    // Most records were committed while the stream was still open.
    assert.ok(
      seenBeforeEnd >= RECORDS - Math.ceil((FLUSH_MS + 1000) / EVERY_MS),
      `only ${seenBeforeEnd} of ${RECORDS} records committed before the stream ended`,
    );
    for (let id = 1; id <= RECORDS; id++) {
      const delay = seen.get(id)! - written.get(id)!;
      assert.ok(
        delay <= FLUSH_MS + 1000,
        `record ${id} committed ${delay.toFixed(0)} ms after it was written`,
      );
    }
    const lanes = await sql(
      `select lane, array_agg(lane_seq order by id) as seqs from ${table} group by lane order by lane`,
    );
    for (const { seqs } of lanes) {
      assert.deepEqual(
        (seqs as string[]).map(Number),
        (seqs as string[]).map((_, i) => i + 1),
      );
    }
    // Many batches committed; the markers behind the prefix were pruned.
    const [markers] = await sql(
      `select count(*)::int as n from ${table}_meta.batches`,
    );
    assert.ok(markers.n as number <= 2, `${markers.n} markers kept`);
    const [progress] = await sql(
      `select count(*)::int as batches from ${table}_meta.progress`,
    );
    assert.equal(progress.batches, 1);
    await sql(`drop schema ${table}_meta cascade`);
  },
);
