import assert from "node:assert/strict";
import { databaseUrl, runCli, scratchTable, sql } from "./_helpers.ts";
import {
  query,
  sessionsGone,
  startCli,
  stopLoaders,
  waitFor,
} from "./_loader.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Where the error is in a record's text: `§` marks it (and is dropped). */
const MARK = "§";

/** A record of the input: its bytes, and for a bad one what the log says. */
interface Piece {
  bytes: Uint8Array;
  /** The good record's id. */
  id?: number;
  /** A bad record: malformed (with its error's place) or rejected by the server. */
  bad?: { kind: "malformed" | "rejected"; errorLine?: number; column?: number };
}

/**
 * A record's bytes and, when `§` marks its error, that error's line
 * (counted from the record's first) and column (characters). `0xFF` in the
 * text stands for an invalid byte.
 */
function marked(text: string): { bytes: Uint8Array; at?: [number, number] } {
  const mark = text.indexOf(MARK);
  const plain = text.replace(MARK, "");
  const bytes = Uint8Array.from(
    [...plain].flatMap((c) => c === "\u00ff" ? [0xff] : [...encoder.encode(c)]),
  );
  if (mark < 0) return { bytes };
  const before = text.slice(0, mark).split("\n");
  return {
    bytes,
    at: [before.length - 1, [...before.at(-1)!].length + 1],
  };
}

/** CSV record `i`: good, malformed in one of every way, or rejected by the server. */
function csvRecord(i: number, records: number): Piece {
  const lane = `lane${i % 4}`;
  const bad = (text: string): Piece => {
    const { bytes, at } = marked(text);
    return {
      bytes,
      bad: at
        ? { kind: "malformed", errorLine: at[0], column: at[1] }
        : { kind: "rejected" },
    };
  };
  if (i === records) return bad(`${i},${lane},1,${MARK}"never\nclosed\n`);
  switch (i % 29) {
    case 3:
      return bad(`${i},${lane},1,ab${MARK}"c\n`); // a stray quote
    case 5:
      // A character after a closing quote; the record spans two lines.
      return bad(`${i},${lane},"1"${MARK}x,"a\nb"\n`);
    case 6:
      return bad(`${i},${lane}${MARK}\n`); // too few fields
    case 9:
      return bad(`${i},${lane},1,n,${MARK}"extra\nfield"\r\n`); // too many
    case 12:
      return bad(`${i},${lane},1,caf\u00e9 ${MARK}\u00ff\n`); // invalid UTF-8
    case 13:
      return bad(`${i},${MARK},1,n\n`); // a NULL lane key
    case 14:
      return bad(`${i},${lane},xx,n\n`); // the server rejects: not an int
    case 20:
      return bad(`${i},${lane},-1,"two\nlines"\n`); // the server: CHECK
  }
  const note = i % 10 === 0 ? `"a ""quoted""\nnote ${i}"` : `n${i}`;
  const blank = i % 17 === 0 ? "\n" : "";
  return {
    bytes: encoder.encode(`${blank}${i},${lane},${i % 100},${note}\n`),
    id: i,
  };
}

