import assert from "node:assert/strict";
import {
  type CliResult,
  databaseUrl,
  removeDataDir,
  runCli,
  runEmbedded,
  scratchTable,
  sql,
  writeTemp,
} from "./_helpers.ts";

/** The CLI on one database: a server, or an embedded one in a temp directory. */
interface Backend {
  name: "server" | "embedded";
  run(args: string[]): Promise<CliResult>;
}

/** Runs `fn` with the test server and with a new embedded database. */
async function withBothBackends(
  fn: (server: Backend, embedded: Backend) => Promise<void>,
): Promise<void> {
  const dataDir = await Deno.makeTempDir();
  try {
    await fn(
      {
        name: "server",
        run: (args) => runCli([...args, "--db", databaseUrl()]),
      },
      { name: "embedded", run: (args) => runEmbedded(dataDir, args) },
    );
  } finally {
    await removeDataDir(dataDir);
  }
}

/** The one JSON object a run printed on stdout; asserts it is one line. */
function jsonOf(result: CliResult): Record<string, unknown> {
  const lines = result.stdout.trimEnd().split("\n");
  assert.equal(lines.length, 1, `one line of JSON: ${result.stdout}`);
  return JSON.parse(lines[0]);
}

/** A JSON value's shape: its keys and each value's type, all the way down. */
function shape(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(shape);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value).map(([key, v]) => [key, shape(v)]),
    );
  }
  return value === null ? "null" : typeof value;
}

Deno.test("sql --json prints the same JSON for the same query on a server and on the embedded database", async () => {
  await withBothBackends(async (server, embedded) => {
    const query = `select 1::int2 as i2, 2147483647 as i4,
      9007199254740991::int8 as safe, 9007199254740992::int8 as unsafe,
      '-9223372036854775808'::int8 as min, (select count(*) from generate_series(1, 3)) as n,
      1.5::float8 as f8, 'NaN'::float8 as nan, 12345678901234567890.123456789::numeric as num,
      true as yes, '{"a": [1, 2, {"b": null}]}'::jsonb as jb, '{"z": 1, "a": 2}'::json as j,
      '2024-05-01 12:00:00.123456+02'::timestamptz as tstz,
      '2024-05-01 12:00:00.5'::timestamp as ts, '2024-05-01'::date as d,
      '1 day'::interval as iv, '\\x01ff'::bytea as bytes, array[1, null, 3] as ints,
      array[9007199254740993]::int8[] as bigs, array['a', null, 'NULL'] as texts,
      null::text as nothing, ''::text as empty,
      'a8f1e8e2-5d0b-4b35-9c39-1f7a7b1b2c3d'::uuid as id`;
    const outputs = [];
    for (const backend of [server, embedded]) {
      const result = await backend.run(["sql", query, "--json"]);
      assert.equal(result.code, 0, `${backend.name}: ${result.stderr}`);
      outputs.push(result.stdout);
    }
    assert.equal(outputs[0], outputs[1]);
    assert.deepEqual(jsonOf({ code: 0, stdout: outputs[0], stderr: "" }), {
      i2: 1,
      i4: 2147483647,
      safe: 9007199254740991,
      unsafe: "9007199254740992",
      min: "-9223372036854775808",
      n: 3,
      f8: 1.5,
      nan: "NaN",
      num: "12345678901234567890.123456789",
      yes: true,
      jb: { a: [1, 2, { b: null }] },
      j: { z: 1, a: 2 },
      tstz: "2024-05-01T10:00:00.123456Z",
      ts: "2024-05-01T12:00:00.5",
      d: "2024-05-01",
      iv: "1 day",
      bytes: "\\x01ff",
      ints: [1, null, 3],
      bigs: ["9007199254740993"],
      texts: ["a", null, "NULL"],
      nothing: null,
      empty: "",
      id: "a8f1e8e2-5d0b-4b35-9c39-1f7a7b1b2c3d",
    });
  });
});

