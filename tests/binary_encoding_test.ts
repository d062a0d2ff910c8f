/**
 * COPY binary for input that is not UTF-8 (`--encoding`): binary COPY has
 * no ENCODING option, and the server converts binary text fields from the
 * session's client_encoding, which lanecopy sets for each such COPY in its
 * transaction and sets back before the batch's bookkeeping. The rows equal
 * a text load's; lanes and errors read as UTF-8.
 */

import assert from "node:assert/strict";
import {
  databaseUrl,
  ingestArgs,
  query,
  runCli,
  scratchLoad,
  sql,
  writeTemp,
} from "./_helpers.ts";
import { openTarget } from "../src/mod.ts";

/** `text` in `encoding`, as the server converts it. */
async function encoded(text: string, encoding: string): Promise<Uint8Array> {
  const [row] = await query(
    databaseUrl(),
    "select convert_to($1, $2) as bytes",
    [text, encoding],
  );
  return new Uint8Array(row.bytes as Uint8Array);
}

const CASES = [
  { encoding: "LATIN1", words: ["café", "Straße", "niño", "¿qué?", "½ ± ¼"] },
  { encoding: "EUC_JP", words: ["日本語", "東京", "テスト", "ｶﾀｶﾅ", "漢字"] },
];

for (const { encoding, words } of CASES) {
  Deno.test(`--encoding ${encoding}: every batch goes in COPY binary, the rows equal a text load's, and lanes and counters read as UTF-8`, async () => {
    const { table, meta } = scratchLoad(`binary_${encoding.toLowerCase()}`);
    const columns =
      "(id int, name text, doc jsonb, at timestamptz, amount numeric(8,2), lane text, lane_seq bigint)";
    await sql(`create table ${table}_bin ${columns}`);
    await sql(`create table ${table}_txt ${columns}`);
    const lines = ["id,name,doc,at,amount,lane"];
    for (let i = 1; i <= 40; i++) {
      const word = words[i % words.length];
      lines.push(
        `${i},${word} ${i},"{""w"": ""${word}"", ""n"": ${i}}",2024-02-29T12:00:${
          String(i).padStart(2, "0")
        }+05:30,${i}.25,${words[i % 2]}`,
      );
    }
    const path = await writeTemp(
      await encoded(lines.join("\n") + "\n", encoding),
    );
    const load = (into: string, ...more: string[]) =>
      runCli(
        ingestArgs(
          path,
          into,
          "--encoding",
          encoding,
          "--lane",
          "lane",
          "--meta-schema",
          meta,
          "--batch-size",
          "15",
          "--json",
          ...more,
        ),
      );
    const binary = await load(`${table}_bin`);
    assert.equal(binary.code, 0, binary.stderr);
    const summary = JSON.parse(binary.stdout);
    assert.equal(summary.rows, 40);
    assert.equal(summary.binaryBatches, 3, "every batch in binary");
    const text = await load(`${table}_txt`, "--copy-format", "text");
    assert.equal(text.code, 0, text.stderr);
    assert.equal(JSON.parse(text.stdout).binaryBatches, 0);

    for (const [a, b] of [["bin", "txt"], ["txt", "bin"]]) {
      const [diff] = await sql(
        `select count(*)::int as n from (select * from ${table}_${a} except all select * from ${table}_${b}) d`,
      );
      assert.equal(diff.n, 0, `rows of ${a} not in ${b}`);
    }
    const [first] = await sql(
      `select name, doc->>'w' as w from ${table}_bin where id = 1`,
    );
    assert.deepEqual(first, { name: `${words[1]} 1`, w: words[1] });
    const lanes = await sql(
      `select lane, row_count::int as n from ${meta}.lanes where target = $1 order by lane`,
      [`public.${table}_bin`],
    );
    assert.deepEqual(
      lanes.map((lane) => lane.lane).sort(),
      [words[0], words[1]].sort(),
      "lane keys stored as they read",
    );
    assert.equal(lanes.reduce((sum, lane) => sum + Number(lane.n), 0), 40);
    await Deno.remove(path);
  });
}

Deno.test("--encoding LATIN1: a row the server refuses in a binary batch reports the same file:line error as a text load, in readable UTF-8", async () => {
  const { table, meta } = scratchLoad("binary_latin1_bad");
  await sql(
    `create table ${table} (id int, name text check (name <> 'café 13'), n int)`,
  );
  const lines = ["id,name,n"];
  for (let i = 1; i <= 20; i++) {
    lines.push(`${i},café ${i},${i}`);
  }
  const path = await writeTemp(
    await encoded(lines.join("\n") + "\n", "LATIN1"),
  );
  const errors: string[] = [];
  for (const format of ["auto", "text"]) {
    const run = await runCli(
      ingestArgs(
        path,
        table,
        "--encoding",
        "LATIN1",
        "--copy-format",
        format,
        "--meta-schema",
        meta,
        "--batch-size",
        "5",
        "--source-id",
        `latin1 ${format}`,
      ),
    );
    assert.equal(run.code, 2, run.stderr);
    errors.push(run.stderr.replaceAll(/latin1 (auto|text)/g, "latin1"));
  }
  assert.match(
    errors[0],
    new RegExp(
      `${path}:14: new row for relation "${table}" violates check constraint`,
    ),
  );
  assert.equal(errors[0], errors[1]);
  const [{ n }] = await sql(`select count(*)::int as n from ${table}`);
  assert.equal(n, 20, "each run committed the 10 rows before line 14");
  await Deno.remove(path);
});

Deno.test("a binary COPY of LATIN1 text sets client_encoding for the COPY only: the statements after it in its transaction speak UTF-8 again", async () => {
  const { table } = scratchLoad("binary_client_encoding");
  await sql(`create table ${table} (name text)`);
  const target = await openTarget({ db: databaseUrl() });
  try {
    const name = await encoded("café", "LATIN1");
    const row = new Uint8Array(2 + 4 + name.length);
    const view = new DataView(row.buffer);
    view.setInt16(0, 1);
    view.setInt32(2, name.length);
    row.set(name, 6);
    const header = Uint8Array.of(
      ...new TextEncoder().encode("PGCOPY\n"),
      0xff,
      0x0d,
      0x0a,
      0,
      ...new Uint8Array(8),
    );
    const data = Uint8Array.of(...header, ...row, 0xff, 0xff);
    const encodings = await target.transaction(async (session) => {
      await session.copyFrom({
        table: { schema: "public", table },
        columns: ["name"],
        format: "binary",
        encoding: "LATIN1",
      }, data);
      const { rows } = await session.query(
        "select current_setting('client_encoding') as now, $1::text as echoed",
        ["é"],
      );
      return rows[0];
    });
    assert.deepEqual(encodings, { now: "UTF8", echoed: "é" });
    const [stored] = await sql(`select name from ${table}`);
    assert.equal(stored.name, "café");
  } finally {
    await target.close();
  }
});