/** NDJSON record `i`, likewise. */
function ndjsonRecord(i: number, records: number): Piece {
  const lane = `lane${i % 4}`;
  const bad = (text: string): Piece => {
    const { bytes, at } = marked(text);
    return {
      bytes,
      bad: at
        ? { kind: "malformed", errorLine: at[0], column: at[1] }
        : { kind: "rejected" },
    };
  };
  const row = `"id": ${i}, "lane": "${lane}"`;
  if (i === records) return bad(`{${row}, "note": "cut ${MARK}`);
  switch (i % 31) {
    case 2:
      return bad(`{${row}, "qty": ${MARK}}\n`); // invalid JSON
    case 4:
      return bad(`${MARK}[${i}]\n`); // not an object
    case 7:
      return bad(`{${row}, ${MARK}"color": 1}\n`); // an unknown key
    case 8:
      return bad(`{${row}, ${MARK}"id": 2}\n`); // a key given twice
    case 11:
      return bad(`{${row}, "note": "x${MARK}\u00ff"}\n`); // invalid UTF-8
    case 15:
      return bad(`{"id": ${i}, "lane": ${MARK}null}\n`); // a NULL lane key
    case 16:
      return bad(`{"id": ${i}, "qty": 1${MARK}}\n`); // a missing lane key
    case 19:
      return bad(`{${row}, "note": "open${MARK}\n`); // the line ends inside
    case 22:
      return bad(`{${row}, "qty": "xx", "note": "n"}\n`); // the server: not an int
  }
  const blank = i % 13 === 0 ? "\n" : "";
  return {
    bytes: encoder.encode(
      `${blank}{${row}, "qty": ${i % 100}, "note": "n${i}\\nx"}\r\n`,
    ),
    id: i,
  };
}

/** The input file, and what a load with a reject file must make of it. */
async function writeInput(
  records: number,
  format: "csv" | "ndjson",
): Promise<{
  path: string;
  good: number[];
  bad: {
    bytes: Uint8Array;
    kind: string;
    line: number;
    errorLine?: number;
    column?: number;
  }[];
}> {
  const parts: Uint8Array[] = [];
  if (format === "csv") parts.push(encoder.encode("id,lane,qty,note\n"));
  let line = format === "csv" ? 2 : 1;
  const good: number[] = [];
  const bad = [];
  for (let i = 1; i <= records; i++) {
    const piece = format === "csv"
      ? csvRecord(i, records)
      : ndjsonRecord(i, records);
    parts.push(piece.bytes);
    // Blank lines before a record are not part of it.
    let bytes = piece.bytes;
    while (bytes[0] === 0x0a) {
      bytes = bytes.subarray(1);
      line++;
    }
    if (piece.id !== undefined) good.push(piece.id);
    if (piece.bad) {
      bad.push({
        bytes,
        kind: piece.bad.kind,
        line,
        errorLine: piece.bad.errorLine === undefined
          ? undefined
          : line + piece.bad.errorLine,
        column: piece.bad.column,
      });
    }
    line += bytes.filter((b) => b === 0x0a).length;
  }
  const path = await Deno.makeTempFile({ suffix: `.${format}` });
  await Deno.writeFile(
    path,
    Uint8Array.from(parts.flatMap((part) => [...part])),
  );
  return { path, good, bad };
}

async function createTable(table: string): Promise<void> {
  await sql(`create table ${table} (
    id int primary key, lane text, qty int check (qty >= 0),
    note text not null default '', lane_seq bigint)`);
}

/** The table holds exactly the good records, once, each lane gapless in input order. */
async function assertGoodRowsOnce(table: string, good: number[]) {
  const rows = await sql(`select id from ${table} order by id`);
  assert.deepEqual(rows.map((row) => row.id), good);
  const [lanes] = await sql(`select count(*)::int as bad from (
      select lane_seq <> row_number() over (partition by lane order by id) as off
        from ${table}) s where off`);
  assert.equal(lanes.bad, 0, "a lane's seqs are not 1..n in input order");
}

/** The reject file holds exactly the bad records, byte for byte, and its log says where each is. */
async function assertRejects(
  rejects: string,
  bad: Awaited<ReturnType<typeof writeInput>>["bad"],
) {
  // A last record the input ends without a line break gets one there.
  const expected = Uint8Array.from(
    bad.flatMap((b) =>
      [0x0a, 0x0d].includes(b.bytes.at(-1)!) ? [...b.bytes] : [...b.bytes, 0x0a]
    ),
  );
  const written = await Deno.readFile(rejects);
  assert.equal(
    decoder.decode(written),
    decoder.decode(expected),
    "the reject file is not the bad records",
  );
  assert.deepEqual(written, expected);
  const log = (await Deno.readTextFile(`${rejects}.log`)).trim().split("\n")
    .map((line) => JSON.parse(line));
  assert.deepEqual(
    log.map((entry) => [entry.kind, entry.line, entry.error_line]),
    bad.map((b) => [b.kind, b.line, b.errorLine]),
  );
  for (const [k, entry] of log.entries()) {
    if (entry.kind === "malformed") {
      assert.equal(entry.column, bad[k].column, JSON.stringify(entry));
    } else {
      assert.equal(typeof entry.column, "string", JSON.stringify(entry));
    }
    assert.equal(
      entry.end_offset - entry.start_offset,
      bad[k].bytes.length,
      JSON.stringify(entry),
    );
  }
  assert.equal(
    new Set(log.map((entry) => entry.start_offset)).size,
    log.length,
    "a record is in the reject file twice",
  );
}

