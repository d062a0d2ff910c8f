import assert from "node:assert/strict";
import fc from "fast-check";
import { ndjsonRecordFields } from "../src/codec/ndjson/ndjson_record_fields.ts";
import { hasOwnedChunks, markOwnedChunks } from "../src/source/open_source.ts";
import { inferSourceColumns } from "../src/write/infer_source_columns.ts";

const encoder = new TextEncoder();

/** Runs one step per case: `rule(input)` must give `expected`. */
async function table<I, O>(
  t: Deno.TestContext,
  rule: (input: I) => O,
  cases: [I, O][],
): Promise<void> {
  for (const [input, expected] of cases) {
    await t.step(JSON.stringify(input), () => {
      assert.deepEqual(rule(input), expected);
    });
  }
}

Deno.test("ndjsonRecordFields() gives each key's value as the codec loads it", async (t) => {
  await table(t, (line: string) => {
    const fields = ndjsonRecordFields(line);
    return fields === undefined ? undefined : [...fields];
  }, [
    ['{"a": 1, "b": "x"}', [["a", "1"], ["b", "x"]]],
    [
      '  {"n": 0.1000000000000000055511151231257827, "big": 1e400}  \r',
      [["n", "0.1000000000000000055511151231257827"], ["big", "1e400"]],
    ],
    [
      '{"s": "caf\\u00e9\\t\\"q\\"", "e": ""}',
      [["s", 'café\t"q"'], ["e", ""]],
    ],
    [
      '{"doc": {"k": [1, "}", {"x": "]"}]}, "z": null}',
      [["doc", '{"k": [1, "}", {"x": "]"}]}'], ["z", null]],
    ],
    ['{"t":true,"f":false,"arr":[]}', [["t", "true"], ["f", "false"], [
      "arr",
      "[]",
    ]]],
    ['{"k\\u0041": 1}', [["kA", "1"]]],
    ["{}", []],
    ['{"a": 1, "a": 2}', undefined],
    ["[1]", undefined],
    ["1", undefined],
    ['"x"', undefined],
    ["null", undefined],
    ['{"a": 1', undefined],
    ["", undefined],
  ]);
});

Deno.test("ndjsonRecordFields() reads back any JSON object's values", () => {
  fc.assert(
    fc.property(
      fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 2 })),
      fc.constantFrom("", " ", "\t"),
      (object, blank) => {
        const line = blank + JSON.stringify(object, null, blank === "" ? 0 : 1)
          .replaceAll("\n", " ") +
          blank;
        const fields = ndjsonRecordFields(line)!;
        // What the line says: JSON has no -0 (it is written 0).
        const written = JSON.parse(line) as Record<string, unknown>;
        assert.deepEqual([...fields.keys()], Object.keys(written));
        for (const [key, value] of Object.entries(written)) {
          const got = fields.get(key);
          if (value === null) assert.equal(got, null);
          else if (typeof value === "string") assert.equal(got, value);
          else assert.deepEqual(JSON.parse(got!), value);
        }
      },
    ),
  );
});

/** Every byte of `readable` as text, a byte order mark kept. */
async function textOf(readable: ReadableStream<Uint8Array>): Promise<string> {
  const bytes = new Uint8Array(await new Response(readable).arrayBuffer());
  return new TextDecoder("utf-8", { ignoreBOM: true }).decode(bytes);
}

/** A stream of `text`'s bytes in chunks of `size`. */
function chunked(text: string, size: number): ReadableStream<Uint8Array> {
  const bytes = encoder.encode(text);
  const chunks: Uint8Array[] = [];
  for (let at = 0; at < bytes.length; at += size) {
    chunks.push(bytes.slice(at, at + size));
  }
  return ReadableStream.from(chunks);
}

