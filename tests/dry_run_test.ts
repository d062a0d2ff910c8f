/**
 * `ingest --dry-run`: the whole load runs and rolls back, on a server and
 * on the embedded database: the table is checked (or created and dropped
 * again), every row goes through the server, rejects and the summary are
 * reported, and no row, counter or progress is committed.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  type CliResult,
  databaseUrl,
  removeDataDir,
  runCli,
  runEmbedded,
  scratchLoad,
  writeTemp,
} from "./_helpers.ts";

/** Where the test loads: a server or an embedded directory. */
interface Backend {
  name: string;
  /** Runs the CLI against it. */
  run(args: string[]): Promise<CliResult>;
  /** Rows of a query, as `sql --json` gives them. */
  rows(text: string): Promise<Record<string, unknown>[]>;
  /** Frees it. */
  close(): Promise<void>;
}

function serverBackend(): Promise<Backend> {
  const run = (args: string[]) => runCli([...args, "--db", databaseUrl()]);
  return Promise.resolve({
    name: "server",
    run,
    rows: (text) => rowsOf(run(["sql", text, "--json"])),
    close: async () => {},
  });
}

async function embeddedBackend(): Promise<Backend> {
  const dataDir = await Deno.makeTempDir({ prefix: "lanecopy_dry_" });
  const run = (args: string[]) => runEmbedded(dataDir, args);
  return {
    name: "embedded",
    run,
    rows: (text) => rowsOf(run(["sql", text, "--json"])),
    close: () => removeDataDir(dataDir),
  };
}

async function rowsOf(
  result: Promise<CliResult>,
): Promise<Record<string, unknown>[]> {
  const { code, stdout, stderr } = await result;
  assert.equal(code, 0, stderr);
  const text = stdout.trim();
  return text === "" ? [] : text.split("\n").map((line) => JSON.parse(line));
}

for (const open of [serverBackend, embeddedBackend]) {
  Deno.test(`ingest --dry-run loads nothing, creates nothing and records no progress, then a real run loads every row (${open.name.replace("Backend", "")})`, async () => {
    const backend = await open();
    const { table, meta } = scratchLoad("dry");
    const path = await writeTemp(
      "id,region\n1,eu\n2,us\n3,eu\n",
      ".csv",
    );
    try {
      const args = [
        "ingest",
        path,
        "--table",
        table,
        "--create",
        "--lane",
        "region",
        "--meta-schema",
        meta,
        "--batch-size",
        "2",
      ];
      const dry = await backend.run([...args, "--dry-run", "--json"]);
      assert.equal(dry.code, 0, dry.stderr);
      const summary = JSON.parse(dry.stdout);
      assert.equal(summary.dryRun, true);
      assert.equal(summary.rows, 3);
      assert.equal(summary.batches, 2);
      assert.match(dry.stderr, /created public\.dry_\w+ \(id integer/);
      // The table --create made is gone again; no progress, no lanes.
      assert.deepEqual(
        await backend.rows(`select to_regclass('${table}') is null as gone`),
        [{ gone: true }],
      );
      assert.deepEqual(
        await backend.rows(
          `select (select count(*) from ${meta}.progress) as progress, (select count(*) from ${meta}.lanes) as lanes`,
        ),
        [{ progress: 0, lanes: 0 }],
      );

      const text = await backend.run([...args, "--dry-run"]);
      assert.equal(text.code, 0, text.stderr);
      assert.match(
        text.stderr,
        /dry run, rolled back: would have loaded 3 rows from .* into public\.dry_\w+ \(.+\) in 2 batches/,
      );

      const real = await backend.run([...args, "--json"]);
      assert.equal(real.code, 0, real.stderr);
      assert.equal(JSON.parse(real.stdout).rows, 3);
      assert.equal(JSON.parse(real.stdout).resumedAt, 0);
      assert.deepEqual(
        await backend.rows(
          `select lane, row_count, next_seq from ${meta}.lanes order by lane`,
        ),
        [
          { lane: "eu", row_count: 2, next_seq: 3 },
          { lane: "us", row_count: 1, next_seq: 2 },
        ],
      );

      // A dry run over a loaded table with a bad row: located, exit 2,
      // and the table, its counters and the progress as they were.
      await Deno.writeTextFile(path, "4,eu\nfive,us\n", { append: true });
      const bad = await backend.run([...args, "--dry-run"]);
      assert.equal(bad.code, 2, bad.stderr);
      assert.match(
        bad.stderr,
        /:6: column "id": invalid input syntax for type integer: "five"/,
      );
      assert.deepEqual(
        await backend.rows(
          `select (select count(*) from ${table}) as n, (select sum(row_count)::int from ${meta}.lanes) as counted, (select rows_committed from ${meta}.progress) as committed`,
        ),
        [{ n: 3, counted: 3, committed: 3 }],
      );
    } finally {
      await Deno.remove(path);
      await backend.close();
    }
  });
}