for (
  const [format, codec] of [
    ["csv", "wasm"],
    ["csv", "ts"],
    ["ndjson", "wasm"],
    ["ndjson", "ts"],
  ] as const
) {
  Deno.test(`ingest --reject-file (${format}, codec ${codec}) loads every good row and puts each malformed or rejected record, byte for byte, in the reject file with its lines and column`, async () => {
    const table = scratchTable(`malformed_${format}_${codec}`);
    const meta = `${table}_meta`;
    await createTable(table);
    const records = 300;
    const { path, good, bad } = await writeInput(records, format);
    const rejects = `${path}.rejects`;
    try {
      const result = await runCli([
        "ingest",
        path,
        "--table",
        table,
        "--lane",
        "lane",
        "--batch-size",
        "25",
        "--codec",
        codec,
        "--meta-schema",
        meta,
        "--db",
        databaseUrl(),
        "--reject-file",
        rejects,
        "--json",
      ]);
      assert.equal(result.code, 3, result.stderr);
      const summary = JSON.parse(result.stdout);
      assert.equal(summary.rows, good.length);
      assert.equal(summary.rejected, bad.length);
      assert.equal(summary.rows + summary.rejected, records);
      assert.ok(bad.some((b) => b.kind === "rejected"));
      await assertGoodRowsOnce(table, good);
      await assertRejects(rejects, bad);
      const [counters] = await sql(
        `select sum(row_count)::int as rows from ${meta}.lanes`,
      );
      assert.equal(counters.rows, good.length);
      const [progress] = await sql(
        `select byte_offset::int as at, complete from ${meta}.progress`,
      );
      assert.equal(progress.at, (await Deno.stat(path)).size);
      assert.equal(progress.complete, true);
      // Run again: nothing more loads, nothing more is rejected.
      const again = await runCli([
        "ingest",
        path,
        "--table",
        table,
        "--lane",
        "lane",
        "--meta-schema",
        meta,
        "--db",
        databaseUrl(),
        "--reject-file",
        rejects,
        "--json",
      ]);
      assert.equal(again.code, 0, again.stderr);
      await assertRejects(rejects, bad);
    } finally {
      await sql(`drop table if exists ${table}`);
      await sql(`drop schema if exists ${meta} cascade`);
      await Deno.remove(path);
      await Deno.remove(rejects).catch(() => {});
      await Deno.remove(`${rejects}.log`).catch(() => {});
    }
  });
}

