import assert from "node:assert/strict";
import { RejectFile } from "../src/write/reject_file.ts";
import {
  embeddedRows,
  removeDataDir,
  runCli,
  runEmbedded,
  scratchLoad,
  sql,
  writeTemp,
} from "./_helpers.ts";
import { readRejectLog } from "./_loader.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The header line: a quoted name and a CRLF, kept byte for byte. */
const HEADER = 'id,"region",qty\r\n';

/**
 * The input, piece by piece: blank lines, good records, and bad ones
 * (malformed, or rejected by the server) with what fixes each.
 */
const PIECES: { text: string; fixed?: string }[] = [
  // The first record after the header: its range starts past the header.
  { text: "1,emea,x\r\n", fixed: "1,emea,1\r\n" },
  { text: "2,apac,2\n" },
  { text: "\n" },
  { text: "3,emea\n", fixed: "3,emea,3\n" }, // too few fields
  { text: '4,"amer\nwest",4\n' },
  { text: "\r\n" },
  { text: "5,emea,-1\n", fixed: "5,emea,5\n" }, // the CHECK
  { text: '6,em"ea,6\n', fixed: "6,emea,6\n" }, // a stray quote
  { text: '7,"two\nlines",y\n', fixed: '7,"two\nlines",7\n' },
  { text: "8,apac,8\n" },
  // The last record, without a line break: the reject file adds one.
  { text: "9,emea,9,extra", fixed: "9,emea,9\n" },
];

const ROWS = [
  { id: 1, region: "emea", qty: 1 },
  { id: 2, region: "apac", qty: 2 },
  { id: 3, region: "emea", qty: 3 },
  { id: 4, region: "amer\nwest", qty: 4 },
  { id: 5, region: "emea", qty: 5 },
  { id: 6, region: "emea", qty: 6 },
  { id: 7, region: "two\nlines", qty: 7 },
  { id: 8, region: "apac", qty: 8 },
  { id: 9, region: "emea", qty: 9 },
];

const TABLE_COLUMNS =
  "(id int primary key, region text, qty int check (qty >= 0))";

/**
 * The source's text (`header`, `lead`, then the pieces), and its bad
 * records with their byte ranges in it.
 */
function input(header = HEADER, lead = "") {
  let text = header + lead;
  const bad: { text: string; fixed: string; start: number; end: number }[] = [];
  for (const piece of PIECES) {
    const start = encoder.encode(text).length;
    text += piece.text;
    if (piece.fixed !== undefined) {
      const end = encoder.encode(text).length;
      bad.push({ text: piece.text, fixed: piece.fixed, start, end });
    }
  }
  return { text, bad };
}

/**
 * Every logged offset holds its record: the source's bytes between
 * `start_offset` and `end_offset`, and the reject file's at `reject_offset`,
 * are the bad record's.
 */
async function assertOffsets(
  source: Uint8Array,
  rejects: string,
  bad: ReturnType<typeof input>["bad"],
) {
  const written = await Deno.readFile(rejects);
  const log = await readRejectLog(rejects);
  assert.equal(log.length, bad.length);
  for (const [k, entry] of log.entries()) {
    const record = encoder.encode(bad[k].text);
    assert.deepEqual(
      [entry.start_offset, entry.end_offset],
      [bad[k].start, bad[k].end],
      JSON.stringify(entry),
    );
    assert.equal(
      decoder.decode(source.subarray(entry.start_offset, entry.end_offset)),
      bad[k].text,
    );
    assert.equal(
      decoder.decode(
        written.subarray(
          entry.reject_offset,
          entry.reject_offset + record.length,
        ),
      ),
      bad[k].text,
    );
  }
}

/** The reject file with every bad record replaced by its fix. */
async function fixRejects(
  rejects: string,
  bad: ReturnType<typeof input>["bad"],
): Promise<void> {
  let text = await Deno.readTextFile(rejects);
  for (const { text: record, fixed } of bad) {
    const at = text.indexOf(record);
    assert.ok(at >= 0, `${JSON.stringify(record)} is not in the reject file`);
    const end = at + record.length;
    // The last record got a line break in the reject file.
    const withBreak = text[end] === "\n" && !record.endsWith("\n");
    text = text.slice(0, at) + fixed + text.slice(end + (withBreak ? 1 : 0));
  }
  await Deno.writeTextFile(rejects, text);
}

