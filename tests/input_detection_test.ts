import assert from "node:assert/strict";
import { ExitCode, UsageError } from "../src/errors.ts";
import {
  delimiterFromPath,
  formatFromPath,
  resolveFormat,
  sniffContent,
} from "../src/source/input_format.ts";
import { gunzipWhenGzip, openSource } from "../src/source/open_source.ts";
import {
  embeddedRows,
  removeDataDir,
  runCli,
  runEmbedded,
  scratchLoad,
  sql,
  writeTemp,
} from "./_helpers.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** `bytes`, gzip-compressed. */
async function gzip(bytes: Uint8Array | string): Promise<Uint8Array> {
  const plain = typeof bytes === "string"
    ? encoder.encode(bytes)
    : new Uint8Array(bytes);
  return await new Response(
    ReadableStream.from<BufferSource>([plain]).pipeThrough(
      new CompressionStream("gzip"),
    ),
  ).bytes();
}

/** The start of a Parquet file: its magic, then a page header. */
const PARQUET = Uint8Array.from([
  ...encoder.encode("PAR1"),
  0x15,
  0x04,
  0x15,
  0x0a,
  0x15,
  0x0c,
  0x4c,
  ...encoder.encode("PAR1"),
]);
/** The start of a zip archive: a local file header. */
const ZIP = Uint8Array.from([
  0x50,
  0x4b,
  0x03,
  0x04,
  0x14,
  0x00,
  0x00,
  0x00,
  ...encoder.encode("items.csv"),
]);
const JSON_ARRAY = '[\n  {"id": 1, "region": "emea"},\n  {"id": 2}\n]\n';

const HINTS = {
  parquet:
    "it is a Parquet file; lanecopy reads CSV and NDJSON (export it to CSV first)",
  zip: "it is a zip archive; lanecopy reads CSV and NDJSON",
  json:
    "it is a JSON array; lanecopy reads NDJSON, one object per line (convert it with: jq -c '.[]' ",
};

