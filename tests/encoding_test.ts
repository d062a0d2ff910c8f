import assert from "node:assert/strict";
import { resolveEncoding } from "../src/codec/encoding.ts";
import {
  embeddedRows,
  ingestArgs,
  removeDataDir,
  runCli,
  runEmbedded,
  scratchLoad,
  scratchTable,
  sql,
  writeTemp,
} from "./_helpers.ts";

/** Text as Latin-1 bytes (every character below U+0100). */
function latin1(text: string): Uint8Array {
  return Uint8Array.from([...text], (c) => {
    assert.ok(c.charCodeAt(0) < 0x100);
    return c.charCodeAt(0);
  });
}

const TEXT = "id,straße,ort\n" +
  "1,Größe,Zürich\n" +
  '2,"café\nà la carte",Köln\n' +
  "3,ÿ¡¿ß,Zürich\n";

Deno.test("ingest --encoding latin1 loads a Latin-1 file into the server as the same text a UTF-8 file gives: header names, values, lane keys", async () => {
  const utf8Table = scratchTable("enc_utf8");
  const latin1Table = scratchTable("enc_latin1");
  const meta = `${latin1Table}_meta`;
  const utf8Path = await writeTemp(new TextEncoder().encode(TEXT));
  const latin1Path = await writeTemp(latin1(TEXT));
  const load = (path: string, table: string, ...more: string[]) =>
    runCli(
      ingestArgs(
        path,
        table,
        "--create",
        "--lane",
        "ort",
        "--meta-schema",
        meta,
        "--quiet",
        ...more,
      ),
    );
  try {
    const plain = await load(utf8Path, utf8Table);
    assert.equal(plain.code, 0, plain.stderr);
    const converted = await load(
      latin1Path,
      latin1Table,
      "--encoding",
      "latin1",
    );
    assert.equal(converted.code, 0, converted.stderr);
    const read = (table: string) =>
      sql(`select id, "straße" as s, ort, lane_seq from ${table} order by id`);
    const rows = await read(latin1Table);
    assert.deepEqual(rows, await read(utf8Table));
    assert.deepEqual(rows.map((row) => row.s), [
      "Größe",
      "café\nà la carte",
      "ÿ¡¿ß",
    ]);
    const lanes = await sql(
      `select lane, row_count::int as n from ${meta}.lanes
        where target = $1 order by lane`,
      [`public.${latin1Table}`],
    );
    assert.deepEqual(lanes, [{ lane: "Köln", n: 1 }, { lane: "Zürich", n: 2 }]);
    const [source] = await sql(
      `select options->>'encoding' as encoding from ${meta}.sources
        where target = $1`,
      [`public.${latin1Table}`],
    );
    assert.equal(source.encoding, "LATIN1");
  } finally {
    await sql(`drop table if exists ${utf8Table}, ${latin1Table}`);
    await sql(`drop schema if exists ${meta} cascade`);
    await Deno.remove(utf8Path);
    await Deno.remove(latin1Path);
  }
});