/** Where a test loads: the server, or an embedded database. */
interface Where {
  /** The target table. */
  table: string;
  /** Runs the CLI there. */
  run: (args: string[], stdin?: string) => ReturnType<typeof runCli>;
  /** The target's rows, by id. */
  rows: (table: string) => Promise<Record<string, unknown>[]>;
  /** Creates the table. */
  create: (table: string) => Promise<void>;
  cleanUp: () => Promise<void>;
}

function server(): Where {
  const { url, table, meta } = scratchLoad("reject_header");
  return {
    table,
    run: (args, stdin) =>
      runCli([...args, "--db", url, "--meta-schema", meta], { stdin }),
    rows: (name) => sql(`select id, region, qty from ${name} order by id`),
    create: async () => {
      await sql(`create table ${table} ${TABLE_COLUMNS}`);
    },
    cleanUp: async () => {
      await sql(`drop table if exists ${table}`);
      await sql(`drop schema if exists ${meta} cascade`);
    },
  };
}

async function embedded(): Promise<Where> {
  const dataDir = await Deno.makeTempDir();
  return {
    table: "t",
    run: (args, stdin) => runEmbedded(dataDir, args, { stdin }),
    rows: (name) =>
      embeddedRows(dataDir, `select id, region, qty from ${name} order by id`),
    create: async (name) => {
      const result = await runEmbedded(dataDir, [
        "sql",
        `create table ${name} ${TABLE_COLUMNS}`,
      ]);
      assert.equal(result.code, 0, result.stderr);
    },
    cleanUp: () => removeDataDir(dataDir),
  };
}

for (
  const [name, open] of [["server", server], ["embedded", embedded]] as const
) {
  Deno.test(`ingest --reject-file (${name}): the reject file starts with the source's header line, each logged range holds its record, and once fixed the same command loads it`, async () => {
    const where = await open();
    const { text, bad } = input();
    const path = await writeTemp(text);
    const dir = await Deno.makeTempDir();
    const rejects = `${dir}/rejects.csv`;
    const load = (file: string) => [
      "ingest",
      file,
      "--table",
      where.table,
      "--batch-size",
      "2",
      "--reject-file",
      rejects,
    ];
    try {
      await where.create(where.table);
      const first = await where.run(load(path));
      assert.equal(first.code, 3, first.stderr);
      const written = await Deno.readTextFile(rejects);
      assert.equal(
        written,
        HEADER +
          bad.map((b) => b.text.endsWith("\n") ? b.text : `${b.text}\n`)
            .join(""),
      );
      await assertOffsets(encoder.encode(text), rejects, bad);
      const [firstReject] = await readRejectLog(rejects);
      assert.equal(firstReject.start_offset, encoder.encode(HEADER).length);
      // Fixed and moved aside, it is the input of the same command.
      await fixRejects(rejects, bad);
      const fixed = `${dir}/fixed.csv`;
      await Deno.rename(rejects, fixed);
      await Deno.remove(`${rejects}.log`);
      const again = await where.run(load(fixed));
      assert.equal(again.code, 0, again.stderr);
      assert.deepEqual(
        (await where.rows(where.table)).map((row) => ({
          id: Number(row.id),
          region: row.region,
          qty: Number(row.qty),
        })),
        ROWS,
      );
      assert.equal(await Deno.readTextFile(rejects), "", "nothing rejected");
    } finally {
      await Deno.remove(path);
      await Deno.remove(dir, { recursive: true });
      await where.cleanUp();
    }
  });
}

Deno.test("ingest --reject-file on a run resumed past the header (stdin, --source-id): the reject file starts with the header, read from the source's start", async () => {
  const where = server();
  const header = '\uFEFFid,"region",qty\n';
  const { text, bad } = input(header, "10,emea,10\n11,apac,11\n");
  const dir = await Deno.makeTempDir();
  const rejects = `${dir}/rejects.csv`;
  const args = [
    "ingest",
    "-",
    "--table",
    where.table,
    "--source-id",
    `${where.table}-stdin`,
    "--batch-size",
    "2",
  ];
  try {
    await where.create(where.table);
    // Without a reject file the first bad record stops the run after the
    // first batch (records 10 and 11) committed.
    const stopped = await where.run(args, text);
    assert.equal(stopped.code, 2, stopped.stderr);
    assert.equal((await where.rows(where.table)).length, 2);
    const resumed = await where.run([...args, "--reject-file", rejects], text);
    assert.equal(resumed.code, 3, resumed.stderr);
    assert.equal(
      await Deno.readTextFile(rejects),
      header +
        bad.map((b) => b.text.endsWith("\n") ? b.text : `${b.text}\n`)
          .join(""),
    );
    await assertOffsets(encoder.encode(text), rejects, bad);
    assert.equal((await where.rows(where.table)).length, 5);
  } finally {
    await Deno.remove(dir, { recursive: true });
    await where.cleanUp();
  }
});