/** `text` as a regular expression that matches it literally. */
function literally(text: string): RegExp {
  return new RegExp(text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
}

Deno.test("sniffContent() tells gzip, Parquet, zip, a JSON array, NDJSON and CSV by their first bytes", async (t) => {
  const cases: [string, Uint8Array | string, string | undefined][] = [
    ["gzip", Uint8Array.of(0x1f, 0x8b, 0x08, 0x00), "gzip"],
    ["parquet", PARQUET, "parquet"],
    ["zip", ZIP, "zip"],
    ["an empty zip", Uint8Array.of(0x50, 0x4b, 0x05, 0x06, 0), "zip"],
    ["a JSON array", JSON_ARRAY, "json-array"],
    [
      "a JSON array after a BOM and blanks",
      "\uFEFF \r\n\t[1, 2]",
      "json-array",
    ],
    ["NDJSON", '{"id": 1}\n', "ndjson"],
    ["CSV", "id,region\n", "csv"],
    ["CSV that starts like Parquet", "PARIS,FR\n", "csv"],
    ["CSV that starts like zip", "PK,name\n", "csv"],
    ["CSV that starts with gzip's first byte only", "\x1f,x\n", "csv"],
    ["part of Parquet's magic", "PAR", undefined],
    ["part of zip's magic", "PK\x03", undefined],
    ["gzip's first byte", Uint8Array.of(0x1f), undefined],
    ["nothing but blanks", " \n\r\n", undefined],
    ["nothing", "", undefined],
  ];
  for (const [name, input, kind] of cases) {
    await t.step(name, () => {
      const bytes = typeof input === "string" ? encoder.encode(input) : input;
      assert.equal(sniffContent(bytes), kind);
    });
  }
});

Deno.test("formatFromPath() and delimiterFromPath(): .tsv and .tab are tab-delimited CSV, .gz looked past", () => {
  for (const path of ["items.tsv", "items.tab", "dir/Items.TSV.gz"]) {
    assert.equal(formatFromPath(path), "csv", path);
    assert.equal(delimiterFromPath(path), "\t", path);
  }
  for (const path of ["items.csv", "items.json", "items", "<stdin>", "-"]) {
    assert.equal(delimiterFromPath(path), undefined, path);
  }
});

Deno.test("resolveFormat() refuses Parquet, zip and a JSON array (exit 2) with what to do instead", async (t) => {
  const cases: [string, Uint8Array | string, string][] = [
    ["items.parquet", PARQUET, HINTS.parquet],
    ["items.zip", ZIP, HINTS.zip],
    // A stream, not a file lanecopy opened: the command names no file.
    ["items.json", JSON_ARRAY, `${HINTS.json}FILE)`],
    ["<stdin>", JSON_ARRAY, `${HINTS.json}FILE)`],
    // The name says CSV, the bytes say otherwise: the bytes win.
    ["items.csv", PARQUET, HINTS.parquet],
  ];
  for (const [name, content, hint] of cases) {
    await t.step(name, async () => {
      const bytes = typeof content === "string"
        ? encoder.encode(content)
        : content;
      let cancelled = false;
      // One byte at a time: the magic is put together across chunks.
      let at = 0;
      const readable = new ReadableStream<Uint8Array>({
        pull(controller) {
          if (at === bytes.length) controller.close();
          else controller.enqueue(bytes.subarray(at, ++at));
        },
        cancel() {
          cancelled = true;
        },
      }, { highWaterMark: 0 });
      const error = await resolveFormat({ name, readable }).then(
        () => assert.fail("not refused"),
        (error) => error,
      );
      assert.ok(error instanceof UsageError, String(error));
      assert.equal(error.exitCode, ExitCode.BadInput);
      assert.ok(
        error.message.startsWith(`Cannot load ${name}: `),
        error.message,
      );
      assert.ok(error.message.includes(hint), error.message);
      assert.ok(cancelled, "the source is cancelled");
    });
  }
});

Deno.test("resolveFormat() reads a CSV whose name says so even when its header starts with [", async () => {
  const { format } = await resolveFormat({
    name: "items.csv",
    readable: ReadableStream.from([encoder.encode("[id],name\n1,a\n")]),
  });
  assert.equal(format, "csv");
});

Deno.test("resolveFormat() with a given format reads nothing and refuses nothing", async () => {
  const { format, source } = await resolveFormat({
    name: "items.parquet",
    readable: ReadableStream.from([PARQUET]),
  }, "csv");
  assert.equal(format, "csv");
  assert.deepEqual(
    (await Array.fromAsync(source.readable)).flatMap((c) => [...c]),
    [...PARQUET],
  );
});

Deno.test("resolveFormat() decompresses a gzip stream, sniffs what is inside and refuses what it cannot read", async () => {
  const ndjson = '{"id": 1}\n{"id": 2}\n';
  const compressed = await gzip(ndjson);
  // One byte a chunk: the magic is put together across chunks.
  const chunks = [...compressed].map((b) => Uint8Array.of(b));
  const { format, source } = await resolveFormat({
    name: "<stdin>",
    readable: ReadableStream.from(chunks),
  });
  assert.equal(format, "ndjson");
  assert.equal(await new Response(source.readable).text(), ndjson);
  await assert.rejects(
    resolveFormat({
      name: "<stdin>",
      readable: ReadableStream.from([await gzip(PARQUET)]),
    }),
    literally(`Cannot load <stdin>: ${HINTS.parquet}`),
  );
});

Deno.test("openSource() and resolveFormat(): a .gz file holding Parquet or a JSON array is refused; gzip inside gzip too", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeFile(`${dir}/items.parquet.gz`, await gzip(PARQUET));
    await Deno.writeFile(`${dir}/items.json.gz`, await gzip(JSON_ARRAY));
    await Deno.writeFile(`${dir}/twice.csv.gz`, await gzip(await gzip("a\n")));
    const cases: [string, string][] = [
      ["items.parquet.gz", HINTS.parquet],
      [
        "items.json.gz",
        "it is a JSON array; lanecopy reads NDJSON, one object per line (convert it with: gunzip -c items.json.gz | jq -c '.[]')",
      ],
      ["twice.csv.gz", "it is gzip inside gzip"],
    ];
    for (const [name, hint] of cases) {
      await assert.rejects(
        resolveFormat(await openSource(name, dir)),
        (error: unknown) => {
          assert.ok(error instanceof UsageError);
          assert.equal(error.exitCode, ExitCode.BadInput);
          assert.ok(error.message.includes(`Cannot load ${name}: `));
          assert.ok(error.message.includes(hint), error.message);
          return true;
        },
      );
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("gunzipWhenGzip() decides on one byte that is not gzip's, so a live stream's first record is not held back", async () => {
  let more: ReadableStreamDefaultController<Uint8Array> | undefined;
  const readable = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(encoder.encode("{"));
      more = controller; // nothing more comes until the test says so
    },
  });
  const reader = gunzipWhenGzip(readable, "<stdin>").getReader();
  const first = await reader.read();
  assert.equal(decoder.decode(first.value), "{");
  more!.enqueue(encoder.encode("}\n"));
  more!.close();
  assert.equal(decoder.decode((await reader.read()).value), "}\n");
  assert.equal((await reader.read()).done, true);
});

Deno.test("ingest: a .tsv or .tab file loads tab-delimited; --delimiter still wins", async () => {
  const { url, table, meta } = scratchLoad("tsv");
  const tsv = await writeTemp("id\tregion\n1\temea\n2\tapac, south\n", ".tsv");
  const tab = await writeTemp("id\tregion\n3\tamer\n", ".tab");
  const semicolons = await writeTemp("id;region\n4;emea\n", ".tsv");
  const base = ["--table", table, "--db", url, "--meta-schema", meta];
  try {
    const first = await runCli(["ingest", tsv, "--create", ...base]);
    assert.equal(first.code, 0, first.stderr);
    const second = await runCli(["ingest", tab, ...base]);
    assert.equal(second.code, 0, second.stderr);
    const third = await runCli([
      "ingest",
      semicolons,
      "--delimiter",
      ";",
      ...base,
    ]);
    assert.equal(third.code, 0, third.stderr);
    const rows = await sql(
      `select id::int as id, region from ${table} order by id`,
    );
    assert.deepEqual(rows, [
      { id: 1, region: "emea" },
      { id: 2, region: "apac, south" },
      { id: 3, region: "amer" },
      { id: 4, region: "emea" },
    ]);
  } finally {
    await sql(`drop table if exists ${table}`);
    await sql(`drop schema if exists ${meta} cascade`);
    for (const path of [tsv, tab, semicolons]) await Deno.remove(path);
  }
});