Deno.test("ingest --encoding latin1: bytes that are not UTF-8 are no error, a malformed record's column counts characters, and a resume with another encoding is refused", async () => {
  const { table, meta } = scratchLoad("enc_errors");
  const dir = await Deno.makeTempDir();
  const path = `${dir}/latin1.csv`;
  // 0xFF 0xC3 0x80 are ÿ, Ã and U+0080 in Latin-1: invalid as UTF-8.
  await Deno.writeFile(
    path,
    Uint8Array.from([
      ...latin1("id,note\n1,"),
      0xff,
      0xc3,
      0x80,
      ...latin1('\n2,éé"x\n'),
    ]),
  );
  const args = (...more: string[]) =>
    ingestArgs(
      path,
      table,
      "--create",
      "--batch-size",
      "1",
      "--meta-schema",
      meta,
      "--quiet",
      ...more,
    );
  try {
    const stopped = await runCli(args("--encoding", "ISO-8859-1"));
    assert.equal(stopped.code, 2, stopped.stderr);
    // é and é are one character each: the quote is the 5th on its line.
    assert.match(
      stopped.stderr,
      /latin1\.csv:3:5: Cannot parse field: a quote inside an unquoted field/,
    );
    const asUtf8 = await runCli(args());
    assert.equal(asUtf8.code, 4, asUtf8.stderr);
    assert.match(
      asUtf8.stderr,
      /encoding was "LATIN1" and is now "utf-8" \(pass --restart/,
    );
    const rejects = `${dir}/rejects.csv`;
    const resumed = await runCli(
      args("--encoding", "latin1", "--reject-file", rejects),
    );
    assert.equal(resumed.code, 3, resumed.stderr);
    const rows = await sql(`select id, note from ${table} order by id`);
    assert.deepEqual(rows, [{ id: 1, note: "ÿÃ\u0080" }]);
    assert.deepEqual(
      await Deno.readFile(rejects),
      Uint8Array.from(latin1('id,note\n2,éé"x\n')),
    );
    const log = JSON.parse(await Deno.readTextFile(`${rejects}.log`));
    assert.deepEqual([log.line, log.error_line, log.column], [3, 3, 5]);
    // A NUL byte is bad input in any encoding: PostgreSQL text holds none.
    const nul = `${dir}/nul.csv`;
    await Deno.writeFile(
      nul,
      Uint8Array.from([...latin1("id,note\n7,\u00e9"), 0x00, 0x0a]),
    );
    const refused = await runCli(
      args("--encoding", "latin1").map((arg) => arg === path ? nul : arg),
    );
    assert.equal(refused.code, 2, refused.stderr);
    assert.match(
      refused.stderr,
      /nul\.csv:2:4: Cannot decode input: a NUL byte \(0x00\)/,
    );
  } finally {
    await sql(`drop table if exists ${table}`);
    await sql(`drop schema if exists ${meta} cascade`);
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("ingest --encoding: windows-1252 and EUC-JP convert on the server; csv.encoding in a config file works and --encoding overrides it", async () => {
  const table = scratchTable("enc_more");
  const dir = await Deno.makeTempDir();
  try {
    // Windows-1252: 0x80 is €, 0x9C œ.
    const cp1252 = `${dir}/cp1252.csv`;
    await Deno.writeFile(
      cp1252,
      Uint8Array.from([...latin1("id,v\n1,"), 0x80, 0x9c, 0x0a]),
    );
    const config = `${dir}/load.jsonc`;
    await Deno.writeTextFile(
      config,
      `{ "csv": { "encoding": "windows-1252" }, "create": true }`,
    );
    const fromConfig = await runCli(
      ingestArgs(cp1252, table, "--config", config, "--quiet"),
    );
    assert.equal(fromConfig.code, 0, fromConfig.stderr);
    // EUC-JP: 日本 is C6FC CBDC.
    const eucJp = `${dir}/euc.csv`;
    await Deno.writeFile(
      eucJp,
      Uint8Array.from([
        ...latin1("id,v\n2,"),
        ...[0xc6, 0xfc, 0xcb, 0xdc],
        0x0a,
      ]),
    );
    const overridden = await runCli(
      ingestArgs(
        eucJp,
        table,
        "--config",
        config,
        "--encoding",
        "euc-jp",
        "--quiet",
      ),
    );
    assert.equal(overridden.code, 0, overridden.stderr);
    assert.deepEqual(await sql(`select id, v from ${table} order by id`), [
      { id: 1, v: "€œ" },
      { id: 2, v: "日本" },
    ]);
  } finally {
    await sql(`drop table if exists ${table}`);
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("ingest --encoding refuses encodings the framing cannot read, and NDJSON in anything but UTF-8, before loading", async (t) => {
  const path = await writeTemp(new TextEncoder().encode("a\n1\n"));
  const ndjson = await writeTemp(
    new TextEncoder().encode('{"a": 1}\n'),
    ".ndjson",
  );
  const cases: [string, string, RegExp][] = [
    [
      path,
      "UTF-16LE",
      /Cannot read input as UTF-16LE: its characters are not ASCII-compatible bytes/,
    ],
    [path, "sjis", /Cannot read input as sjis: bytes such as 0x5C/],
    [path, "big5", /Cannot read input as big5: bytes such as 0x5C/],
    [path, "klingon", /Cannot read input as klingon: not an encoding/],
    [ndjson, "latin1", /Cannot read NDJSON as LATIN1: JSON text is UTF-8/],
  ];
  try {
    for (const [file, encoding, message] of cases) {
      await t.step(encoding, async () => {
        const result = await runCli(
          ingestArgs(
            file,
            scratchTable("enc_refused"),
            "--columns",
            "a",
            "--create",
            "--encoding",
            encoding,
          ),
        );
        assert.equal(result.code, 1, result.stderr);
        assert.match(result.stderr, message);
        assert.doesNotMatch(result.stderr, /\n\s+at /, "a stack trace");
      });
    }
  } finally {
    await Deno.remove(path);
    await Deno.remove(ndjson);
  }
});

Deno.test("ingest --encoding latin1 works on the embedded database too (PGlite converts the COPY)", async () => {
  const dataDir = await Deno.makeTempDir();
  const path = await writeTemp(latin1(TEXT));
  try {
    const result = await runEmbedded(dataDir, [
      "ingest",
      path,
      "--table",
      "t",
      "--create",
      "--encoding",
      "latin1",
      "--quiet",
    ]);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(
      await embeddedRows(dataDir, 'select "straße", ort from t order by id'),
      [
        { "straße": "Größe", ort: "Zürich" },
        { "straße": "café\nà la carte", ort: "Köln" },
        { "straße": "ÿ¡¿ß", ort: "Zürich" },
      ],
    );
  } finally {
    await Deno.remove(path);
    await removeDataDir(dataDir);
  }
});

Deno.test("resolveEncoding() maps usual names to PostgreSQL's and decodes Latin-1 as PostgreSQL does", () => {
  for (
    const [name, postgres] of [
      ["latin1", "LATIN1"],
      ["ISO-8859-15", "LATIN9"],
      ["latin9", "LATIN9"],
      ["cp1252", "WIN1252"],
      ["windows-1251", "WIN1251"],
      ["koi8-r", "KOI8R"],
      ["eucJP", "EUC_JP"],
      ["utf8", "UTF8"],
    ]
  ) {
    assert.equal(resolveEncoding(name).postgres, postgres, name);
  }
  // 0x80 is U+0080 in LATIN1 (a browser's "latin1" would read €).
  assert.equal(resolveEncoding("latin1").decode(Uint8Array.of(0x80)), "\u0080");
  assert.equal(resolveEncoding("win1252").decode(Uint8Array.of(0x80)), "€");
});
