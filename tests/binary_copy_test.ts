/**
 * COPY binary against the real server: random values of every type with a
 * binary encoder load through the binary path and the text path into two
 * tables that must hold the same rows; a batch with a value outside the
 * binary rules goes as text; a bad value reads as it does in text; a load
 * mixing binary and text batches resumes.
 */

import assert from "node:assert/strict";
import fc from "fast-check";
import {
  embeddedRows,
  ingestArgs,
  removeDataDir,
  runCli,
  runEmbedded,
  scratchLoad,
  sql,
  writeTemp,
} from "./_helpers.ts";

/** The typed table both paths load: one column per encoder. */
const COLUMNS: [name: string, type: string][] = [
  ["id", "int primary key"],
  ["i2", "smallint"],
  ["i4", "integer"],
  ["i8", "bigint"],
  ["n", "numeric"],
  ["n2", "numeric(12,2)"],
  ["f4", "real"],
  ["f8", "double precision"],
  ["b", "boolean"],
  ["t", "text"],
  ["v", "varchar(40)"],
  ["j", "json"],
  ["jb", "jsonb"],
  ["by", "bytea"],
  ["d", "date"],
  ["ts", "timestamp"],
  ["tz", "timestamptz"],
  ["u", "uuid"],
];

/** Columns without an equality operator, compared as text. */
const AS_TEXT = new Set(["j"]);

const digits = (min: number, max: number) =>
  fc.string({
    unit: fc.constantFrom(..."0123456789"),
    minLength: min,
    maxLength: max,
  });
const two = (min: number, max: number) =>
  fc.integer({ min, max }).map((n) => String(n).padStart(2, "0"));
const date = fc.tuple(
  fc.integer({ min: 1, max: 9999 }),
  fc.integer({ min: 1, max: 12 }),
  fc.integer({ min: 1, max: 31 }),
)
  .filter(([y, m, d]) =>
    new Date(Date.UTC(2000, m - 1, d)).getUTCDate() === d &&
    (m !== 2 || d < 29 || (y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0)))
  )
  .map(([y, m, d]) =>
    `${String(y).padStart(4, "0")}-${String(m).padStart(2, "0")}-${
      String(d).padStart(2, "0")
    }`
  );
const time = fc.tuple(
  two(0, 23),
  two(0, 59),
  two(0, 59),
  fc.option(digits(1, 6), { nil: undefined }),
)
  .map(([h, m, s, f]) => `${h}:${m}:${s}${f ? `.${f}` : ""}`);
const offset = fc.oneof(
  fc.constantFrom(
    "Z",
    "+05:30",
    "-00:00",
    "+00",
    "-08",
    "+0545",
    "-03:30",
    "+14:00",
  ),
  fc.constant(""), // none: text unless the session is UTC
);

/** A value per column in a form the binary encoders take. */
const PLAIN: Record<string, fc.Arbitrary<string>> = {
  i2: fc.oneof(
    fc.integer({ min: -32768, max: 32767 }).map(String),
    fc.constantFrom("-32768", "32767", "+7", "007"),
  ),
  i4: fc.oneof(
    fc.integer().map(String),
    fc.constantFrom("-2147483648", "2147483647"),
  ),
  i8: fc.oneof(
    fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map(String),
    fc.constantFrom("-9223372036854775808", "9223372036854775807"),
  ),
  n: fc.oneof(
    fc.tuple(
      fc.constantFrom("", "-", "+"),
      digits(1, 40),
      fc.option(digits(0, 30), { nil: undefined }),
    ).map(([s, i, f]) => `${s}${i}${f === undefined ? "" : `.${f}`}`),
    fc.constantFrom("-0", "0.000", "100000000", "-0.001", ".5", "5.", "1.10"),
  ),
  n2: fc.tuple(fc.constantFrom("", "-"), digits(1, 9), digits(0, 4))
    .map(([s, i, f]) => `${s}${i}.${f}`),
  f4: fc.oneof(
    fc.tuple(
      fc.integer({ min: -9999999, max: 9999999 }),
      fc.integer({ min: -20, max: 20 }),
    ).map(([m, e]) => `${m}e${e}`),
    fc.constantFrom("0.1", "-0", "3.4e20", "16777216", "1.5"),
  ),
  f8: fc.oneof(
    fc.tuple(
      fc.integer({ min: -999999999, max: 999999999 }),
      digits(0, 6),
      fc.integer({ min: -10, max: 10 }),
    ).map(([a, b, e]) => `${a}.${b}E${e}`),
    fc.constantFrom("0.1", "-0", "900719925474099", "1e22", "-.5"),
  ),
  b: fc.constantFrom(
    "t",
    "true",
    "TRUE",
    "f",
    "false",
    "yes",
    "no",
    "on",
    "off",
    "of",
    "1",
    "0",
    " y ",
    "Tru",
  ),
  t: fc.string({ unit: "grapheme", maxLength: 20 }).map((s) =>
    s.replaceAll("\0", "")
  ),
  v: fc.string({ maxLength: 40 }).map((s) => s.replaceAll("\0", "")),
  j: fc.jsonValue().map((v) => JSON.stringify(v)).filter((s) =>
    !s.includes("\\u0000")
  ),
  jb: fc.oneof(
    fc.jsonValue().map((v) => JSON.stringify(v)),
    fc.constant('{"é": "\\u00e9", "k": [1, 2.50]}'),
  ).filter((s) => !s.includes("\\u0000")),
  by: fc.oneof(
    fc.uint8Array({ maxLength: 12 }).map((b) =>
      "\\x" + Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("")
    ),
    fc.constant("\\x0A0b"),
  ),
  d: fc.oneof(
    date,
    fc.constantFrom("2000-02-29", "1999-12-31", "2038-01-19", "2100-03-01"),
  ),
  ts: fc.tuple(date, fc.constantFrom(" ", "T"), time).map(([d, sep, t]) =>
    `${d}${sep}${t}`
  ),
  tz: fc.tuple(
    date.filter((d) => d > "0002" && d < "9999"),
    time,
    offset,
  ).map(([d, t, o]) => `${d} ${t}${o}`),
  u: fc.tuple(fc.uuid(), fc.boolean()).map(([u, upper]) =>
    upper ? u.toUpperCase() : u
  ),
};

