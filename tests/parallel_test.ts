import assert from "node:assert/strict";
import {
  databaseUrl,
  loaderTest,
  query,
  runCli,
  scratchLoad,
  scratchTable,
  startCli,
  writeTemp,
} from "./_helpers.ts";
import {
  assertExactlyOnce,
  createRecordsTable,
  createSlowTable,
  killAfterCommits,
  laneIngestArgs,
  laneLoadArgs,
  lcg,
  makeFast,
  replayableRandom,
  waitForCommits,
} from "./_loader.ts";
import { laneWriter } from "../src/parallel/writer_split.ts";

const LANES = 16;
const WRITERS = 3;

/**
 * A quiet load of `path` by lane, 40 rows a batch, with `writers` writers
 * (`--parallel`), then `more`.
 */
function parallelArgs(
  path: string,
  table: string,
  meta: string,
  writers: number,
  ...more: string[]
): string[] {
  return laneIngestArgs(
    databaseUrl(),
    path,
    table,
    meta,
    40,
    "--parallel",
    String(writers),
    ...more,
  );
}

/**
 * Writes `rows` records `id,lane,v` in 16 lanes drawn by `random`; some
 * values are quoted, hold commas or span two lines. `value` overrides a
 * record's `v`. Returns the file and each record's lane.
 */
async function writeInput(
  rows: number,
  random: () => number,
  value?: (id: number) => string | undefined,
): Promise<{ path: string; lanes: string[] }> {
  const lines = ["id,lane,v"];
  const lanes = [""];
  for (let id = 1; id <= rows; id++) {
    const lane = `lane-${Math.floor(random() * LANES)}`;
    lanes.push(lane);
    const pick = random();
    const v = value?.(id) ??
      (pick < 0.05
        ? `"two\nlines ${id}"`
        : pick < 0.15
        ? `"a, ""quoted"" ${id}"`
        : `v${id}`);
    lines.push(`${id},${lane},${v}`);
  }
  const path = await writeTemp(lines.join("\n") + "\n");
  return { path, lanes };
}

/**
 * What must hold after any crash of a parallel load: every lane holds the
 * first k of its records (in input order) exactly once, with seqs 1..k
 * in that order, and its counter says k; the writers' progress adds up.
 */
async function assertCommittedPrefixes(
  table: string,
  meta: string,
  lanes: string[],
): Promise<number> {
  const url = databaseUrl();
  const rows = await query(
    url,
    `select id, lane, lane_seq::int as seq from ${table} order by lane, lane_seq`,
  );
  const byLane = new Map<string, { id: number; seq: number }[]>();
  for (const row of rows) {
    const list = byLane.get(row.lane as string) ?? [];
    list.push({ id: row.id as number, seq: row.seq as number });
    byLane.set(row.lane as string, list);
  }
  const counters = new Map(
    (await query(
      url,
      `select lane, row_count::int as n, next_seq::int as next
         from ${meta}.lanes where target = $1`,
      [`public.${table}`],
    )).map((row) => [row.lane as string, row]),
  );
  for (let k = 0; k < LANES; k++) {
    const lane = `lane-${k}`;
    const have = byLane.get(lane) ?? [];
    const expected = lanes.flatMap((l, id) => l === lane ? [id] : [])
      .slice(0, have.length);
    assert.deepEqual(
      have.map((row) => row.id),
      expected,
      `${lane} does not hold the first ${have.length} of its records in seq order`,
    );
    assert.deepEqual(
      have.map((row) => row.seq),
      have.map((_, i) => i + 1),
      `${lane}'s seqs are not 1..n`,
    );
    const counter = counters.get(lane);
    assert.equal(counter?.n ?? 0, have.length, `${lane}'s counter`);
    if (counter) assert.equal(counter.next, have.length + 1);
  }
  const [progress] = await query(
    url,
    `select coalesce(sum(rows_committed), 0)::int as rows from ${meta}.progress`,
  );
  assert.equal(progress.rows, rows.length, "progress differs from the rows");
  return rows.length;
}