Deno.test("inferSourceColumns() types a CSV stream and replays every byte", async (t) => {
  const csv = "\uFEFFid,price,code,at,note\r\n" +
    '1,1.50,007,2024-05-01,"a\nb"\r\n' +
    "2,,010,2024-05-02 10:00,\r\n" +
    '3,2,011,,""\r\n';
  for (const codec of ["wasm", "ts"] as const) {
    for (const size of [1, 7, 1 << 16]) {
      await t.step(`${codec}, chunks of ${size}`, async () => {
        const readable = chunked(csv, size);
        const inferred = await inferSourceColumns(
          { name: "<stdin>", readable },
          { format: "csv", codec },
        );
        assert.deepEqual(inferred.types, [
          "integer",
          "numeric",
          "text",
          "timestamp",
          "text",
        ]);
        assert.equal(inferred.records, 3);
        assert.equal(inferred.whole, true);
        assert.equal(
          await textOf(inferred.source.readable),
          csv,
        );
      });
    }
  }
});

Deno.test("inferSourceColumns() reads the load's dialect: delimiter, quote, null string, names", async () => {
  const csv = "x;y;z\n'1';NA;'a;b'\n'2';2024-05-01;'c'\n";
  const inferred = await inferSourceColumns(
    { name: "<stdin>", readable: chunked(csv, 5) },
    {
      format: "csv",
      delimiter: ";",
      quote: "'",
      nullString: "NA",
      columns: ["a", "b", "c"],
    },
  );
  assert.deepEqual(inferred.types, ["integer", "date", "text"]);
});

Deno.test("inferSourceColumns() samples a stream's first records and replays them before the rest", async () => {
  const lines = ["n"];
  for (let i = 1; i <= 50; i++) lines.push(String(i));
  lines.push("not a number");
  const csv = lines.join("\n") + "\n";
  const readable = markOwnedChunks(chunked(csv, 8));
  const inferred = await inferSourceColumns(
    { name: "<stdin>", readable },
    { format: "csv", sampleRecords: 20 },
  );
  assert.deepEqual(inferred.types, ["integer"]);
  assert.equal(inferred.whole, false);
  assert.ok(inferred.records >= 20 && inferred.records < 51);
  assert.ok(hasOwnedChunks(inferred.source.readable));
  assert.equal(await textOf(inferred.source.readable), csv);
});

Deno.test("inferSourceColumns() stops reading a stream once every column is text", async () => {
  let pulls = 0;
  const readable = new ReadableStream<Uint8Array>({
    pull(controller) {
      pulls++;
      controller.enqueue(encoder.encode(pulls === 1 ? "a,b\nx,y\n" : "1,2\n"));
      if (pulls === 1000) controller.close();
    },
  });
  const inferred = await inferSourceColumns(
    { name: "<stdin>", readable },
    { format: "csv" },
  );
  assert.deepEqual(inferred.types, ["text", "text"]);
  assert.ok(pulls <= 3, `pulled ${pulls} chunks`);
  await inferred.source.readable.cancel();
});

Deno.test("inferSourceColumns() reads a regular file whole and leaves its source unread", async () => {
  const path = await Deno.makeTempFile({ suffix: ".csv" });
  const rows = ["id,v"];
  for (let i = 0; i < 30_000; i++) rows.push(`${i},${i}`);
  rows.push("30000,3000000000");
  await Deno.writeTextFile(path, rows.join("\n") + "\n");
  const readable = new ReadableStream<Uint8Array>();
  const source = {
    name: "big.csv",
    readable,
    realPath: await Deno.realPath(path),
  };
  const inferred = await inferSourceColumns(source, { format: "csv" });
  assert.deepEqual(inferred.types, ["integer", "bigint"]);
  assert.equal(inferred.records, 30_001);
  assert.equal(inferred.whole, true);
  assert.equal(inferred.source, source);
  await Deno.remove(path);
});

Deno.test("inferSourceColumns() skips malformed CSV records and types the rest", async () => {
  const csv = 'a,b\n1,2\n3,"x\n4\n5,6\n';
  const inferred = await inferSourceColumns(
    { name: "<stdin>", readable: chunked(csv, 3) },
    { format: "csv" },
  );
  assert.deepEqual(inferred.types, ["integer", "integer"]);
});

