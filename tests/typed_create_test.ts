import assert from "node:assert/strict";
import {
  type CliResult,
  databaseUrl,
  embeddedRows,
  removeDataDir,
  runCli,
  runEmbedded,
  scratchTable,
  sql,
  writeTemp,
} from "./_helpers.ts";

/** Where a test's loads go: the server, or an embedded database. */
interface Destination {
  name: string;
  /** `ingest FILE --table T ...more` there. */
  ingest(
    file: string,
    table: string,
    more: string[],
    stdin?: string,
  ): Promise<CliResult>;
  /** Rows of a query there. */
  rows(text: string): Promise<Record<string, unknown>[]>;
}

const server: Destination = {
  name: "server",
  ingest: (file, table, more, stdin) =>
    runCli(["ingest", file, "--table", table, "--db", databaseUrl(), ...more], {
      stdin,
    }),
  rows: (text) => sql(text),
};

function embedded(dataDir: string): Destination {
  return {
    name: "embedded",
    ingest: (file, table, more, stdin) =>
      runEmbedded(dataDir, ["ingest", file, "--table", table, ...more], {
        stdin,
      }),
    rows: (text) => embeddedRows(dataDir, text),
  };
}

/** `"schema"."table"`, as a SQL literal for `::regclass`. */
function regclass(schema: string, table: string): string {
  const name = `"${schema.replaceAll('"', '""')}"."${
    table.replaceAll('"', '""')
  }"`;
  return `'${name.replaceAll("'", "''")}'`;
}

/** Each column of the table and its type, in order. */
async function columnTypes(
  at: Destination,
  schema: string,
  table: string,
): Promise<string[]> {
  const rows = await at.rows(
    `SELECT attname || ' ' || format_type(atttypid, atttypmod) AS c
       FROM pg_attribute WHERE attrelid = ${regclass(schema, table)}::regclass
        AND attnum > 0 AND NOT attisdropped ORDER BY attnum`,
  );
  return rows.map((row) => row.c as string);
}

async function count(at: Destination, from: string): Promise<number> {
  const [row] = await at.rows(`SELECT count(*)::int AS n FROM ${from}`);
  return row.n as number;
}

/** Every kind of value `--create` types, and the columns it should choose. */
const KINDS_CSV = [
  "id,region,small,big,huge,price,ok,joined,seen,at,uid,doc,code,zip,mixed,empty,note",
  '1,eu,-5,3000000000,99999999999999999999,19.99,true,2024-01-05,2024-01-05 10:00:00,2024-01-05T10:00:00Z,0b0e4f4c-9a3d-4a4e-8f7e-2c1d3b5a6e7f,"{""a"": [1, 2]}",007,01234,1,,plain',
  "2,us,2147483647,-9223372036854775808,-9223372036854775809,2,FALSE,2024-02-29,2024-02-29T23:59:59.5,2024-02-29 23:59:59+05:30,0B0E4F4C-9A3D-4A4E-8F7E-2C1D3B5A6E7F,[],010,02134,x,,",
  '3,eu,,,1e400,-0.5,,,,,,,,,2024-01-05,,""',
].join("\n") + "\n";

const KINDS_TYPES = [
  "id integer",
  "region text",
  "small integer",
  "big bigint",
  "huge numeric",
  "price numeric",
  "ok boolean",
  "joined date",
  "seen timestamp without time zone",
  "at timestamp with time zone",
  "uid uuid",
  "doc jsonb",
  "code text",
  "zip text",
  "mixed text",
  "empty text",
  "note text",
  "lane_seq bigint",
];

async function eachDestination(
  t: Deno.TestContext,
  test: (at: Destination) => Promise<void>,
): Promise<void> {
  await t.step("server", () => test(server));
  const dataDir = await Deno.makeTempDir();
  try {
    await t.step("embedded", () => test(embedded(dataDir)));
  } finally {
    await removeDataDir(dataDir);
  }
}

Deno.test("--create types every kind of column as a careful person would, and says so", async (t) => {
  const file = await writeTemp(KINDS_CSV);
  await eachDestination(t, async (at) => {
    const table = scratchTable("typed");
    const result = await at.ingest(file, table, [
      "--create",
      "--lane",
      "region",
    ]);
    assert.equal(result.code, 0, result.stderr);
    const ddl = KINDS_TYPES.map((column) =>
      column.replace(" without time zone", "").replace(
        "timestamp with time zone",
        "timestamptz",
      )
    );
    assert.match(
      result.stderr,
      new RegExp(
        `lanecopy: created public\\.${table} \\(${
          ddl.join(", ").replace(/[()[\]]/g, "\\$&")
        }\\)\n`,
      ),
    );
    assert.deepEqual(await columnTypes(at, "public", table), KINDS_TYPES);
    const rows = await at.rows(
      `SELECT big::text, huge::text, doc::text, code, zip, empty, note,
              at = '2024-02-29 18:29:59Z'::timestamptz AS offset_kept
         FROM "${table}" WHERE id = 2`,
    );
    assert.deepEqual(rows, [{
      big: "-9223372036854775808",
      huge: "-9223372036854775809",
      doc: "[]",
      code: "010",
      zip: "02134",
      empty: null,
      note: null,
      offset_kept: true,
    }]);
    assert.equal(await count(at, `"${table}"`), 3);
  });
  await Deno.remove(file);
});

