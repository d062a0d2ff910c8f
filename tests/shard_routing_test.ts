import assert from "node:assert/strict";
import {
  distributionHash,
  hashBytes,
  hashUint32,
} from "../src/parallel/citus_hash.ts";
import {
  laneRouter,
  planRouting,
  type StoredRouting,
} from "../src/parallel/shard_routing.ts";
import type { HashDistribution } from "../src/parallel/citus_shards.ts";
import { ExitCode, UsageError } from "../src/errors.ts";

/**
 * `hashtext(substr(SENTENCE, 1, n))` for n = 0..46 on PostgreSQL 15: every
 * tail length of Jenkins's loop, and multibyte UTF-8.
 */
const SENTENCE = "The quick brown fox jumps over the lazy dog, 東京";
const HASHTEXT = [
  -1477818771,
  189977564,
  -1032424723,
  -2092041454,
  -529746819,
  1319395734,
  2048143525,
  105174900,
  -461557097,
  916841358,
  1490567601,
  2124940397,
  82921656,
  -1857862021,
  -435097191,
  1349080213,
  -807732534,
  1801273035,
  2125926248,
  -287177489,
  -685456130,
  300619715,
  -1262620514,
  -1236432247,
  -1217470220,
  1370806276,
  2038649153,
  1771424372,
  1000863782,
  -1372205352,
  1474626926,
  1482680789,
  -2097643709,
  1270545934,
  282202191,
  646838985,
  -542547460,
  1430556688,
  -1835488606,
  1690460682,
  -1767799431,
  2050890628,
  -1440353335,
  -827430201,
  -1112289433,
  2079681012,
  253453769,
];