Deno.test("inferSourceColumns() learns NDJSON keys in first-seen order, and their types", async () => {
  const ndjson = [
    '\uFEFF{"id": 1, "doc": {"a": [1]}, "at": "2024-05-01T10:00:00Z"}',
    "",
    '{"at": null, "id": 2, "new": true, "doc": [2]}',
    "not json",
    '{"id": 3, "new": false, "n": 1e400, "s": "01"}\r',
    '{"id": 4, "id": 5, "dup": 1}',
  ].join("\n");
  for (const size of [1, 5, 1 << 16]) {
    const inferred = await inferSourceColumns(
      { name: "<stdin>", readable: chunked(ndjson, size) },
      { format: "ndjson" },
    );
    assert.deepEqual(inferred.keys, ["id", "doc", "at", "new", "n", "s"]);
    assert.deepEqual(inferred.types, [
      "integer",
      "jsonb",
      "timestamptz",
      "boolean",
      "numeric",
      "text",
    ]);
    assert.equal(await textOf(inferred.source.readable), ndjson);
  }
});

Deno.test("inferSourceColumns() types NDJSON by the columns named, without infer only learns keys", async () => {
  const ndjson = '{"b": "x", "a": 7}\n{"a": 8}\n';
  const named = await inferSourceColumns(
    { name: "<stdin>", readable: chunked(ndjson, 4) },
    { format: "ndjson", columns: ["a", "b", "c"] },
  );
  assert.equal(named.keys, undefined);
  assert.deepEqual(named.types, ["integer", "text", "text"]);
  const keysOnly = await inferSourceColumns(
    { name: "<stdin>", readable: chunked(ndjson, 4) },
    { format: "ndjson", infer: false },
  );
  assert.deepEqual(keysOnly.keys, ["b", "a"]);
  assert.deepEqual(keysOnly.types, ["text", "text"]);
});

Deno.test("inferSourceColumns() of an empty stream or a header alone gives no type", async () => {
  const empty = await inferSourceColumns(
    { name: "<stdin>", readable: ReadableStream.from([]) },
    { format: "csv" },
  );
  assert.deepEqual(empty.types, []);
  assert.equal(empty.records, 0);
  const header = await inferSourceColumns(
    { name: "<stdin>", readable: chunked("a,b\n", 2) },
    { format: "csv" },
  );
  assert.deepEqual(header.types, [], "no record voted: the table is all text");
  assert.equal(await textOf(header.source.readable), "a,b\n");
});

Deno.test("inferSourceColumns() stops waiting for a stream once the signal aborts", async () => {
  const readable = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(encoder.encode("id\n1\n")); // then nothing more comes
    },
  });
  const controller = new AbortController();
  const inferring = inferSourceColumns(
    { name: "<stdin>", readable },
    { format: "csv", signal: controller.signal },
  );
  const reason = new Error("stopped");
  setTimeout(() => controller.abort(reason), 20);
  await assert.rejects(inferring, (error) => error === reason);
  await readable.cancel();
});

Deno.test("inferSourceColumns() types a stream that fails from the records before, and replays the failure after them", async () => {
  const died = new Error("the producer died");
  const readable = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(encoder.encode("id,at\n1,2024-05-01\n2,2024-"));
    },
    pull(controller) {
      controller.error(died);
    },
  });
  const inferred = await inferSourceColumns(
    { name: "<stdin>", readable },
    { format: "csv" },
  );
  assert.deepEqual(inferred.types, ["integer", "date"]);
  assert.equal(inferred.whole, false);
  const reader = inferred.source.readable.getReader();
  const first = await reader.read();
  assert.equal(
    new TextDecoder().decode(first.value),
    "id,at\n1,2024-05-01\n2,2024-",
  );
  await assert.rejects(reader.read(), (error) => error === died);
});