async function writerProgress(
  meta: string,
): Promise<{ writer: number; offset: number; complete: boolean }[]> {
  return await query(
    databaseUrl(),
    `select writer, byte_offset::float8 as offset, complete
       from ${meta}.progress order by writer`,
  ) as { writer: number; offset: number; complete: boolean }[];
}

loaderTest(
  "ingest --parallel 3 killed with SIGKILL at random moments, again and again, resumes to every record exactly once and every lane gapless in input order",
  async () => {
    const random = replayableRandom("parallel");
    const { url, table, meta } = scratchLoad("parallel");
    const rows = 6000;
    const { path, lanes } = await writeInput(rows, random);
    // Each COPY sleeps 20 ms in its transaction: kills land mid-load.
    await createSlowTable(url, table, 0.02);
    const args = parallelArgs(path, table, meta, WRITERS, "--verbose");
    try {
      let last = 0;
      const offsetsSeen = new Set<string>();
      for (let kill = 0; kill < 8; kill++) {
        const settle = 1 + Math.floor(random() * 6);
        await killAfterCommits(url, args, settle, {
          timeoutMs: 20_000,
          beforeKill: () =>
            new Promise((r) => setTimeout(r, Math.floor(random() * 40))),
        });
        const committed = await assertCommittedPrefixes(table, meta, lanes);
        assert.ok(committed > last, "no progress between kills");
        assert.ok(committed < rows, "the kill landed after the load");
        last = committed;
        const progress = await writerProgress(meta);
        assert.equal(progress.length, WRITERS);
        offsetsSeen.add(progress.map((p) => p.offset).join(","));
      }
      assert.ok(
        [...offsetsSeen].some((offsets) =>
          new Set(offsets.split(",")).size > 1
        ),
        "the writers never stopped at different offsets",
      );
      await makeFast(url, table);
      const finish = await runCli(args.filter((arg) => arg !== "--quiet"));
      assert.equal(finish.code, 0, finish.stderr);
      assert.match(
        finish.stderr,
        /rows committed by 3 writers, up to bytes \d+, \d+, \d+: checking those prefixes/,
      );
      await assertExactlyOnce(url, table, meta, rows);
      await assertCommittedPrefixes(table, meta, lanes);
      const progress = await writerProgress(meta);
      assert.deepEqual(progress.map((p) => p.complete), [true, true, true]);
      const [source] = await query(
        url,
        `select writers from ${meta}.sources`,
      );
      assert.equal(source.writers, WRITERS);
      // Each lane went to the writer its hash names.
      const [{ n }] = await query(
        url,
        `select count(distinct lane)::int as n from ${table}`,
      );
      assert.equal(n, LANES);
      // The source is complete: another run (with another count) loads nothing.
      const again = await runCli(parallelArgs(path, table, meta, 2));
      assert.equal(again.code, 0, again.stderr);
      await assertExactlyOnce(url, table, meta, rows);
    } finally {
      await Deno.remove(path);
    }
  },
);

