import assert from "node:assert/strict";
import {
  loaderTest,
  query,
  removeDataDir,
  runCli,
  runEmbedded,
  scratchLoad,
  sql,
  writeTemp,
} from "./_helpers.ts";
import {
  assertGoodRowsOnce,
  assertRejectSummary,
  killAfterCommits,
  laneLoadArgs,
  makeSlow,
  readRejectLog,
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

/** A bad record: malformed where `§` marks its error, else rejected by the server. */
function badRecord(text: string): Piece {
  const { bytes, at } = marked(text);
  return {
    bytes,
    bad: at
      ? { kind: "malformed", errorLine: at[0], column: at[1] }
      : { kind: "rejected" },
  };
}

/** CSV record `i`: good, malformed in one of every way, or rejected by the server. */
function csvRecord(i: number, records: number): Piece {
  const lane = `lane${i % 4}`;
  if (i === records) return badRecord(`${i},${lane},1,${MARK}"never\nclosed\n`);
  switch (i % 29) {
    case 3:
      return badRecord(`${i},${lane},1,ab${MARK}"c\n`); // a stray quote
    case 5:
      // A character after a closing quote; the record spans two lines.
      return badRecord(`${i},${lane},"1"${MARK}x,"a\nb"\n`);
    case 6:
      return badRecord(`${i},${lane}${MARK}\n`); // too few fields
    case 9:
      return badRecord(`${i},${lane},1,n,${MARK}"extra\nfield"\r\n`); // too many
    case 12:
      return badRecord(`${i},${lane},1,caf\u00e9 ${MARK}\u00ff\n`); // invalid UTF-8
    case 13:
      return badRecord(`${i},${MARK},1,n\n`); // a NULL lane key
    case 14:
      return badRecord(`${i},${lane},xx,n\n`); // the server rejects: not an int
    case 20:
      return badRecord(`${i},${lane},-1,"two\nlines"\n`); // the server: CHECK
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
  const row = `"id": ${i}, "lane": "${lane}"`;
  if (i === records) return badRecord(`{${row}, "note": "cut ${MARK}`);
  switch (i % 31) {
    case 2:
      return badRecord(`{${row}, "qty": ${MARK}}\n`); // invalid JSON
    case 4:
      return badRecord(`${MARK}[${i}]\n`); // not an object
    case 7:
      return badRecord(`{${row}, ${MARK}"color": 1}\n`); // an unknown key
    case 8:
      return badRecord(`{${row}, ${MARK}"id": 2}\n`); // a key given twice
    case 11:
      return badRecord(`{${row}, "note": "x${MARK}\u00ff"}\n`); // invalid UTF-8
    case 15:
      return badRecord(`{"id": ${i}, "lane": ${MARK}null}\n`); // a NULL lane key
    case 16:
      return badRecord(`{"id": ${i}, "qty": 1${MARK}}\n`); // a missing lane key
    case 19:
      return badRecord(`{${row}, "note": "open${MARK}\n`); // the line ends inside
    case 22:
      return badRecord(`{${row}, "qty": "xx", "note": "n"}\n`); // the server: not an int
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
  /** The header line the reject file starts with (none for NDJSON). */
  header: Uint8Array;
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
  const header = encoder.encode(format === "csv" ? "id,lane,qty,note\n" : "");
  parts.push(header);
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
  const path = await writeTemp(
    Uint8Array.from(parts.flatMap((part) => [...part])),
    `.${format}`,
  );
  return { path, header, good, bad };
}

async function createTable(table: string): Promise<void> {
  await sql(`create table ${table} (
    id int primary key, lane text, qty int check (qty >= 0),
    note text not null default '', lane_seq bigint)`);
}

/**
 * A scratch table for the input at `path`, where its rejects go,
 * `args(batchSize, ...more)`: a load of it by lane writing them there, and
 * `cleanUp()`: drops the bookkeeping and removes the input and the reject
 * file with its log (drop the table first).
 */
async function setUp(prefix: string, path: string) {
  const { url, table, meta } = scratchLoad(prefix);
  await createTable(table);
  const rejects = `${path}.rejects`;
  const args = (batchSize: number | undefined, ...more: string[]) =>
    laneLoadArgs(
      url,
      path,
      table,
      meta,
      batchSize,
      "--reject-file",
      rejects,
      ...more,
    );
  const cleanUp = async () => {
    await sql(`drop schema if exists ${meta} cascade`);
    await Deno.remove(path);
    await Deno.remove(rejects).catch(() => {});
    await Deno.remove(`${rejects}.log`).catch(() => {});
  };
  return { url, table, meta, rejects, args, cleanUp };
}

/**
 * The reject file holds the input's header line (once) and exactly the bad
 * records, byte for byte, and its log says where each is: in the source
 * (its byte range holds the record) and in the reject file.
 */
async function assertRejects(
  rejects: string,
  input: Awaited<ReturnType<typeof writeInput>>,
) {
  const { bad, header } = input;
  // A last record the input ends without a line break gets one there.
  const expected = Uint8Array.from([
    ...header,
    ...bad.flatMap((b) =>
      [0x0a, 0x0d].includes(b.bytes.at(-1)!) ? [...b.bytes] : [...b.bytes, 0x0a]
    ),
  ]);
  const written = await Deno.readFile(rejects);
  const source = await Deno.readFile(input.path);
  assert.equal(
    decoder.decode(written),
    decoder.decode(expected),
    "the reject file is not the bad records",
  );
  assert.deepEqual(written, expected);
  const log = await readRejectLog(rejects);
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
    assert.deepEqual(
      source.subarray(entry.start_offset, entry.end_offset),
      bad[k].bytes,
      JSON.stringify(entry),
    );
    assert.deepEqual(
      written.subarray(
        entry.reject_offset,
        entry.reject_offset + bad[k].bytes.length,
      ),
      bad[k].bytes,
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
    const records = 300;
    const input = await writeInput(records, format);
    const { path, good, bad } = input;
    const { table, meta, rejects, args, cleanUp } = await setUp(
      `malformed_${format}_${codec}`,
      path,
    );
    try {
      const result = await runCli(args(25, "--codec", codec, "--json"));
      assertRejectSummary(result, good.length, bad.length, records);
      assert.ok(bad.some((b) => b.kind === "rejected"));
      await assertGoodRowsOnce(table, good);
      await assertRejects(rejects, input);
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
      const again = await runCli(args(undefined, "--json"));
      assert.equal(again.code, 0, again.stderr);
      await assertRejects(rejects, input);
    } finally {
      await sql(`drop table if exists ${table}`);
      await cleanUp();
    }
  });
}

for (const format of ["csv", "ndjson"] as const) {
  loaderTest(
    `ingest --reject-file (${format}) killed (SIGKILL) mid-run, its rejects written before a commit, and re-run: no duplicate rejects, no gaps or doubles in the target`,
    async () => {
      const records = 400;
      const input = await writeInput(records, format);
      const { path, good } = input;
      const { url, table, meta, rejects, args, cleanUp } = await setUp(
        `malformed_kill_${format}`,
        path,
      );
      // A deferred trigger holds each COMMIT, after the batch's rejects are
      // written: kills land there as well as anywhere else.
      await makeSlow(url, table, 0.004, { atCommit: true });
      const load = args(20, "--verbose");
      try {
        for (const after of [2, 3, 4]) {
          await killAfterCommits(url, load, after, {
            timeoutMs: 30_000,
            // Kill it in a commit, its rejects already written.
            beforeKill: (loader) =>
              waitFor(
                "a commit in flight",
                () =>
                  loader.exited ||
                  loader.count(/ commit-sent bytes /) >
                    loader.count(/ committed bytes /),
                30_000,
              ),
          });
        }
        const last = await runCli(load);
        assert.equal(last.code, 3, last.stderr);
        await assertGoodRowsOnce(table, good);
        await assertRejects(rejects, input);
        const [counters] = await sql(
          `select sum(row_count)::int as rows from ${meta}.lanes`,
        );
        assert.equal(counters.rows, good.length);
      } finally {
        await sql(`drop table if exists ${table}`);
        await sql(`drop function if exists ${table}_sleep()`);
        await cleanUp();
      }
    },
  );
}

Deno.test("--max-rejects counts malformed records: past it the load stops at a committed point (exit 2), and a re-run with a higher limit completes", async () => {
  const path = await writeTemp(
    'id,lane,qty,note\n1,a,1,x\n2,a,1,x"y\n3,a,1,x\n4,a\n5,a,1,x\n6,a,1,"x\n',
  );
  const { table, rejects, args, cleanUp } = await setUp(
    "malformed_max",
    path,
  );
  try {
    const stopped = await runCli(args(2, "--max-rejects", "1"));
    assert.equal(stopped.code, 2, stopped.stderr);
    assert.match(
      stopped.stderr,
      /:5: more than 1 records rejected \(--max-rejects 1\)/,
    );
    assert.deepEqual(
      (await sql(`select id from ${table} order by id`)).map((r) => r.id),
      [1],
    );
    const header = "id,lane,qty,note\n";
    assert.equal(await Deno.readTextFile(rejects), `${header}2,a,1,x"y\n`);
    const finished = await runCli(args(2, "--max-rejects", "5"));
    assert.equal(finished.code, 3, finished.stderr);
    assert.deepEqual(
      (await sql(`select id from ${table} order by id`)).map((r) => r.id),
      [1, 3, 5],
    );
    assert.equal(
      await Deno.readTextFile(rejects),
      `${header}2,a,1,x"y\n4,a\n6,a,1,"x\n`,
    );
  } finally {
    await sql(`drop table if exists ${table}`);
    await cleanUp();
  }
});

Deno.test("ingest --reject-file on the embedded database rejects malformed records too, and a last batch of rejects alone commits", async () => {
  const dataDir = await Deno.makeTempDir();
  const path = await writeTemp('id,n\n1,5\n2,x\n3,"7\n\n4,\n');
  const rejects = `${dataDir}/rejects.csv`;
  try {
    const result = await runEmbedded(dataDir, [
      "ingest",
      path,
      "--table",
      "t",
      "--create",
      "--reject-file",
      rejects,
      "--json",
    ]);
    assert.equal(result.code, 3, result.stderr);
    const summary = JSON.parse(result.stdout);
    assert.deepEqual([summary.rows, summary.rejected], [2, 1]);
    assert.equal(await Deno.readTextFile(rejects), 'id,n\n3,"7\n\n4,\n');
    const log = JSON.parse(await Deno.readTextFile(`${rejects}.log`));
    assert.deepEqual(
      [log.kind, log.line, log.error_line, log.column],
      ["malformed", 4, 4, 3],
    );
  } finally {
    await Deno.remove(path);
    await removeDataDir(dataDir);
  }
});

Deno.test("a batch whose COMMIT fails after its rejects were written: the re-run writes them once", async () => {
  const input = await writeInput(40, "csv");
  const { path, good, bad } = input;
  const { url, table, meta, rejects, args, cleanUp } = await setUp(
    "malformed_commit",
    path,
  );
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
  try {
    const failed = await runCli(args(5));
    assert.equal(failed.code, 1, failed.stderr);
    assert.match(failed.stderr, /failing the commit of record 33/);
    const written = (await Deno.readTextFile(`${rejects}.log`)).trim()
      .split("\n").length;
    const [progress] = await sql(
      `select byte_offset::int as at from ${meta}.progress`,
    );
    const log = await readRejectLog(rejects);
    assert.ok(
      log.some((entry) => entry.start_offset >= (progress.at as number)),
      "no reject of the failed batch was written",
    );
    await sql(`delete from ${table}_fail`);
    const resumed = await runCli(args(5));
    assert.equal(resumed.code, 3, resumed.stderr);
    await assertGoodRowsOnce(table, good);
    await assertRejects(rejects, input);
    assert.ok(bad.length > written);
  } finally {
    await sql(`drop table if exists ${table}, ${table}_fail`);
    await sql(`drop function if exists ${table}_fail()`);
    await cleanUp();
  }
});