Deno.test("ingest: gzip piped on stdin is decompressed, CSV and NDJSON alike", async () => {
  const { url, table, meta } = scratchLoad("gzip_stdin");
  const base = ["--table", table, "--db", url, "--meta-schema", meta];
  try {
    const csv = await runCli(["ingest", "-", "--create", ...base], {
      stdin: await gzip("id,note\n1,caf\u00e9\n2,x\n"),
    });
    assert.equal(csv.code, 0, csv.stderr);
    const ndjson = await runCli(["ingest", "-", ...base], {
      stdin: await gzip('{"id": "3", "note": "n"}\n'),
    });
    assert.equal(ndjson.code, 0, ndjson.stderr);
    const rows = await sql(`select id, note from ${table} order by id`);
    assert.deepEqual(rows.map((row) => [String(row.id), row.note]), [
      ["1", "caf\u00e9"],
      ["2", "x"],
      ["3", "n"],
    ]);
  } finally {
    await sql(`drop table if exists ${table}`);
    await sql(`drop schema if exists ${meta} cascade`);
  }
});

Deno.test("ingest refuses Parquet, zip and a JSON array (exit 2) from a file, a .gz file or stdin, before anything is created or committed", async (t) => {
  const { url, table, meta } = scratchLoad("refused");
  const dir = await Deno.makeTempDir();
  const cases: [string, Uint8Array, string][] = [
    ["items.parquet", PARQUET, HINTS.parquet],
    ["items.zip", ZIP, HINTS.zip],
    ["items.json", encoder.encode(JSON_ARRAY), `${HINTS.json}items.json)`],
    ["items.parquet.gz", await gzip(PARQUET), HINTS.parquet],
    ["items.zip.gz", await gzip(ZIP), HINTS.zip],
    ["-", encoder.encode(JSON_ARRAY), `${HINTS.json}FILE)`],
    ["-", await gzip(PARQUET), HINTS.parquet],
  ];
  try {
    for (const [name, bytes, hint] of cases) {
      await t.step(`${name} (${bytes.length} bytes)`, async () => {
        if (name !== "-") await Deno.writeFile(`${dir}/${name}`, bytes);
        const result = await runCli([
          "ingest",
          name,
          "--table",
          table,
          "--create",
          "--db",
          url,
          "--meta-schema",
          meta,
        ], { cwd: dir, stdin: name === "-" ? bytes : undefined });
        assert.equal(result.code, 2, result.stderr);
        const shown = name === "-" ? "<stdin>" : name;
        assert.match(
          result.stderr,
          literally(`lanecopy: Cannot load ${shown}: ${hint}`),
        );
        assert.doesNotMatch(result.stderr, /UTF-8|Cannot parse/);
      });
    }
    const [created] = await sql(
      `select to_regclass($1) as target, to_regnamespace($2) as meta`,
      [table, meta],
    );
    assert.deepEqual(created, { target: null, meta: null });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("ingest on the embedded database: a .tsv loads, gzip on stdin loads, a JSON array is refused (exit 2) and creates nothing", async () => {
  const dataDir = await Deno.makeTempDir();
  const tsv = await writeTemp("id\tregion\n1\temea\n", ".tsv");
  const json = await writeTemp(JSON_ARRAY, ".json");
  try {
    const loaded = await runEmbedded(dataDir, [
      "ingest",
      tsv,
      "--table",
      "t",
      "--create",
    ]);
    assert.equal(loaded.code, 0, loaded.stderr);
    const piped = await runEmbedded(dataDir, ["ingest", "-", "--table", "t"], {
      stdin: await gzip("id,region\n2,apac\n"),
    });
    assert.equal(piped.code, 0, piped.stderr);
    const refused = await runEmbedded(dataDir, [
      "ingest",
      json,
      "--table",
      "u",
      "--create",
    ]);
    assert.equal(refused.code, 2, refused.stderr);
    assert.match(refused.stderr, literally(HINTS.json));
    const rows = await embeddedRows(
      dataDir,
      "select id::int as id, region, to_regclass('u') is null as no_u from t order by id",
    );
    assert.deepEqual(rows, [
      { id: 1, region: "emea", no_u: true },
      { id: 2, region: "apac", no_u: true },
    ]);
  } finally {
    await Deno.remove(tsv);
    await Deno.remove(json);
    await removeDataDir(dataDir);
  }
});