loaderTest(
  "ingest --parallel: writers stopped at different offsets by a rejected row resume without loading anything twice; a changed byte in a longer prefix is refused",
  async () => {
    const { url, table, meta } = scratchLoad("parallel_offsets");
    const rows = 2000;
    const random = lcg(11);
    const bad = 1200;
    const { path, lanes } = await writeInput(
      rows,
      random,
      (id) => id === bad ? "bad" : undefined,
    );
    const badWriter = laneWriter(lanes[bad], WRITERS);
    await createRecordsTable(url, table, "v <> 'bad'");
    const args = parallelArgs(path, table, meta, WRITERS);
    try {
      const failed = await runCli(args);
      assert.equal(failed.code, 2, failed.stderr);
      const text = new TextDecoder().decode(await Deno.readFile(path));
      const line = text.slice(0, text.indexOf(`\n${bad},`) + 1).split("\n")
        .length;
      assert.match(
        failed.stderr,
        new RegExp(`\\.csv:${line}: .*check constraint`),
      );
      await assertCommittedPrefixes(table, meta, lanes);
      const stopped = await writerProgress(meta);
      const offsets = stopped.map((p) => p.offset);
      assert.ok(
        new Set(offsets).size > 1,
        `the writers stopped at the same offset: ${offsets}`,
      );
      const min = Math.min(...offsets);
      assert.equal(
        stopped[badWriter].offset,
        min,
        "the writer that failed stopped first",
      );

      // A changed byte past the smallest offset, inside a longer prefix.
      const original = await Deno.readFile(path);
      const changed = original.slice();
      const max = Math.max(...offsets);
      const at = changed.lastIndexOf(0x76, /* v */ max - 1);
      assert.ok(at > min);
      changed[at] = 0x77; // w
      await Deno.writeFile(path, changed);
      const refused = await runCli(args);
      assert.equal(refused.code, 4, refused.stderr);
      assert.match(
        refused.stderr,
        /bytes \(the prefix already loaded\) have changed/,
      );
      assert.deepEqual(
        (await writerProgress(meta)).map((p) => p.offset),
        offsets,
      );
      await Deno.writeFile(path, original);

      await query(url, `alter table ${table} drop constraint ${table}_v_check`);
      const resumed = await runCli(args.filter((arg) => arg !== "--quiet"));
      assert.equal(resumed.code, 0, resumed.stderr);
      assert.match(
        resumed.stderr,
        new RegExp(`resuming from byte ${min}, each writer after its own`),
      );
      await assertExactlyOnce(url, table, meta, rows);
      await assertCommittedPrefixes(table, meta, lanes);
    } finally {
      await Deno.remove(path);
    }
  },
);

loaderTest(
  "ingest refuses to change --parallel on a source that is not complete (exit 4, both counts named) unless --restart",
  async () => {
    const { url, table, meta } = scratchLoad("parallel_change");
    const rows = 600;
    const { path, lanes } = await writeInput(
      rows,
      lcg(5),
      (id) => id === 500 ? `"unterminated` : undefined,
    );
    await createRecordsTable(url, table);
    try {
      const bad = await runCli(parallelArgs(path, table, meta, WRITERS));
      assert.equal(bad.code, 2, bad.stderr);
      const committed = await assertCommittedPrefixes(table, meta, lanes);
      assert.ok(committed > 0 && committed < 500);

      const changed = await runCli(parallelArgs(path, table, meta, 2));
      assert.equal(changed.code, 4, changed.stderr);
      assert.match(
        changed.stderr,
        /with --parallel 2: it was loaded with --parallel 3 and is not complete/,
      );
      assert.equal(
        await assertCommittedPrefixes(table, meta, lanes),
        committed,
      );

      // Fixed, and loaded again from the start with 2 writers.
      const text = await Deno.readTextFile(path);
      await Deno.writeTextFile(path, text.replace(`"unterminated`, "fixed"));
      const restarted = await runCli(
        laneLoadArgs(
          databaseUrl(),
          path,
          table,
          meta,
          40,
          "--parallel",
          "2",
          "--restart",
        ),
      );
      assert.equal(restarted.code, 0, restarted.stderr);
      assert.match(
        restarted.stderr,
        new RegExp(
          `from its start: the ${committed} rows loaded before stay in public\\.${table}; truncate it first to replace them`,
        ),
      );
      const progress = await writerProgress(meta);
      assert.deepEqual(progress.map((p) => [p.writer, p.complete]), [
        [0, true],
        [1, true],
      ]);
      const [{ n, ids }] = await query(
        url,
        `select count(*)::int as n, count(distinct id)::int as ids from ${table}`,
      );
      // The restart loads every record again (the earlier rows stay).
      assert.deepEqual([n, ids], [rows + committed, rows]);
    } finally {
      await Deno.remove(path);
    }
  },
);

