import assert from "node:assert/strict";
import { query, runCli, scratchLoad, startCli, writeTemp } from "./_helpers.ts";
import {
  assertExactlyOnce,
  createRecordsTable,
  laneLoadArgs,
  replayableRandom,
  sessionsGone,
} from "./_loader.ts";
import {
  assertNoPreparedTransactions,
  citusTest,
  createDistributedRecords,
} from "./_citus.ts";
import type { HashableType } from "../src/parallel/citus_hash.ts";
import { laneRouter } from "../src/parallel/shard_routing.ts";

/** The shards of `table`, by their lowest hash value. */
async function shardsOf(
  url: string,
  table: string,
): Promise<{ id: number; min: number }[]> {
  return (await query(
    url,
    `select shardid::float8 as id, shardminvalue::int as min from pg_dist_shard
      where logicalrelid = $1::regclass order by shardminvalue::int`,
    [table],
  )).map((row) => ({ id: Number(row.id), min: Number(row.min) }));
}

/** A random code point: ASCII, Latin-1, Greek, CJK or an emoji (no NUL, no surrogate). */
function randomChar(random: () => number): string {
  const ranges = [
    [0x20, 0x7e],
    [0xa0, 0xff],
    [0x391, 0x3c9],
    [0x4e00, 0x9fff],
    [
      0x1f600,
      0x1f64f,
    ],
  ];
  const [low, high] = ranges[Math.floor(random() * ranges.length)];
  return String.fromCodePoint(low + Math.floor(random() * (high - low + 1)));
}

citusTest(
  "routing by shard picks the shard Citus picks, for thousands of int2, int4, int8, text, varchar, bpchar and uuid values",
  async () => {
    const random = replayableRandom("citus_routing_hash");
    const { url, table } = scratchLoad("citus_hash");
    const int = (bits: number) =>
      BigInt.asIntN(
        bits,
        BigInt(Math.floor(random() * 2 ** 32)) << 32n |
          BigInt(Math.floor(random() * 2 ** 32)),
      ).toString();
    const text = () =>
      Array.from(
        { length: Math.floor(random() * 40) },
        () => randomChar(random),
      ).join("");
    const cases: [HashableType, string[]][] = [
      ["int2", [
        "-32768",
        "32767",
        "0",
        "-1",
        ...Array.from({ length: 500 }, () => int(16)),
      ]],
      [
        "int4",
        [
          "-2147483648",
          "2147483647",
          "0",
          "-1",
          " 42 ",
          "+7",
          "-0",
          "007",
          ...Array.from({ length: 2000 }, () => int(32)),
        ],
      ],
      [
        "int8",
        [
          "-9223372036854775808",
          "9223372036854775807",
          "0",
          "-1",
          "4294967296",
          "-4294967296",
          ...Array.from({ length: 1000 }, () => int(64)),
          ...Array.from({ length: 1000 }, () => int(32)),
        ],
      ],
      ["text", [
        "",
        " ",
        "a",
        "東京",
        "😀",
        "é",
        ...Array.from({ length: 2000 }, text),
      ]],
      ["varchar", ["", "abc", ...Array.from({ length: 300 }, text)]],
      ["bpchar", [
        "",
        "abc",
        "abc   ",
        ...Array.from({ length: 300 }, () => `${text()}  `),
      ]],
      [
        "uuid",
        [
          "00000000-0000-0000-0000-000000000000",
          "FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF",
          "{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}",
          "a0eebc999c0b4ef8bb6d6bb9bd380a11",
          "a0ee-bc99-9c0b-4ef8-bb6d-6bb9-bd38-0a11",
          ...Array.from({ length: 2000 }, () => crypto.randomUUID()),
        ],
      ],
    ];
    let checked = 0;
    for (const [type, values] of cases) {
      const name = `${table}_${type}`;
      const sqlType = type === "bpchar" ? "char(60)" : type;
      await query(url, `create table ${name} (k ${sqlType})`);
      await query(
        url,
        "select create_distributed_table($1, 'k', shard_count => 32)",
        [name],
      );
      const shards = await shardsOf(url, name);
      assert.equal(shards.length, 32);
      const route = laneRouter(shards.length, {
        type,
        mins: shards.map((shard) => shard.min),
      });
      const rows = await query(
        url,
        `select v, get_shard_id_for_distribution_column($1, v)::float8 as shard
           from unnest($2::text[]) with ordinality as u(v, n) order by n`,
        [name, values],
      );
      assert.equal(rows.length, values.length);
      rows.forEach((row, i) => {
        assert.equal(
          shards[route(values[i])].id,
          Number(row.shard),
          `${type} ${
            JSON.stringify(values[i])
          }: lanecopy's shard differs from Citus's`,
        );
      });
      checked += values.length;
      await query(url, `drop table ${name}`);
    }
    console.log(`${checked} values: every shard as Citus picks it`);
  },
);