Deno.test("ingest --json and status --json have the same shape and types on a server and on the embedded database", async () => {
  const path = await writeTemp("id,region\n1,eu\n2,us\n3,eu\n");
  const table = scratchTable("shape");
  const meta = `${table}_meta`;
  const sourceId = `shape ${table}`;
  try {
    await withBothBackends(async (server, embedded) => {
      const ingests = [];
      const statuses = [];
      for (const backend of [server, embedded]) {
        const common = ["--meta-schema", meta];
        const ingest = await backend.run([
          "ingest",
          path,
          "--table",
          table,
          "--create",
          "--lane",
          "region",
          "--source-id",
          sourceId,
          "--quiet",
          "--json",
          ...common,
        ]);
        assert.equal(ingest.code, 0, `${backend.name}: ${ingest.stderr}`);
        ingests.push(jsonOf(ingest));
        const status = await backend.run([
          "status",
          "--source-id",
          sourceId,
          "--json",
          ...common,
        ]);
        assert.equal(status.code, 0, `${backend.name}: ${status.stderr}`);
        statuses.push(jsonOf(status));
      }
      assert.deepEqual(shape(ingests[0]), shape(ingests[1]));
      for (const summary of ingests) {
        assert.equal(summary.rows, 3);
        assert.equal(summary.batches, 1);
        assert.equal(summary.table, `public.${table}`);
        assert.equal(summary.sourceId, sourceId);
      }
      assert.deepEqual(shape(statuses[0]), shape(statuses[1]));
      for (const status of statuses) {
        const { sources, lanes } = status as {
          sources: Record<string, unknown>[];
          lanes: Record<string, unknown>[];
        };
        assert.deepEqual(
          sources.map((
            row,
          ) => [row.source_id, row.rows_committed, row.complete]),
          [[sourceId, 3, true]],
        );
        assert.deepEqual(
          lanes.map((row) => [row.lane, row.row_count, row.next_seq]),
          [["eu", 2, 3], ["us", 1, 2]],
        );
        assert.match(
          String(sources[0].updated_at),
          /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/,
        );
      }
    });
  } finally {
    await Deno.remove(path);
    await sql(
      `drop table if exists ${table}; drop schema if exists ${meta} cascade`,
    );
  }
});

Deno.test("A failed ingest --json prints one error object on stdout and exits with its code, the same on both databases", async () => {
  const bad = await writeTemp('id,name\n1,a\n2,"b\n');
  const rejected = await writeTemp("id,qty\n1,5\n2,x\n");
  const table = scratchTable("shape_err");
  try {
    await withBothBackends(async (server, embedded) => {
      const errors = [];
      for (const backend of [server, embedded]) {
        const result = await backend.run([
          "ingest",
          bad,
          "--table",
          `${table}_a`,
          "--create",
          "--json",
        ]);
        assert.equal(result.code, 2, `${backend.name}: ${result.stderr}`);
        const { error } = jsonOf(result) as {
          error: Record<string, unknown>;
        };
        assert.match(result.stderr, /^lanecopy: .*:3:\d+: /m);
        assert.deepEqual(Object.keys(error), [
          "message",
          "code",
          "file",
          "line",
          "column",
        ]);
        assert.equal(error.code, 2);
        assert.equal(error.line, 3);
        assert.equal(typeof error.column, "number");
        assert.match(String(error.message), /:3:\d+: /);
        errors.push(error);

        const setup = await backend.run([
          "sql",
          `create table ${table}_b (id int, qty int)`,
        ]);
        assert.equal(setup.code, 0, setup.stderr);
        const row = await backend.run([
          "ingest",
          rejected,
          "--table",
          `${table}_b`,
          "--json",
        ]);
        assert.equal(row.code, 2, `${backend.name}: ${row.stderr}`);
        const serverError = (jsonOf(row) as { error: Record<string, unknown> })
          .error;
        assert.deepEqual(
          [
            serverError.code,
            serverError.line,
            serverError.columnName,
            serverError.sqlstate,
          ],
          [2, 3, "qty", "22P02"],
        );
        assert.equal(typeof serverError.file, "string");
      }
      assert.deepEqual(errors[0], errors[1]);
    });
  } finally {
    await Deno.remove(bad);
    await Deno.remove(rejected);
    await sql(`drop table if exists ${table}_a, ${table}_b`);
  }
});

Deno.test("ingest --json of several files prints one object: the run's totals and each file's summary", async () => {
  const first = await writeTemp("id\n1\n2\n");
  const second = await writeTemp("id\n3\n4\n5\n");
  const table = scratchTable("shape_files");
  try {
    await withBothBackends(async (server, embedded) => {
      const runs = [];
      for (const backend of [server, embedded]) {
        const result = await backend.run([
          "ingest",
          first,
          second,
          "--table",
          table,
          "--create",
          "--json",
        ]);
        assert.equal(result.code, 0, `${backend.name}: ${result.stderr}`);
        const run = jsonOf(result) as Record<string, unknown> & {
          files: Record<string, unknown>[];
        };
        assert.equal(run.table, `public.${table}`);
        assert.equal(run.rows, 5);
        assert.equal(run.rejected, 0);
        assert.equal(run.batches, 2);
        assert.deepEqual(run.files.map((file) => file.rows), [2, 3]);
        assert.equal(
          run.bytes,
          run.files.reduce((sum, file) => sum + Number(file.bytes), 0),
        );
        for (const key of ["seconds", "rowsPerSecond", "megabytesPerSecond"]) {
          assert.equal(typeof run[key], "number", key);
        }
        runs.push(run);
      }
      assert.deepEqual(shape(runs[0]), shape(runs[1]));
    });
  } finally {
    await Deno.remove(first);
    await Deno.remove(second);
    await sql(`drop table if exists ${table}`);
  }
});