Deno.test("ingest --parallel 2 is refused on the embedded database and without --lane", async () => {
  const dataDir = await Deno.makeTempDir();
  const path = await writeTemp("id,lane\n1,a\n2,b\n");
  try {
    const embedded = await runCli([
      "ingest",
      path,
      "--table",
      "t",
      "--create",
      "--lane",
      "lane",
      "--parallel",
      "2",
      "--db",
      "",
      "--data-dir",
      dataDir,
    ]);
    assert.equal(embedded.code, 4, embedded.stderr);
    assert.match(
      embedded.stderr,
      /Cannot load with --parallel 2: the embedded database has one connection/,
    );
    const noLane = await runCli([
      "ingest",
      path,
      "--table",
      scratchTable("parallel_nolane"),
      "--create",
      "--parallel",
      "2",
      "--db",
      databaseUrl(),
    ]);
    assert.equal(noLane.code, 4, noLane.stderr);
    assert.match(noLane.stderr, /without --lane every row is in one lane/);
  } finally {
    await Deno.remove(dataDir, { recursive: true });
    await Deno.remove(path);
  }
});

loaderTest(
  "ingest --parallel 3 from stdin with --source-id resumes, from the smallest offset, writers stopped at different offsets",
  async () => {
    const { url, table, meta } = scratchLoad("parallel_stdin");
    const rows = 1500;
    const { path, lanes } = await writeInput(
      rows,
      lcg(3),
      (id) => id === 900 ? "bad" : undefined,
    );
    await createRecordsTable(url, table, "v <> 'bad'");
    const args = parallelArgs(
      "-",
      table,
      meta,
      WRITERS,
      "--source-id",
      `stdin ${table}`,
    );
    try {
      const stdin = await Deno.readFile(path);
      const failed = await runCli(args, { stdin });
      assert.equal(failed.code, 2, failed.stderr);
      await assertCommittedPrefixes(table, meta, lanes);
      const offsets = (await writerProgress(meta)).map((p) => p.offset);
      assert.ok(new Set(offsets).size > 1, `one offset: ${offsets}`);
      await query(url, `alter table ${table} drop constraint ${table}_v_check`);
      const resumed = await runCli(args, { stdin });
      assert.equal(resumed.code, 0, resumed.stderr);
      await assertExactlyOnce(url, table, meta, rows);
    } finally {
      await Deno.remove(path);
    }
  },
);

loaderTest(
  "ingest --parallel 3 stopped by SIGINT finishes every writer's batch in flight, exits 130, and resumes exactly once",
  async () => {
    const { url, table, meta } = scratchLoad("parallel_sigint");
    const rows = 3000;
    const { path } = await writeInput(rows, lcg(9));
    await createSlowTable(url, table, 0.03);
    const args = parallelArgs(path, table, meta, WRITERS, "--verbose");
    try {
      const loader = startCli(args);
      await waitForCommits(loader, 6);
      loader.child.kill("SIGINT");
      const status = await loader.status;
      assert.equal(status.code, 130, loader.stderr);
      assert.match(loader.stderr, /Interrupted by SIGINT: \d+ rows committed/);
      for (let writer = 0; writer < WRITERS; writer++) {
        assert.equal(
          loader.count(new RegExp(`writer ${writer} batch \\d+ committed `)),
          loader.count(new RegExp(`writer ${writer} batch \\d+ start `)),
          `writer ${writer} left a batch unfinished:\n${loader.stderr}`,
        );
      }
      await makeFast(url, table);
      const finish = await runCli(args);
      assert.equal(finish.code, 0, finish.stderr);
      await assertExactlyOnce(url, table, meta, rows);
    } finally {
      await Deno.remove(path);
    }
  },
);