for (const format of ["csv", "ndjson"] as const) {
  Deno.test({
    name:
      `ingest --reject-file (${format}) killed (SIGKILL) mid-run, its rejects written before a commit, and re-run: no duplicate rejects, no gaps or doubles in the target`,
    sanitizeResources: false,
    sanitizeOps: false,
    async fn() {
      const url = databaseUrl();
      const table = scratchTable(`malformed_kill_${format}`);
      const meta = `${table}_meta`;
      await createTable(table);
      // A deferred trigger holds each COMMIT, after the batch's rejects are
      // written: kills land there as well as anywhere else.
      await query(
        url,
        `create function ${table}_slow() returns trigger language plpgsql as
         $$ begin perform pg_sleep(0.004); return null; end $$`,
      );
      await query(
        url,
        `create constraint trigger ${table}_slow after insert on ${table}
         deferrable initially deferred for each row
         execute function ${table}_slow()`,
      );
      const records = 400;
      const { path, good, bad } = await writeInput(records, format);
      const rejects = `${path}.rejects`;
      const args = [
        "ingest",
        path,
        "--table",
        table,
        "--lane",
        "lane",
        "--batch-size",
        "20",
        "--meta-schema",
        meta,
        "--db",
        url,
        "--reject-file",
        rejects,
        "--verbose",
      ];
      try {
        for (const after of [2, 3, 4]) {
          const loader = startCli(args);
          await waitFor(
            `${after} committed batches`,
            () => loader.exited || loader.count(/ committed bytes /) >= after,
            30_000,
          );
          assert.ok(
            !loader.exited,
            `the load ended before its kill:\n${loader.stderr}`,
          );
          // Kill it in a commit, its rejects already written.
          await waitFor(
            "a commit in flight",
            () =>
              loader.exited ||
              loader.count(/ commit-sent bytes /) >
                loader.count(/ committed bytes /),
            30_000,
          );
          await loader.stop();
          await sessionsGone(url, loader.child.pid);
        }
        const last = await runCli(args);
        assert.equal(last.code, 3, last.stderr);
        await assertGoodRowsOnce(table, good);
        await assertRejects(rejects, bad);
        const [counters] = await sql(
          `select sum(row_count)::int as rows from ${meta}.lanes`,
        );
        assert.equal(counters.rows, good.length);
      } finally {
        await stopLoaders();
        await sql(`drop table if exists ${table}`);
        await sql(`drop function if exists ${table}_slow()`);
        await sql(`drop schema if exists ${meta} cascade`);
        await Deno.remove(path);
        await Deno.remove(rejects).catch(() => {});
        await Deno.remove(`${rejects}.log`).catch(() => {});
      }
    },
  });
}

Deno.test("--max-rejects counts malformed records: past it the load stops at a committed point (exit 2), and a re-run with a higher limit completes", async () => {
  const table = scratchTable("malformed_max");
  const meta = `${table}_meta`;
  await createTable(table);
  const path = await Deno.makeTempFile({ suffix: ".csv" });
  await Deno.writeTextFile(
    path,
    'id,lane,qty,note\n1,a,1,x\n2,a,1,x"y\n3,a,1,x\n4,a\n5,a,1,x\n6,a,1,"x\n',
  );
  const rejects = `${path}.rejects`;
  const args = [
    "ingest",
    path,
    "--table",
    table,
    "--lane",
    "lane",
    "--batch-size",
    "2",
    "--meta-schema",
    meta,
    "--db",
    databaseUrl(),
    "--reject-file",
    rejects,
  ];
  try {
    const stopped = await runCli([...args, "--max-rejects", "1"]);
    assert.equal(stopped.code, 2, stopped.stderr);
    assert.match(
      stopped.stderr,
      /:5: more than 1 records rejected \(--max-rejects 1\)/,
    );
    assert.deepEqual(
      (await sql(`select id from ${table} order by id`)).map((r) => r.id),
      [1],
    );
    assert.equal(await Deno.readTextFile(rejects), '2,a,1,x"y\n');
    const finished = await runCli([...args, "--max-rejects", "5"]);
    assert.equal(finished.code, 3, finished.stderr);
    assert.deepEqual(
      (await sql(`select id from ${table} order by id`)).map((r) => r.id),
      [1, 3, 5],
    );
    assert.equal(
      await Deno.readTextFile(rejects),
      '2,a,1,x"y\n4,a\n6,a,1,"x\n',
    );
  } finally {
    await sql(`drop table if exists ${table}`);
    await sql(`drop schema if exists ${meta} cascade`);
    await Deno.remove(path);
    await Deno.remove(rejects).catch(() => {});
    await Deno.remove(`${rejects}.log`).catch(() => {});
  }
});