Deno.test("distributionHash() equals PostgreSQL 15's hash functions on known values", async (t) => {
  await t.step("hashtext of every length 0..46", () => {
    const chars = [...SENTENCE];
    HASHTEXT.forEach((expected, n) => {
      const text = chars.slice(0, n).join("");
      assert.equal(distributionHash("text", text), expected, `length ${n}`);
      assert.equal(hashBytes(new TextEncoder().encode(text)) | 0, expected);
    });
  });
  const cases: [Parameters<typeof distributionHash>[0], string, number][] = [
    ["int4", "1", -1905060026],
    ["int4", "-2147483648", -1524351049],
    ["int4", "2147483647", -96758253],
    ["int8", "-5", 1412886042],
    ["int8", "1099511627776", 1851357687],
    ["int8", "-9223372036854775808", -96758253],
    ["int8", "9223372036854775807", -1524351049],
    ["int2", "7", -978793473],
    ["int2", "-32768", 193646934],
    ["uuid", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", 1154666245],
    ["uuid", "FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF", -682383255],
    ["bpchar", "abc   ", -785388649],
    ["varchar", "abc", -785388649],
  ];
  for (const [type, text, expected] of cases) {
    await t.step(`${type} ${text}`, () => {
      assert.equal(distributionHash(type, text), expected);
    });
  }
  await t.step(
    "hashUint32 is hashBytes of the four little-endian bytes",
    () => {
      for (const value of [0, 1, -1, 0x12345678, -2147483648]) {
        assert.equal(
          hashUint32(value),
          hashBytes(new Uint8Array(Int32Array.of(value).buffer)),
        );
      }
    },
  );
});

Deno.test("distributionHash() reads integers and uuids as PostgreSQL's input functions do", () => {
  for (const text of [" 42", "42 ", "+42", "\t42\n", "0042"]) {
    assert.equal(
      distributionHash("int4", text),
      distributionHash("int4", "42"),
    );
  }
  for (const text of ["", " ", "4 2", "42x", "0x2a", "1e3", "2147483648"]) {
    assert.equal(distributionHash("int4", text), undefined, text);
  }
  assert.equal(distributionHash("int2", "32768"), undefined);
  assert.equal(distributionHash("int8", "9223372036854775808"), undefined);
  const uuid = distributionHash("uuid", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11");
  for (
    const text of [
      "A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11",
      "{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}",
      "a0eebc999c0b4ef8bb6d6bb9bd380a11",
      "a0ee-bc99-9c0b-4ef8-bb6d-6bb9-bd38-0a11",
    ]
  ) assert.equal(distributionHash("uuid", text), uuid, text);
  for (
    const text of [
      "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1",
      "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11-",
      "{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
      "a0eebc9-99c0b-4ef8-bb6d-6bb9bd380a11",
      " a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
    ]
  ) assert.equal(distributionHash("uuid", text), undefined, text);
});

/** A table hash-distributed by `region` (text) over `count` uniform shards. */
function distribution(count: number, column = "region"): HashDistribution {
  const step = 2 ** 32 / count;
  return {
    kind: "hash",
    column,
    type: "text",
    deterministic: true,
    shards: Array.from({ length: count }, (_, i) => ({
      id: 100 + i,
      min: -(2 ** 31) + i * step,
      max: i === count - 1 ? 2 ** 31 - 1 : -(2 ** 31) + (i + 1) * step - 1,
    })),
  };
}

Deno.test("laneRouter() sends a lane to the writer of the shard whose range holds its hash", () => {
  const table = distribution(8);
  const mins = table.shards.map((shard) => shard.min);
  const route = laneRouter(3, { type: "text", mins });
  for (let k = 0; k < 500; k++) {
    const lane = `lane-${k}`;
    const hash = distributionHash("text", lane)!;
    const shard = table.shards.findIndex((s) => s.min <= hash && hash <= s.max);
    assert.equal(route(lane), shard % 3, lane);
  }
  const ints = laneRouter(2, { type: "int4", mins });
  assert.equal(ints("not a number"), 0);
});

Deno.test("planRouting() picks shards by default where it applies, refuses it elsewhere, and keeps a source's routing", async (t) => {
  const base = { lane: "region", sourceId: "s" };
  await t.step("default", async () => {
    const byShard = await planRouting({
      ...base,
      writers: 2,
      distribution: distribution(4),
    });
    assert.equal(byShard.routing, "shards");
    assert.equal(byShard.stored?.shards, 4);
    for (
      const [writers, table] of [
        [1, distribution(4)],
        [2, distribution(4, "id")],
        [2, { kind: "none" as const, reason: "no Citus" }],
        [2, undefined],
      ] as const
    ) {
      const plan = await planRouting({ ...base, writers, distribution: table });
      assert.deepEqual(plan, { routing: "hash" });
    }
  });
  await t.step("--routing shards where it cannot apply", async () => {
    await assert.rejects(
      planRouting({
        ...base,
        asked: "shards",
        writers: 2,
        distribution: {
          kind: "none",
          reason: "Citus is not installed on this server",
        },
      }),
      (error: unknown) =>
        error instanceof UsageError && error.exitCode === ExitCode.Refused &&
        /^Cannot load with --routing shards: Citus is not installed on this server \(leave --routing out, or pass --routing hash/
          .test(error.message),
    );
    await assert.rejects(
      planRouting({
        ...base,
        asked: "shards",
        writers: 1,
        distribution: distribution(4),
      }),
      /Cannot load with --routing shards: one writer has no lanes to route/,
    );
    const numeric = { ...distribution(4), type: "numeric" };
    await assert.rejects(
      planRouting({
        ...base,
        asked: "shards",
        writers: 2,
        distribution: numeric,
      }),
      /of type numeric, and lanecopy computes Citus's hash only for int2, int4, int8, text, varchar, bpchar, uuid/,
    );
  });
  await t.step("a resume", async () => {
    const stored = (await planRouting({
      ...base,
      writers: 2,
      distribution: distribution(4),
    })).stored as StoredRouting;
    const resume = (complete: boolean, asked?: "hash" | "shards", count = 4) =>
      planRouting({
        ...base,
        asked,
        writers: 2,
        distribution: distribution(count),
        resumed: { stored, complete },
      });
    assert.equal((await resume(false)).routing, "shards");
    await assert.rejects(
      resume(false, "hash"),
      /^UsageError: Cannot resume source "s" with --routing hash: it was loaded with --routing shards and is not complete.*pass --restart/,
    );
    const notices: string[] = [];
    const complete = await planRouting({
      ...base,
      asked: "hash",
      writers: 2,
      distribution: distribution(4),
      resumed: { stored, complete: true },
      onNotice: (message) => notices.push(message),
    });
    assert.equal(complete.routing, "shards");
    assert.match(notices[0], /was loaded completely with --routing shards/);
    await assert.rejects(
      resume(false, undefined, 8),
      /loaded with --routing shards: the table's shards changed since \(4 then, 8 now/,
    );
    const hashed = await planRouting({
      ...base,
      writers: 2,
      distribution: distribution(4),
      resumed: { complete: false },
    });
    assert.deepEqual(hashed, { routing: "hash" });
    await assert.rejects(
      planRouting({
        ...base,
        asked: "shards",
        writers: 2,
        distribution: distribution(4),
        resumed: { complete: false },
      }),
      /with --routing shards: it was loaded with --routing hash/,
    );
  });
});