Deno.test("--create creates a missing schema, quoting its name", async (t) => {
  const file = await writeTemp("id,name\n1,ada\n");
  await eachDestination(t, async (at) => {
    const schema = `New ${scratchTable("Schema")}`;
    const result = await at.ingest(file, `"${schema}".people`, ["--create"]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, new RegExp(`created schema ${schema}\n`));
    assert.match(
      result.stderr,
      new RegExp(`created ${schema}\\.people \\(id integer, name text\\)`),
    );
    assert.deepEqual(await columnTypes(at, schema, "people"), [
      "id integer",
      "name text",
    ]);
    assert.equal(await count(at, `"${schema}".people`), 1);
    if (at === server) await sql(`DROP SCHEMA "${schema}" CASCADE`);
  });
  await Deno.remove(file);
});

Deno.test("--create on a file of a header alone creates the table, all text", async (t) => {
  const file = await writeTemp("id,name,joined\n");
  await eachDestination(t, async (at) => {
    const table = scratchTable("header_only");
    const result = await at.ingest(file, table, ["--create"]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(
      result.stderr,
      new RegExp(
        `created public\\.${table} \\(id text, name text, joined text\\)`,
      ),
    );
    assert.deepEqual(await columnTypes(at, "public", table), [
      "id text",
      "name text",
      "joined text",
    ]);
    assert.equal(await count(at, `"${table}"`), 0);
  });
  await Deno.remove(file);
});

Deno.test("--no-infer keeps every column text", async (t) => {
  const file = await writeTemp(KINDS_CSV);
  await eachDestination(t, async (at) => {
    const table = scratchTable("untyped");
    const result = await at.ingest(file, table, ["--create", "--no-infer"]);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(
      await columnTypes(at, "public", table),
      KINDS_TYPES.slice(0, -1).map((column) => column.split(" ")[0] + " text"),
    );
    assert.equal(await count(at, `"${table}"`), 3);
  });
  await Deno.remove(file);
});

Deno.test("--create takes NDJSON's columns from its keys, in the order first seen", async (t) => {
  const file = await writeTemp(
    [
      '{"id": 1, "doc": {"tags": ["a"]}, "at": "2024-05-01T10:00:00Z", "n": 0.1000000000000000055511151231257827}',
      '{"n": 1e400, "id": 2, "ok": true, "code": "007"}',
      '{"id": 3, "doc": [1, 2], "note": null}',
    ].join("\n") + "\n",
    ".ndjson",
  );
  await eachDestination(t, async (at) => {
    const table = scratchTable("keys");
    const result = await at.ingest(file, table, ["--create"]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(
      result.stderr,
      new RegExp(
        `created public\\.${table} \\(id integer, doc jsonb, at timestamptz, n numeric, ok boolean, code text, note text\\)`,
      ),
    );
    assert.deepEqual(await columnTypes(at, "public", table), [
      "id integer",
      "doc jsonb",
      "at timestamp with time zone",
      "n numeric",
      "ok boolean",
      "code text",
      "note text",
    ]);
    const rows = await at.rows(
      `SELECT n::text, code FROM "${table}" WHERE id < 3 ORDER BY id`,
    );
    assert.deepEqual(rows, [
      { n: "0.1000000000000000055511151231257827", code: null },
      { n: `1${"0".repeat(400)}`, code: "007" },
    ]);
  });
  await Deno.remove(file);
});

/**
 * 12,000 records whose `day` holds dates for the first 10,000 and
 * timestamps after: standard input types it from its first records only
 * (date, which takes the later values too), a file from all of them.
 */
function dayRecords(): string {
  const lines = ["id,day"];
  for (let i = 1; i <= 12_000; i++) {
    lines.push(`${i},2024-05-01${i > 10_000 ? " 10:30" : ""}`);
  }
  return lines.join("\n") + "\n";
}

Deno.test("--create on standard input types from the first records and loads them all", async (t) => {
  const csv = dayRecords();
  const file = await writeTemp(csv);
  await eachDestination(t, async (at) => {
    const piped = scratchTable("stdin");
    const result = await at.ingest("-", piped, ["--create"], csv);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(await columnTypes(at, "public", piped), [
      "id integer",
      "day date",
    ]);
    assert.equal(await count(at, `"${piped}"`), 12_000);
    const [sums] = await at.rows(
      `SELECT sum(id)::bigint::text AS ids, count(DISTINCT day)::int AS days FROM "${piped}"`,
    );
    assert.deepEqual(sums, { ids: String(12_000 * 12_001 / 2), days: 1 });
    const read = scratchTable("file");
    const whole = await at.ingest(file, read, ["--create"]);
    assert.equal(whole.code, 0, whole.stderr);
    assert.deepEqual(await columnTypes(at, "public", read), [
      "id integer",
      "day timestamp without time zone",
    ]);
  });
  await Deno.remove(file);
});

Deno.test("--create --distribute-by is refused where Citus is not installed, and creates nothing", async () => {
  const table = scratchTable("not_citus");
  const path = await writeTemp("id,v\n1,x\n");
  const result = await runCli([
    "ingest",
    path,
    "--table",
    table,
    "--create",
    "--distribute-by",
    "id",
    "--db",
    databaseUrl(),
  ]);
  assert.equal(result.code, 1, result.stderr);
  assert.match(
    result.stderr,
    /Cannot use --distribute-by id: the database has no Citus extension/,
  );
  const rows = await sql("select to_regclass($1) is null as gone", [table]);
  assert.equal(rows[0].gone, true);
});