const ROWS = 200_000;
const BATCH = 3_000;
const LANES = 40;
const WRITERS = 3;
const KILLS = 4;
const STEPS = ["start", "commit-sent", "committed"] as const;

/** Record `id`'s lane. */
const laneOf = (id: number) => `lane-${id % LANES}`;

/**
 * Writes records 1..rows (`id,lane,v`, lane `id % LANES`) and returns the
 * file and each record's start offset (index id).
 */
async function writeLaneRecords(
  rows: number,
): Promise<{ path: string; starts: number[] }> {
  const header = "id,lane,v\n";
  const lines = [header];
  const starts = [0];
  let offset = header.length;
  for (let id = 1; id <= rows; id++) {
    const line = `${id},${laneOf(id)},v${id}\n`;
    starts.push(offset);
    lines.push(line);
    offset += line.length;
  }
  return { path: await writeTemp(lines.join("")), starts };
}

/**
 * What must hold after any kill of a load routed by shard: each lane holds
 * exactly its records that start before its shard's writer's committed
 * offset (so every committed row of a lane was written by the writer of
 * its shard, and no writer wrote another's shard), once each, with seqs
 * 1..n in input order and counters equal; the progress adds up; no node
 * holds a prepared transaction.
 */
async function assertRoutedPrefixes(
  url: string,
  table: string,
  meta: string,
  starts: number[],
  writerOfLane: Map<string, number>,
): Promise<number> {
  const offsets = new Array(WRITERS).fill(0);
  for (
    const row of await query(
      url,
      `select writer, byte_offset::float8 as offset from ${meta}.progress`,
    )
  ) offsets[Number(row.writer)] = Number(row.offset);
  const lanes = await query(
    url,
    `select t.lane, count(*)::int as n, count(distinct id)::int as d,
            max(id)::int as max_id,
            bool_and(t.lane_seq = t.rn) as ordered,
            min(l.row_count)::int as counter, min(l.next_seq)::int as next
       from (select id, lane, lane_seq,
                    row_number() over (partition by lane order by id) as rn
               from ${table}) t
       left join ${meta}.lanes l on l.target = $1 and l.lane = t.lane
      group by t.lane`,
    [`public.${table}`],
  );
  const have = new Map(lanes.map((row) => [row.lane as string, row]));
  let total = 0;
  for (const [lane, writer] of writerOfLane) {
    const k = Number(lane.slice("lane-".length));
    const ids: number[] = [];
    for (let id = k === 0 ? LANES : k; id <= ROWS; id += LANES) {
      if (starts[id] < offsets[writer]) ids.push(id);
    }
    const row = have.get(lane);
    const n = Number(row?.n ?? 0);
    assert.equal(
      n,
      ids.length,
      `${lane} (writer ${writer}, at byte ${
        offsets[writer]
      }) holds ${n} rows, not the ${ids.length} its shard's writer committed`,
    );
    if (n === 0) continue;
    assert.equal(row!.d, n, `${lane} holds a record twice`);
    assert.equal(
      row!.max_id,
      ids.at(-1),
      `${lane} is not a prefix of its records`,
    );
    assert.equal(
      row!.ordered,
      true,
      `${lane}'s seqs are not 1..n in input order`,
    );
    assert.equal(row!.counter, n, `${lane}'s counter differs from its rows`);
    assert.equal(row!.next, n + 1);
    total += n;
  }
  assert.equal(have.size <= writerOfLane.size, true);
  const [progress] = await query(
    url,
    `select coalesce(sum(rows_committed), 0)::int as rows from ${meta}.progress`,
  );
  assert.equal(progress.rows, total, "the progress differs from the rows");
  await assertNoPreparedTransactions(url);
  return total;
}

