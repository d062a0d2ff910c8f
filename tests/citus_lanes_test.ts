import assert from "node:assert/strict";
// @ts-types="@types/pg"
import pg from "pg";
import { query, runCli, scratchLoad, writeTemp } from "./_helpers.ts";
import {
  assertExactlyOnce,
  committedPrefix,
  laneIngestArgs,
  LANES,
  writeRecords,
} from "./_loader.ts";
import {
  assertNoPreparedTransactions,
  citusTest,
  createDistributedRecords,
  rowsByWorker,
  workerOfLane,
} from "./_citus.ts";

interface Notice {
  target: string;
  lane: string;
  last_seq: number;
}

/** Listens on the coordinator for lanecopy's notifications to `target`. */
async function listen(
  url: string,
  target: string,
): Promise<{ notices: Notice[]; stop(): Promise<void> }> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const notices: Notice[] = [];
  client.on("notification", (message) => {
    const notice = JSON.parse(message.payload!) as Notice;
    if (message.channel === "lanecopy" && notice.target === target) {
      notices.push(notice);
    }
  });
  await client.query("LISTEN lanecopy");
  return {
    notices,
    async stop() {
      // A round trip flushes notifications still on their way.
      await client.query("SELECT 1");
      await client.end();
    },
  };
}

/** `lane:last_seq` of each notice, sorted. */
function seen(notices: Notice[]): string[] {
  return notices.map((n) => `${n.lane}:${n.last_seq}`).sort();
}

citusTest(
  "lanes notify once per lane per committed batch, from the coordinator, with the batch's last seq",
  async () => {
    const { url, table, meta } = scratchLoad("citus_notify");
    await createDistributedRecords(url, table);
    const rows = 1_000;
    const batch = 70;
    const path = await writeRecords(1, rows);
    const listener = await listen(url, `public.${table}`);
    const result = await runCli(
      laneIngestArgs(url, path, table, meta, batch, "--json"),
    );
    await listener.stop();
    assert.equal(result.code, 0, result.stderr);
    const batches = Math.ceil(rows / batch);
    assert.equal(JSON.parse(result.stdout).batches, batches);
    // Record id is in lane `lane(id % LANES)`: after batch b a lane's last
    // seq is how many of ids 1..end are in it.
    const expected: Notice[] = [];
    for (let b = 0; b < batches; b++) {
      const first = b * batch + 1;
      const end = Math.min(rows, first + batch - 1);
      for (let k = 0; k < LANES; k++) {
        const inBatch = Math.floor((end - k) / LANES) -
          Math.floor((first - 1 - k) / LANES);
        if (inBatch > 0) {
          expected.push({
            target: `public.${table}`,
            lane: `lane${k}`,
            last_seq: Math.floor((end - k) / LANES) + (k === 0 ? 0 : 1),
          });
        }
      }
    }
    assert.equal(listener.notices.length, expected.length);
    assert.deepEqual(seen(listener.notices), seen(expected));
    await assertExactlyOnce(url, table, meta, rows);
    await Deno.remove(path);
  },
);

/** How a batch fails on one worker: a constraint on one of its rows. */
const FAILURES = [
  {
    how: "in the COPY: a CHECK on a row routed to its shard",
    constraint: "check (v <> 'bad')",
    bad: "bad",
    error: /violates check constraint/,
  },
  {
    how: "at PREPARE, in the two-phase commit: a deferred unique key",
    constraint: "unique (lane, v) deferrable initially deferred",
    bad: "twin",
    error: /violates unique constraint/,
  },
];

