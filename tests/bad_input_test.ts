/**
 * Bad input never half-lands (DESIGN invariant 4), against the real server:
 * every malformed-record kind and every rejected-row kind stops the load
 * with exit 2 at `file:line:column` (or `file:line` and the column), the
 * batches before the bad record's batch stay committed with the progress
 * row saying so, and a re-run after the record is fixed resumes and
 * completes exactly once.
 *
 * Positions in the cases below are counted by hand in the inputs written
 * out beside them.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  DatabaseLoadError,
  ExitCode,
  ingest,
  InputSyntaxError,
  openTarget,
} from "../src/mod.ts";
import {
  ingestArgs,
  runCli,
  scratchTable,
  sql,
  writeTemp,
} from "./_helpers.ts";

/** Rows per batch: the bad record is in the third batch. */
const BATCH_SIZE = 3;

/** A piece of an input: text, or raw bytes (for invalid UTF-8). */
type Piece = string | number[];

const encoder = new TextEncoder();

function bytes(...pieces: Piece[]): Uint8Array {
  const parts = pieces.map((piece) =>
    typeof piece === "string" ? encoder.encode(piece) : new Uint8Array(piece)
  );
  const out = new Uint8Array(parts.reduce((n, part) => n + part.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/**
 * An input laid out as: a head (header and records 1..7, records 1..6
 * making two full batches), the bad record 8 (or its fixed version), then
 * a tail (records 9 and 10).
 */
interface Layout {
  /** The file's extension. */
  suffix: string;
  /** The target table's columns. */
  ddl: string;
  /** What comes before record 7: the committed prefix. */
  committed: string;
  /** Record 7: in the bad record's batch, so never committed. */
  seventh: string;
  /** Records 9 and 10. */
  tail: string;
  /** Record 8 as it is once fixed. */
  fixed: string;
  /** The committed prefix's physical lines (its last record's line). */
  committedLines: number;
  /** Physical lines of the whole fixed input. */
  fixedLines: number;
}

/**
 * CSV, lines counted by hand:
 * ```
 *  1  id,v,w
 *  2  1,a,x
 *  3  2,"two
 *  4  lines",x
 *  5  3,é,ü
 *  6  4,"🚀,q",x
 *  7  5,,
 *  8  6,"six ""q""",x
 *  9  7,"seven
 * 10  spans",x
 * 11  record 8 (the bad one)
 * 12  9,nine,x
 * 13  10,ten,y
 * ```
 */
const CSV: Layout = {
  suffix: ".csv",
  ddl: "(id int, v text, w text)",
  committed: 'id,v,w\n1,a,x\n2,"two\nlines",x\n3,é,ü\n4,"🚀,q",x\n5,,\n' +
    '6,"six ""q""",x\n',
  seventh: '7,"seven\nspans",x\n',
  tail: "9,nine,x\n10,ten,y\n",
  fixed: "8,ü€,fixed\n",
  committedLines: 8,
  fixedLines: 13,
};

/**
 * NDJSON, lines counted by hand (line 2 is blank; line 6's newline is an
 * escape, so it is one line):
 * ```
 *  1  {"id":1,"v":"a"}
 *  2
 *  3  {"id":2,"v":"ü€","w":null}
 *  4  {"id":3,"v":"🚀"}
 *  5  {"id":4}
 *  6  {"id":5,"w":"x\ny"}
 *  7  {"id":6,"v":"six"}
 *  8  {"id":7,"v":"seven"}
 *  9  record 8 (the bad one)
 * 10  {"id":9}
 * 11  {"id":10}
 * ```
 */
const NDJSON: Layout = {
  suffix: ".ndjson",
  ddl: "(id int, v text, w text)",
  committed: '{"id":1,"v":"a"}\n\n{"id":2,"v":"ü€","w":null}\n' +
    '{"id":3,"v":"🚀"}\n{"id":4}\n{"id":5,"w":"x\\ny"}\n{"id":6,"v":"six"}\n',
  seventh: '{"id":7,"v":"seven"}\n',
  tail: '{"id":9}\n{"id":10}\n',
  fixed: '{"id":8,"v":"ü€","w":"fixed"}\n',
  committedLines: 7,
  fixedLines: 11,
};

/** A malformed record 8, where the codec must place it, and why. */
interface MalformedCase {
  /** What is wrong. */
  name: string;
  /** Record 8's bytes (the tail follows unless `last`). */
  bad: Piece[];
  /** Nothing follows the bad record: it runs to the end of input. */
  last?: boolean;
  /** `line:column`, counted by hand. */
  at: string;
  /** The reason's gist. */
  reason: RegExp;
}

/**
 * CSV record 8 variants. Every one has two multibyte characters (`ü`, 2
 * bytes; `€`, 3 bytes) before the error on its line, so a column counted
 * in bytes would be off by 3.
 */
const CSV_CASES: MalformedCase[] = [
  {
    // 8 , ü € , "  -> the quote opening at column 6 is never closed
    name: "an unterminated quote at the end of input",
    bad: ['8,ü€,"open\n9,nine,x\n10,ten,y\n'],
    last: true,
    at: "11:6",
    reason: /quoted field is not closed before the end of input/,
  },
  {
    // 8 , ü € , a b "  -> column 8
    name: "a stray quote inside an unquoted field",
    bad: ['8,ü€,ab"c\n'],
    at: "11:8",
    reason: /a quote inside an unquoted field/,
  },
  {
    // 8 , ü € , " a b " c  -> column 10
    name: "text after a closing quote",
    bad: ['8,ü€,"ab"c\n'],
    at: "11:10",
    reason: /a character after a closing quote/,
  },
  {
    // line 12: b " c  -> column 3, on the record's second line
    name: "text after a closing quote on the record's second line",
    bad: ['8,ü€,"a\nb"c\n'],
    at: "12:3",
    reason: /a character after a closing quote/,
  },
  {
    // 8 , ü €  -> the line ends at column 5 with 2 fields of 3
    name: "too few fields",
    bad: ["8,ü€\n"],
    at: "11:5",
    reason: /expected 3 fields, found 2/,
  },
  {
    // 8 , ü € , w , e  -> field 4 starts at column 8
    name: "too many fields",
    bad: ["8,ü€,w,extra\n"],
    at: "11:8",
    reason: /expected 3 fields, found more \(field 4 starts here\)/,
  },
  {
    // 8 , ü € , a 0xff  -> column 7
    name: "invalid UTF-8: a lone 0xff byte",
    bad: ["8,ü€,a", [0xff], "b\n"],
    at: "11:7",
    reason: /invalid UTF-8/,
  },
  {
    // 8 , ü € , a E2 82  -> the 3-byte sequence cut short starts at column 7
    name: "invalid UTF-8: a truncated multibyte sequence",
    bad: ["8,ü€,a", [0xe2, 0x82], "b\n"],
    at: "11:7",
    reason: /invalid UTF-8/,
  },
  {
    // the input ends inside a 4-byte sequence at column 7
    name: "invalid UTF-8: the input ends inside a multibyte sequence",
    bad: ["8,ü€,a", [0xf0, 0x9f, 0x9a]],
    last: true,
    at: "11:7",
    reason: /invalid UTF-8/,
  },
  {
    // 8 , ü € , a 0x00  -> column 7
    name: "a NUL byte",
    bad: ["8,ü€,a", [0x00], "b\n"],
    at: "11:7",
    reason: /a NUL byte \(0x00\), which PostgreSQL text cannot hold/,
  },
];

/**
 * NDJSON record 8 variants, each on line 9. Columns count code points:
 * `{"id":8,"v":"ü€"` is 16 of them, `ü` at 14 and `€` at 15.
 */
const NDJSON_CASES: MalformedCase[] = [
  {
    // ... " (16) space (17) " (18)
    name: "invalid JSON: a missing comma",
    bad: ['{"id":8,"v":"ü€" "w":"x"}\n'],
    at: "9:18",
    reason: /expected , or \}, found a quote/,
  },
  {
    // ... " (16) , (17) } (18)
    name: "invalid JSON: a trailing comma",
    bad: ['{"id":8,"v":"ü€",}\n'],
    at: "9:18",
    reason: /expected a key, found "\}"/,
  },
  {
    // ... € (15) and the line ends at 16
    name: "invalid JSON: a string the line ends in",
    bad: ['{"id":8,"v":"ü€\n'],
    at: "9:16",
    reason: /the line ends before the object is closed/,
  },
  {
    // ... , (17) " w " : (18-21) n u l (22-24) } (25)
    name: "invalid JSON: a misspelt literal",
    bad: ['{"id":8,"v":"ü€","w":nul}\n'],
    at: "9:25",
    reason: /expected "null", found "\}"/,
  },
  {
    // { " v " : " ü € " , " i d " : 0 8  -> the 8 after the 0 is column 17
    name: "invalid JSON: a number with a leading zero",
    bad: ['{"v":"ü€","id":08}\n'],
    at: "9:17",
    reason: /a number starts with 0 and another digit/,
  },
  {
    // ... € (15) \ (16) q (17)
    name: "invalid JSON: an invalid escape",
    bad: ['{"id":8,"v":"ü€\\q"}\n'],
    at: "9:17",
    reason: /invalid escape \\q/,
  },
  {
    // ... € (15) TAB (16)
    name: "invalid JSON: a raw control character in a string",
    bad: ['{"id":8,"v":"ü€\t"}\n'],
    at: "9:16",
    reason: /control character U\+0009/,
  },
  {
    // ... " (16) } (17) } (18)
    name: "invalid JSON: text after the object",
    bad: ['{"id":8,"v":"ü€"}}\n'],
    at: "9:18",
    reason: /expected the end of the line after the object, found "\}"/,
  },
  {
    // the input ends after the 16th code point
    name: "invalid JSON: the input ends inside the object",
    bad: ['{"id":8,"v":"ü€"'],
    last: true,
    at: "9:17",
    reason: /the input ends before the object is closed/,
  },
  {
    name: "a line that is an array, not an object",
    bad: ['["ü€"]\n'],
    at: "9:1",
    reason: /expected a JSON object, found "\["/,
  },
  {
    name: "a line that is a string, not an object",
    bad: ['"ü€"\n'],
    at: "9:1",
    reason: /expected a JSON object, found a quote/,
  },
  {
    // ... " (16) , (17) "color" from 18
    name: "an unknown key",
    bad: ['{"id":8,"v":"ü€","color":"red"}\n'],
    at: "9:18",
    reason: /key "color" is not a column \(columns: id, v, w\)/,
  },
  {
    // ... , (17) "a\nb\u0007" from 18: named escaped, on one line
    name: "an unknown key holding a line break and a control character",
    bad: ['{"id":8,"v":"ü€","a\\nb\\u0007":1}\n'],
    at: "9:18",
    reason: /^Cannot parse record: key "a\\nb\\u0007" is not a column/,
  },
  {
    // ... , (17) the second "v" from 18
    name: "a duplicate key",
    bad: ['{"id":8,"v":"ü€","v":"again"}\n'],
    at: "9:18",
    reason: /key "v" appears twice/,
  },
  {
    // ... € (15) 0xff (16)
    name: "invalid UTF-8: a lone 0xff byte",
    bad: ['{"id":8,"v":"ü€', [0xff], '"}\n'],
    at: "9:16",
    reason: /invalid UTF-8/,
  },
  {
    // ... € (15) \ u 0 0 0 (16-20) 0 (21)
    name: "a NUL character escaped in a string",
    bad: ['{"id":8,"v":"ü€\\u0000"}\n'],
    at: "9:21",
    reason: /\\u0000 in a string, a NUL character/,
  },
];

function named(cases: MalformedCase[], name: string): MalformedCase {
  const found = cases.find((item) => item.name === name);
  if (found === undefined) throw new Error(`No case named ${name}`);
  return found;
}

/** The default source id of a file loaded into `public.<table>`. */
async function sourceIdOf(path: string, table: string): Promise<string> {
  return `${await Deno.realPath(path)} -> public.${table}`;
}

/** What the bookkeeping and the table hold after a load. */
interface Committed {
  /** Rows committed: ids 1..rows, each once. */
  rows: number;
  /** The progress row's lines. */
  lines: number;
  /** The progress row's byte offset. */
  bytes: number;
  /** Whether the source is complete. */
  complete: boolean;
}

/**
 * Asserts the table holds ids 1..rows exactly once (rows with an id below
 * 1 are ignored: they were there before), and that the source's progress
 * row and the default lane's counter say the same.
 */
async function assertCommitted(
  table: string,
  sourceId: string,
  expected: Committed,
): Promise<void> {
  const [state] = await sql(
    `select count(*)::int as rows, count(distinct id)::int as ids,
            coalesce(max(id), 0)::int as max
       from ${table} where id >= 1`,
  );
  assert.deepEqual(
    state,
    { rows: expected.rows, ids: expected.rows, max: expected.rows },
    `the table holds ids 1..${expected.rows}, each once`,
  );
  const progress = await sql(
    `select byte_offset::int as bytes, rows_committed::int as rows,
            lines_committed::int as lines, complete
       from lanecopy.progress where source_id = $1`,
    [sourceId],
  );
  assert.deepEqual(progress, [{
    bytes: expected.bytes,
    rows: expected.rows,
    lines: expected.lines,
    complete: expected.complete,
  }], "the progress row");
  const lanes = await sql(
    `select lane, row_count::int as rows, next_seq::int as next
       from lanecopy.lanes where target = $1`,
    [`public.${table}`],
  );
  assert.deepEqual(
    lanes,
    [{ lane: "default", rows: expected.rows, next: expected.rows + 1 }],
    "the lane counter",
  );
}

/**
 * Asserts a failed run printed exactly one located error on stderr (no
 * stack trace) and returns its reason.
 */
function locatedReason(
  result: { code: number; stderr: string },
  where: string,
): string {
  assert.equal(result.code, 2, result.stderr);
  const match = new RegExp(`^lanecopy: ${escapeRegExp(where)}: (.+)\\n$`).exec(
    result.stderr,
  );
  assert.ok(match, `expected one error at ${where}, got:\n${result.stderr}`);
  return match[1];
}

/** A load of `path` into `table`, `BATCH_SIZE` rows a batch, then `extra`. */
function batchedArgs(path: string, table: string, extra: string[] = []) {
  return ingestArgs(path, table, "--batch-size", String(BATCH_SIZE), ...extra);
}

/**
 * Runs one malformed case on a file with each codec, then fixes record 8
 * in the file and re-runs: the re-run resumes after the committed prefix
 * and completes exactly once.
 */
async function checkMalformedFile(layout: Layout, item: MalformedCase) {
  const head = layout.committed + layout.seventh;
  const committedBytes = encoder.encode(layout.committed).length;
  const input = bytes(head, ...item.bad, item.last ? "" : layout.tail);
  const path = await writeTemp(input, layout.suffix);
  // Both codecs at once, each into its own table: the same error from each.
  const [table] = await Promise.all(["wasm", "ts"].map(async (codec) => {
    const table = scratchTable("bad");
    await sql(`create table ${table} ${layout.ddl}`);
    const result = await runCli(
      batchedArgs(path, table, ["--codec", codec, "-q"]),
    );
    const reason = locatedReason(result, `${path}:${item.at}`);
    assert.match(reason, item.reason, `codec ${codec}`);
    await assertCommitted(table, await sourceIdOf(path, table), {
      rows: 2 * BATCH_SIZE,
      lines: layout.committedLines,
      bytes: committedBytes,
      complete: false,
    });
    return table;
  }));
  const fixed = head + layout.fixed + layout.tail;
  await Deno.writeTextFile(path, fixed);
  const rerun = await runCli(batchedArgs(path, table, ["--json"]));
  assert.equal(rerun.code, 0, rerun.stderr);
  assert.match(
    rerun.stderr,
    new RegExp(
      `has ${
        2 * BATCH_SIZE
      } rows committed up to byte ${committedBytes}: .*resuming`,
    ),
  );
  const summary = JSON.parse(rerun.stdout);
  assert.equal(summary.resumedAt, committedBytes);
  assert.equal(summary.rows, 10 - 2 * BATCH_SIZE, "only the rest is loaded");
  await assertCommitted(table, await sourceIdOf(path, table), {
    rows: 10,
    lines: layout.fixedLines,
    bytes: encoder.encode(fixed).length,
    complete: true,
  });
  await Deno.remove(path);
}

Deno.test("ingest stops at each malformed CSV record with file:line:column, commits the batches before it, and resumes once it is fixed", async (t) => {
  for (const item of CSV_CASES) {
    await t.step(item.name, () => checkMalformedFile(CSV, item));
  }
});

Deno.test("ingest stops at each malformed NDJSON record with file:line:column, commits the batches before it, and resumes once it is fixed", async (t) => {
  for (const item of NDJSON_CASES) {
    await t.step(item.name, () => checkMalformedFile(NDJSON, item));
  }
});

Deno.test("ingest names standard input <stdin> in a malformed record's position, and resumes it by --source-id", async (t) => {
  const cases: [string, Layout, MalformedCase][] = [
    ["CSV", CSV, named(CSV_CASES, "a stray quote inside an unquoted field")],
    ["NDJSON", NDJSON, named(NDJSON_CASES, "an unknown key")],
  ];
  for (const [format, layout, item] of cases) {
    await t.step(`${format}: ${item.name}`, async () => {
      const table = scratchTable("stdin_bad");
      const sourceId = `stdin ${table}`;
      await sql(`create table ${table} ${layout.ddl}`);
      const head = layout.committed + layout.seventh;
      const args = batchedArgs("-", table, ["--source-id", sourceId]);
      const result = await runCli([...args, "-q"], {
        stdin: bytes(head, ...item.bad, layout.tail),
      });
      const reason = locatedReason(result, `<stdin>:${item.at}`);
      assert.match(reason, item.reason);
      const committedBytes = encoder.encode(layout.committed).length;
      await assertCommitted(table, sourceId, {
        rows: 2 * BATCH_SIZE,
        lines: layout.committedLines,
        bytes: committedBytes,
        complete: false,
      });
      const fixed = head + layout.fixed + layout.tail;
      const rerun = await runCli([...args, "--json"], { stdin: fixed });
      assert.equal(rerun.code, 0, rerun.stderr);
      assert.equal(JSON.parse(rerun.stdout).rows, 10 - 2 * BATCH_SIZE);
      await assertCommitted(table, sourceId, {
        rows: 10,
        lines: layout.fixedLines,
        bytes: encoder.encode(fixed).length,
        complete: true,
      });
    });
  }
});

/** A record 8 the server rejects, and what the error must name. */
interface RejectedCase {
  /** What the server rejects. */
  name: string;
  /** Record 8 in CSV (`id,v,n`). */
  bad: string;
  /** The `column "…": ` part after `file:line: `, when the server names one. */
  column?: string;
  /** The server's message. */
  message: RegExp;
  /** The SQLSTATE. */
  code: string;
  /** The server's detail, when it sends one. */
  detail?: RegExp;
}

/**
 * The target for rejected rows: an int, a NOT NULL varchar(3) with a
 * CHECK, a primary key. Row 0 is there before the load.
 */
const REJECT_DDL = "(id int primary key, " +
  "v varchar(3) not null constraint v_not_bad check (v <> 'bad'), n int)";

/**
 * CSV whose record 8 (line 11) is the third batch's second row, so the
 * server names COPY line 2 and the error must name source line 11:
 * ```
 *  1  id,v,n
 *  2  1,a,1
 *  3  2,"b
 *  4  c",2
 *  5  3,é,3
 *  6  4,d,4
 *  7  5,e,5
 *  8  6,f,6
 *  9  7,"g
 * 10  h",7
 * 11  record 8
 * 12  9,i,9
 * 13  10,j,10
 * ```
 */
const REJECT_CSV = {
  head: 'id,v,n\n1,a,1\n2,"b\nc",2\n3,é,3\n4,d,4\n5,e,5\n6,f,6\n7,"g\nh",7\n',
  tail: "9,i,9\n10,j,10\n",
  fixed: "8,ok,8\n",
};

const REJECTED_CASES: RejectedCase[] = [
  {
    name: "a value that is not an integer",
    bad: "8,ok,xx\n",
    column: "n",
    message: /invalid input syntax for type integer: "xx"/,
    code: "22P02",
  },
  {
    // Quoted as the server echoes it, with the line break escaped.
    name: "a value with a line break that is not an integer",
    bad: '8,ok,"x\ny"\n',
    column: "n",
    message: /invalid input syntax for type integer: "x\\ny"/,
    code: "22P02",
  },
  {
    name: "a NULL in a NOT NULL column",
    bad: "8,,8\n",
    column: "v",
    message:
      /null value in column "v" of relation "\w+" violates not-null constraint/,
    code: "23502",
    detail: /Failing row contains \(8, null, 8\)/,
  },
  {
    name: "a CHECK violation",
    bad: "8,bad,8\n",
    message: /new row for relation "\w+" violates check constraint "v_not_bad"/,
    code: "23514",
    detail: /Failing row contains \(8, bad, 8\)/,
  },
  {
    name: "a duplicate of a row already in the table",
    bad: "0,ok,8\n",
    message: /duplicate key value violates unique constraint "\w+_pkey"/,
    code: "23505",
    detail: /Key \(id\)=\(0\) already exists/,
  },
  {
    name: "a value too long for varchar(3)",
    bad: "8,ü€ab,8\n",
    column: "v",
    message: /value too long for type character varying\(3\)/,
    code: "22001",
  },
];

Deno.test("ingest names the file, the record's first line, the column, the server's message and SQLSTATE of each rejected row, and keeps earlier batches", async (t) => {
  for (const item of REJECTED_CASES) {
    await t.step(item.name, async () => {
      const table = scratchTable("rejected");
      await sql(`create table ${table} ${REJECT_DDL}`);
      await sql(`insert into ${table} values (0, 'old', 0)`);
      const path = await writeTemp(
        REJECT_CSV.head + item.bad + REJECT_CSV.tail,
      );
      const result = await runCli(batchedArgs(path, table, ["-q"]));
      assert.equal(result.code, 2, result.stderr);
      const [first, ...rest] = result.stderr.trimEnd().split("\n");
      const prefix = `lanecopy: ${path}:11: ` +
        (item.column ? `column "${item.column}": ` : "");
      assert.ok(first.startsWith(prefix), `${prefix}…\nin ${first}`);
      assert.match(first.slice(prefix.length), item.message);
      assert.ok(first.endsWith(` (SQLSTATE ${item.code})`), first);
      for (const line of rest) assert.match(line, /^ {2}(detail|hint): /);
      if (item.detail) {
        assert.match(rest.join("\n"), item.detail);
      }
      assert.ok(!/\n\s+at /.test(result.stderr), "no stack trace");
      const sourceId = await sourceIdOf(path, table);
      const committedBytes = encoder.encode(
        'id,v,n\n1,a,1\n2,"b\nc",2\n3,é,3\n4,d,4\n5,e,5\n6,f,6\n',
      ).length;
      await assertCommitted(table, sourceId, {
        rows: 2 * BATCH_SIZE,
        lines: 8,
        bytes: committedBytes,
        complete: false,
      });
      assert.deepEqual(
        await sql(`select v from ${table} where id = 0`),
        [{ v: "old" }],
      );
      const fixed = REJECT_CSV.head + REJECT_CSV.fixed + REJECT_CSV.tail;
      await Deno.writeTextFile(path, fixed);
      const rerun = await runCli(batchedArgs(path, table, ["--json"]));
      assert.equal(rerun.code, 0, rerun.stderr);
      assert.equal(JSON.parse(rerun.stdout).rows, 10 - 2 * BATCH_SIZE);
      await assertCommitted(table, sourceId, {
        rows: 10,
        lines: 13,
        bytes: encoder.encode(fixed).length,
        complete: true,
      });
      await Deno.remove(path);
    });
  }
});

Deno.test("ingest names the source line of an NDJSON value the server rejects, after a blank line", async () => {
  const table = scratchTable("rejected_nd");
  await sql(`create table ${table} ${REJECT_DDL}`);
  // Line 9 holds record 8 (line 2 is blank): COPY line 2 of batch 3.
  const committed =
    '{"id":1,"v":"a"}\n\n{"id":2,"v":"ü€"}\n{"id":3,"v":"c"}\n' +
    '{"id":4,"v":"d"}\n{"id":5,"v":"e"}\n{"id":6,"v":"f"}\n';
  const path = await writeTemp(
    committed +
      '{"id":7,"v":"g"}\n{"id":8,"v":"h","n":"xx"}\n{"id":9,"v":"i"}\n',
    ".ndjson",
  );
  const result = await runCli(batchedArgs(path, table, ["-q"]));
  assert.equal(result.code, 2, result.stderr);
  assert.equal(
    result.stderr,
    `lanecopy: ${path}:9: column "n": invalid input syntax for type integer: "xx" (SQLSTATE 22P02)\n`,
  );
  await assertCommitted(table, await sourceIdOf(path, table), {
    rows: 2 * BATCH_SIZE,
    lines: 7,
    bytes: encoder.encode(committed).length,
    complete: false,
  });
  await Deno.remove(path);
});

Deno.test("ingest() into the embedded database fails at a malformed record and at a rejected row with their positions, keeps earlier batches, and resumes", async () => {
  const dataDir = await Deno.makeTempDir();
  const target = await openTarget({ db: "", dataDir });
  const load = (path: string, table: string) =>
    ingest({ source: path, table, batchSize: BATCH_SIZE, target });
  const committedIds = async (table: string, sourceId: string) => {
    const { rows } = await target.query(
      `select array(select id from ${table} where id >= 1 order by id) as ids,
              p.rows_committed::int as rows, p.lines_committed::int as lines,
              p.byte_offset::int as bytes
         from lanecopy.progress p where p.source_id = $1`,
      [sourceId],
    );
    return rows;
  };
  try {
    // A malformed record: too many fields, field 4 at 11:8.
    const head = CSV.committed + CSV.seventh;
    const path = await writeTemp(head + "8,ü€,w,extra\n" + CSV.tail);
    await target.query(`create table framing ${CSV.ddl}`);
    const error = await load(path, "framing").then(
      () => assert.fail("the load succeeded"),
      (error) => error,
    );
    assert.ok(error instanceof InputSyntaxError, String(error));
    assert.deepEqual(
      [error.source, error.line, error.column],
      [path, 11, 8],
    );
    assert.match(error.reason, /expected 3 fields, found more/);
    const sourceId = await sourceIdOf(path, "framing");
    assert.deepEqual(await committedIds("framing", sourceId), [{
      ids: [1, 2, 3, 4, 5, 6],
      rows: 6,
      lines: CSV.committedLines,
      bytes: encoder.encode(CSV.committed).length,
    }]);
    await Deno.writeTextFile(path, head + CSV.fixed + CSV.tail);
    const summary = await load(path, "framing");
    assert.equal(summary.rows, 4);
    assert.equal(summary.resumedAt, encoder.encode(CSV.committed).length);
    assert.deepEqual(
      (await committedIds("framing", sourceId))[0].ids,
      [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
    );

    // A rejected row: too long for varchar(3) on line 11 (COPY line 2).
    const rejectPath = await writeTemp(
      REJECT_CSV.head + "8,ü€ab,8\n" + REJECT_CSV.tail,
    );
    await target.query(`create table rejects ${REJECT_DDL}`);
    const rejected = await load(rejectPath, "rejects").then(
      () => assert.fail("the load succeeded"),
      (error) => error,
    );
    assert.ok(rejected instanceof DatabaseLoadError, String(rejected));
    assert.deepEqual(
      [rejected.source, rejected.line, rejected.columnName, rejected.code],
      [rejectPath, 11, "v", "22001"],
    );
    assert.match(
      rejected.message,
      /^[^\n]+:11: column "v": value too long for type character varying\(3\)/,
    );
    assert.deepEqual(
      (await committedIds("rejects", await sourceIdOf(rejectPath, "rejects")))
        .map((row) => row.ids),
      [[1, 2, 3, 4, 5, 6]],
    );
    await Deno.remove(path);
    await Deno.remove(rejectPath);
  } finally {
    await target.close();
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("ingest --help lists every exit code of the design's table", async () => {
  const result = await runCli(["ingest", "--help"]);
  assert.equal(result.code, 0, result.stderr);
  const section = /\nExit codes:\n((?: {2}.*\n)+)/.exec(result.stdout);
  assert.ok(section, "ingest --help has an Exit codes section");
  const codes = [...section[1].matchAll(/^ {2}(\d+(?:, \d+)*) /gm)]
    .flatMap((match) => match[1].split(", ").map(Number));
  // 3 (rejects written) belongs to --reject-file: listed once that exists.
  const required = [0, 1, 2, 4, 130, 143];
  assert.deepEqual(
    codes.filter((code) => code !== ExitCode.Rejects),
    required,
    `the exit codes in ingest --help: ${codes.join(", ")}`,
  );
  assert.deepEqual(
    [...new Set([...required, ExitCode.Rejects])].sort((a, b) => a - b),
    Object.values(ExitCode).sort((a, b) => a - b),
    "the design's table is ExitCode",
  );
  const meanings = section[1];
  assert.match(meanings, /^ {2}2 {2}bad input or a row the server rejected/m);
  assert.match(meanings, /batches before it stay committed/);
});
