import assert from "node:assert/strict";
import {
  formatFromPath,
  resolveFormat,
  sniffFormat,
} from "../src/source/input_format.ts";
import { hasOwnedChunks, markOwnedChunks } from "../src/source/open_source.ts";

const encoder = new TextEncoder();

Deno.test("formatFromPath() reads the extension, looking past .gz", async (t) => {
  const cases: [string, string | undefined][] = [
    ["a.csv", "csv"],
    ["a.tsv", "csv"],
    ["a.ndjson", "ndjson"],
    ["a.jsonl", "ndjson"],
    ["A.JSON", "ndjson"],
    ["a.jsonl.gz", "ndjson"],
    ["a.csv.gz", "csv"],
    ["a.gz", undefined],
    ["a.txt", undefined],
    ["dir.json/data", undefined],
    ["-", undefined],
    ["<stdin>", undefined],
  ];
  for (const [path, format] of cases) {
    await t.step(path, () => assert.equal(formatFromPath(path), format));
  }
});

Deno.test("sniffFormat() looks at the first non-blank byte after a byte order mark", () => {
  assert.equal(sniffFormat(encoder.encode('{"a":1}')), "ndjson");
  assert.equal(sniffFormat(encoder.encode(" \t\r\n\n {")), "ndjson");
  assert.equal(sniffFormat(encoder.encode('\uFEFF{"a":1}')), "ndjson");
  assert.equal(sniffFormat(encoder.encode("\uFEFFa,b")), "csv");
  assert.equal(sniffFormat(encoder.encode("[1]")), "csv");
  assert.equal(sniffFormat(encoder.encode("")), undefined);
  assert.equal(sniffFormat(new Uint8Array([0xef, 0xbb])), undefined);
});

Deno.test("resolveFormat() sniffs a stream byte by byte and replays every byte", async () => {
  const bytes = encoder.encode('\uFEFF \n{"a": 1}\n{"a": 2}\n');
  const chunks = [...bytes].map((b) => Uint8Array.of(b));
  const { format, source } = await resolveFormat({
    name: "<stdin>",
    readable: ReadableStream.from(chunks),
  });
  assert.equal(format, "ndjson");
  const replayed = (await Array.fromAsync(source.readable)).flatMap((c) => [
    ...c,
  ]);
  assert.deepEqual(replayed, [...bytes]);
});

Deno.test("resolveFormat() takes the given format without reading", async () => {
  let pulled = false;
  const readable = new ReadableStream<Uint8Array>({
    pull() {
      pulled = true;
    },
  }, { highWaterMark: 0 });
  const given = await resolveFormat({ name: "x.csv", readable }, "ndjson");
  assert.equal(given.format, "ndjson");
  assert.equal(pulled, false);
});

Deno.test("resolveFormat() takes the extension's format, reading only the head to check the content, and replays it", async () => {
  const bytes = encoder.encode('[1,2]\n{"a": 1}\n');
  let pulls = 0;
  const readable = new ReadableStream<Uint8Array>({
    pull(controller) {
      // One byte a pull: the head is read up to its first non-blank byte.
      if (pulls === bytes.length) controller.close();
      else controller.enqueue(bytes.subarray(pulls, ++pulls));
    },
  }, { highWaterMark: 0 });
  // The name says CSV: a header may start with "[".
  const named = await resolveFormat({ name: "x.csv", readable });
  assert.equal(named.format, "csv");
  assert.equal(pulls, 1);
  const replayed = (await Array.fromAsync(named.source.readable)).flatMap((
    c,
  ) => [...c]);
  assert.deepEqual(replayed, [...bytes]);
  const jsonl = await resolveFormat({
    name: "x.jsonl",
    readable: ReadableStream.from([encoder.encode('{"a": 1}\n')]),
  });
  assert.equal(jsonl.format, "ndjson");
});

Deno.test("resolveFormat() calls blank or empty input CSV", async () => {
  for (const text of ["", "\n \n"]) {
    const { format, source } = await resolveFormat({
      name: "<stdin>",
      readable: ReadableStream.from([encoder.encode(text)]),
    });
    assert.equal(format, "csv");
    const replayed = await Array.fromAsync(source.readable);
    assert.equal(replayed.reduce((n, c) => n + c.length, 0), text.length);
  }
});

Deno.test("resolveFormat() passes a cancel on to the source", async () => {
  let reason: unknown;
  const { source } = await resolveFormat({
    name: "<stdin>",
    readable: new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(encoder.encode("{"));
      },
      cancel(why) {
        reason = why;
      },
    }),
  });
  await source.readable.cancel("stop");
  assert.equal(reason, "stop");
});

Deno.test("resolveFormat() keeps a source's chunks its reader's own when it sniffs, and nobody else's", async () => {
  const chunks = () => [encoder.encode("a\n"), encoder.encode("1\n")];
  const owned = await resolveFormat({
    name: "<stdin>",
    readable: markOwnedChunks(ReadableStream.from(chunks())),
  });
  assert.ok(hasOwnedChunks(owned.source.readable));
  const shared = await resolveFormat({
    name: "<stdin>",
    readable: ReadableStream.from(chunks()),
  });
  assert.ok(!hasOwnedChunks(shared.source.readable));
  await owned.source.readable.cancel();
  await shared.source.readable.cancel();
});