citusTest(
  "--parallel 3 routed by shard, a 200k-row lane load SIGKILLed again and again, resumes to every row once, each writer in its own shards; another --routing or --parallel is refused",
  async () => {
    const random = replayableRandom("citus_routing");
    const { url, table, meta } = scratchLoad("citus_route");
    await createDistributedRecords(url, table, { shards: 12 });
    const { path, starts } = await writeLaneRecords(ROWS);
    // Each lane's writer: its shard (as Citus picks it), in hash order, mod 3.
    const shards = await shardsOf(url, table);
    const lanes = Array.from({ length: LANES }, (_, k) => `lane-${k}`);
    const placed = await query(
      url,
      `select l, get_shard_id_for_distribution_column($1, l)::float8 as shard
         from unnest($2::text[]) l`,
      [table, lanes],
    );
    const writerOfLane = new Map(
      placed.map((row) => [
        row.l as string,
        shards.findIndex((shard) => shard.id === Number(row.shard)) % WRITERS,
      ]),
    );
    assert.deepEqual(
      new Set(writerOfLane.values()),
      new Set([0, 1, 2]),
      "the lanes' shards do not fall to all three writers",
    );
    const args = (...more: string[]) =>
      laneLoadArgs(url, path, table, meta, BATCH, "--quiet", ...more);
    const kills: Record<string, number> = {};
    let lastRows = 0;
    for (let kill = 1; kill <= KILLS; kill++) {
      const loader = startCli(args("--parallel", "3", "--verbose"));
      const settle = 2 + Math.floor(random() * 3);
      const step = STEPS[Math.floor(random() * STEPS.length)];
      let committed = 0;
      let killed = false;
      for await (const line of loader.lines()) {
        if (committed >= settle && line.includes(` ${step} `)) {
          killed = true;
          break;
        }
        if (line.includes(" committed ")) committed++;
      }
      assert.ok(killed, `the load ended before its kill:\n${loader.stderr}`);
      await new Promise((resolve) =>
        setTimeout(resolve, Math.floor(random() * 30))
      );
      loader.child.kill("SIGKILL");
      assert.equal((await loader.status).signal, "SIGKILL");
      await sessionsGone(url, loader.child.pid);
      kills[step] = (kills[step] ?? 0) + 1;
      const rows = await assertRoutedPrefixes(
        url,
        table,
        meta,
        starts,
        writerOfLane,
      );
      assert.ok(rows > lastRows, "progress did not advance between kills");
      lastRows = rows;

      if (kill === 1) {
        // (c) The routing and the writer count are resume state.
        const before = await query(
          url,
          `select (select count(*) from ${table})::int as rows,
                  (select sum(row_count) from ${meta}.lanes)::int as counted`,
        );
        for (
          const [more, flag] of [
            [["--parallel", "3", "--routing", "hash"], "--routing"],
            [["--parallel", "2"], "--parallel"],
            [["--parallel", "2", "--routing", "shards"], "--parallel"],
          ] as const
        ) {
          const refused = await runCli(args(...more));
          assert.equal(refused.code, 4, refused.stderr);
          assert.match(
            refused.stderr,
            new RegExp(`Cannot resume source .* with ${flag} `),
          );
          assert.match(refused.stderr, /--restart/);
        }
        assert.deepEqual(
          await query(
            url,
            `select (select count(*) from ${table})::int as rows,
                    (select sum(row_count) from ${meta}.lanes)::int as counted`,
          ),
          before,
          "a refused resume changed the table",
        );
      }
    }
    console.log(
      `kills after each step: ${
        JSON.stringify(kills)
      }; ${lastRows} rows committed before the last run`,
    );
    assert.ok(lastRows < ROWS, "the kills came too late");

    const finish = await runCli(args("--parallel", "3"));
    assert.equal(finish.code, 0, finish.stderr);
    await assertExactlyOnce(url, table, meta, ROWS);
    assert.equal(
      await assertRoutedPrefixes(url, table, meta, starts, writerOfLane),
      ROWS,
    );
    const [progress] = await query(
      url,
      `select count(*)::int as writers, bool_and(complete) as complete
         from ${meta}.progress`,
    );
    assert.deepEqual(progress, { writers: WRITERS, complete: true });
    const [source] = await query(
      url,
      `select options->'routing'->>'by' as by, (options->'routing'->>'shards')::int as shards
         from ${meta}.sources`,
    );
    assert.deepEqual(source, { by: "shards", shards: 12 });
    await Deno.remove(path);
  },
);

citusTest(
  "--routing shards is refused (exit 4, naming the flag and why) where it cannot apply, and the default there is hash",
  async () => {
    const { url, table, meta } = scratchLoad("citus_noroute");
    await createRecordsTable(url, table);
    const path = await writeTemp("id,lane,v\n1,a,x\n2,b,y\n3,a,z\n");
    const local = await runCli(
      laneLoadArgs(
        url,
        path,
        table,
        meta,
        10,
        "--parallel",
        "2",
        "--routing",
        "shards",
      ),
    );
    assert.equal(local.code, 4, local.stderr);
    assert.match(
      local.stderr,
      /Cannot load with --routing shards: public\.\S+ is not a distributed table \(leave --routing out, or pass --routing hash/,
    );
    const one = await runCli(
      laneLoadArgs(url, path, table, meta, 10, "--routing", "shards"),
    );
    assert.equal(one.code, 1, one.stderr);
    assert.match(one.stderr, /Cannot load with --routing shards: one writer/);
    const [rows] = await query(url, `select count(*)::int as n from ${table}`);
    assert.equal(rows.n, 0);
    const byHash = await runCli(
      laneLoadArgs(url, path, table, meta, 10, "--parallel", "2"),
    );
    assert.equal(byHash.code, 0, byHash.stderr);
    assert.doesNotMatch(byHash.stderr, /routed by shard/);
    const [source] = await query(
      url,
      `select options ? 'routing' as routed from ${meta}.sources`,
    );
    assert.equal(source.routed, false);
    await Deno.remove(path);
  },
);