Deno.test("ingest --reject-file on the embedded database rejects malformed records too, and a last batch of rejects alone commits", async () => {
  const dataDir = await Deno.makeTempDir();
  const env = { DATABASE_URL: "" };
  const path = await Deno.makeTempFile({ suffix: ".csv" });
  await Deno.writeTextFile(path, 'id,n\n1,5\n2,x\n3,"7\n\n4,\n');
  const rejects = `${dataDir}/rejects.csv`;
  try {
    const result = await runCli(
      [
        "ingest",
        path,
        "--table",
        "t",
        "--create",
        "--data-dir",
        dataDir,
        "--reject-file",
        rejects,
        "--json",
      ],
      { env },
    );
    assert.equal(result.code, 3, result.stderr);
    const summary = JSON.parse(result.stdout);
    assert.deepEqual([summary.rows, summary.rejected], [2, 1]);
    assert.equal(await Deno.readTextFile(rejects), '3,"7\n\n4,\n');
    const log = JSON.parse(await Deno.readTextFile(`${rejects}.log`));
    assert.deepEqual(
      [log.kind, log.line, log.error_line, log.column],
      ["malformed", 4, 4, 3],
    );
  } finally {
    await Deno.remove(path);
    await Deno.remove(dataDir, { recursive: true });
    await Deno.remove(`${dataDir}.lock`).catch(() => {});
  }
});

Deno.test("a batch whose COMMIT fails after its rejects were written: the re-run writes them once", async () => {
  const url = databaseUrl();
  const table = scratchTable("malformed_commit");
  const meta = `${table}_meta`;
  await createTable(table);
  // Record 33 shares its batch with malformed records 32, 34 and 35 (five
  // records a batch): the trigger fails its COMMIT, after its rejects are written.
  await sql(`create table ${table}_fail (on_commit boolean)`);
  await sql(`insert into ${table}_fail values (true)`);
  await query(
    url,
    `create function ${table}_fail() returns trigger language plpgsql as
     $$ begin
       if new.id = 33 and exists (select from ${table}_fail) then
         raise exception 'failing the commit of record %', new.id;
       end if;
       return null;
     end $$`,
  );
  await query(
    url,
    `create constraint trigger ${table}_fail after insert on ${table}
     deferrable initially deferred for each row
     execute function ${table}_fail()`,
  );
  const { path, good, bad } = await writeInput(40, "csv");
  const rejects = `${path}.rejects`;
  const args = [
    "ingest",
    path,
    "--table",
    table,
    "--lane",
    "lane",
    "--batch-size",
    "5",
    "--meta-schema",
    meta,
    "--db",
    url,
    "--reject-file",
    rejects,
  ];
  try {
    const failed = await runCli(args);
    assert.equal(failed.code, 1, failed.stderr);
    assert.match(failed.stderr, /failing the commit of record 33/);
    const written = (await Deno.readTextFile(`${rejects}.log`)).trim()
      .split("\n").length;
    const [progress] = await sql(
      `select byte_offset::int as at from ${meta}.progress`,
    );
    const log = (await Deno.readTextFile(`${rejects}.log`)).trim().split("\n")
      .map((line) => JSON.parse(line));
    assert.ok(
      log.some((entry) => entry.start_offset >= (progress.at as number)),
      "no reject of the failed batch was written",
    );
    await sql(`delete from ${table}_fail`);
    const resumed = await runCli(args);
    assert.equal(resumed.code, 3, resumed.stderr);
    await assertGoodRowsOnce(table, good);
    await assertRejects(rejects, bad);
    assert.ok(bad.length > written);
  } finally {
    await sql(`drop table if exists ${table}, ${table}_fail`);
    await sql(`drop function if exists ${table}_fail()`);
    await sql(`drop schema if exists ${meta} cascade`);
    await Deno.remove(path);
    await Deno.remove(rejects).catch(() => {});
    await Deno.remove(`${rejects}.log`).catch(() => {});
  }
});