/** Values the server reads but the binary encoders do not: their batch goes as text. */
const ODD: Record<string, fc.Arbitrary<string>> = {
  i2: fc.constant(" 7"),
  i4: fc.constant(" 5"),
  i8: fc.constant("42 "),
  n: fc.constantFrom("1e5", "NaN", "-Infinity"),
  n2: fc.constant("1.5e1"),
  f4: fc.constantFrom("Infinity", "16777217", "3.4e38", "NaN"),
  f8: fc.constantFrom(
    "1.7976931348623157e308",
    "5e-324",
    "0.30000000000000004",
  ),
  b: fc.constant("o n"),
  t: fc.constant("\\101"),
  v: fc.constant("tab\there"),
  j: fc.constant('"\\\\q"'),
  jb: fc.constant("[1,\n2]"),
  by: fc.constant("abc"),
  d: fc.constantFrom("infinity", "May 1, 2024", "20240501"),
  ts: fc.constantFrom("epoch", "2024-05-01 24:00:00", "2024-05-01 10:00"),
  tz: fc.constantFrom("2024-05-01 10:00:00 UTC", "May 1 2024 10:00 +02"),
  u: fc.constant("{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}"),
};

/** `value` as one CSV field: NULL unquoted and empty, anything else quoted. */
function field(value: string | null): string {
  return value === null ? "" : `"${value.replaceAll('"', '""')}"`;
}

/** A CSV file of `rows` (each row's values in COLUMNS order after `id`). */
function csvOf(rows: (string | null)[][]): string {
  const header = COLUMNS.map(([name]) => name).join(",");
  return [
    header,
    ...rows.map((row, i) => [String(i + 1), ...row.map(field)].join(",")),
  ].join("\n") + "\n";
}

/** A row of plain values (mostly), or one with odd values among them. */
const rowArbitrary = fc.oneof(
  {
    weight: 9,
    arbitrary: fc.tuple(
      ...COLUMNS.slice(1).map(([name]) =>
        fc.option(PLAIN[name], { nil: null, freq: 8 })
      ),
    ),
  },
  {
    weight: 1,
    arbitrary: fc.tuple(
      ...COLUMNS.slice(1).map(([name]) =>
        fc.oneof(PLAIN[name], ODD[name], fc.constant(null))
      ),
    ),
  },
);

async function createTypedTable(table: string): Promise<void> {
  await sql(
    `create table ${table} (${
      COLUMNS.map(([n, t]) => `${n} ${t}`).join(", ")
    })`,
  );
}

/** Rows of `a` not in `b`, both ways, compared column by column. */
async function difference(a: string, b: string): Promise<unknown[]> {
  const list = COLUMNS.map(([name]) =>
    AS_TEXT.has(name) ? `${name}::text` : name
  ).join(", ");
  return [
    ...await sql(
      `select ${list} from ${a} except all select ${list} from ${b}`,
    ),
    ...await sql(
      `select ${list} from ${b} except all select ${list} from ${a}`,
    ),
  ];
}