for (const failure of FAILURES) {
  citusTest(
    `a batch that fails on one worker ${failure.how}, leaves no trace on any node, and the run resumes after the fix`,
    async () => {
      const { url, table, meta } = scratchLoad("citus_reject");
      await createDistributedRecords(url, table, {
        constraint: failure.constraint,
      });
      // Two lanes whose shards are on different workers.
      const byWorker = new Map<number, string>();
      for (let k = 0; byWorker.size < 2 && k < 64; k++) {
        const port = await workerOfLane(url, table, `lane${k}`);
        if (!byWorker.has(port)) byWorker.set(port, `lane${k}`);
      }
      const [[portA, a], [portB, b]] = [...byWorker];
      // Batches of 3: (1, 2, 3) commits; of (4, 5, 6) rows 4 and 5 go to
      // worker A and row 6 fails on worker B (its value `bad` breaks the
      // check, or `twin` repeats row 2's in lane b); (7, 8) never starts.
      const records: [number, string, string][] = [
        [1, a, "ok1"],
        [2, b, "twin"],
        [3, a, "ok3"],
        [4, a, "ok4"],
        [5, a, "ok5"],
        [6, b, failure.bad],
        [7, a, "ok7"],
        [8, b, "ok8"],
      ];
      const path = await writeTemp(
        "id,lane,v\n" + records.map((r) => r.join(",")).join("\n") + "\n",
      );
      const listener = await listen(url, `public.${table}`);
      const args = laneIngestArgs(url, path, table, meta, 3);
      const failed = await runCli(args);
      await listener.stop();
      // The exit code and the line are the last test's business.
      assert.notEqual(failed.code, 0, failed.stderr);
      assert.match(failed.stderr, failure.error);

      // Only batch 1, on each node: rows read from the shards themselves.
      assert.deepEqual(
        (await query(url, `select id from ${table} order by id`)).map((r) =>
          r.id
        ),
        [1, 2, 3],
      );
      const held = await rowsByWorker(url, table);
      assert.equal(held.get(portA), 2, "worker A holds a row of the batch");
      assert.equal(held.get(portB), 1, "worker B holds a row of the batch");
      await assertNoPreparedTransactions(url);
      assert.deepEqual(
        await query(
          url,
          `select lane, next_seq::int, row_count::int from ${meta}.lanes order by lane`,
        ),
        [
          { lane: a, next_seq: 3, row_count: 2 },
          { lane: b, next_seq: 2, row_count: 1 },
        ].sort((x, y) => x.lane < y.lane ? -1 : 1),
      );
      const firstBatchEnd = new TextEncoder().encode(
        `id,lane,v\n1,${a},ok1\n2,${b},twin\n3,${a},ok3\n`,
      ).length;
      assert.deepEqual(
        await query(
          url,
          `select byte_offset::int, rows_committed::int, complete from ${meta}.progress`,
        ),
        [{ byte_offset: firstBatchEnd, rows_committed: 3, complete: false }],
      );
      assert.deepEqual(
        (await query(url, `select start_offset::int from ${meta}.batches`))
          .map((r) => r.start_offset),
        [0],
      );
      assert.deepEqual(seen(listener.notices), [`${a}:2`, `${b}:1`].sort());

      const [{ name }] = await query(
        url,
        `select conname as name from pg_constraint
          where conrelid = $1::regclass and contype in ('c', 'u')`,
        [table],
      );
      await query(url, `alter table ${table} drop constraint ${name}`);
      const resumed = await runCli(args);
      assert.equal(resumed.code, 0, resumed.stderr);
      assert.deepEqual(
        await query(
          url,
          `select id, lane_seq::int as seq from ${table} order by id`,
        ),
        [[1, 1], [2, 1], [3, 2], [4, 3], [5, 4], [6, 2], [7, 5], [8, 3]].map((
          [id, seq],
        ) => ({ id, seq })),
      );
      await assertNoPreparedTransactions(url);
    },
  );
}

citusTest(
  "a row a worker rejects is placed as on one server: exit 2 at its file:line, or into the reject file while the rest loads",
  async () => {
    const { url, table, meta } = scratchLoad("citus_place");
    await createDistributedRecords(url, table, {
      constraint: "check (v <> 'bad')",
    });
    const path = await writeRecords(1, 10, {
      value: (id) => id === 6 ? "bad" : `v${id}`,
    });
    const failed = await runCli(laneIngestArgs(url, path, table, meta, 4));
    // Batch (1..4) commits; record 6, on line 7, fails batch (5..8).
    assert.equal(
      failed.code,
      2,
      `a rejected row is not bad input (exit 2):\n${failed.stderr}`,
    );
    assert.match(
      failed.stderr,
      new RegExp(`${path}:7:.*violates check constraint`),
    );
    assert.equal(await committedPrefix(url, table), 4);

    const rejects = `${path}.rej`;
    const skipped = await runCli(
      laneIngestArgs(url, path, table, meta, 4, "--reject-file", rejects),
    );
    assert.equal(
      skipped.code,
      3,
      `the rejected row did not go to the reject file (exit 3):\n${skipped.stderr}`,
    );
    assert.equal(await Deno.readTextFile(rejects), "id,lane,v\n6,lane2,bad\n");
    assert.deepEqual(
      (await query(url, `select id from ${table} order by id`)).map((r) =>
        r.id
      ),
      [1, 2, 3, 4, 5, 7, 8, 9, 10],
    );
    await assertNoPreparedTransactions(url);
  },
);
