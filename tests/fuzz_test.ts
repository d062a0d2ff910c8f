/**
 * Fuzzing the whole ingest through the CLI, against the real server: a
 * valid generated CSV or NDJSON file whose first batches are good, then
 * random byte mutations placed after them (flips, inserted quotes, commas,
 * line breaks, 0xff, NUL, cut multibyte sequences, truncation, duplicated
 * or deleted bytes). Whatever the bytes, a run ends in success or in one
 * located error (exit 0 or 2), never an unhandled exception or a stack
 * trace, and the committed part is exactly the batches before the bad
 * record: a re-run with one record per batch commits the records of the
 * failing batch that came before the bad one, and stops at the same error.
 *
 * Seeded: the seed is printed, and `FUZZ_SEED=n` replays it.
 *
 * @module
 */

import assert from "node:assert/strict";
import fc from "fast-check";
import { parse } from "csv-parse/sync";
// @ts-types="@types/pg"
import pg from "pg";
import { databaseUrl, ingestArgs, runCli, scratchTable } from "./_helpers.ts";

const SEED = Number(
  Deno.env.get("FUZZ_SEED") ?? Math.floor(Math.random() * 2 ** 31),
);

/** Multiplies the runs, for a longer search: `FUZZ_SCALE=20`. */
const SCALE = Number(Deno.env.get("FUZZ_SCALE") ?? 1);

const encoder = new TextEncoder();

/** How a run ended. */
type Outcome = "loaded" | "malformed" | "rejected";

/** A generated record: `w` is text, or an integer's text in typed tables. */
interface Record3 {
  id: number;
  v: string | null;
  w: string | null;
}

/** A file to load: its good part, and the mutations after it. */
interface Scenario {
  format: "csv" | "ndjson";
  /** Typed columns (`id int`, `w int`): values can be rejected by the server. */
  typed: boolean;
  batchSize: number;
  /** Full batches of good records, never touched by a mutation. */
  fullBatches: number;
  records: Record3[];
  /** CSV: every field quoted, or only those that need it. */
  quoteAll: boolean;
  lineEnd: "\n" | "\r\n";
  /** The last record ends with a line break. */
  finalLineEnd: boolean;
  mutations: Mutation[];
  codec: "wasm" | "ts";
  stdin: boolean;
}

type Mutation =
  | { kind: "flip"; at: number; bit: number }
  | { kind: "insert"; at: number; bytes: number[] }
  | { kind: "duplicate"; at: number; length: number }
  | { kind: "delete"; at: number; length: number }
  | { kind: "truncate"; at: number };

/**
 * Bytes a mutation inserts: framing characters, broken UTF-8, and
 * characters that keep a record well formed but may turn a number into
 * something an int column rejects.
 */
const INSERTS: number[][] = [
  '"',
  ",",
  "\n",
  "\r",
  "\r\n",
  '""',
  "{",
  "}",
  ":",
  "\\",
  ".",
  "e",
  "a",
  "7",
  "-",
  " ",
].map((text) => [...encoder.encode(text)]).concat([
  [0xff],
  [0x00],
  [0xc3],
  [0x80],
  [0xe2, 0x82],
  [0xf0, 0x9f, 0x9a],
]);

const textValue = fc.string({
  unit: fc.constantFrom("a", "b", "z", " ", "é", "€", "🚀", ",", '"', "\n"),
  maxLength: 6,
});

/**
 * A record's values. With `wild`, a typed record's `w` is now and then
 * well formed but no integer, for the server to reject.
 */
function recordArb(typed: boolean, wild = false) {
  const integer = fc.integer({ min: -999, max: 999 }).map(String);
  return fc.record({
    v: fc.option(textValue, { freq: 5 }),
    w: fc.option(
      !typed ? textValue : wild
        ? fc.oneof(
          { arbitrary: integer, weight: 6 },
          { arbitrary: fc.constantFrom("1.5", "x1", "99999999999"), weight: 1 },
        )
        : integer,
      { freq: 5 },
    ),
  });
}

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({
    kind: fc.constant("flip" as const),
    at: fc.nat(),
    bit: fc.integer({ min: 0, max: 7 }),
  }),
  fc.record({
    kind: fc.constant("insert" as const),
    at: fc.nat(),
    bytes: fc.constantFrom(...INSERTS),
  }),
  fc.record({
    kind: fc.constant("duplicate" as const),
    at: fc.nat(),
    length: fc.integer({ min: 1, max: 24 }),
  }),
  fc.record({
    kind: fc.constant("delete" as const),
    at: fc.nat(),
    length: fc.integer({ min: 1, max: 4 }),
  }),
  fc.record({ kind: fc.constant("truncate" as const), at: fc.nat() }),
);