Deno.test("random values of every binary type load the same through COPY binary (auto) as through COPY text", async () => {
  let binaryBatches = 0;
  let loads = 0;
  await fc.assert(
    fc.asyncProperty(
      fc.array(rowArbitrary, { minLength: 1, maxLength: 60 }),
      async (rows) => {
        const { table, meta } = scratchLoad("binary_prop");
        await createTypedTable(`${table}_bin`);
        await createTypedTable(`${table}_txt`);
        const path = await writeTemp(csvOf(rows));
        const load = (into: string, format: string) =>
          runCli(
            ingestArgs(
              path,
              into,
              "--copy-format",
              format,
              "--meta-schema",
              meta,
              "--batch-size",
              "5",
              "--json",
            ),
          );
        const [binary, text] = [
          await load(`${table}_bin`, "auto"),
          await load(`${table}_txt`, "text"),
        ];
        assert.equal(
          text.code,
          binary.code,
          `${text.stderr}\n${binary.stderr}`,
        );
        if (text.code === 0) {
          loads++;
          binaryBatches += JSON.parse(binary.stdout).binaryBatches;
          assert.equal(JSON.parse(text.stdout).binaryBatches, 0);
          assert.deepEqual(
            await difference(`${table}_bin`, `${table}_txt`),
            [],
          );
        } else {
          // A value the server refuses: the same message either way.
          assert.equal(binary.stderr, text.stderr);
        }
        await sql(
          `drop table ${table}_bin, ${table}_txt; drop schema ${meta} cascade`,
        );
      },
    ),
    { numRuns: 40 },
  );
  assert.ok(loads > 15, `${loads} of 40 runs loaded (the rest refused alike)`);
  assert.ok(binaryBatches > 15, `${binaryBatches} batches went in binary`);
});

Deno.test("--copy-format auto: a batch with a value outside the binary rules goes as text, the others in binary, and the table equals a text load", async () => {
  const { table, meta } = scratchLoad("binary_mixed");
  await sql(
    `create table ${table} (id int primary key, at timestamptz, amount numeric(12,2))`,
  );
  const lines = ["id,at,amount"];
  for (let i = 1; i <= 30; i++) {
    const at = i === 17
      ? "2024-05-01 10:00:00 Europe/Paris"
      : `2024-05-01 10:00:${String(i % 60).padStart(2, "0")}+02:00`;
    lines.push(`${i},${at},${i}.5${i === 23 ? "e1" : ""}`);
  }
  const path = await writeTemp(lines.join("\n") + "\n");
  const result = await runCli(
    ingestArgs(
      path,
      table,
      "--meta-schema",
      meta,
      "--batch-size",
      "5",
      "--json",
      "--verbose",
    ),
  );
  assert.equal(result.code, 0, result.stderr);
  const summary = JSON.parse(result.stdout);
  assert.equal(summary.batches, 6);
  assert.equal(
    summary.binaryBatches,
    4,
    "batches 4 (line 18) and 5 (line 24) go as text",
  );
  assert.match(result.stderr, /batch 4 committed .*, text/);
  assert.match(result.stderr, /batch 1 committed .*, binary/);
  const rows = await sql(
    `select id, at, amount::text from ${table} where id in (17, 23) order by id`,
  );
  assert.deepEqual(
    rows.map((row) => [row.id, (row.at as Date).toISOString(), row.amount]),
    [
      [17, "2024-05-01T08:00:00.000Z", "17.50"],
      [23, "2024-05-01T08:00:23.000Z", "235.00"],
    ],
  );
  assert.match(result.stderr, /; 4 of 6 batches in COPY binary$/m);
});

Deno.test("--copy-format auto: a malformed value reports the same file:line:column error as text, and the load resumes across binary and text batches", async () => {
  const { table, meta } = scratchLoad("binary_bad");
  await sql(`create table ${table} (id int primary key, n numeric, d date)`);
  const rows = ["id,n,d"];
  for (let i = 1; i <= 20; i++) {
    rows.push(
      `${i},${i === 9 ? "1e3" : i === 14 ? "abc" : String(i)},2024-01-${
        String(i).padStart(2, "0")
      }`,
    );
  }
  const path = await writeTemp(rows.join("\n") + "\n");
  const args = ingestArgs(
    path,
    table,
    "--meta-schema",
    meta,
    "--batch-size",
    "4",
  );
  const auto = await runCli(args);
  assert.equal(auto.code, 2, auto.stderr);
  assert.match(
    auto.stderr,
    new RegExp(
      `${path}:15: column "n": invalid input syntax for type numeric: "abc"`,
    ),
  );
  const counts = await sql(`select count(*)::int as n from ${table}`);
  assert.equal(counts[0].n, 12, "batches 1-3 committed (batch 3 in text: 1e3)");
  // The same error as a text load of a fresh table.
  await sql(`create table ${table}_t (like ${table})`);
  const text = await runCli(
    ingestArgs(
      path,
      `${table}_t`,
      "--meta-schema",
      meta,
      "--batch-size",
      "4",
      "--copy-format",
      "text",
    ),
  );
  assert.equal(text.stderr.replaceAll(`${table}_t`, table), auto.stderr);
  // Resume: the bad record to the reject file, the rest in binary and text.
  const rejects = `${await Deno.makeTempDir()}/rejects.csv`;
  const resumed = await runCli([...args, "--reject-file", rejects, "--json"]);
  assert.equal(resumed.code, 3, resumed.stderr);
  assert.equal(await Deno.readTextFile(rejects), "id,n,d\n14,abc,2024-01-14\n");
  const all = await sql(
    `select id, n::text, d::text from ${table} order by id`,
  );
  assert.equal(all.length, 19);
  assert.deepEqual(all.find((row) => row.id === 9), {
    id: 9,
    n: "1000",
    d: "2024-01-09",
  });
});