Deno.test("ingest --reject-file: no header line for --no-header or NDJSON; --columns with a header keeps it, and each reloads with the same options", async (t) => {
  const where = server();
  const dir = await Deno.makeTempDir();
  const cases: {
    name: string;
    file: string;
    text: string;
    options: string[];
    rejects: string;
    fixed: string;
  }[] = [
    {
      name: "--no-header",
      file: "in.csv",
      text: "1,emea,1\n2,apac,x\n",
      options: ["--no-header", "--columns", "id,region,qty"],
      rejects: "2,apac,x\n",
      fixed: "2,apac,2\n",
    },
    {
      name: "--columns with a header",
      file: "in.csv",
      text: "a,b,c\n3,emea,3\n4,apac,x\n",
      options: ["--columns", "id,region,qty"],
      rejects: "a,b,c\n4,apac,x\n",
      fixed: "a,b,c\n4,apac,4\n",
    },
    {
      name: "NDJSON",
      file: "in.ndjson",
      text: '{"id": 5, "region": "emea", "qty": 5}\n{"id": 6, "qty": -6}\n',
      options: [],
      rejects: '{"id": 6, "qty": -6}\n',
      fixed: '{"id": 6, "qty": 6}\n',
    },
  ];
  try {
    await where.create(where.table);
    for (const c of cases) {
      await t.step(c.name, async () => {
        // Each case its own files: a source id per path.
        const stem = `${dir}/${c.name.replaceAll(/\W/g, "_")}`;
        const path = `${stem}_${c.file}`;
        await Deno.writeTextFile(path, c.text);
        const rejects = `${path}.rejects`;
        const args = (file: string) => [
          "ingest",
          file,
          "--table",
          where.table,
          "--reject-file",
          rejects,
          ...c.options,
        ];
        const result = await where.run(args(path));
        assert.equal(result.code, 3, result.stderr);
        assert.equal(await Deno.readTextFile(rejects), c.rejects);
        const fixed = `${stem}_fixed_${c.file}`;
        await Deno.writeTextFile(fixed, c.fixed);
        await Deno.remove(rejects);
        await Deno.remove(`${rejects}.log`);
        const again = await where.run(args(fixed));
        assert.equal(again.code, 0, again.stderr);
      });
    }
    assert.deepEqual(
      (await where.rows(where.table)).map((row) => Number(row.id)),
      [1, 2, 3, 4, 5, 6],
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
    await where.cleanUp();
  }
});

Deno.test("RejectFile writes the header once: with its first record, not again on reopening, nor after a crash before the log line", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/rejects.csv`;
  const header = encoder.encode("id,qty\r\n");
  const reject = (start: number, text: string) => ({
    source: "in.csv",
    sourceId: "s",
    line: start,
    column: "qty",
    startOffset: start,
    endOffset: start + text.length,
    reason: "bad",
    bytes: encoder.encode(text),
  });
  try {
    const empty = await RejectFile.open(path, { header });
    empty.close();
    assert.equal(await Deno.readTextFile(path), "", "no record, no header");
    const first = await RejectFile.open(path, { header });
    assert.equal(await first.write([reject(8, "1,x\n")]), 1);
    first.close();
    const second = await RejectFile.open(path, { header });
    assert.equal(
      await second.write([reject(8, "1,x\n"), reject(20, "3,y")]),
      1,
    );
    second.close();
    assert.equal(await Deno.readTextFile(path), "id,qty\r\n1,x\n3,y\n");
    const log = await readRejectLog(path);
    assert.deepEqual(log.map((entry) => entry.reject_offset), [8, 12]);
    // A crash after the records were written, before their log lines.
    await Deno.writeTextFile(`${path}.log`, "");
    const third = await RejectFile.open(path, { header });
    assert.equal(await third.write([reject(8, "1,x\n")]), 1);
    third.close();
    assert.equal(await Deno.readTextFile(path), "id,qty\r\n1,x\n");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