function scenarioArb(
  format: "csv" | "ndjson",
  typed: boolean,
): fc.Arbitrary<Scenario> {
  return fc.record({
    batchSize: fc.integer({ min: 2, max: 4 }),
    fullBatches: fc.integer({ min: 2, max: 3 }),
    extra: fc.array(recordArb(typed, true), { minLength: 1, maxLength: 10 }),
    good: fc.array(recordArb(typed), { minLength: 12, maxLength: 12 }),
    quoteAll: fc.boolean(),
    lineEnd: fc.constantFrom("\n" as const, "\r\n" as const),
    finalLineEnd: fc.boolean(),
    // Typed runs also go unmutated now and then: their wild values alone
    // make the server reject rows.
    mutations: fc.array(mutationArb, {
      minLength: typed ? 0 : 1,
      maxLength: 3,
    }),
    codec: fc.constantFrom("wasm" as const, "ts" as const),
    stdin: fc.boolean(),
  }).map((drawn) => {
    const goodCount = drawn.batchSize * drawn.fullBatches;
    const records = [...drawn.good.slice(0, goodCount), ...drawn.extra]
      .map((record, i) => ({ id: i + 1, ...record }));
    return {
      format,
      typed,
      batchSize: drawn.batchSize,
      fullBatches: drawn.fullBatches,
      records,
      quoteAll: drawn.quoteAll,
      lineEnd: drawn.lineEnd,
      finalLineEnd: drawn.finalLineEnd,
      mutations: drawn.mutations,
      codec: drawn.codec,
      stdin: drawn.stdin,
    };
  });
}