Deno.test("--copy-format binary refuses a column without an encoder; --copy-format text sends no binary batch", async () => {
  const { table, meta } = scratchLoad("binary_refused");
  await sql(`create table ${table} (id int, span interval)`);
  const path = await writeTemp("id,span\n1,1 day\n");
  const forced = await runCli(
    ingestArgs(path, table, "--meta-schema", meta, "--copy-format", "binary"),
  );
  assert.equal(forced.code, 1, forced.stderr);
  assert.match(
    forced.stderr,
    /--copy-format binary: column "span" is of type interval, which has no binary encoder/,
  );
  const auto = await runCli(
    ingestArgs(path, table, "--meta-schema", meta, "--json"),
  );
  assert.equal(auto.code, 0, auto.stderr);
  assert.equal(JSON.parse(auto.stdout).binaryBatches, 0);
  const wrong = await runCli(ingestArgs(path, table, "--copy-format", "bin"));
  assert.equal(wrong.code, 1);
  assert.match(wrong.stderr, /--copy-format bin: expected auto/);
});

Deno.test("--copy-format binary stops at a value outside the binary rules, at its file:line and column, after the batches before it", async () => {
  const { table, meta } = scratchLoad("binary_forced_miss");
  await sql(`create table ${table} (id int, n numeric)`);
  const path = await writeTemp("id,n\n1,1.5\n2,2.5\n3,1e5\n4,4\n");
  const forced = await runCli(
    ingestArgs(
      path,
      table,
      "--meta-schema",
      meta,
      "--copy-format",
      "binary",
      "--batch-size",
      "2",
    ),
  );
  assert.equal(forced.code, 1, forced.stderr);
  assert.match(
    forced.stderr,
    new RegExp(
      `${
        path.replaceAll(/[.*+?^${}()|[\]\\]/g, "\\$&")
      }:4 in COPY binary \\(--copy-format binary\\): the value of column "n"`,
    ),
  );
  assert.match(forced.stderr, /use --copy-format auto/);
  // The batch before it committed, in binary; nothing of its own batch did.
  const rows = await sql(`select id from ${table} order by id`);
  assert.deepEqual(rows.map((row) => row.id), [1, 2]);
  const auto = await runCli(
    ingestArgs(path, table, "--meta-schema", meta, "--json"),
  );
  assert.equal(auto.code, 0, auto.stderr);
  assert.equal(JSON.parse(auto.stdout).binaryBatches, 0);
  const all = await sql(`select id, n::text from ${table} order by id`);
  assert.deepEqual(all.map((row) => [row.id, row.n]), [
    [1, "1.5"],
    [2, "2.5"],
    [3, "100000"],
    [4, "4"],
  ]);
});

Deno.test("COPY binary on the embedded database, lanes spliced in as int8", async () => {
  const dataDir = await Deno.makeTempDir();
  try {
    const path = await writeTemp(
      "id,lane,at\n1,a,2024-05-01T10:00:00Z\n2,b,2024-05-01T11:00:00.5+01:00\n3,a,2024-05-01 12:00:00-00:00\n",
    );
    const result = await runEmbedded(dataDir, [
      "ingest",
      path,
      "--table",
      "events",
      "--create",
      "--lane",
      "lane",
      "--json",
    ]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(JSON.parse(result.stdout).binaryBatches, 1);
    const rows = await embeddedRows(
      dataDir,
      "select id, lane, lane_seq, at::text from events order by id",
    );
    assert.deepEqual(rows, [
      { id: 1, lane: "a", lane_seq: 1, at: "2024-05-01 10:00:00+00" },
      { id: 2, lane: "b", lane_seq: 1, at: "2024-05-01 10:00:00.5+00" },
      { id: 3, lane: "a", lane_seq: 2, at: "2024-05-01 12:00:00+00" },
    ]);
  } finally {
    await removeDataDir(dataDir);
  }
});