function csvField(value: string | null, quoteAll: boolean): string {
  if (value === null) return "";
  if (quoteAll || value === "" || /[",\r\n]/.test(value)) {
    return `"${value.replaceAll('"', '""')}"`;
  }
  return value;
}

function recordText(scenario: Scenario, record: Record3): string {
  if (scenario.format === "ndjson") {
    // A typed record's number is a JSON number, its other text a string.
    const w = scenario.typed && record.w !== null && /^-?\d/.test(record.w)
      ? Number(record.w)
      : record.w;
    return JSON.stringify({ id: record.id, v: record.v, w });
  }
  return [String(record.id), record.v, record.w]
    .map((field) => csvField(field, scenario.quoteAll)).join(",");
}

/** The file's bytes, and where its good part (the full batches) ends. */
function render(scenario: Scenario): {
  bytes: Uint8Array;
  goodEnd: number;
  goodLines: number;
} {
  const end = scenario.lineEnd;
  const header = scenario.format === "csv" ? `id,v,w${end}` : "";
  const texts = scenario.records.map((record) => recordText(scenario, record));
  const goodCount = scenario.batchSize * scenario.fullBatches;
  const good = header + texts.slice(0, goodCount).map((t) => t + end).join("");
  const rest = texts.slice(goodCount).join(end) +
    (scenario.finalLineEnd ? end : "");
  const goodBytes = encoder.encode(good);
  const goodLines = good.split("\n").length - 1;
  const bytes = new Uint8Array([...goodBytes, ...encoder.encode(rest)]);
  return { bytes, goodEnd: goodBytes.length, goodLines };
}

/** Applies the mutations, each at a position at or after `from`. */
function mutate(input: Uint8Array, from: number, mutations: Mutation[]) {
  let bytes = [...input];
  for (const mutation of mutations) {
    const at = from + mutation.at % (bytes.length - from + 1);
    switch (mutation.kind) {
      case "flip":
        if (at < bytes.length) bytes[at] ^= 1 << mutation.bit;
        break;
      case "insert":
        bytes.splice(at, 0, ...mutation.bytes);
        break;
      case "duplicate":
        bytes.splice(at, 0, ...bytes.slice(at, at + mutation.length));
        break;
      case "delete":
        bytes.splice(at, mutation.length);
        break;
      case "truncate":
        bytes = bytes.slice(0, at);
        break;
    }
  }
  return new Uint8Array(bytes);
}

/** csv-parse's records of a CSV text (unquoted empty is NULL), header out. */
function csvReference(text: string): (string | null)[][] {
  const rows: (string | null)[][] = parse(text, {
    relax_column_count: false,
    record_delimiter: ["\r\n", "\n", "\r"],
    skip_empty_lines: true,
    cast: (value: string, context: { quoting: boolean }) =>
      !context.quoting && value === "" ? null : value,
  });
  return rows.slice(1);
}

/** Where a located error is. */
interface Located {
  line: number;
  /** Set for a malformed record, not for a row the server rejected. */
  column?: number;
}

/**
 * Parses stderr as exactly one located error: `name:line:column: reason`
 * for a malformed record, or `name:line: [column "c": ]message (SQLSTATE
 * xxxxx)` with optional detail and hint lines for a rejected row.
 */
function locatedError(stderr: string, name: string): Located {
  const at = name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const malformed = new RegExp(`^lanecopy: ${at}:(\\d+):(\\d+): [^\\n]+\\n$`)
    .exec(stderr);
  if (malformed) {
    return { line: Number(malformed[1]), column: Number(malformed[2]) };
  }
  const rejected = new RegExp(
    `^lanecopy: ${at}:(\\d+): (?:column "[^"\\n]+": )?[^\\n]+ \\(SQLSTATE [0-9A-Z]{5}\\)\\n(?: {2}(?:detail|hint): [^\\n]*\\n)*$`,
  ).exec(stderr);
  assert.ok(rejected, `not one located error:\n${stderr}`);
  return { line: Number(rejected[1]) };
}

/** Asserts no unhandled exception or stack trace reached stderr. */
function assertNoCrash(stderr: string): void {
  assert.ok(!stderr.includes("Uncaught"), `an unhandled exception:\n${stderr}`);
  assert.ok(!/^\s+at /m.test(stderr), `a stack trace:\n${stderr}`);
}

/** The table's state: rows in seq order, and the source's progress. */
async function committed(
  client: pg.Client,
  table: string,
  sourceId: string,
) {
  const rows = (await client.query(
    `select id::text as id, v, w::text as w, lane_seq::int as seq
       from ${table} order by lane_seq`,
  )).rows as (Record3 & { id: string; seq: number })[];
  rows.forEach((row, i) =>
    assert.equal(row.seq, i + 1, "lane seqs are 1..n in order")
  );
  const progress = (await client.query(
    `select rows_committed::int as rows, lines_committed::int as lines, complete
       from lanecopy.progress where source_id = $1`,
    [sourceId],
  )).rows[0] as { rows: number; lines: number; complete: boolean } | undefined;
  return { rows, progress };
}

/** Runs one scenario through the CLI and checks every invariant. */
async function check(
  client: pg.Client,
  scenario: Scenario,
): Promise<Outcome> {
  const { bytes: clean, goodEnd, goodLines } = render(scenario);
  const bytes = mutate(clean, goodEnd, scenario.mutations);
  const table = scratchTable("fuzz");
  const sourceId = `fuzz ${table}`;
  await client.query(
    scenario.typed
      ? `create table ${table} (id int, v text, w int, lane_seq bigint)`
      : `create table ${table} (id text, v text, w text, lane_seq bigint)`,
  );
  const path = await Deno.makeTempFile({ suffix: `.${scenario.format}` });
  try {
    await Deno.writeFile(path, bytes);
    const name = scenario.stdin ? "<stdin>" : path;
    const run = (batchSize: number) =>
      runCli(
        ingestArgs(
          scenario.stdin ? "-" : path,
          table,
          "--source-id",
          sourceId,
          "--batch-size",
          String(batchSize),
          "--flush-ms",
          "600000",
          "--codec",
          scenario.codec,
          "-q",
        ),
        scenario.stdin ? { stdin: bytes } : {},
      );
    const goodCount = scenario.batchSize * scenario.fullBatches;
    const first = await run(scenario.batchSize);
    assertNoCrash(first.stderr);
    assert.ok([0, 2].includes(first.code), `exit ${first.code}`);
    const state = await committed(client, table, sourceId);
    assert.ok(state.progress, "the source has a progress row");
    assert.equal(
      state.progress.rows,
      state.rows.length,
      "the progress row counts the rows",
    );
    assert.ok(state.rows.length >= goodCount, "the good batches committed");
    assert.deepEqual(
      state.rows.slice(0, goodCount).map(({ id, v, w }) => ({ id, v, w })),
      scenario.records.slice(0, goodCount).map(({ id, v, w }) => ({
        id: String(id),
        v,
        w,
      })),
      "the good records loaded as written",
    );
    if (first.code === 0) {
      assert.equal(first.stderr, "", "a success prints nothing with -q");
      assert.equal(state.progress.complete, true);
      assertLikeReference(scenario, bytes, state.rows);
      return "loaded";
    }
    const error = locatedError(first.stderr, name);
    assert.ok(
      error.line > goodLines,
      `the error (line ${error.line}) is after the good part (${goodLines} lines)`,
    );
    assert.equal(state.progress.complete, false);
    assert.ok(
      state.progress.lines < error.line,
      "nothing from the bad record's line on is committed",
    );
    assert.equal(
      state.rows.length % scenario.batchSize,
      0,
      `${state.rows.length} rows committed: whole batches of ${scenario.batchSize} only`,
    );
    // One record per batch: every record before the bad one commits,
    // which must be fewer than a batch past what the first run committed.
    const again = await run(1);
    assertNoCrash(again.stderr);
    assert.equal(again.code, 2, again.stderr);
    if (again.stderr !== first.stderr) {
      // A malformed record fails its batch before the batch is sent, so a
      // row the server rejects earlier in that batch shows only once the
      // batch is one record.
      const earlier = locatedError(again.stderr, name);
      assert.ok(
        error.column !== undefined && earlier.column === undefined &&
          earlier.line <= error.line,
        `a resume stopped at another error:\n${again.stderr}\nthan:\n${first.stderr}`,
      );
    }
    const before = await committed(client, table, sourceId);
    assert.equal(before.progress!.rows, before.rows.length);
    assert.ok(
      before.rows.length >= state.rows.length &&
        before.rows.length < state.rows.length + scenario.batchSize,
      `the first run committed ${state.rows.length} rows, yet ${before.rows.length} records come before the bad one (batch size ${scenario.batchSize})`,
    );
    assert.ok(before.progress!.lines < error.line);
    return error.column === undefined ? "rejected" : "malformed";
  } finally {
    await Deno.remove(path);
    await client.query(`drop table ${table}`);
  }
}

/**
 * A load that succeeded holds what an independent parser reads: csv-parse
 * for CSV (files with a CR are left out: its line ends are detected, not
 * fixed), JSON.parse line by line for NDJSON.
 */
function assertLikeReference(
  scenario: Scenario,
  bytes: Uint8Array,
  rows: { id: string; v: string | null; w: string | null }[],
): void {
  const text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  if (scenario.format === "ndjson") {
    const lines = text.split("\n").filter((line) => /[^ \t\r]/.test(line));
    for (const line of lines) JSON.parse(line);
    assert.equal(rows.length, lines.length, "a row per non-blank line");
    return;
  }
  if (text.includes("\r")) return;
  const expected = csvReference(text);
  if (scenario.typed) {
    assert.equal(rows.length, expected.length, "a row per record");
    return;
  }
  assert.deepEqual(
    rows.map(({ id, v, w }) => [id, v, w]),
    expected,
    "the rows csv-parse reads",
  );
}

async function fuzz(
  format: "csv" | "ndjson",
  typed: boolean,
  numRuns: number,
  seed: number,
): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl() });
  await client.connect();
  const outcomes: Record<Outcome, number> = {
    loaded: 0,
    malformed: 0,
    rejected: 0,
  };
  try {
    await fc.assert(
      fc.asyncProperty(scenarioArb(format, typed), async (scenario) => {
        outcomes[await check(client, scenario)]++;
      }),
      // Each run starts child processes: report the first failure as it is.
      { seed, numRuns: numRuns * SCALE, endOnFailure: true },
    );
  } finally {
    await client.end();
  }
  console.log(
    `${format}${typed ? ", typed" : ""}: ${
      Object.entries(outcomes).map(([k, n]) => `${n} ${k}`).join(", ")
    }`,
  );
}

console.log(`fuzz_test seed ${SEED} (FUZZ_SEED=${SEED} replays it)`);

Deno.test("ingest of mutated CSV into text columns ends in success or one located error, with the batches before it committed", async () => {
  await fuzz("csv", false, 14, SEED);
});

Deno.test("ingest of mutated NDJSON into text columns ends in success or one located error, with the batches before it committed", async () => {
  await fuzz("ndjson", false, 8, SEED + 1);
});

Deno.test("ingest of mutated CSV and NDJSON into typed columns ends in success or one located error, rejected rows included", async () => {
  await fuzz("csv", true, 4, SEED + 2);
  await fuzz("ndjson", true, 4, SEED + 3);
});
